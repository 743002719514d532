/**
 * The server-group client library for applications in a guest: libservergroup's surface in
 * TypeScript. `init` takes the three optional callbacks of init_sg (broadcast, notification,
 * status) and gives back a client that is also an event emitter; `broadcast` and `requestStatus`
 * return errors as values; every problem with an incoming message is an `error` event carrying
 * what sg_get_error() would say. It talks to the guest agent over its application socket and
 * reconnects by itself if the agent restarts (libservergroup's datagram socket survives that too).
 *
 *   const r = await ServerGroupClient.init({ broadcast: (from, msg) => …, status: (list) => … }, { channels, clock });
 *   if (!r.ok) …r.error…;  const sg = r.value;
 *   sg.broadcast('hello');  sg.requestStatus();  sg.on('error', (why) => …);
 *
 * The status callback receives the JSON list `[{…},{…}]` of every member, as libservergroup joins
 * the status_response parts; a newer requestStatus() drops the answers of an older one.
 */
import { EventEmitter } from 'node:events';
import { LineChannel } from '../runtime/line-channel.js';
import type { ChannelNetwork } from '../runtime/ports/channel.js';
import type { Clock } from '../runtime/ports/clock.js';
import { err, ok, type Result } from '../util/result.js';
import { decodeEnvelope, encodeEnvelope, MAX_LINE_BYTES, SERVER_GROUP_ADDR, SG_VERSION } from './envelope.js';
import { DEFAULT_APP_SOCKET } from './guest-agent.js';
import { checkBroadcastData, decodeHostMessage, encodeGuestRequest, type GuestRequest } from './messages.js';

export interface ServerGroupCallbacks {
  /** A broadcast from another member: its instance name and the message. */
  readonly broadcast?: (sourceInstance: string, msg: string) => void;
  /** A member's state changed: the notification as JSON text. */
  readonly notification?: (msg: string) => void;
  /** The answer to requestStatus(): a JSON list with one object per member. */
  readonly status?: (msg: string) => void;
}

export interface ServerGroupClientOptions {
  readonly channels: ChannelNetwork;
  readonly clock: Clock;
  /** The guest agent's application socket. Default $AMF_SG_SOCKET, else /run/amf-sg-agent.sock. */
  readonly socketPath?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface ServerGroupClientEvents {
  broadcast: [sourceInstance: string, msg: string];
  notification: [msg: string];
  status: [msg: string];
  error: [message: string];
}

const CONNECT_TIMEOUT_MS = 2000;
/** libservergroup's status_seqnum starts at 0 and is bumped before the first query. */
const MAX_SEQ = 0x7fff_ffff;

export class ServerGroupClient extends EventEmitter<ServerGroupClientEvents> {
  private seq = 0;
  /** The status being reassembled for `seq` (undefined: no query pending). */
  private parts: string[] | undefined;
  private lastError = '';

  private readonly link: LineChannel;
  /** Resolves with the first connect's outcome (undefined: connected). */
  private readonly firstOutcome: Promise<string | undefined>;

  private constructor(callbacks: ServerGroupCallbacks, o: ServerGroupClientOptions, path: string) {
    super();
    if (callbacks.broadcast) this.on('broadcast', callbacks.broadcast);
    if (callbacks.notification) this.on('notification', callbacks.notification);
    if (callbacks.status) this.on('status', callbacks.status);
    // An error nobody listens to must not throw out of the channel's event handler.
    this.on('error', () => undefined);
    let first: ((outcome: string | undefined) => void) | undefined;
    this.firstOutcome = new Promise((resolve) => (first = resolve));
    this.link = new LineChannel({
      open: () => o.channels.connect(path, { timeoutMs: CONNECT_TIMEOUT_MS }),
      clock: o.clock,
      maxLineBytes: MAX_LINE_BYTES,
      minBackoffMs: 100,
      maxBackoffMs: 2000,
      maxQueuedBytes: 64 * 1024,
      onLine: (l) => this.receive(l),
      onDrop: (d) => this.fail(`message from the guest agent dropped: ${d.reason} (${d.bytes} bytes)`),
      onState: (s, detail) => {
        if (s === 'connected') first?.(undefined);
        else if (s === 'backoff') first?.(`cannot reach the server-group guest agent at ${path}: ${detail ?? 'closed'}`);
        if (s === 'connected' || s === 'backoff') first = undefined;
      },
    });
  }

