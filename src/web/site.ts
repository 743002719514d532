/**
 * The web console's files as the API serves them under `/ui/` (docs/web.md): the build output of
 * `scripts/build-web.mjs` (dist/web), held in memory, with content types, ETags and a strict
 * Content-Security-Policy. The files hold no data, so they are served without the token; every
 * read of the cluster the page makes needs it. Reading the files is the daemon's job
 * (src/daemon/web-assets.ts); this module only answers.
 */
import { createHash } from 'node:crypto';
import type { UiReply, UiSite } from '../api/server.js';

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  txt: 'text/plain; charset=utf-8',
};

const INDEX = 'index.html';

interface Entry {
  readonly body: Uint8Array;
  readonly type: string;
  readonly etag: string;
}

/** The one inline script of the page (its import map), whose hash the policy allows. */
function importMapHash(html: string): string | null {
  const m = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html);
  return m ? `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'` : null;
}

export class WebConsole implements UiSite {
  /** Why the console cannot be served (its build output is missing), or null. */
  readonly missing: string | null;
  private readonly files = new Map<string, Entry>();
  private readonly headers: Record<string, string>;

  /**
   * `files`: path relative to the console's root (`index.html`, `js/web/app/main.js`) → bytes;
   * `missing`: why there are none (the page then answers 503 with that reason).
   */
  constructor(source: { readonly files: ReadonlyMap<string, Uint8Array> } | { readonly missing: string }) {
    const files = 'files' in source ? source.files : new Map<string, Uint8Array>();
    this.missing = 'missing' in source ? source.missing : files.has(INDEX) ? null : `the web console has no ${INDEX}`;
    for (const [path, body] of files) {
      const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
      this.files.set(path, { body, type: TYPES[ext] ?? 'application/octet-stream', etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
    }
    const index = files.get(INDEX);
    const hash = index ? importMapHash(new TextDecoder().decode(index)) : null;
    this.headers = {
      // Same-origin only: the page's scripts, styles and API calls; nothing else runs or loads.
      'content-security-policy': [`default-src 'none'`, `script-src 'self'${hash ? ` ${hash}` : ''}`, `style-src 'self'`, `img-src 'self' data:`, `connect-src 'self'`, `base-uri 'none'`, `form-action 'none'`, `frame-ancestors 'none'`].join('; '),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      // Revalidated on every load (ETag): a rebuilt console is never served stale from a cache.
      'cache-control': 'no-cache',
    };
  }

  /** Paths served (for the tests and the log). */
  paths(): string[] {
    return [...this.files.keys()].sort();
  }

  get(path: string, ifNoneMatch: string | undefined): UiReply | null {
    if (this.missing !== null) {
      return { status: 503, headers: { 'content-type': TYPES['txt']!, 'cache-control': 'no-store' }, body: `amfd web console unavailable: ${this.missing}\n` };
    }
    const e = this.files.get(path === '' ? INDEX : path);
    if (!e) return null;
    const headers = { ...this.headers, 'content-type': e.type, etag: e.etag };
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim() === e.etag)) return { status: 304, headers, body: '' };
    return { status: 200, headers, body: e.body };
  }
}
