/** A key written twice in one JSON object: `JSON.parse` keeps the last without a word. */
export interface DuplicateKey {
  key: string;
  /** 1-based line of the second occurrence in the text. */
  line: number;
}

/**
 * The first key written twice in one object of `text`, which must be valid JSON (parse it
 * first). One pass over the text: strings are skipped whole, so braces and quotes inside them
 * do not count, and a string is a key when a `:` follows it inside an object.
 */
export function firstDuplicateKey(text: string): DuplicateKey | undefined {
  // One entry per open object or array: the keys seen so far, or null for an array.
  const open: (Set<string> | null)[] = [];
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === NEWLINE) line++;
    else if (char === OPEN_BRACE) open.push(new Set());
    else if (char === OPEN_BRACKET) open.push(null);
    else if (char === CLOSE_BRACE || char === CLOSE_BRACKET) open.pop();
    else if (char === QUOTE) {
      const end = stringEnd(text, i);
      const keys = open.at(-1);
      if (keys && nextNonSpace(text, end + 1) === COLON) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key)) return { key, line };
        keys.add(key);
      }
      i = end;
    }
  }
  return undefined;
}

const NEWLINE = 10;
const QUOTE = 34;
const COLON = 58;
const OPEN_BRACKET = 91;
const BACKSLASH = 92;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

/** The index of the quote that closes the string opened at `start`. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === BACKSLASH) i++;
    else if (char === QUOTE) return i;
  }
  return text.length - 1;
}

function nextNonSpace(text: string, from: number): number | undefined {
  for (let i = from; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char !== 32 && char !== 9 && char !== 10 && char !== 13) return char;
  }
  return undefined;
}
