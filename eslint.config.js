// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { determinismRules } from './scripts/determinism-rules.js';

/** What the web console may use of the browser (src/web/app). */
const browserGlobals = Object.fromEntries(
  ['window', 'document', 'location', 'history', 'navigator', 'sessionStorage', 'fetch', 'Request', 'Response', 'Headers', 'AbortController', 'TextDecoder', 'ReadableStream', 'performance', 'setTimeout', 'clearTimeout', 'addEventListener', 'removeEventListener', 'HTMLElement', 'HTMLDialogElement', 'HTMLInputElement', 'HTMLSelectElement', 'Event', 'KeyboardEvent', 'URL', 'console'].map((g) => [g, 'readonly']),
);
const nodeOnlyGlobals = ['process', 'Buffer', 'require', 'module', '__dirname', '__filename', 'global', 'setImmediate'];

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
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    ignores: ['src/runtime/**', 'src/daemon/**', 'src/cli/**'],
    rules: determinismRules,
  },
  // The engine and the cluster promise their lookups with must(x, why) (src/util/assert.ts), which
  // fails with the reason, never with a bare `x!` that fails later as a TypeError.
  { files: ['src/amf/**/*.ts', 'src/cluster/**/*.ts', 'src/servergroup/**/*.ts'], rules: { '@typescript-eslint/no-non-null-assertion': 'error' } },
  // The web console's browser code (docs/web.md): browser globals and no Node ones; it loads only
  // relative modules and preact (scripts/build-web.mjs refuses anything else too). Its clock and
  // timers come from src/runtime/browser/platform.ts, a port like the server's. The server code never sees
  // browser globals: the DOM types exist only in src/web/app/tsconfig.json.
  {
    files: ['src/web/app/**/*.ts', 'src/web/app/**/*.tsx'],
    languageOptions: { globals: { ...browserGlobals, process: 'off', Buffer: 'off' } },
    rules: {
      'no-restricted-globals': [
        'error',
        ...nodeOnlyGlobals.map((name) => ({ name, message: `${name}: the console runs in a browser, not in node` })),
        ...determinismRules['no-restricted-globals'].slice(1),
      ],
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!\\.|preact(/hooks|/jsx-runtime)?$)', message: 'the browser loads only relative modules and preact (the import map of scripts/build-web.mjs)' }] }],
    },
  },
  // Entry points, scripts, tests, benches and the simulator kernel may print.
  { files: ['src/cli/**', 'src/daemon/**', 'scripts/**', 'test/**', 'bench/**', 'simulator/**', 'bin/**'], rules: { 'no-console': 'off' } },
);
