/**
 * Passive monitoring of domains through libvirt's lifecycle events: one `virsh event --loop --all`
 * per libvirt URI, shared by every vm component using it, run as a supervised child (restarted
 * with a doubling delay when it ends). A domain that stops or crashes is reported to its watcher
 * as soon as libvirt prints the event. The child runs only while some domain is watched. While the stream is down (and twice after each start, to
 * cover the moment virsh is still registering), watchers are asked to resync: to check their
 * domain with `virsh domstate` themselves, so no end is missed.
 */
import type { Clock, TimerHandle } from '../runtime/ports/clock.js';
import type { Logger } from '../runtime/ports/observability.js';
import { endsDomain } from './parse.js';
import type { EventStream, Virsh } from './virsh.js';

export interface DomainWatcher {
  /**
   * The domain no longer runs: libvirt's words for why. `gone`: libvirt no longer has it at all
   * (a created, transient domain that Stopped, or Undefined), so there is nothing left to destroy.
   */
  ended(reason: string, gone: boolean): void;
  /** The stream cannot be trusted to have seen everything: check the domain directly. */
  resync(): void;
}

export interface EventSettings {
  /** While the stream is down, how often watchers resync. */
  readonly pollMs: number;
  /** First restart delay after the stream ended; doubles up to maxRestartMs. */
  readonly restartMs: number;
  readonly maxRestartMs: number;
  /** After a (re)start, when watchers resync once more (virsh registers with libvirt meanwhile). */
  readonly settleMs: number;
}

export const EVENT_DEFAULTS: EventSettings = { pollMs: 1000, restartMs: 500, maxRestartMs: 30_000, settleMs: 2000 };

export class LibvirtEvents {
  private readonly watchers = new Map<string, Set<DomainWatcher>>();
  private stream: EventStream | undefined;
  private timer: TimerHandle | undefined;
  private delay: number;
  private closed = false;
  /** Lines that were not events (counted, logged once in a while). */
  garbage = 0;

  constructor(
    private readonly virsh: Virsh,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly settings: EventSettings = EVENT_DEFAULTS,
  ) {
    this.delay = settings.restartMs;
  }

  /** Whether the event stream is running. */
  get up(): boolean {
    return this.stream !== undefined;
  }

  /** The event child's pid while it runs. */
  get streamPid(): number | undefined {
    return this.stream?.pid;
  }

  /** Watch a domain by name; the stream starts with the first watcher. */
  watch(domain: string, w: DomainWatcher): { cancel(): void } {
    let set = this.watchers.get(domain);
    if (!set) this.watchers.set(domain, (set = new Set()));
    set.add(w);
    if (!this.stream && !this.timer) this.start();
    return {
      cancel: () => {
        set.delete(w);
        if (set.size === 0 && this.watchers.get(domain) === set) this.watchers.delete(domain);
        // Nobody watches: no child left running (the next watch starts one again).
        if (this.watchers.size === 0) this.halt();
      },
    };
  }

  /** Stop the stream for good (the agent stops). */
  close(): void {
    this.closed = true;
    this.halt();
  }

  private halt(): void {
    this.timer?.cancel();
    this.timer = undefined;
    const s = this.stream;
    this.stream = undefined;
    s?.stop();
    this.delay = this.settings.restartMs;
  }

  private resyncAll(): void {
    for (const set of [...this.watchers.values()]) for (const w of [...set]) w.resync();
  }

  private start(): void {
    this.timer = undefined;
    if (this.closed) return;
    const s = this.virsh.events((line) => {
      if (!line.ok) {
        if (this.garbage++ % 100 === 0) this.log.warn({ uri: this.virsh.ctx.uri, line: line.error, count: this.garbage }, 'virsh event printed a line that is not an event; ignored');
        return;
      }
      const e = line.value;
      if (e.kind !== 'lifecycle' || !endsDomain(e.event)) return;
      const gone = e.event === 'Stopped' || e.event === 'Undefined';
      for (const w of [...(this.watchers.get(e.domain) ?? [])]) w.ended(`libvirt reported ${e.event} ${e.detail}`.trim(), gone);
    });
    if (!s.ok) {
      this.log.warn({ error: s.error.message }, 'cannot start the libvirt event stream; polling domstate');
      return this.retry();
    }
    const stream = s.value;
    this.stream = stream;
    this.log.info({ uri: this.virsh.ctx.uri, pid: stream.pid }, 'libvirt event stream started');
    this.resyncAll();
    const settle = this.clock.setTimer(this.settings.settleMs, () => {
      if (this.stream === stream) {
        this.delay = this.settings.restartMs; // it ran: the next failure starts the backoff again
        this.resyncAll();
      }
    });
    void stream.exited.then((why) => {
      settle.cancel();
      if (this.stream !== stream) return;
      this.stream = undefined;
      if (this.closed) return;
      this.log.warn({ uri: this.virsh.ctx.uri, why, restartInMs: this.delay }, 'libvirt event stream ended; polling domstate until it is back');
      this.retry();
    });
  }

  /** Poll until the next start; stop entirely when nobody watches. */
  private retry(): void {
    if (this.closed) return;
    if (this.watchers.size === 0) return; // restarted by the next watch()
    this.resyncAll();
    const wait = this.delay;
    this.delay = Math.min(this.delay * 2, this.settings.maxRestartMs);
    const poll = this.clock.setPeriodic(this.settings.pollMs, () => this.resyncAll());
    this.timer = this.clock.setTimer(wait, () => {
      poll.cancel();
      this.start();
    });
    const cancelTimer = this.timer;
    this.timer = {
      cancel: () => {
        poll.cancel();
        cancelTimer.cancel();
      },
    };
  }
}
