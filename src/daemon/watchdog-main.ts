/**
 * The lease watchdog process (spawned by watchdog.ts, one per amfd): it holds the last lease
 * deadline amfd sent over its stdin and, when that passes without a newer `arm`, SIGKILLs every
 * process group owned by the node (orphans.ts killOwned). It runs its own timer in its own
 * process, so a paused, hung or killed amfd cannot keep its components running past the lease.
 * Fail safe: a malformed line is ignored (it renews nothing), and a closed pipe (amfd gone) keeps
 * the last deadline: kill at it, then exit. Kept tiny (node:fs through orphans.ts, nothing else)
 * so that it costs a few MB. Logs one JSON line per event on stderr (amfd's log).
 */
import { killOwned } from './orphans.js';
import { MAX_LINE, parseMsg, WATCHDOG_ARG } from './watchdog-protocol.js';

const node = process.argv[process.argv.indexOf(WATCHDOG_ARG) + 1] ?? '?';
let owner: string | undefined;
let deadline: bigint | undefined;
let timer: NodeJS.Timeout | undefined;
let closed = false;
let pending = '';
let skipping = false;

function log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  const n = { info: 30, warn: 40, error: 50 }[level];
  process.stderr.write(`${JSON.stringify({ level: n, time: Date.now(), pid: process.pid, node, module: 'watchdog', ...fields, msg })}\n`);
}

/** Wait for the deadline on the monotonic clock; a timer that fires early waits again. */
function schedule(): void {
  clearTimeout(timer);
  timer = undefined;
  if (deadline === undefined) return;
  const left = deadline - process.hrtime.bigint();
  if (left > 0n) {
    timer = setTimeout(schedule, Math.ceil(Number(left) / 1e6));
    return;
  }
  deadline = undefined;
  const killed = owner === undefined ? 0 : killOwned(owner);
  log('error', 'lease ran out without renewal: killed every component process group of this node', { killed, amfdAlive: !closed });
  if (closed) process.exit(0);
}

function onLine(line: string): void {
  const m = parseMsg(line, process.hrtime.bigint());
  const refuse = (why: string): void => log('warn', 'malformed input ignored (no renewal)', { error: why });
  if (!m.ok) return refuse(m.error);
  switch (m.value.t) {
    case 'owner':
      if (owner !== undefined && owner !== m.value.owner) return refuse(`owner already ${owner}`);
      owner = m.value.owner;
      return;
    case 'arm':
      if (owner === undefined) return refuse('arm before owner');
      deadline = m.value.deadlineNs;
      return;
    case 'disarm':
      deadline = undefined;
      return;
  }
}

process.stdin.setEncoding('latin1');
process.stdin.on('data', (chunk: string) => {
  pending += chunk;
  for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (skipping) skipping = false;
    else onLine(line);
  }
  // An endless line is malformed: drop it up to its newline.
  if (pending.length > MAX_LINE) {
    if (!skipping) onLine(pending);
    pending = '';
    skipping = true;
  }
  // After the whole chunk: a backlog read late (this process starved) ends with the newest
  // message, and an old arm in it must not fire before the renewal behind it is seen.
  schedule();
});
const onClosed = (): void => {
  if (closed) return;
  closed = true;
  if (deadline === undefined) process.exit(0);
  log('warn', 'amfd closed the pipe while holding a lease: killing its components at the lease end', { inMs: Number(deadline - process.hrtime.bigint()) / 1e6 });
};
process.stdin.on('end', onClosed);
process.stdin.on('error', onClosed);
// Terminal signals are for amfd, which stops the watchdog itself (it runs in its own session anyway).
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);
log('info', 'watchdog up: no lease held until amfd arms one');
