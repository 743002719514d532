/** A small line diff (LCS) for scenario mismatches: changed lines with two lines of context. */
export function lineDiff(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      ops.push(`  ${x[i]}`);
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) ops.push(`+ ${y[j++]}`);
    else ops.push(`- ${x[i++]}`);
  }
  const keep = ops.map((o, k) => ops.slice(Math.max(0, k - 2), k + 3).some((p) => !p.startsWith('  ')));
  const out: string[] = [];
  ops.forEach((o, k) => {
    if (keep[k]) out.push(o);
    else if (keep[k - 1]) out.push('  ...');
  });
  return out.join('\n');
}
