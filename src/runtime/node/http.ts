import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { HttpHandler, HttpListenOptions, HttpListener, HttpServerFactory } from '../ports/http.js';

/** Connections the API serves at once. */
export const HTTP_MAX_CONNECTIONS = 1024;

/** node:http / node:https listeners. */
export class NodeHttpServerFactory implements HttpServerFactory {
  listen(options: HttpListenOptions, handler: HttpHandler): Promise<HttpListener> {
    const server: Server = options.tls
      ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert, handshakeTimeout: 10_000, ...(options.tls.ca === undefined ? {} : { ca: options.tls.ca }) }, handler)
      : createHttpServer(handler);
    // Slow-loris bounds: a client must finish its TLS handshake (above), send its headers (at most
    // node's 16 KiB) and body in reasonable time, and only so many connections are open at once
    // (event streams included); one more is closed at accept.
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    server.maxConnections = HTTP_MAX_CONNECTIONS;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        const addr = server.address() as AddressInfo;
        const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
        resolve({
          address: `${host}:${addr.port}`,
          port: addr.port,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              server.closeAllConnections();
            }),
        });
      });
    });
  }
}
