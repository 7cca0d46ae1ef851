/**
 * Regex source (no anchors) for the whole numbers from `min` to `max` as digits, leading zeros
 * allowed (`007` is 7), the way the config's parsers read them. For JSON Schema patterns, which
 * cannot compare numbers: `numberPattern(0, 59)` takes `0`…`59` and `05`, not `60`.
 */
export function numberPattern(min: 0 | 1, max: number): string {
  const digits = String(max);
  const alternatives: string[] = [];
  if (digits.length > 1) alternatives.push(`\\d${repeat(1, digits.length - 1)}`);
  for (let i = 0; i < digits.length; i++) {
    const digit = Number(digits[i]);
    if (digit === 0) continue;
    const below = digit === 1 ? "0" : `[0-${digit - 1}]`;
    const rest = digits.length - i - 1;
    alternatives.push(`${digits.slice(0, i)}${below}${rest > 0 ? `\\d${repeat(rest, rest)}` : ""}`);
  }
  alternatives.push(digits);
  // A number above 0 has a digit other than 0 before whatever ends it.
  const nonZero = min === 1 ? "(?=0*[1-9])" : "";
  return `${nonZero}0*(?:${alternatives.join("|")})`;
}

function repeat(min: number, max: number): string {
  if (max === 1) return "";
  return min === max ? `{${min}}` : `{${min},${max}}`;
}

/** Regex source matching `word` in any letter case (`[Ff][Rr][Ii]`), for patterns without flags. */
export function caseless(word: string): string {
  return [...word]
    .map((char) => {
      const lower = char.toLowerCase();
      const upper = char.toUpperCase();
      if (lower === upper) return char.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
      return `[${upper}${lower}]`;
    })
    .join("");
}
