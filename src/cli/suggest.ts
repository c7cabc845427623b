/** "did you mean ALMemory?": the closest known name to a misspelt one, by edit distance. */

/**
 * Edit distance with swapped neighbours counting as one edit (`sya` → `say`), case-insensitive
 * (qi names differ in case only by mistake).
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let before: number[] = [];
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1])
        row[j] = Math.min(row[j], before[j - 2] + 1);
    }
    before = prev;
    prev = row;
  }
  return prev[t.length];
}

/**
 * The candidate nearest to `wrong`, if near enough to be a typo: at most a third of its
 * length in edits (at least 1, at most 4), or equal ignoring case, or a unique prefix.
 */
export function closest(wrong: string, candidates: Iterable<string>): string | undefined {
  let best: { name: string; d: number } | undefined;
  const limit = Math.min(4, Math.max(1, Math.floor(wrong.length / 3)));
  for (const name of candidates) {
    const d = editDistance(wrong, name);
    if (d <= limit && (!best || d < best.d)) best = { name, d };
  }
  if (best) return best.name;
  const prefixed = [...candidates].filter((c) => c.toLowerCase().startsWith(wrong.toLowerCase()));
  return prefixed.length === 1 && wrong.length >= 3 ? prefixed[0] : undefined;
}
