/**
 * One request, one answer between nodes: a new stream connection to an rpc address, one frame
 * each way, bounded by a timeout. Forwarded writes (forward.ts) and votes (votes.ts) both ride it;
 * they are rare, so no connection is kept.
 */
import type { Clock } from '../runtime/ports/clock.js';
import type { StreamNetwork } from '../runtime/ports/stream.js';
import { err, ok, type Result } from '../util/result.js';
import { decode, encode } from './codec.js';

export type ExchangeFailure =
  | { readonly kind: 'unreachable'; readonly detail: string }
  | { readonly kind: 'too-large'; readonly bytes: number; readonly limit: number }
  | { readonly kind: 'timeout' }
  /** Closed before the answer: the peer stopped or refused the request. */
  | { readonly kind: 'closed' }
  | { readonly kind: 'undecodable'; readonly detail: string };

/** Send `request` to `address` and decode its one answer (unvalidated: the caller checks it). */
export async function exchange(net: StreamNetwork, clock: Clock, address: string, request: unknown, timeoutMs: number, connectTimeoutMs = timeoutMs): Promise<Result<unknown, ExchangeFailure>> {
  const c = await net.connect(address, { timeoutMs: connectTimeoutMs });
  if (!c.ok) return err({ kind: 'unreachable', detail: c.error.kind });
  const conn = c.value;
  const frame = encode(request);
  if (frame.length > conn.maxFrameSize) {
    conn.close();
    return err({ kind: 'too-large', bytes: frame.length, limit: conn.maxFrameSize });
  }
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: Result<unknown, ExchangeFailure>): void => {
      if (done) return;
      done = true;
      timer.cancel();
      conn.close();
      resolve(r);
    };
    const timer = clock.setTimer(timeoutMs, () => finish(err({ kind: 'timeout' })));
    conn.onFrame((f) => {
      const raw = decode(f, 'answer');
      finish(raw.ok ? ok(raw.value) : err({ kind: 'undecodable', detail: raw.error }));
    });
    conn.onClose(() => finish(err({ kind: 'closed' })));
    conn.send(frame);
  });
}
