/**
 * The candidate closest to `word` by edit distance, when it is close enough to be a likely typo
 * (case differences count as small). Returns `undefined` when nothing is close.
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance =
      candidate.toLowerCase() === word.toLowerCase() ? 0.5 : closeness(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** The message for a key that is not allowed where it is written, suggesting the likely one. */
export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const suggestion = didYouMean(key, known);
  if (suggestion) return `unknown key "${key}"; did you mean "${suggestion}"?`;
  return `unknown key "${key}"; allowed keys: ${known.join(", ")}`;
}

/** Edit distance, or one more than the distance to the candidate's prefix (`unneded` → `unneededTime`). */
function closeness(word: string, candidate: string): number {
  let best = editDistance(word, candidate);
  if (word.length < 4) return best;
  // Prefixes a letter shorter or longer than the word allow for a dropped or doubled letter.
  for (let length = word.length - 1; length <= word.length + 1; length++)
    if (length < candidate.length)
      best = Math.min(best, editDistance(word, candidate.slice(0, length)) + 1);
  return best;
}

/** Levenshtein distance with adjacent transpositions (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        (d[(i - 1) * cols + j] ?? 0) + 1,
        (d[i * cols + j - 1] ?? 0) + 1,
        (d[(i - 1) * cols + j - 1] ?? 0) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, (d[(i - 2) * cols + j - 2] ?? 0) + 1);
      d[i * cols + j] = value;
    }
  }
  return d[rows * cols - 1] ?? 0;
}
