import { KubeApiError, type KubeClient } from "./kube-client.ts";
import { type ListPageHead, ListPageReader } from "./list-page.ts";
import type { Raw } from "./raw.ts";

export interface ListOptions<T> {
  /** Collection path, e.g. `/api/v1/pods`. */
  path: string;
  /** `limit` per page; 0 asks for everything at once. */
  pageSize: number;
  /** Converts one raw item; undefined drops it. */
  convert: (item: Raw) => T | undefined;
  /** Attempts per page after the first, for errors worth retrying. */
  retries: number;
  /** Delay before the n-th retry: n × this. */
  retryDelayMs: number;
  /**
   * How many times the list may start again from scratch: after an expired continue token
   * (410 Gone), or pages that do not form one list (see {@link listAll}).
   */
  maxRestarts: number;
  /**
   * Whether a request that got nothing for the client's timeout is tried again (default
   * true). An aggregated API that hangs (metrics-server down behind the API server) tends to
   * hang again; waiting for it twice more only delays everything else.
   */
  retryTimeouts?: boolean;
  /**
   * A converted item's namespace (`""` for cluster-scoped objects) and name: an item met on two
   * pages makes the pages inconsistent. Without it, pages are not checked for repeated items.
   * The strings are the item's own, so remembering them costs no copies.
   */
  identity?: (item: T) => readonly [namespace: string, name: string];
  /** Called after each page's items are converted. */
  afterPage?: () => void;
}

export interface ListResult<T> {
  items: T[];
  /** False when the list stopped before its last page. */
  complete: boolean;
  /** Why it stopped, when it did. */
  error?: KubeApiError;
  /** Pages read in the final attempt. */
  pages: number;
  /** Times the list was started again from scratch after a 410. */
  restarts: number;
}

/**
 * Reads a whole collection page by page (`limit`/`continue`). When the server says the
 * continue token expired (410 Gone), the list starts again from scratch, as client-go's
 * pager does, and the items read so far are discarded: mixing pages from two snapshots
 * could count a pod twice or not at all. So it does when the pages do not form one list,
 * which a server that keeps to the API never gives: a page of another `resourceVersion`
 * than the first, an item met on an earlier page (`identity`), a continue token given
 * twice (a server or proxy that ignores `continue` would otherwise be asked forever), or a
 * last page that says items remain (`remainingItemCount`) yet has no continue token. After
 * `maxRestarts`, the list ends incomplete with the pages read before the one at fault.
 */
export async function listAll<T>(
  client: KubeClient,
  options: ListOptions<T>,
): Promise<ListResult<T>> {
  let restarts = 0;
  for (;;) {
    const items: T[] = [];
    const pageCheck = new PageCheck(client.describe(options.path), options);
    let pages = 0;
    let token: string | undefined;
    try {
      do {
        const page = await fetchPage(client, options, token);
        pageCheck.accept(page, token);
        for (const item of page.items) items.push(item);
        token = page.head.continue;
        pages++;
        options.afterPage?.();
      } while (token !== undefined);
      return { items, complete: true, pages, restarts };
    } catch (error) {
      if (!(error instanceof KubeApiError)) throw error;
      const again = error.status === 410 && token !== undefined;
      if ((again || error === pageCheck.failure) && restarts < options.maxRestarts) {
        restarts++;
        continue;
      }
      return { items, complete: false, error, pages, restarts };
    }
  }
}

interface Page<T> {
  items: T[];
  head: ListPageHead;
}

/** Whether each page belongs with those before it (see {@link listAll}). */
class PageCheck<T> {
  /** The error thrown for pages that do not form one list. */
  failure: KubeApiError | undefined;
  readonly #what: string;
  readonly #path: string;
  readonly #identity: ListOptions<T>["identity"];
  readonly #tokens = new Set<string>();
  /** Names seen by namespace. */
  readonly #seen = new Map<string, Set<string>>();
  #resourceVersion: string | undefined;
  #first = true;

  constructor(what: string, options: ListOptions<T>) {
    this.#what = what;
    this.#path = options.path;
    this.#identity = options.identity;
  }

