/**
 * The lease watchdog as real processes: the child (watchdog-main.ts) driven over its pipe, and the
 * daemon's side (LeaseWatchdog: restart, re-arm, stop, giving up). "Components" are `sleep`
 * process groups marked with AMFD_OWNER, each with an unmarked grandchild in its group.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { OWNER_VAR } from '../../src/daemon/orphans.js';
import { LeaseWatchdog, WATCHDOG_VAR, watchdogCommand } from '../../src/daemon/watchdog.js';
import { encodeMsg, MAX_AHEAD_NS, parseMsg } from '../../src/daemon/watchdog-protocol.js';
import { NodeClock } from '../../src/runtime/node/clock.js';
import { createLogger } from '../../src/runtime/observability.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): bigint => process.hrtime.bigint();
const MS = 1_000_000n;
const spawned: number[] = [];
const watchdogs: ChildProcess[] = [];

/** A group of two `sleep`s: the leader marked with `owner` (if any), its child unmarked. */
async function component(owner?: string): Promise<{ leader: number; child: number }> {
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...(owner ? { [OWNER_VAR]: owner } : {}) };
  const p = spawn('/bin/sh', ['-c', `env -u ${OWNER_VAR} sleep 60 & echo $!; exec sleep 60`], { env, detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const child = await new Promise<number>((resolve) => p.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  assert.ok(p.pid);
  spawned.push(p.pid);
  return { leader: p.pid, child };
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor(what: string, probe: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

interface Watchdog {
  p: ChildProcess;
  send: (line: string) => void;
  err: () => string;
  exited: Promise<{ code: number | null; at: bigint }>;
}

/**
 * The watchdog process itself, its stderr collected, and when it exited (monotonic ns); resolves
 * once it is up (its first log line), so that deadlines the tests set start counting from there
 * and a slow start on a loaded machine cannot pass them before the watchdog reads them.
 */
async function watchdog(env: Record<string, string> = {}): Promise<Watchdog> {
  const { file, args } = watchdogCommand('t');
  const p = spawn(file, args, { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  watchdogs.push(p);
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; at: bigint }>((resolve) => p.once('exit', (code) => resolve({ code, at: now() })));
  await waitFor('the watchdog up', () => err.includes('watchdog up'), 30_000);
  return { p, send: (line) => p.stdin!.write(line), err: () => err, exited };
}

const owner = (): string => `wd-test-${process.pid}-${randomBytes(4).toString('hex')}@/tmp/none`;

after(() => {
  // A failed test must not leave a watchdog holding its pipe open (the file would never end).
  for (const p of watchdogs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const pid of spawned) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone.
    }
  }
});

test('protocol: what the daemon encodes parses back; any other line is refused or parsed, never thrown', () => {
  const t = now();
  for (const m of [{ t: 'owner', owner: 'n1@/var/lib/amfd' }, { t: 'arm', deadlineNs: t + 1200n * MS }, { t: 'disarm' }] as const) {
    const r = parseMsg(encodeMsg(m).slice(0, -1), t);
    assert.ok(r.ok);
    assert.deepEqual(r.value, m);
  }
  assert.equal(parseMsg(`arm ${t + MAX_AHEAD_NS + 1n}`, t).ok, false, 'too far ahead');
  for (const bad of ['arm', 'arm -1', 'arm 1e9', 'arm 0x10', 'arm 1 2', 'owner', 'owner \x01x', 'disarm now', 'ARM 5', '']) assert.equal(parseMsg(bad, t).ok, false, bad);
  fc.assert(
    fc.property(fc.string({ maxLength: 5000 }), (s) => {
      const r = parseMsg(s, t);
      if (r.ok && r.value.t === 'arm') assert.ok(r.value.deadlineNs - t <= MAX_AHEAD_NS);
    }),
  );
});

test('renewals in time keep every component alive; without them the owned groups are killed, nothing else', async () => {
  const me = owner();
  const [mine, other, plain] = [await component(me), await component(owner()), await component()];
  const w = await watchdog();
  w.send(`owner ${me}\n`);
  // A lease of 2 s renewed every 40 ms, 50 times: a renewal in time always wins, even on a
  // loaded machine that stalls this loop for a while.
  for (let i = 0; i < 50; i++) {
    w.send(`arm ${now() + 2000n * MS}\n`);
    await sleep(40);
  }
  assert.ok(alive(mine.leader) && alive(mine.child), 'renewed in time: the component lives');
  const last = now() + 300n * MS;
  w.send(`arm ${last}\n`);
  await waitFor('the owned group killed', () => !alive(mine.leader) && !alive(mine.child));
  assert.ok(now() >= last, 'not killed before the deadline');
  for (const pid of [other.leader, other.child, plain.leader, plain.child]) assert.ok(alive(pid), `unowned ${pid} untouched`);
  assert.equal(w.p.exitCode, null, 'amfd (the pipe) alive: the watchdog keeps running');
  // The kill comes before its log line.
  await waitFor('the kill logged', () => /lease ran out without renewal/.test(w.err()));
  assert.match(w.err(), /"killed":1.*"amfdAlive":true/);
  w.p.stdin!.end();
  assert.equal((await w.exited).code, 0, 'closed while disarmed: it exits');
});

test('pipe closed while armed (amfd died): the owned groups are killed at the deadline, then it exits', async () => {
  const me = owner();
  const mine = await component(me);
  const w = await watchdog();
  const deadline = now() + 1000n * MS;
  w.send(`owner ${me}\narm ${deadline}\n`);
  w.p.stdin!.end();
  await sleep(100);
  assert.ok(alive(mine.leader), 'EOF alone kills nothing: the lease still runs');
  const { code, at } = await w.exited;
  assert.equal(code, 0);
  assert.ok(at >= deadline, 'exited only after the deadline');
  await waitFor('the owned group dead', () => !alive(mine.leader) && !alive(mine.child));
  assert.match(w.err(), /closed the pipe while holding a lease/);
  assert.match(w.err(), /"killed":1,"amfdAlive":false/);
});

test('pipe closed while disarmed: exits at once and kills nothing; an arm before the owner is refused', async () => {
  const me = owner();
  const mine = await component(me);
  const w = await watchdog();
  // A deadline already passed: if this arm were taken, the kill would be immediate.
  w.send(`arm ${now() - MS}\nowner ${me}\n`);
  w.send(`arm ${now() + 60_000n * MS}\ndisarm\n`);
  w.p.stdin!.end();
  assert.equal((await w.exited).code, 0);
  assert.ok(alive(mine.leader) && alive(mine.child));
  assert.match(w.err(), /arm before owner/);
});

test('malformed input renews nothing (fail safe): the last good deadline still kills', async () => {
  const me = owner();
  const mine = await component(me);
  const w = await watchdog();
  const deadline = now() + 800n * MS;
  w.send(`owner ${me}\narm ${deadline}\n`);
  const far = now() + MAX_AHEAD_NS + 1000n * MS;
  const junk = ['arm abc', `arm ${far}`, 'arm -5', 'arm 1.5e12', `owner other@/x`, 'frobnicate', '', `arm ${'9'.repeat(5000)}`];
  w.send(junk.map((l) => `${l}\n`).join(''));
  // An endless line without a newline, split over writes.
  w.send('x'.repeat(3000));
  w.send(`${'y'.repeat(3000)} arm ${far}\n`);
  await waitFor('the owned group killed at the old deadline', () => !alive(mine.leader) && !alive(mine.child));
  assert.ok(now() >= deadline);
  assert.equal(w.err().split('\n').filter((l) => l.includes('malformed input ignored')).length, junk.length + 1);
  w.p.stdin!.end();
  assert.equal((await w.exited).code, 0);
});

const logger = createLogger({ node: 't', level: 'silent' });

test('LeaseWatchdog: a watchdog that dies is restarted at once and re-armed with the same deadline', async () => {
  const me = owner();
  const mine = await component(me);
  const clock = new NodeClock();
  const wd = new LeaseWatchdog({ node: 't', owner: me, clock, logger });
  assert.deepEqual(await wd.start(), { ok: true, value: undefined });
  const first = wd.pid!;
  wd.arm(clock.now() + 1500);
  process.kill(first, 'SIGKILL');
  await waitFor('a new watchdog', () => wd.pid !== undefined && wd.pid !== first);
  assert.ok(alive(mine.leader), 'the lease still runs');
  // No arm since the restart: the new watchdog holds the deadline it was re-armed with.
  await waitFor('the owned group killed by the restarted watchdog', () => !alive(mine.leader) && !alive(mine.child), 10_000);
  await wd.stop();
});

test('LeaseWatchdog: stop disarms and ends the watchdog; nothing is killed afterwards', async () => {
  const me = owner();
  const mine = await component(me);
  const clock = new NodeClock();
  const wd = new LeaseWatchdog({ node: 't', owner: me, clock, logger });
  assert.ok((await wd.start()).ok);
  const pid = wd.pid!;
  wd.arm(clock.now() + 300);
  await wd.stop();
  assert.ok(!alive(pid), 'the watchdog exited');
  await sleep(500);
  assert.ok(alive(mine.leader) && alive(mine.child));
});

test('LeaseWatchdog: a new amfd reaps the watchdog an earlier (killed) amfd of the node left, not its own', async () => {
  const me = owner();
  const mine = await component(me);
  const old = await watchdog({ [WATCHDOG_VAR]: me });
  old.send(`owner ${me}\narm ${now() + 60_000n * MS}\n`);
  old.p.stdin!.end();
  const wd = new LeaseWatchdog({ node: 't', owner: me, clock: new NodeClock(), logger });
  assert.ok((await wd.start()).ok);
  await waitFor('the old watchdog up', () => readFileSync(`/proc/${old.p.pid}/environ`, 'latin1').includes(`${WATCHDOG_VAR}=${me}`));
  assert.equal(wd.reapStale(), 1);
  await old.exited;
  assert.equal(old.p.signalCode, 'SIGKILL');
  assert.ok(wd.pid !== undefined && alive(wd.pid), 'its own watchdog lives');
  assert.ok(alive(mine.leader));
  await wd.stop();
});

test('LeaseWatchdog: a watchdog that cannot be spawned fails start; one that keeps dying is fatal', async () => {
  const clock = new NodeClock();
  const missing = new LeaseWatchdog({ node: 't', owner: owner(), clock, logger, command: { file: '/nonexistent/amfd-watchdog', args: [] } });
  const r = await missing.start();
  assert.ok(!r.ok && /cannot spawn/.test(r.error));
  const dying = new LeaseWatchdog({ node: 't', owner: owner(), clock, logger, command: { file: process.execPath, args: ['-e', 'setTimeout(() => process.exit(3), 20)'] } });
  const fatal = new Promise<string>((resolve) => dying.onFatal(resolve));
  assert.ok((await dying.start()).ok);
  assert.match(await fatal, /code 3.*4 times/);
  assert.equal(dying.pid, undefined);
});
