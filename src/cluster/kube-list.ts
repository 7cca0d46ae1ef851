import {
  type ExchangeLimits,
  formatTimeout,
  KubeApiError,
  type KubeClient,
} from "./kube-client.ts";
import { type ListPageHead, ListPageReader } from "./list-page.ts";
import type { Raw } from "./raw.ts";

export interface ListOptions<T> {
  /** Collection path, e.g. `/api/v1/pods`. */
  path: string;
  /** `limit` per page; 0 asks for everything at once. */
  pageSize: number;
  /** Converts one raw item; undefined drops it. */
  convert: (item: Raw) => T | undefined;
  /**
   * Attempts per page after the first, for errors worth retrying (no answer, a response cut
   * short, 5xx) that came without a `Retry-After`.
   */
  retries: number;
  /** Delay before the n-th of those retries: n × this. */
  retryDelayMs: number;
  /**
   * Attempts per page after the first for an answer that says when to try again (429, or 5xx
   * with `Retry-After`), each after the wait it asks for (default
   * {@link defaultThrottledRetries}, as client-go).
   */
  throttledRetries?: number;
  /** No retry waits past this time (on `clock`), nor starts after it. */
  deadline?: ReadDeadline;
  /**
   * The limits of each request, asked for just before it is sent (each page, each retry): a
   * caller with a deadline of its own gives the time left. Undefined, or returning undefined:
   * the client's own limits.
   */
  limits?: () => ExchangeLimits | undefined;
  /** The clock of the waits and the deadline (default: the process's monotonic clock). */
  clock?: RetryClock;
  /** Told of each retry before its wait. */
  onRetry?: (retry: RetryNote) => void;
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
 * than the first, an item met twice, on one page or two (`identity`), a continue token given
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
      const lone = this.#first && head.continue === undefined;
      this.failure = new KubeApiError(
        `${this.#what}: ${lone ? "the list is inconsistent" : "the pages do not form one list"}: ${problem}`,
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
      return `the last page says ${head.remainingItemCount} more ${head.remainingItemCount === 1 ? "item remains" : "items remain"}`;
    if (!this.#first && head.resourceVersion !== this.#resourceVersion)
      return `a page of resourceVersion ${head.resourceVersion ?? "(none)"} after one of ${this.#resourceVersion ?? "(none)"}`;
    // A lone page is checked too: a server or proxy that writes an item twice in one answer
    // would otherwise have a node's room, or a pod's request, counted twice.
    if (this.#identity === undefined) return;
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
      await client.getStream(
        options.path,
        query,
        (text) => {
          if (start.length < bodyStartLength)
            start += text.slice(0, bodyStartLength - start.length);
          reader.push(text);
        },
        options.limits?.(),
      );
      return { items, head: reader.end() };
    } catch (error) {
      // Everything before and during the exchange is a KubeApiError already (credentials,
      // building the request, the network, a status); what is left is the decoding.
      if (!(error instanceof KubeApiError)) throw undecodable(client, options.path, start, error);
      await waitToRetry(client, options, error, attempt);
    }
  }
}

/** Answers that say when to try again are retried this often, as client-go's maxRetries. */
export const defaultThrottledRetries = 10;

/** When a read must be done by, on its {@link RetryClock}. */
export interface ReadDeadline {
  at: number;
  /** How long the read was given, for messages. */
  limitMs: number;
  /** The limit in messages (default: `the read's limit of <limitMs>`). */
  name?: string;
}

/** Time for retries: `now` in ms on any fixed origin. */
export interface RetryClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const monotonicClock: RetryClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A request tried again: which, how long it waits first, and why. */
export interface RetryNote {
  /** `GET <server><path>`. */
  request: string;
  /** 1 for the first retry. */
  retry: number;
  /** The most retries this kind of failure gets. */
  of: number;
  waitMs: number;
  /** The server's `Retry-After`, when it gave one. */
  retryAfterMs?: number;
  /** The failure that is retried. */
  error: string;
}

/**
 * The retry for people: `GET …/api/v1/pods: HTTP 429 TooManyRequests: …; trying again in 1 s,
 * as its Retry-After asks (retry 1 of 10)`.
 */
export function describeRetry(note: RetryNote): string {
  const asked = note.retryAfterMs === undefined ? "" : ", as its Retry-After asks";
  return `${note.error}; trying again in ${formatTimeout(note.waitMs)}${asked} (retry ${note.retry} of ${note.of})`;
}

/**
 * Waits before trying `error`'s request again, or throws: when it is not worth retrying, its
 * retries are used up, or the wait would end past the read's deadline. An answer with
 * `Retry-After` (429, or a 5xx) is retried up to {@link ListOptions.throttledRetries} times
 * after the wait it asks for, as client-go does; any other failure worth retrying
 * `retries` times, after our own back-off or a longer `Retry-After`.
 */
async function waitToRetry<T>(
  client: KubeClient,
  options: ListOptions<T>,
  error: KubeApiError,
  attempt: number,
): Promise<void> {
  if (!error.retryable || error.pastDeadline) throw error;
  if (error.timedOut && options.retryTimeouts === false) throw error;
  const throttled = error.retryAfterMs !== undefined;
  const of = throttled ? (options.throttledRetries ?? defaultThrottledRetries) : options.retries;
  if (attempt >= of) throw error;
  const waitMs = retryDelay(error, throttled ? 0 : options.retryDelayMs * (attempt + 1));
  const clock = options.clock ?? monotonicClock;
  const { deadline } = options;
  if (deadline && clock.now() + waitMs > deadline.at) {
    const wait = waitMs > 0 ? `after the ${formatTimeout(waitMs)} wait ` : "";
    throw annotated(
      error,
      `not tried again: ${wait}it would pass ${deadline.name ?? `the read's limit of ${formatTimeout(deadline.limitMs)}`}`,
    );
  }
  options.onRetry?.({
    request: client.describe(options.path),
    retry: attempt + 1,
    of,
    waitMs,
    ...(throttled ? { retryAfterMs: error.retryAfterMs } : {}),
    error: error.message,
  });
  if (waitMs > 0) await clock.sleep(waitMs);
}

/** `error` with `note` added to its message, as the list's failure. */
function annotated(error: KubeApiError, note: string): KubeApiError {
  return new KubeApiError(
    `${error.message}; ${note}`,
    error.path,
    error.status,
    error.reason,
    error.stage,
    {
      ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
      timedOut: error.timedOut,
      pastDeadline: error.pastDeadline,
    },
  );
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