  /** @throws KubeApiError when `page` (asked for with `token`) does not belong. */
  accept(page: Page<T>, token: string | undefined): void {
    const { head } = page;
    const problem = this.#problem(page, token);
    if (problem !== undefined) {
      this.failure = new KubeApiError(
        `${this.#what}: the pages do not form one list: ${problem}`,
        this.#path,
        undefined,
        undefined,
        "decode",
      );
      throw this.failure;
    }
    if (head.continue !== undefined) this.#tokens.add(head.continue);
    if (this.#first) this.#resourceVersion = head.resourceVersion;
    this.#first = false;
  }

  #problem(page: Page<T>, token: string | undefined): string | undefined {
    const { head } = page;
    if (head.continue !== undefined && (head.continue === token || this.#tokens.has(head.continue)))
      return "the server gave the same continue token again";
    if (head.continue === undefined && (head.remainingItemCount ?? 0) > 0)
      return `the last page says ${head.remainingItemCount} more item(s) remain`;
    if (!this.#first && head.resourceVersion !== this.#resourceVersion)
      return `a page of resourceVersion ${head.resourceVersion ?? "(none)"} after one of ${this.#resourceVersion ?? "(none)"}`;
    // A single page cannot repeat an earlier one's items: nothing to remember.
    if (this.#identity === undefined || (this.#first && head.continue === undefined)) return;
    for (const item of page.items) {
      const [namespace, name] = this.#identity(item);
      let names = this.#seen.get(namespace);
      if (!names) {
        names = new Set();
        this.#seen.set(namespace, names);
      }
      if (names.has(name)) return `${namespace ? `${namespace}/` : ""}${name} appears twice`;
      names.add(name);
    }
    return undefined;
  }
}

/**
 * Fetches one page, decoding and converting its items as the body arrives, and retries
 * requests that failed in a way worth retrying. A page's items are returned only once its
 * whole response has arrived and decoded, so a retried request never delivers an item twice
 * and a page cut short delivers none; a complete response that does not decode is not
 * retried and ends the list there.
 */
async function fetchPage<T>(
  client: KubeClient,
  options: ListOptions<T>,
  token: string | undefined,
): Promise<Page<T>> {
  const query = { limit: options.pageSize > 0 ? options.pageSize : undefined, continue: token };
  for (let attempt = 0; ; attempt++) {
    const items: T[] = [];
    const reader = new ListPageReader((item) => {
      if (typeof item !== "object" || item === null) return;
      const converted = options.convert(item as Raw);
      if (converted !== undefined) items.push(converted);
    });
    // The start of the body, to say what came instead of a list when it does not decode.
    let start = "";
    try {
      await client.getStream(options.path, query, (text) => {
        if (start.length < bodyStartLength) start += text.slice(0, bodyStartLength - start.length);
        reader.push(text);
      });
      return { items, head: reader.end() };
    } catch (error) {
      // Everything before and during the exchange is a KubeApiError already (credentials,
      // building the request, the network, a status); what is left is the decoding.
      if (!(error instanceof KubeApiError)) throw undecodable(client, options.path, start, error);
      if (!error.retryable || attempt >= options.retries) throw error;
      if (error.timedOut && options.retryTimeouts === false) throw error;
      const delay = retryDelay(error, options.retryDelayMs * (attempt + 1));
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** The longest `Retry-After` waited for; a longer one is waited for this long. */
export const maxRetryAfterMs = 30_000;

/**
 * The wait before trying again: the server's `Retry-After` when it gave one (API Priority and
 * Fairness answers 429 with it), else our own back-off, whichever is longer.
 */
export function retryDelay(error: KubeApiError, ownMs: number): number {
  return Math.max(ownMs, Math.min(error.retryAfterMs ?? 0, maxRetryAfterMs));
}

const bodyStartLength = 60;

/**
 * A complete 2xx answer that is not a Kubernetes list: not JSON at all (an authenticating
 * proxy's login page, a compressed body), or JSON of another shape.
 */
function undecodable(
  client: KubeClient,
  path: string,
  start: string,
  error: unknown,
): KubeApiError {
  const what = client.describe(path);
  const body = start.trimStart();
  const message =
    body === ""
      ? "the response is empty, not a list"
      : /^[{[]/.test(body)
        ? `the response is not a list (${(error as Error).message})`
        : // biome-ignore lint/suspicious/noControlCharactersInRegex: binary data is what is looked for
          /[\u0000-\u0008\u000e-\u001f\ufffd]/.test(body)
          ? "the response is not JSON but binary data (a compressed body that was not asked for?)"
          : `the response is not JSON (it starts ${JSON.stringify(body.slice(0, 40))}): is the server URL a Kubernetes API server, and not a proxy's login page?`;
  return new KubeApiError(`${what}: ${message}`, path, undefined, undefined, "decode");
}
