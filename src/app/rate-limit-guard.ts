import type { Logger } from "pino";
import { utcTimeOf } from "../util/utc-time.ts";
import {
  DEFAULT_WAIT_MS,
  type RateLimit,
  type RateLimitKind,
  rateLimitOf,
} from "./github-rate-limit.ts";

/** The request options Octokit's hooks see (only what the guard reads). */
export interface HookRequestOptions {
  method: string;
  url: string;
}

/** The request the hook wraps; it takes back the options the hook was given, unchanged. */
type SendRequest = (options: never) => unknown;

/** The part of Octokit's hook API the guard uses. */
export interface WrappableOctokit {
  hook: {
    wrap(
      name: "request",
      hook: (request: SendRequest, options: HookRequestOptions) => Promise<unknown>,
    ): void;
  };
}

export interface RateLimitGuardOptions {
  log: Logger;
  /**
   * The longest wait for an exhausted quota taken inside the request, which is then tried once
   * more (default 60 s). Longer waits, and every secondary limit, end the request with its error.
   */
  maxWaitMs?: number;
  now?: () => number;
  /** Waits `ms`; ends early once `stopped` is aborted (default: a timer, cleared then). */
  sleep?: (ms: number, stopped?: AbortSignal) => Promise<void>;
  /**
   * Aborted when the app stops: a request waiting for the quota stops waiting at once and fails
   * with the signal's reason, unsent, and none waits from then on.
   */
  stopped?: AbortSignal;
  /** Told of every rate limit GitHub answered, with the time the installation waits until. */
  onLimited?: (installation: string, kind: RateLimitKind, untilMs: number) => void;
}

/** What holds an installation's requests, and until when. */
export interface Quiet {
  until: number;
  kind: RateLimitKind;
  source: string;
  /** `wait`: requests wait for `until` (a short wait for the quota); `refuse`: they fail. */
  mode: "wait" | "refuse";
}

export interface RateLimitGuard {
  /** Adds the guard to `octokit`'s requests; `installation` undefined: the app's own requests. */
  guard<O extends WrappableOctokit>(octokit: O, installation: number | undefined): O;
  /** Until when the installation's requests are held (ms since the epoch); undefined: not held. */
  quietUntil(installation: number | undefined): number | undefined;
}

/**
 * A request that was not sent because GitHub asked for quiet until `until`. The text's time is
 * rounded up to the whole second, so it never says the hold ends before it does.
 */
export class GitHubQuietError extends Error {
  readonly until: Date;
  constructor(quiet: Quiet) {
    super(
      `not sent: GitHub's ${quiet.kind} rate limit (${quiet.source}) holds this installation's requests until ${utcTimeOf(Math.ceil(quiet.until / 1000) * 1000)}`,
    );
    this.name = "GitHubQuietError";
    this.until = new Date(quiet.until);
  }
}

/** Secondary limits that come again wait twice as long each time, up to an hour. */
const MAX_BACKOFF_MS = 60 * 60 * 1000;

/**
 * Keeps the app's requests within what GitHub asks when it rate-limits them. A refused request
 * puts its installation in quiet: a short wait for an exhausted quota (at most `maxWaitMs`) is
 * waited, by that request and any other of the installation, and the request is tried once more;
 * any longer wait, and every secondary limit, fails the request, and every further request of
 * the installation fails unsent until GitHub's time. A secondary limit is never tried again in
 * the same reconcile: it comes from bursts of writes, and the next reconcile redoes the work.
 * Once `stopped` is aborted, no request waits: a wait under way ends at once, unsent.
 */
