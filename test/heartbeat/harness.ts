/**
 * A deterministic bench for the heartbeat cores: one HostGuestFsm and (optionally) one
 * GuestHeartbeatFsm on a virtual clock, their messages carried in order with a small latency,
 * everything they do printed to a transcript compared with testdata/<name>.txt
 * (UPDATE_TRANSCRIPTS=1 rewrites it), like the Raft transcripts in test/raft/core/testdata.
 */
import { join } from 'node:path';
import { Xoshiro128 } from '../../src/runtime/xoshiro.js';
import { HostGuestFsm, type HostEffect, type HostTimer } from '../../src/heartbeat/host-fsm.js';
import { GuestHeartbeatFsm, TICK_MS, type GuestEffect, type GuestTimer } from '../../src/heartbeat/guest-fsm.js';
import { GuestHealth } from '../../src/heartbeat/guest-health.js';
import { GUEST_DEFAULTS, type GuestHbConfig } from '../../src/heartbeat/guest-config.js';
import type { EventType, NotificationType, VoteResult } from '../../src/heartbeat/wire.js';
import { checkGolden } from '../golden.js';

interface Scheduled {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
  cancelled: boolean;
}

export interface GuestScript {
  /** How the guest's participants answer each action (default: accept / complete at once). */
  answer?(event: EventType, type: NotificationType): { result: VoteResult; logMsg: string; afterMs: number } | 'silent';
}

export class Bench {
  now = 0;
  readonly out: string[] = [];
  readonly host: HostGuestFsm;
  guest: GuestHeartbeatFsm | undefined;
  readonly guestHealth: GuestHealth;
  readonly hostEffects: HostEffect[] = [];
  /** Print ticks and scheduling notes? Off: they would drown the transcript. */
  quiet = false;
  /** The guest process is stopped (SIGSTOP): nothing it would do happens, its inputs wait. */
  frozen = false;
  private readonly queue: Scheduled[] = [];
  private seq = 0;
  private readonly hostTimers = new Map<HostTimer, Scheduled>();
  private readonly guestTimers = new Map<GuestTimer, Scheduled>();
  private readonly frozenInbox: Array<() => void> = [];
  connected = false;

  constructor(
    readonly opts: { seed?: number; latencyMs?: number; guestConfig?: Partial<GuestHbConfig>; guestName?: string; script?: GuestScript; withGuest?: boolean } = {},
  ) {
    this.host = new HostGuestFsm({ random: new Xoshiro128([opts.seed ?? 1, 1]) });
    const config = { ...GUEST_DEFAULTS, ...opts.guestConfig };
    this.guestHealth = new GuestHealth(config.correctiveAction);
    if (opts.withGuest !== false) {
      this.guest = new GuestHeartbeatFsm({
        config,
        name: opts.guestName ?? 'vm-1',
        random: new Xoshiro128([opts.seed ?? 1, 2]),
        health: { respond: (now) => this.guestHealth.respond(now, []), reset: () => this.guestHealth.reset() },
      });
    }
  }

  log(text: string): void {
    this.out.push(`# ${text}`);
  }

  private line(who: string, text: string): void {
    this.out.push(`@${this.now} ${who} ${text}`);
  }

  private schedule(delayMs: number, run: () => void): Scheduled {
    const s: Scheduled = { at: this.now + delayMs, seq: this.seq++, run, cancelled: false };
    this.queue.push(s);
    this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
    return s;
  }

  /** Run everything due up to now + ms, in time order. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const next = this.queue[0];
      if (next === undefined || next.at > until) break;
      this.queue.shift();
      if (next.cancelled) continue;
      this.now = next.at;
      next.run();
    }
    this.now = until;
  }

  /** Connect the channel on both ends; the guest starts heartbeating. */
  connect(): void {
    this.connected = true;
    this.line('chan', 'connected');
    this.hostDo(this.host.connect());
    if (this.guest !== undefined) {
      this.guestDo(this.guest.channel(this.now, true));
      this.guestDo(this.guest.release(this.now));
      this.scheduleTick();
    }
  }

  disconnect(): void {
    this.connected = false;
    this.line('chan', 'closed');
    this.hostDo(this.host.disconnect());
    if (this.guest !== undefined) this.guestDo(this.guest.channel(this.now, false));
  }

  /** A line as the guest would send it (raw text, no framing newlines). */
  guestSends(text: string): void {
    this.line('guest>', text);
    this.schedule(this.opts.latencyMs ?? 1, () => this.hostDo(this.host.receive(text)));
  }

  freeze(): void {
    this.frozen = true;
    this.line('guest', 'SIGSTOP');
  }

  thaw(): void {
    this.frozen = false;
    this.line('guest', 'SIGCONT');
    for (const f of this.frozenInbox.splice(0)) f();
  }

  notify(event: EventType, type: NotificationType): number | undefined {
    const r = this.host.notify(event, type);
    if (!r.ok) {
      this.line('host', `notify ${event} ${type} refused: ${JSON.stringify(r.error)}`);
      return undefined;
    }
    this.hostDo(r.value.effects);
    return r.value.invocationId;
  }

