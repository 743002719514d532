/**
 * A lightweight simulated guest for tests and bench:heartbeat: a unix socket (QEMU's server end)
 * behind which the real GuestHeartbeatFsm answers the host, with no process, no scripts and no
 * application API. It can be frozen (nothing handled, as under SIGSTOP) and thawed.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { NodeClock } from '../../src/runtime/node/clock.js';
import { Xoshiro128 } from '../../src/runtime/xoshiro.js';
import type { TimerHandle } from '../../src/runtime/ports/clock.js';
import { KeyedTimers } from '../../src/runtime/keyed-timers.js';
import { GuestHeartbeatFsm, TICK_MS, type GuestEffect, type GuestTimer } from '../../src/heartbeat/guest-fsm.js';
import { GuestHealth } from '../../src/heartbeat/guest-health.js';
import { GUEST_DEFAULTS, type GuestHbConfig } from '../../src/heartbeat/guest-config.js';
import { MAX_MSG_BYTES } from '../../src/heartbeat/wire.js';
import { LineDecoder } from '../../src/util/lines.js';

const clock = new NodeClock();

export class SimGuest {
  private server: Server | undefined;
  private socket: Socket | undefined;
  private fsm: GuestHeartbeatFsm | undefined;
  private readonly timers = new KeyedTimers<GuestTimer>(clock);
  private tick: TimerHandle | undefined;
  private frozen = false;
  private held: Array<() => void> = [];
  responses = 0;

  constructor(
    readonly path: string,
    private readonly config: GuestHbConfig = GUEST_DEFAULTS,
    private readonly seed = 1,
  ) {}

  async start(): Promise<void> {
    rmSync(this.path, { force: true });
    this.server = createServer((s) => this.attach(s));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.path, () => resolve());
    });
  }

  freeze(): void {
    this.frozen = true;
  }

  thaw(): void {
    this.frozen = false;
    for (const f of this.held.splice(0)) f();
  }

  async stop(): Promise<void> {
    this.detach();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    rmSync(this.path, { force: true });
  }

  private run(f: () => void): void {
    if (this.frozen) this.held.push(f);
    else f();
  }

  private attach(s: Socket): void {
    this.detach();
    this.socket = s;
    s.on('error', () => undefined);
    const health = new GuestHealth(this.config.correctiveAction);
    const fsm = new GuestHeartbeatFsm({ config: this.config, name: this.path, random: new Xoshiro128([this.seed]), health: { respond: (now) => health.respond(now, []), reset: () => health.reset() } });
    this.fsm = fsm;
    const framer = new LineDecoder(MAX_MSG_BYTES);
    s.on('data', (d) => this.run(() => {
      for (const line of framer.push(d).lines) this.apply(fsm.receive(clock.now(), line));
    }));
    s.on('close', () => {
      if (this.socket !== s) return;
      this.apply(fsm.channel(clock.now(), false));
      this.detach();
    });
    this.tick = clock.setPeriodic(TICK_MS, () => this.run(() => this.apply(fsm.tick(clock.now()))));
    this.apply(fsm.channel(clock.now(), true));
  }

  private detach(): void {
    this.tick?.cancel();
    this.timers.cancelAll();
    this.socket?.destroy();
    this.socket = undefined;
    this.fsm = undefined;
  }

  private apply(effects: readonly GuestEffect[]): void {
    const fsm = this.fsm;
    if (fsm === undefined) return;
    for (const e of effects) {
      if (e.kind === 'send') {
        if (e.msg.msgType === 'challenge_response') this.responses++;
        this.socket?.write(e.line);
      } else if (e.kind === 'set-timer') {
        const timer = e.timer;
        this.timers.set(timer, e.delayMs, () => this.run(() => this.apply(fsm.timeout(clock.now(), timer))));
      } else if (e.kind === 'cancel-timer') {
        this.timers.cancel(e.timer);
      } else if (e.kind === 'action') {
        const { invocationId, eventType, notificationType } = e;
        this.apply(fsm.actionDone(clock.now(), invocationId, eventType, notificationType, notificationType === 'revocable' ? 'accept' : 'complete', ''));
      }
    }
  }
}
