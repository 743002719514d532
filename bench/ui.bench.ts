/**
 * bench:ui — the web console in headless chromium (docs/web.md):
 * - event_to_dom: a real 3-node cluster; 100 events made by admin operations (lock/unlock of an SU,
 *   SI swaps) through the API; for each, the time from its commit stamp (the proposer's wall clock,
 *   before Raft commits it: an upper bound) to the page's DOM showing it (the console's `data-seq`,
 *   written in the same DOM commit as the views, seen by a MutationObserver). p50 / p99.
 * - node_lost: kill -9 of a follower: kill → its row `✖ LOST` in the page, and the membership-down
 *   event's stamp → the page.
 * - heap: the page's JS heap after a full GC, logged in, then after 10 000 events (an in-memory
 *   backend behind the real API server makes them fast); the event log keeps a bounded window.
 * Last line: `ui event_to_dom_p50_ms=… p99_ms=… heap_mb=…`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, TOKEN } from '../test/api/helpers.js';
import { MemoryBackend } from '../test/api/memory-backend.js';
import { allActiveOn, leaderOf, startTestCluster, stopTestCluster, testGroupsConf, waitFor } from '../test/e2e/harness.js';
import { Browser, noBrowser, type Page } from '../test/web/browser.js';
import { openConsole, pageNodes } from '../test/web/console-page.js';
import { loadWebConsole } from '../src/daemon/web-assets.js';
import type { ApiEvent } from '../src/api/events.js';
// @ts-expect-error: a plain ES module script without types
import { buildWeb } from '../scripts/build-web.mjs';

const NODES = ['n1', 'n2', 'n3'];
/** Lock and unlock the standby SUs: every step makes events (admin, readiness, assignments) and leaves the cluster as it was. */
const OPS: ReadonlyArray<[string, string]> = [
  ['su/web3', 'lock'],
  ['su/web3', 'unlock'],
  ['su/db2', 'lock'],
  ['su/db2', 'unlock'],
];
const say = (s: string): void => void process.stdout.write(`${s}\n`);
const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
};

/** Records in the page when each seq reached the DOM (wall clock ms). */
const RECORD = `(() => {
  window.__seqAt = [];
  const root = document.querySelector('.console');
  new MutationObserver(() => window.__seqAt.push([Number(root.dataset.seq), Date.now()])).observe(root, { attributes: true, attributeFilter: ['data-seq'] });
  return true;
})()`;

async function domTimes(page: Page): Promise<Array<[number, number]>> {
  return page.eval<Array<[number, number]>>('window.__seqAt');
}

/** When the DOM first showed `seq` (or a later one). */
function shownAt(times: ReadonlyArray<[number, number]>, seq: number): number | undefined {
  return times.find(([s]) => s >= seq)?.[1];
}

async function eventToDom(browser: Browser): Promise<{ latencies: number[]; lost: { kill: number; event: number } }> {
  const c = await startTestCluster('bench-ui');
  try {
    await waitFor('every SI active', 60_000, () => allActiveOn(c, NODES, NODES));
    const leader = await waitFor('a leader', 10_000, () => leaderOf(c, NODES));
    const follower = NODES.find((n) => n !== leader)!;
    const victim = NODES.find((n) => n !== leader && n !== follower)!;
    const page = await openConsole(browser, c.node(follower).api, c.token);
    await page.eval(RECORD);
    const start = (await c.get<{ lastEventSeq: number }>(follower, '/status'))!.lastEventSeq;
    // Admin operations until 100 events are made; each waits for the page, like an operator would.
    let last = start;
    for (let i = 0; i < 200; i++) {
      const [target, op] = OPS[i % OPS.length]!;
      const status = await c.post(follower, `/v1/admin/${target}/${op}`, {});
      if (status !== 200) throw new Error(`${op} ${target}: HTTP ${status}`);
      last = (await c.get<{ lastEventSeq: number }>(follower, '/status'))!.lastEventSeq;
      await page.waitFor(`event ${last} in the page`, `Number(document.querySelector('.console').dataset.seq) >= ${last}`, 10_000);
      if (last - start >= 100) break;
    }
    const events = await readEvents(c.node(follower).api, c.token, start);
    const times = await domTimes(page);
    const latencies = events.slice(0, 100).map((e) => shownAt(times, e.seq)! - Date.parse(e.time));
    // A node lost: kill -9 of the other follower.
    const before = (await c.get<{ lastEventSeq: number }>(follower, '/status'))!.lastEventSeq;
    const killedAt = Date.now();
    c.kill(victim);
    const shown = await waitFor(`${victim} lost in the page`, 30_000, async () => ((await pageNodes(page)).find((n) => n.name === victim)?.up === false ? Date.now() : undefined));
    const down = (await readEvents(c.node(follower).api, c.token, before)).find((e) => e.entity === `node/${victim}` && e.field === 'incarnation' && (e.new ?? '').startsWith('down'));
    if (!down) throw new Error(`no membership-down event for ${victim}`);
    const lostTimes = await domTimes(page);
    await page.close();
    return { latencies, lost: { kill: shown - killedAt, event: shownAt(lostTimes, down.seq)! - Date.parse(down.time) } };
  } finally {
    await stopTestCluster(c, false);
  }
}

