/**
 * `fetch` that gives up on a request not answered (headers and body) within `timeoutMs`. A
 * half-open connection (a router restarted under it) would otherwise hold a reconcile, and a
 * stopping replica with it, for minutes. The global `fetch` is looked up at each call.
 */
export function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return globalThis.fetch(input, { ...init, signal });
  };
}