  hostDo(effects: readonly HostEffect[]): void {
    for (const e of effects) {
      this.hostEffects.push(e);
      switch (e.kind) {
        case 'send': {
          const text = e.line.trim();
          this.line('host>', text);
          if (this.guest !== undefined && this.connected) this.schedule(this.opts.latencyMs ?? 1, () => this.toGuest(() => this.guestDo(this.guest!.receive(this.now, text))));
          break;
        }
        case 'set-timer': {
          const old = this.hostTimers.get(e.timer);
          if (old !== undefined) old.cancelled = true;
          const timer = e.timer;
          this.hostTimers.set(timer, this.schedule(e.delayMs, () => this.hostDo(this.host.timeout(timer))));
          break;
        }
        case 'cancel-timer': {
          const t = this.hostTimers.get(e.timer);
          if (t !== undefined) t.cancelled = true;
          this.hostTimers.delete(e.timer);
          break;
        }
        case 'status':
          this.line('host:', `status ${e.from} -> ${e.to} (${e.reason})`);
          break;
        case 'enabled':
          this.line('host:', `enabled ${e.params.name} interval=${e.params.intervalMs} vote=${e.params.voteSecs}s shutdown=${e.params.shutdownNoticeSecs}s suspend=${e.params.suspendNoticeSecs}s resume=${e.params.resumeNoticeSecs}s restart=${e.params.restartSecs}s action=${e.params.correctiveAction}`);
          break;
        case 'loss':
          this.line('host:', `LOSS interval=${e.intervalMs} corrective_action=${e.correctiveAction}`);
          break;
        case 'unhealthy':
          this.line('host:', `UNHEALTHY corrective_action=${e.correctiveAction} log_msg=${JSON.stringify(e.logMsg)}`);
          break;
        case 'exit':
          this.line('host:', `exit ${JSON.stringify(e.logMsg)}`);
          break;
        case 'action-result':
          this.line('host:', `action-result ${e.eventType} ${e.notificationType} ${e.result} (${e.source}) ${JSON.stringify(e.logMsg)}`);
          break;
        case 'reconnect':
          this.line('host:', `reconnect (${e.reason})`);
          break;
        case 'dropped':
          this.line('host:', `dropped ${e.reason}: ${e.detail}`);
          break;
        case 'log':
          this.line('host:', `log ${e.level} ${e.msg}`);
          break;
      }
    }
  }

  /** Deliver an input to the guest now, or when it is thawed. */
  private toGuest(f: () => void): void {
    if (this.frozen) this.frozenInbox.push(f);
    else f();
  }

  private scheduleTick(): void {
    this.schedule(TICK_MS, () => {
      if (this.guest === undefined) return;
      this.toGuest(() => this.guestDo(this.guest!.tick(this.now)));
      this.scheduleTick();
    });
  }

  guestDo(effects: readonly GuestEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'send': {
          const text = e.line.trim();
          this.line('guest>', text);
          if (this.connected) this.schedule(this.opts.latencyMs ?? 1, () => this.hostDo(this.host.receive(text)));
          break;
        }
        case 'set-timer': {
          const old = this.guestTimers.get(e.timer);
          if (old !== undefined) old.cancelled = true;
          const timer = e.timer;
          this.guestTimers.set(timer, this.schedule(e.delayMs, () => this.toGuest(() => this.guestDo(this.guest!.timeout(this.now, timer)))));
          break;
        }
        case 'cancel-timer': {
          const t = this.guestTimers.get(e.timer);
          if (t !== undefined) t.cancelled = true;
          this.guestTimers.delete(e.timer);
          break;
        }
        case 'state':
          break;
        case 'health-check':
          this.line('guest:', 'run health check');
          break;
        case 'action': {
          const a = this.opts.script?.answer?.(e.eventType, e.notificationType) ?? { result: e.notificationType === 'revocable' ? 'accept' : 'complete', logMsg: '', afterMs: 0 };
          this.line('guest:', `action ${e.eventType} ${e.notificationType} deadline=${e.deadlineMs}`);
          if (a === 'silent') break;
          const { invocationId, eventType, notificationType } = e;
          this.schedule(a.afterMs, () => this.toGuest(() => this.guestDo(this.guest!.actionDone(this.now, invocationId, eventType, notificationType, a.result, a.logMsg))));
          break;
        }
        case 'abort-action':
          this.line('guest:', 'abort action');
          break;
        case 'log':
          if (this.quiet && e.msg.startsWith('Not scheduling')) break;
          this.line('guest:', `log ${e.level} ${e.msg}`);
          break;
      }
    }
  }

  statusChanges(): string[] {
    return this.hostEffects.flatMap((e) => (e.kind === 'status' ? [e.to] : []));
  }

  check(name: string): void {
    checkGolden(join(import.meta.dirname, 'testdata', `${name}.txt`), this.out, `transcript ${name}`);
  }
}
