/** The web console as a test or a bench reads it in chromium: log in, and what the page shows. */
import type { Browser, Page } from './browser.js';

export interface PageNode {
  readonly name: string;
  readonly up: boolean;
  /** The State cell as shown (`▲ up`, `✖ LOST`…). */
  readonly state: string;
}

export interface PageSi {
  readonly assignment: string;
  /** Nodes the SI is shown active on. */
  readonly active: readonly string[];
  /** SU → HA state as shown. */
  readonly ha: Readonly<Record<string, string>>;
}

/** Opens /ui/ on `api` (host:port) and logs in with `token`; resolves once the page is live. */
export async function openConsole(browser: Browser, api: string, token: string, size: { width: number; height: number; mobile?: boolean } = { width: 1280, height: 800 }): Promise<Page> {
  const page = await browser.newPage(size.width, size.height, size.mobile ?? false);
  await page.goto(`http://${api}/ui/`);
  await page.waitFor('the login form', `document.querySelector('#token') !== null`);
  await page.click('#token');
  await page.type(token);
  await page.press('Enter');
  await page.waitFor('the console live', `document.querySelector('.console[data-connection="live"] tr[data-node]') !== null`, 30_000);
  return page;
}

export const pageNodes = (p: Page): Promise<PageNode[]> =>
  p.eval(`[...document.querySelectorAll('tr[data-node]')].map((r) => ({ name: r.dataset.node, up: r.dataset.up === 'true', state: r.querySelector('.node-state .badge').textContent }))`);

export const pageSis = (p: Page): Promise<Record<string, PageSi>> =>
  p.eval(`Object.fromEntries([...document.querySelectorAll('table.sis tr[data-si]')].map((r) => [r.dataset.si, {
    assignment: r.dataset.assignment,
    active: r.dataset.active === '' ? [] : r.dataset.active.split(' '),
    ha: Object.fromEntries([...r.querySelectorAll('.assignment')].map((a) => [a.dataset.su, a.dataset.ha])),
  }]))`);

/** The leader the header names. */
export const pageLeader = (p: Page): Promise<string> => p.eval(`document.querySelector('header .summary strong:nth-of-type(2)')?.textContent ?? ''`);
