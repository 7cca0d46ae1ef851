/**
 * A count with its noun agreeing: "1 pod", "3 pods"; `plural` for a noun that does not take
 * an s ("1 entry", "2 entries").
 */
export function counted(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
