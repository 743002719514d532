import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

// Proves the house rule is real: the project's own eslint config rejects time, randomness and I/O
// outside src/runtime, src/daemon and src/cli.
const sample = `
import { createSocket } from 'node:dgram';
import * as net from 'node:net';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'fs';
export function bad(): unknown {
  const t = Date.now();
  const d = new Date();
  const p = performance.now();
  const r = Math.random();
  setTimeout(() => undefined, 1);
  setInterval(() => undefined, 1);
  setImmediate(() => undefined);
  globalThis.setTimeout(() => undefined, 1);
  return [createSocket, net, spawn, readFileSync, readFile, t, d, p, r];
}
`;

async function lint(filePath: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: process.cwd() });
  const [result] = await eslint.lintText(sample, { filePath });
  assert.ok(result);
  return result.messages.map((m) => `${m.line}:${m.ruleId}`);
}

test('the determinism rule fails the lint on forbidden calls in src/amf', async () => {
  const messages = await lint('src/amf/forbidden-sample.ts');
  const expected = [
    '2:no-restricted-imports', '3:no-restricted-imports', '4:no-restricted-imports', '5:no-restricted-imports',
    '6:no-restricted-imports', '8:no-restricted-properties', '9:no-restricted-syntax', '10:no-restricted-properties',
    '11:no-restricted-properties', '12:no-restricted-globals', '13:no-restricted-globals', '14:no-restricted-globals',
    '15:no-restricted-properties',
  ];
  for (const e of expected) assert.ok(messages.includes(e), `expected ${e} in ${messages.join(', ')}`);
});

test('the same code is allowed in src/runtime', async () => {
  const messages = await lint('src/runtime/allowed-sample.ts');
  assert.deepEqual(messages.filter((m) => /restricted/.test(m)), []);
});

test('new Date(value) is allowed everywhere (it reads no clock)', async () => {
  const eslint = new ESLint({ cwd: process.cwd() });
  const [result] = await eslint.lintText('export const d = new Date(0);\n', { filePath: 'src/amf/ok.ts' });
  assert.deepEqual(result?.messages.map((m) => m.ruleId), []);
});

test('the web console: the rule holds in its browser code (tsx too), no file of it is exempt (its clock is src/runtime/browser/platform.ts), node globals and imports nowhere', async () => {
  const inApp = await lint('src/web/app/forbidden-sample.tsx');
  for (const e of ['2:no-restricted-imports', '8:no-restricted-properties', '9:no-restricted-syntax', '12:no-restricted-globals', '14:no-restricted-globals']) assert.ok(inApp.includes(e), `expected ${e} in ${inApp.join(', ')}`);
  const eslint = new ESLint({ cwd: process.cwd() });
  const lintAs = async (text: string, filePath: string): Promise<string[]> => ((await eslint.lintText(text, { filePath }))[0]?.messages ?? []).map((m) => `${m.line}:${m.ruleId}`);
  const clock = 'export const t = [performance.now(), setTimeout(() => undefined, 1)];\n';
  assert.ok((await lintAs(clock, 'src/web/app/platform.ts')).length > 0, 'the console reads no clock of its own');
  assert.deepEqual(await lintAs(clock, 'src/runtime/browser/platform.ts'), []);
  assert.deepEqual(await lintAs("export const p = process.pid;\nexport const b = Buffer.from('');\n", 'src/web/app/session.ts'), ['1:no-restricted-globals', '2:no-restricted-globals']);
  assert.deepEqual(await lintAs("import { h } from 'preact';\nimport { useState } from 'preact/hooks';\nimport x from 'lodash';\nexport const a = [h, useState, x];\n", 'src/web/app/ok.tsx'), ['3:no-restricted-imports']);
});
