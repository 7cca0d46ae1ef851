import { InputError } from "../../errors.ts";
import type { ScalarValue } from "../value.ts";

/**
 * Writes VALUE as an HCL literal: numbers and bools as they are, strings double-quoted with
 * escapes, and `${` / `%{` doubled so a string value never turns into a template.
 */
export function formatHclLiteral(value: ScalarValue): string {
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      throw new InputError(`VALUE ${value} is not a finite number, which HCL cannot hold`);
    }
    return String(value);
  }
  return quoteHclString(value);
}

const ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

/** An HCL double-quoted string literal that reads back as exactly `text`. */
export function quoteHclString(text: string): string {
  if (/[\uD800-\uDFFF]/u.test(text)) {
    throw new InputError(
      "VALUE contains an unpaired UTF-16 surrogate, which a UTF-8 file cannot hold",
    );
  }
  if (text.normalize("NFC") !== text) {
    throw new InputError(
      `VALUE ${JSON.stringify(text)} is not in Unicode NFC form, and HCL reads every string in NFC form; give ${JSON.stringify(text.normalize("NFC"))} instead`,
    );
  }
  let quoted = '"';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? "";
    const opensTemplate = (ch === "$" || ch === "%") && text[i + 1] === "{";
    quoted += opensTemplate ? ch + ch : (ESCAPES[ch] ?? controlEscape(ch));
  }
  return `${quoted}"`;
}

function controlEscape(ch: string): string {
  const code = ch.charCodeAt(0);
  const control = code < 0x20 || code === 0x7f;
  return control ? `\\u${code.toString(16).padStart(4, "0")}` : ch;
}
