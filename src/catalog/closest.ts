/**
 * Near-miss suggestions for unknown ids ("did you mean"). A module of its own, free of the catalog's data and zod,
 * so that the kind registry can suggest kinds without loading the catalog (fast start, issue 18).
 */
function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** Ids that look like `id`: shared substring or small edit distance, closest first. */
export function closeMatches(id: string, known: Iterable<string>, limit = 3): string[] {
  const needle = id.toLowerCase();
  const threshold = Math.max(3, Math.floor(id.length / 3));
  return [...known]
    .map((k) => {
      const hay = k.toLowerCase();
      const distance = editDistance(needle, hay);
      const contains = hay.includes(needle) || needle.includes(hay);
      return { k, score: distance, keep: contains || distance <= threshold };
    })
    .filter((x) => x.keep)
    .sort((a, b) => a.score - b.score || a.k.localeCompare(b.k))
    .slice(0, limit)
    .map((x) => x.k);
}
