/** Where a text stops being JSON (RFC 8259), and why. */
export interface JsonProblem {
  offset: number;
  message: string;
  /** For a key written twice in one object (which JSON.parse settles silently): the key. */
  duplicateKey?: string;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;
const WHITESPACE = /[ \t\n\r]*/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

class NotJson extends Error {
  readonly offset: number;
  readonly duplicateKey: string | undefined;

  constructor(offset: number, message: string, duplicateKey?: string) {
    super(message);
    this.offset = offset;
    this.duplicateKey = duplicateKey;
  }
}

/**
 * The first place TEXT breaks JSON's grammar, or undefined when it is JSON. The YAML parser
 * reads JSON files too, but also takes what Terraform's JSON reader refuses (comments, trailing
 * commas, single quotes, bare keys), so a `*.json` target is checked against JSON itself. A
 * key written twice in one object is a problem too: RFC 8259 leaves which one counts to the
 * reader, and `JSON.parse` keeps the last without a word. A byte order mark at the start is left
 * to the YAML reader.
 */
export function jsonProblem(text: string): JsonProblem | undefined {
  const scanner = new JsonScanner(text, text.startsWith("\ufeff") ? 1 : 0);
  try {
    scanner.value();
    scanner.skipWhitespace();
    if (scanner.at < text.length) scanner.fail("expected the end of the file after the JSON value");
    return undefined;
  } catch (error) {
    if (!(error instanceof NotJson)) throw error;
    return {
      offset: error.offset,
      message: error.message,
      ...(error.duplicateKey === undefined ? {} : { duplicateKey: error.duplicateKey }),
    };
  }
}

function describeChar(char: string | undefined): string {
  if (char === undefined) return "the end of the file";
  if (char === "\n" || char === "\r") return "a line break";
  if (char < " ")
    return `the control character U+${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
  return `'${char}'`;
}

class JsonScanner {
  private readonly text: string;
  at: number;

  constructor(text: string, at: number) {
    this.text = text;
    this.at = at;
  }

  skipWhitespace(): void {
    WHITESPACE.lastIndex = this.at;
    WHITESPACE.exec(this.text);
    this.at = WHITESPACE.lastIndex;
  }

  fail(expected: string): never {
    const found = this.text[this.at];
    const what = describeChar(found);
    const hint =
      this.text.startsWith("//", this.at) || this.text.startsWith("/*", this.at)
        ? " (JSON has no comments)"
        : found === "'"
          ? " (JSON strings take double quotes)"
          : "";
    throw new NotJson(this.at, `${expected} but found ${what}${hint}`);
  }

  value(): void {
    this.skipWhitespace();
    const char = this.text[this.at];
    if (char === "{") this.container("}", true);
    else if (char === "[") this.container("]", false);
    else if (char === '"') this.string();
    else if (!this.match(NUMBER) && !this.match(LITERAL))
      this.fail("expected a value (a string, number, object, list, true, false or null)");
  }

  private container(close: "}" | "]", object: boolean): void {
    const keys = new Set<string>();
    this.at += 1;
    this.skipWhitespace();
    if (this.text[this.at] === close) {
      this.at += 1;
      return;
    }
    for (;;) {
      if (object) this.member(keys);
      else this.value();
      this.skipWhitespace();
      const char = this.text[this.at];
      if (char === close) {
        this.at += 1;
        return;
      }
      if (char !== ",") this.fail(`expected ',' or '${close}'`);
      this.at += 1;
      this.skipWhitespace();
      if (this.text[this.at] === close)
        this.fail(`expected a value after ',' (JSON has no trailing commas)`);
    }
  }

  private member(keys: Set<string>): void {
    this.skipWhitespace();
    if (this.text[this.at] !== '"') this.fail("expected a key in double quotes");
    const start = this.at;
    this.string();
    const raw = this.text.slice(start + 1, this.at - 1);
    const key = raw.includes("\\") ? (JSON.parse(`"${raw}"`) as string) : raw;
    if (keys.has(key))
      throw new NotJson(
        start,
        `the key ${JSON.stringify(key)} is written twice in one object`,
        key,
      );
    keys.add(key);
    this.skipWhitespace();
    if (this.text[this.at] !== ":") this.fail("expected ':' after the key");
    this.at += 1;
    this.value();
  }

  private string(): void {
    this.at += 1;
    for (;;) {
      const char = this.text[this.at];
      if (char === '"') {
        this.at += 1;
        return;
      }
      if (char === undefined || char < " ") this.fail("expected the string to be closed with '\"'");
      if (char === "\\") {
        if (!this.match(ESCAPE)) this.fail('expected an escape such as \\n, \\" or \\u00e9');
      } else this.at += 1;
    }
  }

  private match(pattern: RegExp): boolean {
    pattern.lastIndex = this.at;
    if (!pattern.test(this.text)) return false;
    this.at = pattern.lastIndex;
    return true;
  }
}
