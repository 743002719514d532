/**
 * Component processes outlive a daemon killed with SIGKILL (each leads its own process group).
 * Every component inherits AMFD_OWNER=<node>@<data dir> from the agent, so the next incarnation
 * (or a test's teardown) finds them in /proc and kills their groups. Linux only; elsewhere none.
 */
import { readdirSync, readFileSync } from 'node:fs';

export const OWNER_VAR = 'AMFD_OWNER';

function environOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return undefined;
  }
}

/** Pids (not ours) whose environment holds variable `name` with a value `match` accepts. */
export function findMarked(name: string, match: (value: string) => boolean): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    const env = environOf(pid);
    if (env === undefined) continue;
    for (const kv of env.split('\0')) {
      if (kv.startsWith(`${name}=`) && match(kv.slice(name.length + 1))) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}

/** SIGKILL every process (and its group) marked as owned by `owner`; returns how many were found. */
export function killOwned(owner: string): number {
  const pids = findMarked(OWNER_VAR, (v) => v === owner);
  for (const pid of pids) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // Gone already, or not a group leader.
      }
    }
  }
  return pids.length;
}
