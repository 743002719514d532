/**
 * QEMU's part of a virtio-serial channel, for tests without a VM: a unix socket the host side
 * connects to (QEMU's `<channel type='unix' mode='bind'>`) and one the guest client opens as its
 * "device", bytes relayed between whichever two are connected. As with QEMU, the host connection
 * survives the guest client going away, and bytes with nobody on the other end are dropped.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';

export class ChannelRelay {
  private host: Socket | undefined;
  private guest: Socket | undefined;
  private readonly servers: Server[] = [];
  /** Every byte the host side sent and the guest side sent, for assertions on the wire. */
  readonly hostSent: Buffer[] = [];
  readonly guestSent: Buffer[] = [];
  /** Sees every chunk as it passes (bench:heartbeat times the host's challenges with it). */
  tap: ((from: 'host' | 'guest', chunk: Buffer) => void) | undefined;

  constructor(
    readonly hostPath: string,
    readonly guestPath: string,
  ) {}

  async start(): Promise<void> {
    await this.listen(this.hostPath, (s) => {
      this.host?.destroy();
      this.host = s;
      s.on('data', (d) => {
        this.hostSent.push(d);
        this.tap?.('host', d);
        this.guest?.write(d);
      });
      s.on('close', () => this.host === s && (this.host = undefined));
    });
    await this.listen(this.guestPath, (s) => {
      this.guest?.destroy();
      this.guest = s;
      s.on('data', (d) => {
        this.guestSent.push(d);
        this.tap?.('guest', d);
        this.host?.write(d);
      });
      s.on('close', () => this.guest === s && (this.guest = undefined));
    });
  }

  /** Drop the host side's connection, as QEMU does when the VM is destroyed. */
  dropHost(): void {
    this.host?.destroy();
  }

  get guestConnected(): boolean {
    return this.guest !== undefined;
  }

  hostText(): string {
    return Buffer.concat(this.hostSent).toString('utf8');
  }

  guestText(): string {
    return Buffer.concat(this.guestSent).toString('utf8');
  }

  async stop(): Promise<void> {
    this.host?.destroy();
    this.guest?.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    rmSync(this.hostPath, { force: true });
    rmSync(this.guestPath, { force: true });
  }

  private listen(path: string, onConn: (s: Socket) => void): Promise<void> {
    rmSync(path, { force: true });
    const server = createServer((s) => {
      s.on('error', () => undefined);
      onConn(s);
    });
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  }
}
