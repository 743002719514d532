import type { AppliedEntry } from '../../src/raft/fsm.js';
import type { Entry } from '../../src/raft/core/types.js';
import { fingerprint } from '../trace.js';

/**
 * The Raft safety properties (Raft paper, figure 3), checked as the run goes:
 * - election safety: at most one leader per term;
 * - state-machine safety: no two servers apply different entries at the same index;
 * - leader completeness: a new leader's log holds every entry committed before its election;
 * - log matching: checked on the final logs (same index and term → same entry and prefix).
 * Violations are collected as text with the virtual time they were found at.
 */
export class SafetyChecker {
  readonly violations: string[] = [];
  private readonly leaders = new Map<number, string>();
  /** Applied anywhere: index → "term:fingerprint". Applied means committed. */
  private readonly committed = new Map<number, string>();
  private maxCommitted = 0;
  elections = 0;

  constructor(private readonly now: () => number) {}

  violation(text: string): void {
    this.violations.push(`t=${this.now().toFixed(3)}ms ${text}`);
  }

  onLeader(node: string, term: number): number {
    const prev = this.leaders.get(term);
    if (prev !== undefined && prev !== node) this.violation(`election safety: ${prev} and ${node} both leader in term ${term}`);
    if (prev === undefined) this.elections++;
    this.leaders.set(term, node);
    return this.maxCommitted;
  }

  onApply(node: string, e: AppliedEntry): void {
    const v = `${e.term}:${fingerprint(e.data)}`;
    const prev = this.committed.get(e.index);
    if (prev !== undefined && prev !== v) this.violation(`state-machine safety: ${node} applied ${v} at index ${e.index}, another server applied ${prev}`);
    if (prev === undefined) this.committed.set(e.index, v);
    this.maxCommitted = Math.max(this.maxCommitted, e.index);
  }

  /**
   * Leader completeness, once the leader's log is durable: entries [first, upTo] (all committed
   * before it was elected) must be in it with the same term. Earlier ones are in its snapshot.
   */
  checkLeaderLog(node: string, term: number, upTo: number, first: number, termAt: (i: number) => number | undefined): void {
    for (let i = Math.max(first, 1); i <= upTo; i++) {
      const c = this.committed.get(i);
      if (c === undefined) continue; // applied before the checker saw it (only normal entries are observed)
      const t = termAt(i);
      if (t === undefined || `${t}` !== c.slice(0, c.indexOf(':'))) {
        this.violation(`leader completeness: ${node} leader of term ${term} lacks committed entry ${i} (${c}), has term ${t ?? 'none'}`);
        return;
      }
    }
  }

  /** Log matching over the final logs of every pair of servers. */
  checkLogMatching(logs: ReadonlyMap<string, { first: number; entries: readonly Entry[] }>): void {
    const names = [...logs.keys()];
    for (let a = 0; a < names.length; a++) {
      for (let b = a + 1; b < names.length; b++) {
        const la = logs.get(names[a]!)!;
        const lb = logs.get(names[b]!)!;
        const lo = Math.max(la.first, lb.first);
        const hi = Math.min(la.first + la.entries.length, lb.first + lb.entries.length) - 1;
        // Find the last common index with equal terms; everything from lo up to it must be identical.
        let last = -1;
        for (let i = hi; i >= lo; i--) {
          if (la.entries[i - la.first]!.term === lb.entries[i - lb.first]!.term) {
            last = i;
            break;
          }
        }
        for (let i = lo; i <= last; i++) {
          const ea = la.entries[i - la.first]!;
          const eb = lb.entries[i - lb.first]!;
          if (ea.term !== eb.term || ea.type !== eb.type || fingerprint(ea.data) !== fingerprint(eb.data)) {
            this.violation(`log matching: ${names[a]} and ${names[b]} agree at index ${last} but differ at ${i}`);
            break;
          }
        }
      }
    }
  }
}
