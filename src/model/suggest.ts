/**
 * "Did you mean …": the closest candidate within a small edit distance, else one that contains
 * the word (`csi_type` → `csi_type_name`, `restart` → `component-restart`).
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  let containing: string | undefined;
  const w = word.toLowerCase();
  const limit = Math.max(2, Math.floor(word.length / 3));
  for (const c of candidates) {
    const lower = c.toLowerCase();
    const d = editDistance(w, lower);
    if (d <= limit && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
    if (containing === undefined && w.length >= 4 && lower.includes(w)) containing = c;
  }
  return best ?? containing;
}

/** Levenshtein distance where swapping two neighbours (a common typo) counts as one edit. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const up = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}
