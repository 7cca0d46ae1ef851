/**
 * A time as the texts write it: `2026-11-20 18:02 UTC`, with the seconds only when they are not
 * :00 (`2026-11-20 18:02:07 UTC`), so a hold that ends within a minute is not said to end before
 * it does. Fractions of a second are left out. Anything that is not an ISO 8601 time in UTC is
 * returned as it is: a text never hides what it was given; no time at all reads "an unknown time".
 */
export function utcTime(iso: string | undefined): string {
  if (iso === undefined) return "an unknown time";
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::(\d{2})(?:\.\d+)?)?Z$/.exec(iso);
  if (!match) return iso;
  const seconds = match[3] && match[3] !== "00" ? `:${match[3]}` : "";
  return `${match[1]} ${match[2]}${seconds} UTC`;
}

/** `utcTime` of a time in ms since the epoch. */
export function utcTimeOf(ms: number): string {
  return utcTime(new Date(ms).toISOString());
}
