/** A literal an editor can write: the only kinds of VALUE the `edit` command accepts. */
export type ScalarValue = string | number | boolean;

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Reads a VALUE argument: `true`/`false` are booleans, JSON numbers are numbers, a JSON string
 * in double quotes is that string (so `'"4"'` is the string 4), and anything else is taken as
 * a string as written (`500m`, `2Gi`).
 */
export function parseValueArgument(text: string): ScalarValue {
  if (text === "true") return true;
  if (text === "false") return false;
  if (NUMBER.test(text) && Number.isFinite(Number(text))) return Number(text);
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === "string") return parsed;
    } catch {
      // Not a JSON string after all: keep it as written.
    }
  }
  return text;
}
