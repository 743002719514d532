import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * An HTTP(S) listener for the API. The request handler gets node's own request and response
 * objects (they are plain streams, not sockets the caller could misuse), so the API code needs no
 * router framework; only opening the socket lives in runtime.
 */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpListenOptions {
  /** Interface to bind; loopback by default in the daemon config. */
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** PEM key and certificate: serve HTTPS instead of HTTP. */
  readonly tls?: { readonly key: string; readonly cert: string; readonly ca?: string };
}

export interface HttpListener {
  /** The bound address, e.g. `127.0.0.1:40123`. */
  readonly address: string;
  readonly port: number;
  /**
   * Stop accepting, then close every connection, open streams included (server.close alone
   * never finishes while an NDJSON stream is open). Call the API's own close first so streams get
   * their last line.
   */
  close(): Promise<void>;
}

export interface HttpServerFactory {
  listen(options: HttpListenOptions, handler: HttpHandler): Promise<HttpListener>;
}
