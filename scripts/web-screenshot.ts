/**
 * `npm run docs:screenshot`: docs/web-console.png, the web console of `npm start`'s cluster at
 * 1280×800 once every SI is fully assigned (headless chromium, test/web/browser.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../test/e2e/harness.js';
import { Browser } from '../test/web/browser.js';
import { openConsole, pageSis } from '../test/web/console-page.js';

const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'amfd-screenshot-'));
const start = spawn(process.execPath, [join(root, 'scripts/start.mjs'), '--headless', '--work-dir', join(work, 'cluster')], { stdio: 'inherit' });
const stopped = new Promise<void>((r) => start.once('exit', () => r()));
const browser = await Browser.launch(work);
try {
  const file = join(work, 'cluster', 'cluster.json');
  await waitFor('npm start ready', 90_000, async () => (existsSync(file) ? true : undefined));
  const cluster = JSON.parse(readFileSync(file, 'utf8')) as { token: string; nodes: Array<{ api: string }> };
  const api = cluster.nodes[0]!.api;
  await waitFor('n1 answering', 60_000, () => fetch(`http://${api}/ping`).then((r) => (r.ok ? true : undefined), () => undefined));
  const page = await openConsole(browser, api, cluster.token);
  await waitFor('every SI fully assigned in the page', 60_000, async () => {
    const sis = Object.values(await pageSis(page));
    return sis.length > 0 && sis.every((s) => s.assignment === 'fully-assigned') ? true : undefined;
  });
  const out = join(root, 'docs/web-console.png');
  await page.screenshot(out);
  process.stdout.write(`web-screenshot: ${out}\n`);
} finally {
  await browser.close();
  start.kill('SIGTERM');
  await stopped;
  rmSync(work, { recursive: true, force: true });
}