export function createRateLimitGuard(options: RateLimitGuardOptions): RateLimitGuard {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? sleepUnlessStopped;
  const stopped = options.stopped;
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_WAIT_MS;
  const quiets = new Map<string, Quiet>();
  /** Secondary limits in a row per installation, and whether the last was on a write. */
  const streaks = new Map<string, { count: number; write: boolean }>();
  const guarded = new WeakSet<object>();

  function current(label: string): Quiet | undefined {
    const quiet = quiets.get(label);
    if (quiet && quiet.until > now()) return quiet;
    quiets.delete(label);
    return undefined;
  }

  /** Waits out a short quiet; fails at once under a long one. */
  async function admit(label: string): Promise<void> {
    for (let quiet = current(label); quiet; quiet = current(label)) {
      if (quiet.mode === "refuse") throw new GitHubQuietError(quiet);
      await wait(quiet.until - now());
    }
  }

  /**
   * Waits `ms`, unless the app stops first: then it throws the stop's reason at once, so a
   * stopping process is not held by a wait whose request would only fail unsent after it.
   */
  async function wait(ms: number): Promise<void> {
    if (!stopped) return sleep(ms);
    stopped.throwIfAborted();
    let onStop = () => {};
    const stop = new Promise<never>((_, reject) => {
      onStop = () => reject(stopped.reason);
      stopped.addEventListener("abort", onStop, { once: true });
    });
    try {
      await Promise.race([sleep(ms, stopped), stop]);
    } finally {
      stopped.removeEventListener("abort", onStop);
    }
    stopped.throwIfAborted();
  }

  function succeeded(label: string, sent: HookRequestOptions): void {
    const streak = streaks.get(label);
    if (streak && (!streak.write || isWrite(sent))) streaks.delete(label);
  }

  /** The wait a secondary limit asks for, longer each time one follows another. */
  function backedOff(label: string, limit: RateLimit, sent: HookRequestOptions): RateLimit {
    const count = (streaks.get(label)?.count ?? 0) + 1;
    streaks.set(label, { count, write: isWrite(sent) });
    if (count === 1) return limit;
    const backoff = Math.min(MAX_BACKOFF_MS, DEFAULT_WAIT_MS * 2 ** (count - 1));
    if (backoff <= limit.waitMs) return limit;
    return {
      ...limit,
      waitMs: backoff,
      source: `${limit.source}, limited ${count} times in a row`,
    };
  }

  function hold(label: string, limit: RateLimit, mode: Quiet["mode"], request: HookRequestOptions) {
    const quiet: Quiet = {
      until: now() + limit.waitMs,
      kind: limit.kind,
      source: limit.source,
      mode,
    };
    const before = current(label);
    quiets.set(
      label,
      before && before.until > quiet.until && before.mode === "refuse" ? before : quiet,
    );
    options.onLimited?.(label, limit.kind, quiet.until);
    // One line per quiet: requests that were already under way add none.
    if (before?.mode === mode && before.until >= quiet.until - 1000) return;
    const facts = {
      installation: label,
      kind: limit.kind,
      waitSeconds: Math.ceil(limit.waitMs / 1000),
      until: new Date(quiet.until).toISOString(),
      source: limit.source,
      request: `${request.method} ${request.url}`,
      message: limit.message,
    };
    if (mode === "wait")
      options.log.warn(
        facts,
        "GitHub rate limit: waiting for the quota to reset, then trying once more",
      );
    else
      options.log.warn(
        facts,
        "GitHub rate limit: no requests and no reconciles for this installation until the time GitHub gave",
      );
  }

  async function send(label: string, request: SendRequest, sent: HookRequestOptions) {
    await admit(label);
    return sendOnce(label, request, sent, async (limit, error) => {
      if (limit.kind === "secondary" || limit.waitMs > maxWaitMs) {
        refuse(label, limit, sent);
        throw error;
      }
      hold(label, limit, "wait", sent);
      await wait(limit.waitMs);
      return sendOnce(label, request, sent, (again, failure) => {
        refuse(label, again, sent);
        throw failure;
      });
    });
  }

  /** Sends the request once; a rate limit in its failure is `limited`'s to answer. */
  async function sendOnce(
    label: string,
    request: SendRequest,
    sent: HookRequestOptions,
    limited: (limit: RateLimit, error: unknown) => unknown,
  ): Promise<unknown> {
    try {
      const response = await request(sent as never);
      succeeded(label, sent);
      return response;
    } catch (error) {
      const limit = rateLimitOf(error, now());
      if (!limit) throw error;
      return await limited(limit, error);
    }
  }

  /** Fails the installation's requests until GitHub's time, longer for a repeated secondary limit. */
  function refuse(label: string, limit: RateLimit, sent: HookRequestOptions): void {
    hold(label, limit.kind === "secondary" ? backedOff(label, limit, sent) : limit, "refuse", sent);
  }

  return {
    guard(octokit, installation) {
      if (guarded.has(octokit)) return octokit;
      guarded.add(octokit);
      const label = labelOf(installation);
      octokit.hook.wrap("request", (request, sent) => send(label, request, sent));
      return octokit;
    },
    quietUntil: (installation) => current(labelOf(installation))?.until,
  };
}

/** A timer of `ms`, cleared when `stopped` is aborted: it holds no stopping process open. */
function sleepUnlessStopped(ms: number, stopped?: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const finish = () => {
      clearTimeout(timer);
      stopped?.removeEventListener("abort", finish);
      done();
    };
    const timer = setTimeout(finish, ms);
    stopped?.addEventListener("abort", finish, { once: true });
  });
}

function labelOf(installation: number | undefined): string {
  return installation === undefined ? "app" : String(installation);
}

function isWrite(sent: HookRequestOptions): boolean {
  return sent.method !== "GET" && sent.method !== "HEAD";
}
