/**
 * Decodes one page of a Kubernetes list (`{"kind":"PodList",…,"metadata":{…},"items":[…]}`)
 * item by item as its text arrives, without `metadata.managedFields`.
 *
 * Why not `JSON.parse` on the page: metrics-server ignores `limit`, so the PodMetricsList of
 * a 150,000-pod cluster is one 40 MB response; holding its bytes, its text and its decoded
 * tree at once would cost several times that beside everything already read. Item by item,
 * only one item's text and objects are alive at a time. managedFields (about a third of a
 * pod's bytes, never read here) are cut out of the text before decoding.
 *
 * Correctness does not rest on guessing: items are split where the text between two splits
 * is itself valid JSON (a wrong split leaves unbalanced brackets or an open string, so
 * `JSON.parse` rejects it and the piece is extended), and managedFields are skipped with a
 * string-aware bracket scan. What does not split this way (items opening differently, text
 * formatted with spaces) is scanned value by value at the end; a page without an `"items":[`
 * key is parsed whole.
 */

/** What a page's `metadata` says about the list it belongs to. */
export interface ListPageHead {
  continue?: string;
  /** The revision the list was read at: every page of one list has the same. */
  resourceVersion?: string;
  /** How many items the server says come after this page (an estimate, and often absent). */
  remainingItemCount?: number;
}

const itemsKey = '"items":[';
const managedFieldsKey = ',"managedFields":[';

type OnItem = (item: unknown) => void;

/**
 * Calls `onItem` with each decoded item of the page, in order, and returns what the list's
 * `metadata` says about it (`continue`, `resourceVersion`, `remainingItemCount`). `"items":
 * null` (a Go server's empty list) is a list of none; an object without `items`, a Status
 * object included, is not a list.
 * @throws SyntaxError when the page is not valid JSON or not a list.
 */
export function readListPage(text: string, onItem: OnItem): ListPageHead {
  const reader = new ListPageReader(onItem);
  reader.push(text);
  return reader.end();
}

/**
 * The streaming form of {@link readListPage}: `push` the text in pieces of any size, then
 * `end`. Items reach `onItem` as soon as they are complete; `end` delivers the rest and
 * returns what the list's `metadata` says (see {@link readListPage}). A page found invalid at `end` may already have
 * delivered items: callers that must not keep a partial page buffer what they get.
 */
export class ListPageReader {
  readonly #onItem: OnItem;
  /**
   * head: looking for `"items":[`; items: splitting items; rest: items that do not split,
   * read value by value at the end; whole: not a list of the usual shape, parsed at the end.
   */
  #mode: "head" | "items" | "rest" | "whole" = "head";
  /** The text not consumed yet, in pieces (joined only when there is something to find). */
  #parts: string[] = [];
  /** The last characters of the unconsumed text, to find a key cut across two pieces. */
  #tail = "";
  /** Where in the joined unconsumed text to look for the next key or separator. */
  #searchFrom = 0;
  #head: ListObject | undefined;
  /** `},` followed by the first item's first key, e.g. `},{"metadata":`. */
  #separator: string | undefined;

  constructor(onItem: OnItem) {
    this.#onItem = onItem;
  }

