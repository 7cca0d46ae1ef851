/**
 * `fetch` that gives up on a request not answered (headers and body) within `timeoutMs`. A
 * half-open connection (a router restarted under it) would otherwise hold a reconcile, and a
 * stopping replica with it, for minutes. Once `stopped` is aborted (the app stopped), a request
 * still open is given up and a new one fails at once, unsent: a reconcile the app stopped waiting
 * for writes nothing more. The global `fetch` is looked up at each call.
 */
export function fetchWithTimeout(timeoutMs: number, stopped?: AbortSignal): typeof fetch {
  return (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signals = [
      timeout,
      ...(stopped ? [stopped] : []),
      ...(init?.signal ? [init.signal] : []),
    ];
    const signal = signals.length === 1 ? timeout : AbortSignal.any(signals);
    return globalThis.fetch(input, { ...init, signal });
  };
}