  /** Connect to the guest agent. Fails (as a value) when no agent answers. */
  static async init(callbacks: ServerGroupCallbacks, o: ServerGroupClientOptions): Promise<Result<ServerGroupClient, string>> {
    const client = new ServerGroupClient(callbacks, o, o.socketPath ?? o.env?.['AMF_SG_SOCKET'] ?? DEFAULT_APP_SOCKET);
    client.link.start();
    const problem = await client.firstOutcome;
    if (problem === undefined) return ok(client);
    client.close();
    return err(problem);
  }

  /** Send `msg` to every other member of the server group (best effort). */
  broadcast(msg: string): Result<void, string> {
    const bad = checkBroadcastData(msg);
    if (bad !== undefined) return this.refused(bad);
    return this.send({ type: 'broadcast', data: msg });
  }

  /** Ask for every member's status; a pending query is cancelled. The seq sent, or why not. */
  requestStatus(): Result<number, string> {
    this.seq = this.seq >= MAX_SEQ ? 1 : this.seq + 1;
    this.parts = [];
    const r = this.send({ type: 'status_query', seq: this.seq });
    if (!r.ok) {
      this.parts = undefined;
      return r;
    }
    return ok(this.seq);
  }

  /** What the last failed call or incoming message said (sg_get_error). */
  get error(): string {
    return this.lastError;
  }

  close(): void {
    this.link.stop();
  }

  private send(req: GuestRequest): Result<void, string> {
    const sent = this.link.send(encodeEnvelope({ version: SG_VERSION, destAddr: SERVER_GROUP_ADDR, data: encodeGuestRequest(req) }));
    if (sent === 'sent' || sent === 'queued') return ok(undefined);
    return this.refused(sent === 'not-connected' ? 'not connected to the server-group guest agent' : 'the guest agent does not read; message dropped');
  }

  private refused(why: string): Result<never, string> {
    this.lastError = why;
    return err(why);
  }

  private fail(why: string): void {
    this.lastError = why;
    this.emit('error', why);
  }

  private receive(line: string): void {
    const env = decodeEnvelope(line, { sourceAddr: true });
    if (!env.ok) return this.fail(env.error.log);
    const m = decodeHostMessage(env.value.data);
    if (!m.ok) return this.fail(m.error);
    const msg = m.value;
    if (msg.type === 'nack') return this.fail(`Nack received, error message from ${env.value.sourceAddr === SERVER_GROUP_ADDR ? 'host' : 'guest agent'}: ${msg.log}`);
    if (env.value.sourceAddr !== SERVER_GROUP_ADDR) return this.fail(`unknown sender address ${env.value.sourceAddr ?? ''}`);
    switch (msg.type) {
      case 'broadcast':
        this.emit('broadcast', msg.sourceInstance, msg.data);
        return;
      case 'notification':
        this.emit('notification', JSON.stringify(msg.data));
        return;
      case 'status_response':
      case 'status_response_done': {
        if (msg.seq !== this.seq || this.parts === undefined) return this.fail(`status resp${msg.type === 'status_response_done' ? ' done' : ''} seqnum ${msg.seq} doesn't match expected ${this.seq}`);
        if (msg.type === 'status_response') {
          this.parts.push(JSON.stringify(msg.data));
          return;
        }
        const list = `[${this.parts.join(',')}]`;
        this.parts = undefined;
        this.seq++; // as libservergroup: a repeated done no longer matches
        this.emit('status', list);
      }
    }
  }
}