  push(text: string): void {
    if (text === "") return;
    const needle = this.#needle();
    const accumulate = this.#mode === "whole" || this.#mode === "rest";
    if (accumulate || (needle !== undefined && !this.#mayFind(needle, text))) {
      this.#parts.push(text);
      if (needle !== undefined) this.#tail = lastCharacters(this.#tail, text, needle.length - 1);
      return;
    }
    let unconsumed = this.#joined() + text;
    if (this.#mode === "head") unconsumed = this.#readHead(unconsumed);
    if (this.#mode === "items") unconsumed = this.#splitItems(unconsumed);
    this.#parts = unconsumed === "" ? [] : [unconsumed];
    const next = this.#needle();
    this.#tail = next === undefined ? "" : unconsumed.slice(-(next.length - 1));
  }

  end(): ListPageHead {
    const text = this.#joined();
    this.#parts = [];
    if (this.#mode === "head" || this.#mode === "whole") return readWhole(text, this.#onItem);
    const trailing = this.#readRest(text);
    return pageHead(trailing?.metadata ?? this.#head?.metadata);
  }

  #joined(): string {
    return this.#parts.length === 1 ? (this.#parts[0] as string) : this.#parts.join("");
  }

  /** What must appear before anything can be done; undefined when anything might do. */
  #needle(): string | undefined {
    if (this.#mode === "head") return itemsKey;
    if (this.#mode === "items") return this.#separator;
    return undefined;
  }

  /** Whether `needle` may be found once `text` is added (the pieces alone hold none). */
  #mayFind(needle: string, text: string): boolean {
    if (this.#parts.length === 0 || text.includes(needle)) return true;
    return (this.#tail + text.slice(0, needle.length - 1)).includes(needle);
  }

  /** Finds `"items":[` and decodes what precedes it; returns the text after it. */
  #readHead(text: string): string {
    const at = text.indexOf(itemsKey, this.#searchFrom);
    if (at === -1) {
      this.#searchFrom = Math.max(0, text.length - itemsKey.length + 1);
      return text;
    }
    try {
      this.#head = JSON.parse(`${text.slice(0, at)}"items":[]}`) as ListObject;
    } catch {
      // `"items":[` inside a string, or not an object at all: decode the page whole.
      this.#mode = "whole";
      return text;
    }
    this.#mode = "items";
    this.#searchFrom = 0;
    return text.slice(at + itemsKey.length);
  }

  /**
   * Delivers every item followed by a separator; returns the text from the first item not
   * delivered yet.
   */
  #splitItems(input: string): string {
    let text = input;
    if (this.#separator === undefined) {
      const start = skipSpace(text, 0);
      if (start === text.length) return "";
      // Not an object (or `]`): the rest is read value by value at the end.
      if (text.charCodeAt(start) !== 123 /* { */) {
        this.#mode = "rest";
        return text.slice(start);
      }
      const keyEnd = text.indexOf('":', start);
      if (keyEnd === -1) return text.slice(start);
      this.#separator = `},${text.slice(start, keyEnd + 2)}`;
      text = text.slice(start);
      this.#searchFrom = 0;
    }
    const separator = this.#separator;
    for (;;) {
      const found = text.indexOf(separator, this.#searchFrom);
      if (found === -1) {
        this.#searchFrom = Math.max(0, text.length - separator.length + 1);
        return text;
      }
      const item = decodeItem(text.slice(0, found + 1));
      if (item === invalid) {
        this.#searchFrom = found + 1;
        continue;
      }
      this.#onItem(item);
      text = text.slice(found + 2);
      this.#searchFrom = 0;
    }
  }

  /**
   * The items left at the end, value by value up to the array's `]`, and what follows it:
   * `}`, or more keys (custom resource lists put `kind` and `metadata` after `items`).
   */
  #readRest(text: string): ListObject | undefined {
    let index = skipSpace(text, 0);
    if (text.charCodeAt(index) !== 93 /* ] */) {
      for (;;) {
        const end = skipValue(text, index);
        const item = end === -1 ? invalid : decodeItem(text.slice(index, end));
        if (item === invalid) throw new SyntaxError("a list item is not valid JSON");
        this.#onItem(item);
        index = skipSpace(text, end);
        const next = text.charCodeAt(index);
        if (next === 93 /* ] */) break;
        if (next !== 44 /* , */) throw new SyntaxError("the items array is not valid JSON");
        index = skipSpace(text, index + 1);
      }
    }
    const after = text.slice(index + 1);
    if (/^\s*}\s*$/.test(after)) return undefined;
    const comma = /^\s*,/.exec(after);
    if (!comma) throw new SyntaxError("the list does not end after its items");
    const trailing = JSON.parse(`{${after.slice(comma[0].length)}`) as unknown;
    if (typeof trailing !== "object" || trailing === null || Array.isArray(trailing)) {
      throw new SyntaxError("not a Kubernetes list");
    }
    return trailing as ListObject;
  }
}

/** The last `count` characters of `before + text`, without joining them whole. */
function lastCharacters(before: string, text: string, count: number): string {
  return text.length >= count ? text.slice(-count) : (before + text).slice(-count);
}

interface ListObject {
  kind?: unknown;
  message?: unknown;
  metadata?: { continue?: unknown; resourceVersion?: unknown; remainingItemCount?: unknown };
  items?: unknown;
}

function pageHead(metadata: ListObject["metadata"]): ListPageHead {
  const head: ListPageHead = {};
  const token = metadata?.continue;
  if (typeof token === "string" && token !== "") head.continue = token;
  const version = metadata?.resourceVersion;
  if (typeof version === "string" && version !== "") head.resourceVersion = version;
  const remaining = metadata?.remainingItemCount;
  if (typeof remaining === "number" && Number.isInteger(remaining) && remaining >= 0)
    head.remainingItemCount = remaining;
  return head;
}

function readWhole(text: string, onItem: OnItem): ListPageHead {
  const page = JSON.parse(text) as ListObject;
  if (typeof page !== "object" || page === null || Array.isArray(page)) {
    throw new SyntaxError("not a Kubernetes list: expected an object with an items array");
  }
  // A list always has `items` (a Go server writes an empty one as null); without it, what
  // came is something else, and taking it as a list of none would make the cluster look empty.
  if (page.kind === "Status") {
    const message = typeof page.message === "string" ? `: ${page.message}` : "";
    throw new SyntaxError(`a Status object, not a list${message}`);
  }
  if (page.items !== null && !Array.isArray(page.items)) {
    throw new SyntaxError("not a Kubernetes list: expected an object with an items array");
  }
  for (const item of (page.items as unknown[] | null) ?? []) onItem(dropManagedFields(item));
  return pageHead(page.metadata);
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

/** One item's text → its value without managedFields, or `invalid` when it is not one value. */
function decodeItem(piece: string): unknown {
  const cut = piece.indexOf(managedFieldsKey);
  let text = piece;
  if (cut !== -1) {
    const after = skipArray(piece, cut + managedFieldsKey.length - 1, piece.length);
    if (after !== -1) text = piece.slice(0, cut) + piece.slice(after);
  }
  try {
    return dropManagedFields(JSON.parse(text));
  } catch {
    return invalid;
  }
}

/**
 * Given the index of a `[` (or `{`), returns the index just after its matching bracket,
 * skipping over strings (with their escapes); -1 if it does not close before `limit`.
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

/** The index just after the JSON value starting at `start` (not validated), or -1. */
function skipValue(text: string, start: number): number {
  const code = text.charCodeAt(start);
  if (code === 123 /* { */ || code === 91 /* [ */) return skipArray(text, start, text.length);
  if (code === 34 /* " */) {
    for (let index = start + 1; index < text.length; index++) {
      const inner = text.charCodeAt(index);
      if (inner === 92 /* \ */) index++;
      else if (inner === 34) return index + 1;
    }
    return -1;
  }
  const end = /[\s,\]}]/g;
  end.lastIndex = start;
  const found = end.exec(text);
  return found === null || found.index === start ? -1 : found.index;
}

function skipSpace(text: string, index: number): number {
  let position = index;
  while (position < text.length && /\s/.test(text.charAt(position))) position++;
  return position;
}
