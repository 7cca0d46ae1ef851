import { InputError } from "../errors.ts";

/**
 * Decodes a file strictly, keeping a byte-order mark: a file that is not UTF-8 would otherwise
 * come back with replacement characters, changing bytes an edit did not mean to touch.
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    // Located in FILE, which the message then need not repeat (`FILE: not valid UTF-8 …`).
    throw new InputError(notUtf8Message(bytes), { file });
  }
}

/**
 * Why bytes that are not UTF-8 cannot be read, with where the first byte that is not lies
 * (`not valid UTF-8 text (byte 0xe9 at line 15, column 7); …`): a Latin-1 `é` in a
 * comment of a long file is found without searching for it.
 */
export function notUtf8Message(bytes: Uint8Array): string {
  const at = firstInvalidUtf8(bytes);
  const where =
    at === undefined
      ? ""
      : ` (byte 0x${at.byte.toString(16).padStart(2, "0")} at line ${at.line}, column ${at.column})`;
  return `not valid UTF-8 text${where}; convert the file to UTF-8 first`;
}

/**
 * The first byte a strict decoder refuses, with its line and column (1-based, the column in
 * characters of the valid text before it). A replacement character the file holds as such
 * (EF BF BD) is text, not a refused byte.
 */
function firstInvalidUtf8(
  bytes: Uint8Array,
): { byte: number; line: number; column: number } | undefined {
  const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
  const encoder = new TextEncoder();
  for (let i = text.indexOf("\uFFFD"); i !== -1; i = text.indexOf("\uFFFD", i + 1)) {
    const before = text.slice(0, i);
    const offset = encoder.encode(before).length;
    const written =
      bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd;
    if (written) continue;
    const lineStart = before.lastIndexOf("\n") + 1;
    const line = before.split("\n").length;
    return { byte: bytes[offset] ?? 0, line, column: i - lineStart + 1 };
  }
  return undefined;
}
