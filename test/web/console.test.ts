/**
 * The web console in Debian's headless chromium against 3 real amfd processes (one browser and one
 * cluster for the file): a wrong token is refused plainly; logged in through a follower the page
 * shows 3 nodes and every SI assigned, and asks nothing more while the cluster is quiet (no
 * polling); kill -9 of an amfd shows the node lost and its SIs active elsewhere without a reload;
 * an SI swap from the page swaps the HA states, a refused one says why; the page follows a leader change; keyboard only and
 * a phone's width work. Each step saves a screenshot in the cluster's work dir (kept on failure).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { LocalCluster } from '../../scripts/local-cluster.js';
import { ALL_SIS, actives, allActiveOn, clusterSteps, groupsOn, leaderOf, startTestCluster, stopTestCluster, waitFor } from '../e2e/harness.js';
import { Browser, noBrowser, type Page } from './browser.js';
import { openConsole, pageLeader, pageNodes, pageSis } from './console-page.js';
// @ts-expect-error: a plain ES module script without types
import { buildWeb } from '../../scripts/build-web.mjs';

const NODES = ['n1', 'n2', 'n3'];

describe('the web console in chromium against 3 real amfd processes', { skip: noBrowser() ?? false, timeout: 240_000 }, () => {
  let c: LocalCluster;
  let browser: Browser;
  let page: Page;
  let leader = '';
  /** The follower the page is served by, and the other follower (it holds an active SI). */
  let serving = '';
  let victim = '';

  before(async () => {
    (buildWeb as () => string[])();
    c = await startTestCluster('web');
    const placed = await waitFor('every SI active', 40_000, () => allActiveOn(c, NODES, NODES));
    leader = await waitFor('a leader', 10_000, () => leaderOf(c, NODES));
    const followers = NODES.filter((n) => n !== leader);
    victim = followers.find((n) => [...placed.values()].includes(n)) ?? followers[0]!;
    serving = followers.find((n) => n !== victim)!;
    browser = await Browser.launch(c.o.workDir);
  });

  after(async () => {
    await browser?.close();
    const left = await stopTestCluster(c, run.failed);
    assert.deepEqual(left, [], 'no amfd or component process is left');
  });

  // Each step leaves a screenshot of the page in the work dir (kept when a step failed).
  const { run, step } = clusterSteps(async (name, t) => {
    const p = page as Page | undefined;
    if (!p) return;
    const file = join(c.o.workDir, `${name.split(':')[0]!.replace(/\W+/g, '-')}.png`);
    await p.screenshot(file).catch(() => undefined);
    t.diagnostic(`screenshot ${file}`);
  });

  const siAssignedEverywhere = async (allowed: readonly string[]): Promise<Record<string, { active: readonly string[] }> | undefined> => {
    const sis = await pageSis(page);
    return ALL_SIS.every((s) => sis[s]?.active.length === 1 && allowed.includes(sis[s].active[0]!)) ? sis : undefined;
  };

  step('wrong token: refused with a clear message', async () => {
    page = await browser.newPage();
    await page.goto(`http://${c.node(serving).api}/ui/`);
    await page.waitFor('the login form', `document.querySelector('#token') !== null`);
    await page.click('#token');
    await page.type('not-the-token');
    await page.press('Enter');
    const message = await page.waitFor<string>('the refusal', `document.querySelector('#login-error')?.textContent`);
    assert.match(message, /amfd refused this token \(401 unauthorized\)/);
    assert.match(message, /api\.token_file/);
    assert.equal(await page.eval(`sessionStorage.getItem('amfd.token')`), null, 'a refused token is not kept');
  });

  step('log in through a follower: 3 nodes up, every SI assigned; quiet cluster, no requests', async (t) => {
    await page.close();
    page = await openConsole(browser, c.node(serving).api, c.token);
    const nodes = await waitFor('3 nodes up in the page', 20_000, async () => {
      const shown = await pageNodes(page);
      return shown.length === 3 && shown.every((n) => n.up) ? shown : undefined;
    });
    assert.deepEqual(nodes.map((n) => [n.name, n.state]), NODES.map((n) => [n, '▲ up']));
    await waitFor('every SI assigned in the page', 20_000, () => siAssignedEverywhere(NODES));
    assert.match(await page.eval<string>(`document.querySelector('header .summary').textContent`), new RegExp(`via ${serving} \\(follower\\) · leader ${leader}`));
    // Mark the document: a reload would lose it.
    await page.eval(`window.__amfdNoReload = true`);
    // Idle: the page asks nothing (the event stream is open already; heartbeats come on it).
    const requests: string[] = [];
    await page.send('Network.enable');
    const off = browser.on((m) => m.method === 'Network.requestWillBeSent' && requests.push(String((m.params['request'] as { url: string }).url)));
    await new Promise((r) => setTimeout(r, 2500));
    off();
    await page.send('Network.disable');
    assert.deepEqual(requests, [], 'no polling');
    t.diagnostic(`page via ${serving}, leader ${leader}`);
  });

  step('kill -9 an amfd: the page shows the node lost and its SIs active elsewhere, without a reload', async (t) => {
    const before = actives((await groupsOn(c, serving))!);
    const moving = [...before].filter(([, list]) => list.some((a) => a.node === victim)).map(([si]) => si);
    assert.ok(moving.length > 0, `${victim} holds an active SI`);
    const killedAt = Date.now();
    c.kill(victim);
    const lostAfter = await waitFor(`${victim} lost in the page`, 20_000, async () => ((await pageNodes(page)).find((n) => n.name === victim)?.up === false ? Date.now() - killedAt : undefined));
    const survivors = NODES.filter((n) => n !== victim);
    await waitFor('its SIs active on the survivors in the page', 20_000, () => siAssignedEverywhere(survivors));
    const movedAfter = Date.now() - killedAt;
    const row = (await pageNodes(page)).find((n) => n.name === victim)!;
    assert.match(row.state, /LOST/, 'lost in words, not colour alone');
    assert.equal(await page.eval('window.__amfdNoReload'), true, 'no reload');
    t.diagnostic(`kill -9 ${victim}: lost in the page after ${lostAfter} ms, ${moving.join(', ')} active on the survivors after ${movedAfter} ms (the issue's goal: 3000 ms; figures in bench:ui)`);
  });

  step('SI swap from the page: the plan first, then the HA states swap', async () => {
    c.startNode(victim);
    await waitFor(`${victim} back in the page`, 40_000, async () => ((await pageNodes(page)).every((n) => n.up) ? true : undefined));
    const pair = await waitFor('db-main with an active and a standby', 40_000, async () => {
      const db = (await pageSis(page))['db-main'];
      const has = Object.values(db?.ha ?? {});
      return db && has.includes('active') && has.includes('standby') ? db.ha : undefined;
    });
    await page.click('button[aria-label="Actions on SI db-main"]');
    await page.waitFor('the dialog', `document.querySelector('dialog.action')?.open === true`);
    await page.click('dialog.action button[data-op="si-swap"]');
    const plan = await page.waitFor<string>('the plan', `document.querySelector('dialog.action ul.plan')?.textContent`);
    assert.match(plan, /db-main/);
    await page.click('dialog.action button.confirm');
    await page.waitFor('the swap committed', `document.querySelector('dialog.action .done')?.textContent`);
    const swapped = Object.fromEntries(Object.entries(pair).map(([su, ha]) => [su, ha === 'active' ? 'standby' : 'active']));
    await waitFor('the HA states swapped in the page', 20_000, async () => {
      const db = (await pageSis(page))['db-main'];
      return db && JSON.stringify(db.ha) === JSON.stringify(swapped) ? true : undefined;
    });
    await page.click('dialog.action .buttons button:last-child');
    await page.waitFor('the dialog closed', `document.querySelector('dialog.action') === null`);
  });

  step('a refused operation: the dialog says why, and offers nothing to confirm', async () => {
    await page.click('button[aria-label="Actions on SU web1"]');
    await page.waitFor('the dialog', `document.querySelector('dialog.action')?.open === true`);
    await page.click('dialog.action button[data-op="unlock"]');
    const why = await page.waitFor<string>('the refusal', `document.querySelector('dialog.action .error')?.textContent`);
    assert.match(why, /unlock on SU web1 refused: it is unlocked/);
    assert.equal(await page.eval(`document.querySelector('dialog.action button.confirm')`), null);
    await page.press('Escape');
    await page.waitFor('the dialog closed', `document.querySelector('dialog.action') === null`);
  });

  step('the page keeps working across a leader change (kill -9 of the leader)', async (t) => {
    const termBefore = await page.eval<string>(`document.querySelector('header .summary').textContent`);
    c.kill(leader);
    const survivors = NODES.filter((n) => n !== leader);
    const next = await waitFor('a new leader in the header', 30_000, async () => {
      const l = await pageLeader(page);
      return survivors.includes(l) ? l : undefined;
    });
    await waitFor(`${leader} lost in the page`, 20_000, async () => ((await pageNodes(page)).find((n) => n.name === leader)?.up === false ? true : undefined));
    await waitFor('every SI active on the survivors in the page', 30_000, () => siAssignedEverywhere(survivors));
    assert.equal(await page.eval(`document.querySelector('.console').dataset.connection`), 'live');
    assert.equal(await page.eval('window.__amfdNoReload'), true, 'no reload');
    t.diagnostic(`leader ${leader} → ${next}; header was: ${termBefore}`);
  });

  step('keyboard only at a phone width: log in, open an action, leave it with Escape; nothing wider than the screen', async () => {
    const phone = await browser.newPage(390, 844, true);
    try {
      await phone.goto(`http://${c.node(serving).api}/ui/`);
      await phone.waitFor('the token field focused', `document.activeElement?.id === 'token'`);
      await phone.type(c.token);
      await phone.press('Enter');
      await phone.waitFor('the console live', `document.querySelector('.console[data-connection="live"] tr[data-node]') !== null`, 30_000);
      let focused = '';
      for (let i = 0; i < 40 && !focused.startsWith('Actions on'); i++) {
        await phone.press('Tab');
        focused = await phone.eval<string>(`document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent ?? ''`);
      }
      assert.match(focused, /^Actions on node /, 'the first action is reached with Tab');
      await phone.press('Enter');
      await phone.waitFor('the dialog open', `document.querySelector('dialog.action')?.open === true`);
      assert.equal(await phone.eval(`document.querySelector('dialog.action').contains(document.activeElement)`), true, 'focus moves into the dialog');
      await phone.press('Escape');
      await phone.waitFor('the dialog closed', `document.querySelector('dialog.action') === null`);
      assert.ok(await phone.eval<boolean>(`document.documentElement.scrollWidth <= window.innerWidth`), 'no sideways scrolling of the page (tables scroll in their own box)');
      await phone.screenshot(join(c.o.workDir, 'phone.png'));
    } finally {
      await phone.close();
    }
  });
});
