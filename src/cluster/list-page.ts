/**
 * Decodes one page of a Kubernetes list (`{"kind":"PodList",…,"metadata":{…},"items":[…]}`)
 * item by item, without `metadata.managedFields`.
 *
 * Why not `JSON.parse` on the page: metrics-server ignores `limit`, so the PodMetricsList of
 * a 150,000-pod cluster is one 40 MB response, and decoding it whole would build several
 * times that in objects beside everything already read. Item by item, each item's objects die
 * young. managedFields (about a third of a pod's bytes, never read here) are cut out of the
 * text before decoding. Measured on pages of 500 pods it costs the same CPU as `JSON.parse`
 * of the page (docs/performance.md).
 *
 * Correctness does not rest on guessing: items are split where the text between two splits
 * is itself valid JSON (a wrong split leaves unbalanced brackets, so `JSON.parse` rejects it
 * and the piece is extended), and managedFields are skipped with a string-aware bracket scan.
 * Items that do not split this way are parsed together as an array; a page that is not a list
 * object with `items` last is parsed whole.
 */

export interface ListPageHead {
  continue?: string;
}

const itemsKey = '"items":[';
const managedFieldsKey = ',"managedFields":[';

/**
 * Calls `onItem` with each decoded item of the page, in order, and returns the list's
 * `metadata.continue`.
 * @throws SyntaxError when the page is not valid JSON.
 */
export function readListPage(text: string, onItem: (item: unknown) => void): ListPageHead {
  const items = text.indexOf(itemsKey);
  const close = text.lastIndexOf("]");
  if (items === -1 || close < items || !/^\s*}\s*$/.test(text.slice(close + 1))) {
    return readWhole(text, onItem);
  }
  let head: { metadata?: { continue?: unknown } };
  try {
    head = JSON.parse(`${text.slice(0, items)}"items":[]}`) as typeof head;
  } catch {
    return readWhole(text, onItem);
  }
  const body = text.slice(items + itemsKey.length, close);
  const start = skipSpace(body, 0);
  if (start < body.length) {
    if (body.charCodeAt(start) !== 123 /* { */) return readWhole(text, onItem);
    splitItems(body, start, onItem);
  }
  const token = head.metadata?.continue;
  return typeof token === "string" && token !== "" ? { continue: token } : {};
}

function readWhole(text: string, onItem: (item: unknown) => void): ListPageHead {
  const page = JSON.parse(text) as { metadata?: { continue?: unknown }; items?: unknown };
  if (
    typeof page !== "object" ||
    page === null ||
    Array.isArray(page) ||
    (page.items !== undefined && !Array.isArray(page.items))
  ) {
    throw new SyntaxError("not a Kubernetes list: expected an object with an items array");
  }
  for (const item of (page.items as unknown[] | undefined) ?? []) onItem(dropManagedFields(item));
  const token = page.metadata?.continue;
  return typeof token === "string" && token !== "" ? { continue: token } : {};
}

/**
 * Splits the text between `[` and `]` into items. The separator is `},` followed by the
 * first item's opening (`{"metadata":` for built-in types, `{"apiVersion":` for custom
 * resources). Each piece starts where an item starts, so a piece that parses is exactly one
 * item; one that does not spans a false separator and is extended to the next one. What
 * does not split this way (items opening differently) is parsed as an array at the end.
 */
function splitItems(body: string, start: number, onItem: (item: unknown) => void): void {
  const keyEnd = body.indexOf('":', start);
  const separator = keyEnd === -1 ? undefined : `},${body.slice(start, keyEnd + 2)}`;
  const cuts = new CutFinder(body);
  let pieceStart = start;
  let searchFrom = start;
  while (separator !== undefined) {
    const found = body.indexOf(separator, searchFrom);
    if (found === -1) break;
    const item = decodeItem(body, pieceStart, found + 1, cuts);
    if (item === invalid) {
      searchFrom = found + 1;
      continue;
    }
    onItem(item);
    pieceStart = found + 2;
    searchFrom = pieceStart;
  }
  const last = decodeItem(body, pieceStart, body.length, cuts);
  if (last !== invalid) {
    onItem(last);
    return;
  }
  const rest = JSON.parse(`[${body.slice(pieceStart)}]`) as unknown[];
  for (const item of rest) onItem(dropManagedFields(item));
}

/** The slow paths drop managedFields too, so callers see the same shape either way. */
function dropManagedFields(item: unknown): unknown {
  const metadata = (item as { metadata?: unknown } | null)?.metadata;
  if (typeof metadata === "object" && metadata !== null && "managedFields" in metadata) {
    delete (metadata as { managedFields?: unknown }).managedFields;
  }
  return item;
}

const invalid = Symbol("invalid");

/**
 * Finds managedFields keys in order. Searching afresh from each item would rescan the rest
 * of the page whenever items have none (metrics), which is quadratic in the page size.
 */
class CutFinder {
  readonly #text: string;
  #next = -2;

  constructor(text: string) {
    this.#text = text;
  }

  /** The first managedFields key at or after `start`, or -1. */
  at(start: number): number {
    if (this.#next === -1) return -1;
    if (this.#next < start) this.#next = this.#text.indexOf(managedFieldsKey, start);
    return this.#next;
  }
}

function decodeItem(body: string, start: number, end: number, cuts: CutFinder): unknown {
  const cut = cuts.at(start);
  let text: string;
  if (cut !== -1 && cut < end) {
    const after = skipArray(body, cut + managedFieldsKey.length - 1, end);
    text = after === -1 ? body.slice(start, end) : body.slice(start, cut) + body.slice(after, end);
  } else {
    text = body.slice(start, end);
  }
  try {
    return JSON.parse(text);
  } catch {
    return invalid;
  }
}

/**
 * Given the index of a `[`, returns the index just after its matching `]`, skipping over
 * strings (with their escapes); -1 if it does not close before `limit`.
 */
export function skipArray(text: string, open: number, limit: number): number {
  let depth = 0;
  for (let index = open; index < limit; index++) {
    const code = text.charCodeAt(index);
    if (code === 34 /* " */) {
      index++;
      while (index < limit) {
        const inner = text.charCodeAt(index);
        if (inner === 92 /* \ */) index += 2;
        else if (inner === 34) break;
        else index++;
      }
    } else if (code === 91 /* [ */ || code === 123 /* { */) {
      depth++;
    } else if (code === 93 /* ] */ || code === 125 /* } */) {
      depth--;
      if (depth === 0) return index + 1;
    }
  }
  return -1;
}

function skipSpace(text: string, index: number): number {
  let position = index;
  while (position < text.length && /\s/.test(text.charAt(position))) position++;
  return position;
}
