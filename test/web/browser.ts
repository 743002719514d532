/**
 * Debian's chromium, headless, driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
 * NUL-terminated JSON on fds 3 and 4): no WebSocket, no port, no npm browser driver, no download
 * (docs/web.md says why). One browser per test file; each page is a fresh target.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM = process.env['AMFD_CHROMIUM'] ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null. */
export function noBrowser(): string | null {
  return existsSync(CHROMIUM) ? null : `${CHROMIUM} is not installed (apt-get install chromium; .ci/run does it)`;
}

/** The flags the closed network needs: no background connections, no updates, no sync. */
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--no-default-browser-check', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-extensions', '--disable-dev-shm-usage', '--mute-audio', '--hide-scrollbars', '--remote-debugging-pipe'];

interface Pending {
  resolve(v: Record<string, unknown>): void;
  reject(e: Error): void;
  method: string;
}

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(m: { method: string; params: Record<string, unknown>; sessionId?: string }) => void>();
  private buf = '';
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly input: Writable,
    output: Readable,
  ) {
    output.on('data', (d: Buffer) => this.receive(d.toString('utf8')));
    child.once('exit', () => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`chromium exited during ${p.method}`));
      this.pending.clear();
    });
  }

  /** Starts chromium with a fresh profile under `dir`. */
  static async launch(dir: string): Promise<Browser> {
    const profile = join(dir, 'chromium-profile');
    mkdirSync(profile, { recursive: true });
    const child = spawn(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const b = new Browser(child, child.stdio[3] as Writable, child.stdio[4] as Readable);
    try {
      await b.send('Target.setDiscoverTargets', { discover: true });
    } catch (e) {
      child.kill('SIGKILL');
      throw new Error(`chromium did not start: ${(e as Error).message}\n${stderr}`);
    }
    return b;
  }

  private receive(chunk: string): void {
    this.buf += chunk;
    let end: number;
    while ((end = this.buf.indexOf('\0')) >= 0) {
      const msg = JSON.parse(this.buf.slice(0, end)) as { id?: number; result?: Record<string, unknown>; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
      this.buf = this.buf.slice(end + 1);
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p?.resolve(msg.result ?? {});
      } else if (msg.method) {
        for (const l of [...this.listeners]) l({ method: msg.method, params: msg.params ?? {}, ...(msg.sessionId ? { sessionId: msg.sessionId } : {}) });
      }
    }
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`chromium has exited (${method})`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  on(listener: (m: { method: string; params: Record<string, unknown>; sessionId?: string }) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A new tab of `width`×`height` (mobile: a phone's touch viewport). */
  async newPage(width = 1280, height = 800, mobile = false): Promise<Page> {
    const { targetId } = (await this.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const page = new Page(this, sessionId, targetId);
    await page.send('Page.enable');
    await page.send('Runtime.enable');
    await page.viewport(width, height, mobile);
    return page;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    void this.send('Browser.close').catch(() => undefined);
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  }
}

export class Page {
  /** Console messages and uncaught exceptions of the page, for failure messages. */
  readonly console: string[] = [];

  constructor(
    private readonly browser: Browser,
    private readonly sessionId: string,
    readonly targetId: string,
  ) {
    browser.on((m) => {
      if (m.sessionId !== sessionId) return;
      if (m.method === 'Runtime.consoleAPICalled') {
        const args = (m.params['args'] as Array<{ value?: unknown; description?: string }>).map((a) => a.value ?? a.description).join(' ');
        this.console.push(`${String(m.params['type'])}: ${args}`);
      } else if (m.method === 'Runtime.exceptionThrown') {
        const d = m.params['exceptionDetails'] as { text: string; exception?: { description?: string } };
        this.console.push(`exception: ${d.exception?.description ?? d.text}`);
      }
    });
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.browser.send(method, params, this.sessionId);
  }

  async viewport(width: number, height: number, mobile = false): Promise<void> {
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile });
  }

  /** Navigates and waits for the load event. */
  async goto(url: string): Promise<void> {
    const loaded = new Promise<void>((resolve) => {
      const off = this.browser.on((m) => {
        if (m.sessionId === this.sessionId && m.method === 'Page.loadEventFired') {
          off();
          resolve();
        }
      });
    });
    const r = (await this.send('Page.navigate', { url })) as { errorText?: string };
    if (r.errorText) throw new Error(`navigate ${url}: ${r.errorText}`);
    await loaded;
  }

  /** Evaluates an expression (a promise is awaited) and returns its JSON value. */
  async eval<T>(expression: string): Promise<T> {
    const r = (await this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true })) as { result: { value?: T }; exceptionDetails?: { text: string; exception?: { description?: string } } };
    if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}\n  evaluating: ${expression.slice(0, 200)}`);
    return r.result.value as T;
  }

  /** Polls `expression` until it is truthy; returns its value. */
  async waitFor<T>(what: string, expression: string, timeoutMs = 15_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      last = await this.eval<T>(expression).catch((e: Error) => e.message);
      if (last && !(typeof last === 'string' && last.startsWith('in the page:'))) return last as T;
      if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)}; page console: ${this.console.slice(-5).join(' | ')})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A real click in the middle of the first element matching `selector`. */
  async click(selector: string): Promise<void> {
    const box = await this.eval<{ x: number; y: number } | null>(`(() => { const e = document.querySelector(${JSON.stringify(selector)}); if (!e) return null; e.scrollIntoView({ block: 'center' }); const r = e.getBoundingClientRect(); return { x: r.x + r.width / 2, y: r.y + r.height / 2 }; })()`);
    if (!box) throw new Error(`no element ${selector} to click`);
    for (const type of ['mousePressed', 'mouseReleased']) await this.send('Input.dispatchMouseEvent', { type, x: box.x, y: box.y, button: 'left', clickCount: 1 });
  }

  /** Types text into the focused element. */
  async type(text: string): Promise<void> {
    await this.send('Input.insertText', { text });
  }

  /** Presses a key (`Tab`, `Enter`, `Escape`, `Space`) with optional modifiers (8: shift). */
  async press(key: 'Tab' | 'Enter' | 'Escape' | ' ', modifiers = 0): Promise<void> {
    const codes: Record<string, [string, number, string?]> = { Tab: ['Tab', 9], Enter: ['Enter', 13, '\r'], Escape: ['Escape', 27], ' ': ['Space', 32, ' '] };
    const [code, keyCode, text] = codes[key]!;
    await this.send('Input.dispatchKeyEvent', { type: 'keyDown', key, code, windowsVirtualKeyCode: keyCode, modifiers, ...(text ? { text } : {}) });
    await this.send('Input.dispatchKeyEvent', { type: 'keyUp', key, code, windowsVirtualKeyCode: keyCode, modifiers });
  }

  async screenshot(path: string): Promise<void> {
    const { data } = (await this.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: false })) as { data: string };
    writeFileSync(path, Buffer.from(data, 'base64'));
  }

  /** The JS heap after a full collection, in bytes. */
  async heapUsed(): Promise<number> {
    await this.send('HeapProfiler.enable');
    await this.send('HeapProfiler.collectGarbage');
    const { usedSize } = (await this.send('Runtime.getHeapUsage')) as { usedSize: number };
    return usedSize;
  }

  async close(): Promise<void> {
    await this.browser.send('Target.closeTarget', { targetId: this.targetId }).catch(() => undefined);
  }
}
