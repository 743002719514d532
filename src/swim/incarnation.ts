/**
 * Incarnation numbers are u32 serial numbers (RFC 1982 arithmetic): `b` is newer than `a` when it
 * is ahead of it by 1..WINDOW modulo 2^32, so the counter wraps from 0xFFFFFFFF to 0 and a member
 * can always outbid an accusation about itself. A value ahead by more than WINDOW (or behind by
 * more) is implausible: no member raises its incarnation that far between two messages a peer
 * sees (refutations and metadata changes, one each), so it is a forgery, a replay from another
 * era or a bug, and every member ignores it the same way. hashicorp/memberlist has no such bound:
 * one forged `dead` at 0xFFFFFFFF there pushes the refutation past the top.
 */
export const INCARNATION_WINDOW = 1 << 16;

export type Relation = 'same' | 'newer' | 'older' | 'implausible';

/** How incarnation `got` stands to the one we know, `known`. */
export function relate(got: number, known: number): Relation {
  const ahead = (got - known) >>> 0;
  if (ahead === 0) return 'same';
  if (ahead <= INCARNATION_WINDOW) return 'newer';
  return (known - got) >>> 0 <= INCARNATION_WINDOW ? 'older' : 'implausible';
}

/** The incarnation after `n` (wraps to 0 after 0xFFFFFFFF). */
export function nextIncarnation(n: number): number {
  return (n + 1) >>> 0;
}
