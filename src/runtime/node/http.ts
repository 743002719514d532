import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { HttpHandler, HttpListenOptions, HttpListener, HttpServerFactory } from '../ports/http.js';

/** node:http / node:https listeners. */
export class NodeHttpServerFactory implements HttpServerFactory {
  listen(options: HttpListenOptions, handler: HttpHandler): Promise<HttpListener> {
    const server: Server = options.tls
      ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert, ...(options.tls.ca === undefined ? {} : { ca: options.tls.ca }) }, handler)
      : createHttpServer(handler);
    // Slow-loris bounds: a client must send its headers and body in reasonable time.
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
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
