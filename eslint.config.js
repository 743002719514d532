// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { determinismRules } from './scripts/determinism-rules.js';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/fixtures/**', 'conf/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'error',
    },
  },
  // The house rule: only src/runtime (and the thin entry points in src/daemon and src/cli) touch
  // clocks, timers, randomness, sockets, child processes and files. Everything else takes them as
  // injected ports so that the simulator runs the same code deterministically. Never silence this.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/runtime/**', 'src/daemon/**', 'src/cli/**'],
    rules: determinismRules,
  },
  // The engine and the cluster promise their lookups with must(x, why) (src/util/assert.ts), which
  // fails with the reason, never with a bare `x!` that fails later as a TypeError.
  { files: ['src/amf/**/*.ts', 'src/cluster/**/*.ts', 'src/servergroup/**/*.ts'], rules: { '@typescript-eslint/no-non-null-assertion': 'error' } },
  // Entry points, scripts, tests, benches and the simulator kernel may print.
  { files: ['src/cli/**', 'src/daemon/**', 'scripts/**', 'test/**', 'bench/**', 'simulator/**', 'bin/**'], rules: { 'no-console': 'off' } },
);
