/**
 * A count with its noun agreeing: "1 pod", "3 pods"; `plural` for a noun that does not take
 * an s ("1 entry", "2 entries").
 */
export function counted(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/**
 * The form of a verb that agrees with a count as its subject: "is" for 1, "are" for 0 or 2
 * (`agreeing(n, "is", "are")`), as `counted` gives the noun.
 */
export function agreeing(n: number, singular: string, plural: string): string {
  return n === 1 ? singular : plural;
}
