import { InputError } from "../errors.ts";

/** One step of a PATH: a mapping key, a list index, or the list item whose `field` equals `value`. */
export type PathSegment =
  | { kind: "key"; key: string }
  | { kind: "index"; index: number }
  | { kind: "match"; field: string; value: string };

const BARE_KEY = /^[^.[\]"\s]+/;
const INDEX = /^\[(\d+)\]/;

/**
 * Parses the PATH syntax shared by every editor:
 * `a.b.c`, `list[0]`, `["key.with.dots"]`, `"quoted key"`, `containers[name=app]`,
 * `nodes["k3s-worker-1"].cores`, `config."talos-aws:workerCount"`.
 */
export function parsePath(text: string): PathSegment[] {
  const segments: PathSegment[] = [];
  let rest = text;
  let expectKey = true;
  while (rest.length > 0) {
    const consumed = text.length - rest.length;
    if (rest.startsWith("[")) {
      const [segment, length] = parseBracket(rest, text, consumed);
      segments.push(segment);
      rest = rest.slice(length);
      expectKey = false;
      continue;
    }
    if (!expectKey) {
      if (!rest.startsWith(".")) throw pathError(text, consumed, "expected '.' or '['");
      rest = rest.slice(1);
      expectKey = true;
      if (rest.length === 0) throw pathError(text, consumed + 1, "the path ends after '.'");
      continue;
    }
    const [key, length] = parseKey(rest, text, consumed);
    segments.push({ kind: "key", key });
    rest = rest.slice(length);
    expectKey = false;
  }
  if (segments.length === 0) throw new InputError("PATH is empty: name the value to read or edit");
  return segments;
}

function parseKey(rest: string, whole: string, at: number): [string, number] {
  if (rest.startsWith('"')) return parseQuoted(rest, whole, at);
  const bare = BARE_KEY.exec(rest);
  if (!bare) throw pathError(whole, at, "expected a key");
  return [bare[0], bare[0].length];
}

function parseBracket(rest: string, whole: string, at: number): [PathSegment, number] {
  const index = INDEX.exec(rest);
  if (index?.[1] !== undefined)
    return [{ kind: "index", index: Number(index[1]) }, index[0].length];
  if (rest.startsWith('["')) {
    const [key, length] = parseQuoted(rest.slice(1), whole, at + 1);
    if (rest[length + 1] !== "]") throw pathError(whole, at + length + 1, "expected ']'");
    return [{ kind: "key", key }, length + 2];
  }
  const close = rest.indexOf("]");
  const eq = rest.indexOf("=");
  if (close < 0) throw pathError(whole, at, "'[' is never closed");
  if (eq < 0 || eq > close) {
    throw pathError(whole, at, 'expected [N], ["key"] or [field=value] inside brackets');
  }
  const field = rest.slice(1, eq).trim();
  let value = rest.slice(eq + 1, close).trim();
  let length = close + 1;
  if (value.startsWith('"')) {
    const valueAt = rest.indexOf('"', eq);
    const [quoted, quotedLength] = parseQuoted(rest.slice(valueAt), whole, at + valueAt);
    const end = valueAt + quotedLength;
    if (rest[end] !== "]") throw pathError(whole, at + end, "expected ']'");
    value = quoted;
    length = end + 1;
  }
  if (field === "") throw pathError(whole, at, "the selector needs a field name before '='");
  return [{ kind: "match", field, value }, length];
}

function parseQuoted(rest: string, whole: string, at: number): [string, number] {
  let i = 1;
  while (i < rest.length && rest[i] !== '"') i += rest[i] === "\\" ? 2 : 1;
  if (i >= rest.length) throw pathError(whole, at, "the quoted key is never closed");
  const literal = rest.slice(0, i + 1);
  try {
    return [JSON.parse(literal) as string, literal.length];
  } catch {
    throw pathError(whole, at, `bad escape in ${literal}`);
  }
}

function pathError(path: string, at: number, reason: string): InputError {
  return new InputError(`PATH ${JSON.stringify(path)} at character ${at + 1}: ${reason}`);
}

/** Renders segments back in the PATH syntax, quoting only what needs it. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = "";
  for (const segment of segments) {
    if (segment.kind === "index") out += `[${segment.index}]`;
    else if (segment.kind === "match") out += `[${segment.field}=${quoteIfNeeded(segment.value)}]`;
    else if (BARE_KEY.exec(segment.key)?.[0] === segment.key)
      out += out === "" ? segment.key : `.${segment.key}`;
    else out += `[${JSON.stringify(segment.key)}]`;
  }
  return out;
}

/** A key path as zod and YAML give it (keys and indexes) in the PATH syntax: `pools[0].scaleUp`. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  return formatPath(
    path.map(
      (segment): PathSegment =>
        typeof segment === "number"
          ? { kind: "index", index: segment }
          : { kind: "key", key: String(segment) },
    ),
  );
}

function quoteIfNeeded(value: string): string {
  return /^[^\]"=\s]+$/.test(value) ? value : JSON.stringify(value);
}
