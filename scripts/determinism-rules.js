// The determinism lint rules, in one place so that eslint.config.js and the test that proves them
// (test/lint/determinism.test.ts) use the same definition.
const why = 'outside src/runtime, src/daemon and src/cli, take time, randomness and I/O from the injected runtime ports';

const forbiddenModules = ['dgram', 'net', 'child_process', 'fs', 'fs/promises'];

export const determinismRules = {
  'no-restricted-properties': [
    'error',
    { object: 'Date', property: 'now', message: `Date.now: ${why} (Clock).` },
    { object: 'performance', property: 'now', message: `performance.now: ${why} (Clock).` },
    { object: 'Math', property: 'random', message: `Math.random: ${why} (Random).` },
    { object: 'globalThis', property: 'setTimeout', message: `setTimeout: ${why} (Clock).` },
    { object: 'globalThis', property: 'setInterval', message: `setInterval: ${why} (Clock).` },
    { object: 'globalThis', property: 'setImmediate', message: `setImmediate: ${why} (Clock).` },
  ],
  'no-restricted-globals': [
    'error',
    { name: 'setTimeout', message: `setTimeout: ${why} (Clock).` },
    { name: 'setInterval', message: `setInterval: ${why} (Clock).` },
    { name: 'setImmediate', message: `setImmediate: ${why} (Clock).` },
  ],
  'no-restricted-syntax': [
    'error',
    { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: `new Date(): ${why} (Clock.wallTime).` },
  ],
  'no-restricted-imports': [
    'error',
    {
      paths: forbiddenModules.flatMap((m) => [
        { name: m, message: `${m}: ${why}.` },
        { name: `node:${m}`, message: `node:${m}: ${why}.` },
      ]),
    },
  ],
};
