/** Hostile requests never crash the API, never answer 5xx, and change nothing unless accepted. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryBackend, SAMPLE } from './memory-backend.js';
import { startApi } from './helpers.js';

test('fuzz: arbitrary bodies, headers and paths get a well-formed 4xx (or 200), never a 5xx, and no change when refused', async () => {
  const b = new MemoryBackend();
  const api = await startApi(b, { maxBodyBytes: 4096 });
  try {
    const body = fc.oneof(
      fc.json(),
      fc.string(),
      fc.constant(JSON.stringify({ text: SAMPLE })),
      fc.record({ text: fc.oneof(fc.string(), fc.integer(), fc.constant(SAMPLE.slice(0, 200))), other: fc.option(fc.anything(), { nil: undefined }) }).map((x) => JSON.stringify(x)),
      fc.string({ minLength: 5000, maxLength: 6000 }),
    );
    const request = fc.record({
      method: fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'PATCH'),
      path: fc.oneof(
        fc.constantFrom('/v1/config', '/v1/config?dry_run=1', '/v1/admin/su/SU_1/lock', '/v1/components/SU_1/httpd/error', '/v1/groups/web', '/v1/sis/SI_web', '/v1/events?follow=0&since=0'),
        fc.tuple(fc.constantFrom('/v1/admin/', '/v1/groups/', '/v1/sis/', '/v1/events?since='), fc.string()).map(([p, s]) => p + encodeURIComponent(s)),
      ),
      ifMatch: fc.option(fc.oneof(fc.constant('"1"'), fc.string({ maxLength: 20 }).filter((s) => /^[\x20-\x7e]*$/.test(s))), { nil: undefined }),
      contentType: fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-8'),
      body,
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const before = { epoch: b.epoch, text: b.text, mutations: b.mutations };
        const headers: Record<string, string> = { 'content-type': r.contentType };
        if (r.ifMatch !== undefined) headers['if-match'] = r.ifMatch;
        const res = await api.req(r.path, { method: r.method, headers, ...(r.method === 'GET' ? {} : { body: r.body }) });
        const text = await res.text();
        assert.ok(res.status < 500, `${r.method} ${r.path} → ${res.status} ${text}`);
        if (res.status >= 400) {
          const e = (JSON.parse(text) as { error: { code: string; message: string } }).error;
          assert.ok(e.code.length > 0 && e.message.length > 0);
          assert.deepEqual({ epoch: b.epoch, text: b.text, mutations: b.mutations }, before, 'a refused request changed something');
        }
      }),
      { numRuns: 150, seed: 42 },
    );
  } finally {
    await api.close();
  }
});