/** The events after `since` the node still keeps. */
async function readEvents(api: string, token: string, since: number): Promise<ApiEvent[]> {
  const r = await fetch(`http://${api}/v1/events?since=${since}&follow=0`, { headers: { authorization: `Bearer ${token}` } });
  return (await r.text())
    .split('\n')
    .filter((l) => l.startsWith('{"seq"'))
    .map((l) => JSON.parse(l) as ApiEvent);
}

async function heap(browser: Browser): Promise<{ start: number; end: number; events: number }> {
  const b = new MemoryBackend(testGroupsConf(), 4096);
  const api = await startApi(b, { ui: loadWebConsole() });
  try {
    const page = await openConsole(browser, new URL(api.base).host, TOKEN);
    const start = await page.heapUsed();
    const from = b.lastSeq;
    for (let i = 0; b.lastSeq - from < 10_000; i++) {
      await b.admin('su', ['web1', 'web2', 'web3', 'db1', 'db2'][i % 5]!, i % 10 < 5 ? 'lock' : 'unlock');
      // Let the page keep up now and then (a reader far behind is dropped and resumes: fine, but slow).
      if (i % 50 === 0) await page.waitFor('the page caught up', `Number(document.querySelector('.console').dataset.seq) >= ${b.lastSeq}`, 30_000);
    }
    await page.waitFor('every event in the page', `Number(document.querySelector('.console').dataset.seq) >= ${b.lastSeq}`, 60_000);
    await page.eval(`location.hash = '#events'`);
    await page.waitFor('the event log drawn', `document.querySelectorAll('ol.log li').length > 0`);
    const end = await page.heapUsed();
    return { start, end, events: b.lastSeq - from };
  } finally {
    await api.close();
  }
}

const why = noBrowser();
if (why) {
  say(`bench:ui: ${why}`);
  process.exit(1);
}
(buildWeb as () => string[])();
const dir = mkdtempSync(join(tmpdir(), 'amfd-bench-ui-'));
const browser = await Browser.launch(dir);
try {
  const { latencies, lost } = await eventToDom(browser);
  say(`ui event_to_dom over ${latencies.length} events: min ${Math.min(...latencies)} ms, p50 ${pct(latencies, 50)} ms, p90 ${pct(latencies, 90)} ms, p99 ${pct(latencies, 99)} ms, max ${Math.max(...latencies)} ms`);
  say(`ui node_lost: kill -9 → page ${lost.kill} ms; membership-down event → page ${lost.event} ms`);
  const h = await heap(browser);
  const mb = (x: number): string => (x / 1024 / 1024).toFixed(1);
  say(`ui heap: ${mb(h.start)} MB logged in, ${mb(h.end)} MB after ${h.events} events (event log window on screen)`);
  say(`ui event_to_dom_p50_ms=${pct(latencies, 50)} p99_ms=${pct(latencies, 99)} heap_mb=${mb(h.end)}`);
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
