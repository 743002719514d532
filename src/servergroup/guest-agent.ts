/**
 * The guest agent (`amf-sg-agent`, StarlingX's guest_agent in our words): inside the guest it
 * relays between the applications and the host. Applications connect to a unix stream socket and
 * send `\n`-framed envelopes `{"version":2,"dest_addr":"cgcs.server_grp","data":{…}}`; the agent
 * gives each connection its own address, fills it in as `source_addr`, and writes the envelope to
 * the channel device. From the device it takes the host's envelopes and hands each to the
 * application whose address is its `dest_addr` (`cgcs.server_grp`: every application), without
 * `dest_addr`, as guest_agent does. The device is `/dev/virtio-ports/cgcs.messaging`, or, on a host
 * standing in for QEMU (tests), a unix socket the agent listens on for amfd.
 */
import { LineChannel } from '../runtime/line-channel.js';
import type { Channel, ChannelListener, ChannelNetwork } from '../runtime/ports/channel.js';
import type { Clock } from '../runtime/ports/clock.js';
import type { Logger } from '../runtime/ports/observability.js';
import { LineDecoder } from '../util/lines.js';
import { err, ok, type Result } from '../util/result.js';
import { AGENT_ADDR, decodeEnvelope, encodeEnvelope, MAX_LINE_BYTES, SERVER_GROUP_ADDR, SG_VERSION } from './envelope.js';
import { encodeHostMessage } from './messages.js';

export const DEFAULT_DEVICE = '/dev/virtio-ports/cgcs.messaging';
export const DEFAULT_APP_SOCKET = '/run/amf-sg-agent.sock';
/** Applications one agent serves at once. */
const MAX_APPS = 64;
/** How soon a device that read end-of-file (no host connected) is opened again. */
const DEVICE_POLL_MS = 100;

export interface GuestAgentOptions {
  readonly clock: Clock;
  readonly channels: ChannelNetwork;
  readonly logger: Logger;
  /** The host link: a channel device to open, or a socket to listen on in QEMU's place. */
  readonly host: { readonly device: string } | { readonly listen: string };
  readonly appSocket: string;
}

interface App {
  readonly addr: string;
  readonly channel: Channel;
}

export class GuestAgent {
  private readonly apps = new Map<string, App>();
  private appListener: ChannelListener | undefined;
  private hostListener: ChannelListener | undefined;
  private readonly link: LineChannel;
  private nextApp = 1;
  private readonly waiting: Array<(c: Channel) => void> = [];
  private readonly log: Logger;

  constructor(private readonly o: GuestAgentOptions) {
    this.log = o.logger.child({ module: 'sg-agent' });
    this.link = new LineChannel({
      open: () => this.openHost(),
      clock: o.clock,
      maxLineBytes: MAX_LINE_BYTES,
      // A device is polled (it reads end-of-file until the host connects); a listener just waits.
      minBackoffMs: 'device' in o.host ? DEVICE_POLL_MS : 0,
      maxBackoffMs: 'device' in o.host ? DEVICE_POLL_MS : 0,
      maxQueuedBytes: 256 * 1024,
      onLine: (l) => this.fromHost(l),
      onDrop: (d) => this.log.warn({ drop: d }, 'dropped a message from the host'),
      onState: (s, detail) => this.log.debug({ state: s, detail }, 'host link'),
    });
  }

  /** Listen for applications (and for the host, in listen mode); then keep the host link up. */
  async start(): Promise<Result<void, string>> {
    const apps = await this.o.channels.listen(this.o.appSocket, { mode: 0o666 });
    if (!apps.ok) return err(`application socket: ${apps.error}`);
    this.appListener = apps.value;
    apps.value.onConnection((c) => this.accept(c));
    if ('listen' in this.o.host) {
      const h = await this.o.channels.listen(this.o.host.listen);
      if (!h.ok) return err(`host channel: ${h.error}`);
      this.hostListener = h.value;
      h.value.onConnection((c) => {
        const w = this.waiting.shift();
        if (w) w(c);
        else c.close(); // one host at a time
      });
    }
    this.link.start();
    this.log.info({ host: this.o.host, apps: this.o.appSocket }, 'server-group guest agent started');
    return ok(undefined);
  }

  get hostConnected(): boolean {
    return this.link.state === 'connected';
  }

  async stop(): Promise<void> {
    this.link.stop();
    for (const a of this.apps.values()) a.channel.close();
    this.apps.clear();
    await this.appListener?.close();
    await this.hostListener?.close();
  }

  private openHost(): Promise<Result<Channel, string>> {
    const h = this.o.host;
    if ('device' in h) return this.o.channels.openDevice(h.device);
    return new Promise((resolve) => this.waiting.push((c) => resolve(ok(c))));
  }

  private accept(c: Channel): void {
    if (this.apps.size >= MAX_APPS) {
      this.log.warn({ max: MAX_APPS }, 'too many applications; refusing one');
      c.close();
      return;
    }
    const addr = `sgapp.${this.nextApp++}`;
    const app = { addr, channel: c };
    this.apps.set(addr, app);
    const lines = new LineDecoder(MAX_LINE_BYTES);
    c.onData((chunk) => {
      for (const x of lines.push(chunk).items) {
        if ('line' in x) this.fromApp(app, x.line);
        else this.refuse(app, 'unknown', `message dropped by the guest agent: ${x.drop.reason} (${x.drop.bytes} bytes)`);
      }
    });
    c.onClose(() => this.apps.delete(addr));
  }

  private fromApp(app: App, line: string): void {
    const env = decodeEnvelope(line, { destAddr: true });
    if (!env.ok) return this.refuse(app, env.error.msgType ?? 'unknown', `guest agent: ${env.error.log}`);
    const out = encodeEnvelope({ version: SG_VERSION, destAddr: env.value.destAddr, sourceAddr: app.addr, data: env.value.data });
    const sent = this.link.send(out);
    if (sent === 'not-connected' || sent === 'queue-full') {
      const t = typeof env.value.data['msg_type'] === 'string' ? env.value.data['msg_type'] : 'unknown';
      this.refuse(app, t, sent === 'not-connected' ? 'guest agent: the host is not connected; message dropped' : 'guest agent: the host does not read; message dropped');
    }
  }

  private fromHost(line: string): void {
    const env = decodeEnvelope(line, { destAddr: true, sourceAddr: true });
    if (!env.ok) {
      this.log.warn({ error: env.error.log }, 'dropped a malformed message from the host');
      return;
    }
    const out = encodeEnvelope({ version: SG_VERSION, sourceAddr: env.value.sourceAddr, data: env.value.data });
    const to = env.value.destAddr === SERVER_GROUP_ADDR ? [...this.apps.values()] : [this.apps.get(env.value.destAddr ?? '')].filter((a) => a !== undefined);
    for (const a of to) a.channel.write(out);
  }

  /** Tell an application the agent itself dropped its message (source_addr cgcs.messaging). */
  private refuse(app: App, orig: string, log: string): void {
    this.log.debug({ app: app.addr, log }, 'refused an application message');
    app.channel.write(encodeEnvelope({ version: SG_VERSION, sourceAddr: AGENT_ADDR, data: encodeHostMessage({ type: 'nack', origMsgType: orig, log }) }));
  }
}
