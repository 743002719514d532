/**
 * The N+M reduction procedure (openais 1.1.4 `assign_si`, a monotone cascade): how many active and
 * standby SUs to use given S SIs and I in-service SUs. See docs/amf.md for the worked example.
 */
export type ReductionLevel = 'I' | 'II' | 'III' | 'IV' | 'V' | 'VI';

export interface Reduction {
  readonly level: ReductionLevel;
  /** SUs to use for active assignments (never more than Pa). */
  readonly active: number;
  /** SUs to use for standby assignments. */
  readonly standby: number;
  /** In-service SUs left without assignment. */
  readonly spares: number;
}

export interface NplusMParams {
  /** S: SIs to assign. */
  readonly sis: number;
  /** I: in-service SUs. */
  readonly inService: number;
  readonly pa: number;
  readonly ps: number;
  readonly ma: number;
  readonly ms: number;
}

const ceilDiv = (a: number, b: number): number => Math.ceil(a / Math.max(1, b));

export function reduce(p: NplusMParams): Reduction {
  const { sis: S, inService: I, pa, ps } = p;
  const an = ceilDiv(S, p.ma);
  const sn = ceilDiv(S, p.ms);
  const pick = (level: ReductionLevel, active: number, standby: number): Reduction => {
    const a = Math.max(0, Math.min(active, pa, I));
    const s = Math.max(0, Math.min(standby, I - a));
    return { level, active: a, standby: s, spares: Math.max(0, I - a - s) };
  };
  if (I < an) return pick('VI', I, 0);
  if (I < an + sn) return pick('V', an, I - an);
  if (I < pa + sn) return pick('IV', I - sn, sn);
  if (I < pa + ps) return pick('III', pa, I - pa);
  if (I === pa + ps) return pick('II', pa, ps);
  return pick('I', pa, ps);
}

/** Per-SU quota when `left` SIs remain for `susLeft` SUs, capped by the per-SU maximum. */
export function quota(left: number, susLeft: number, max: number): number {
  return Math.min(ceilDiv(left, susLeft), max);
}
