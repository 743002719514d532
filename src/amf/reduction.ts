/**
 * The N+M reduction procedure (openais 1.1.4 `assign_si`, a monotone cascade): how many active and
 * standby SUs to use given S SIs and I in-service SUs. See docs/amf.md for the worked example.
 * The preferences enter as the procedure can use them: never more active (or standby) SUs than
 * SIs, since such an SU would hold nothing, and never fewer than the SIs need under the per-SU
 * maxima (Ma, Ms are limits, Pa, Ps only preferences). Ps = 0 means no standby at all.
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
  /** Pa and Ps as the procedure used them (see above). */
  readonly pa: number;
  readonly ps: number;
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

/** Pa as the procedure uses it for S SIs: at least the active SUs the SIs need under Ma, at most S. */
export function preferredActive(p: Pick<NplusMParams, 'sis' | 'pa' | 'ma'>): number {
  return Math.max(ceilDiv(p.sis, p.ma), Math.min(p.pa, p.sis));
}

export function reduce(p: NplusMParams): Reduction {
  const { sis: S, inService: I } = p;
  const an = ceilDiv(S, p.ma);
  const sn = p.ps === 0 ? 0 : ceilDiv(S, p.ms);
  const pa = preferredActive(p);
  const ps = p.ps === 0 ? 0 : Math.max(sn, Math.min(p.ps, S));
  const pick = (level: ReductionLevel, active: number, standby: number): Reduction => {
    const a = Math.max(0, Math.min(active, pa, I));
    const s = Math.max(0, Math.min(standby, ps, I - a));
    return { level, active: a, standby: s, spares: Math.max(0, I - a - s), pa, ps };
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
