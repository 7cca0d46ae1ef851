import { KubeApiError, type KubeClient } from "./kube-client.ts";
import { ListPageReader } from "./list-page.ts";
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
  /** How many times an expired continue token (410 Gone) may restart the list. */
  maxRestarts: number;
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
 * could count a pod twice or not at all.
 */
export async function listAll<T>(
  client: KubeClient,
  options: ListOptions<T>,
): Promise<ListResult<T>> {
  let restarts = 0;
  for (;;) {
    const items: T[] = [];
    let pages = 0;
    let token: string | undefined;
    try {
      do {
        const page = await fetchPage(client, options, token);
        for (const item of page.items) items.push(item);
        token = page.continue;
        pages++;
        options.afterPage?.();
      } while (token !== undefined);
      return { items, complete: true, pages, restarts };
    } catch (error) {
      if (!(error instanceof KubeApiError)) throw error;
      if (error.status === 410 && token !== undefined && restarts < options.maxRestarts) {
        restarts++;
        continue;
      }
      return { items, complete: false, error, pages, restarts };
    }
  }
}

interface Page<T> {
  items: T[];
  continue: string | undefined;
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
      return { items, continue: reader.end().continue };
    } catch (error) {
      // Everything before and during the exchange is a KubeApiError already (credentials,
      // building the request, the network, a status); what is left is the decoding.
      if (!(error instanceof KubeApiError)) throw undecodable(client, options.path, start, error);
      if (!error.retryable || attempt >= options.retries) throw error;
      if (options.retryDelayMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs * (attempt + 1)));
      }
    }
  }
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
