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
    throw new InputError("not valid UTF-8 text; convert the file to UTF-8 first", { file });
  }
}
