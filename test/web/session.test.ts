/**
 * The console's session (src/web/app/session.ts) in node against the real API server over the
 * in-memory backend: it goes live from one read and the stream, resumes with `since` after the
 * connection breaks (no event lost or applied twice), reads everything again when the node no
 * longer keeps the events it missed (410), and stops on a refused token.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, TOKEN } from '../api/helpers.js';
import { MemoryBackend } from '../api/memory-backend.js';
import { testGroupsConf, waitFor } from '../e2e/harness.js';
import { ApiClient, TOKEN_REFUSED, type Fetch } from '../../src/web/app/client.js';
import type { Platform } from '../../src/runtime/browser/platform.js';
import { Session, loadSnapshot } from '../../src/web/app/session.js';

const platform: Platform = {
  now: () => performance.now(),
  after(ms, f) {
    const t = setTimeout(f, ms);
    return () => clearTimeout(t);
  },
};

/** fetch that records the URLs asked for and can cut the open event streams like a broken network. */
function cuttable(): { fetch: Fetch; urls: string[]; cut: () => void } {
  const urls: string[] = [];
  const open = new Set<AbortController>();
  return {
    urls,
    cut: () => {
      for (const a of open) a.abort(new Error('connection reset'));
      open.clear();
    },
    fetch: async (input, init) => {
      urls.push(input);
      if (!input.includes('/v1/events')) return fetch(input, init);
      const a = new AbortController();
      init?.signal?.addEventListener('abort', () => a.abort());
      open.add(a);
      return fetch(input, { ...init, signal: a.signal });
    },
  };
}

/** The session's views equal a fresh read (through a client of the test's own). */
async function equalsFresh(s: Session, base: string): Promise<boolean> {
  const fresh = await loadSnapshot(new ApiClient(base, TOKEN));
  assert.ok(fresh.ok);
  try {
    assert.deepEqual(s.state?.groups, fresh.value.groups);
    assert.deepEqual(s.state?.nodes, fresh.value.nodes);
    return true;
  } catch {
    return false;
  }
}

test('live from one read and the stream; resumes with since after a break; events made meanwhile arrive once', async () => {
  const b = new MemoryBackend(testGroupsConf());
  const api = await startApi(b);
  const net = cuttable();
  const client = new ApiClient(api.base, TOKEN, net.fetch);
  const s = new Session(client, platform, { backlog: 5 });
  try {
    s.start();
    await waitFor('live', 5000, async () => (s.connection.kind === 'live' && s.state ? true : undefined));
    assert.equal(s.state!.log.length, 5, 'the log starts with the backlog');
    await b.admin('si', 'db-main', 'si-swap');
    await waitFor('the swap in the state', 5000, async () => ((await equalsFresh(s, api.base)) && s.state!.seq === b.lastSeq ? true : undefined));
    const before = s.state!.seq;
    net.cut();
    await waitFor('reconnecting', 5000, async () => (s.connection.kind === 'reconnecting' ? true : undefined));
    await b.admin('su', 'web1', 'lock');
    await waitFor('live again with the lock', 10_000, async () => (s.connection.kind === 'live' && s.state!.seq === b.lastSeq && (await equalsFresh(s, api.base)) ? true : undefined));
    const streams = net.urls.filter((u) => u.includes('/v1/events'));
    assert.equal(streams.length, 2);
    assert.match(streams[1]!, new RegExp(`since=${before}&status=1$`));
    const seqs = s.state!.log.map((e) => e.seq);
    assert.deepEqual(seqs, [...new Set(seqs)].sort((x, y) => x - y), 'each event once, in order');
    assert.equal(seqs.at(-1), b.lastSeq);
    assert.equal(net.urls.filter((u) => u.endsWith('/status')).length, 1, 'the views were read once: the rest came from the stream');
  } finally {
    s.stop();
    await api.close();
  }
});

test('missed more than the node keeps (410): reads the views again and goes on from there', async () => {
  const b = new MemoryBackend(testGroupsConf(), 30);
  const api = await startApi(b);
  const net = cuttable();
  const client = new ApiClient(api.base, TOKEN, net.fetch);
  const s = new Session(client, platform);
  try {
    s.start();
    await waitFor('live', 5000, async () => (s.connection.kind === 'live' ? true : undefined));
    net.cut();
    for (let i = 0; b.lastSeq - s.state!.seq <= 30; i++) await b.admin('su', 'web1', i % 2 ? 'unlock' : 'lock');
    assert.ok(b.lastSeq - s.state!.seq > 30, 'more events than the ring keeps');
    await waitFor('live with the fresh views', 10_000, async () => (s.connection.kind === 'live' && (await equalsFresh(s, api.base)) ? true : undefined));
    assert.equal(net.urls.filter((u) => u.endsWith('/status')).length, 2, 'read again after the 410');
  } finally {
    s.stop();
    await api.close();
  }
});

test('a refused token ends the session with the message the login shows', async () => {
  const api = await startApi(new MemoryBackend());
  const s = new Session(new ApiClient(api.base, 'wrong-token'), platform);
  try {
    s.start();
    await waitFor('refused', 5000, async () => (s.connection.kind === 'refused' ? true : undefined));
    assert.deepEqual(s.connection, { kind: 'refused', message: TOKEN_REFUSED });
  } finally {
    s.stop();
    await api.close();
  }
});
