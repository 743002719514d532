import { isIPv4 } from 'node:net';

export type ParsedAddress =
  | { readonly kind: 'inet'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

/**
 * Parse "a.b.c.d:port" (IPv4, port 0..65535) or, when unix is allowed, "unix:/absolute/path".
 * Returns undefined for anything else.
 */
export function parseAddress(address: string, allowUnix: boolean): ParsedAddress | undefined {
  if (address.startsWith('unix:')) {
    const path = address.slice('unix:'.length);
    return allowUnix && path.startsWith('/') && !path.includes('\0') ? { kind: 'unix', path } : undefined;
  }
  const m = /^([0-9.]+):(\d{1,5})$/.exec(address);
  if (!m) return undefined;
  const host = m[1] ?? '';
  const port = Number(m[2]);
  return isIPv4(host) && port <= 65535 ? { kind: 'inet', host, port } : undefined;
}

export function formatInet(host: string, port: number): string {
  return `${host}:${port}`;
}
