import type { Logger } from "pino";

/** Older than this, a last success no longer counts for readiness: 3 intervals, at least 3 min. */
export function staleAfterMs(intervalMs: number): number {
  return Math.max(3 * intervalMs, 3 * 60_000);
}

export interface ReadinessOptions {
  intervalMs: number;
  /** Whether the repositories the app manages were listed. */
  listed: () => boolean;
  /** When the cluster was last read completely (ms since the epoch). */
  lastObservation: () => number | undefined;
  /** When GitHub last answered a request successfully (ms since the epoch). */
  lastGitHubSuccess: () => number | undefined;
  now?: () => number;
}

export interface Readiness {
  ready: boolean;
  /** What is missing or stale, one sentence each; empty when ready. */
  problems: string[];
}

/**
 * Whether the app can work: its repositories are listed, and both the cluster and GitHub
 * answered within the staleness bound. Reconciles are not part of it, so a replica that does
 * not run the loop (or manages nothing yet) is judged by the same facts as one that does.
 */
export function readinessOf(options: ReadinessOptions): Readiness {
  const now = options.now?.() ?? Date.now();
  const bound = staleAfterMs(options.intervalMs);
  const problems: string[] = [];
  if (!options.listed()) problems.push("repositories: not listed yet");
  const stale = (what: string, at: number | undefined) => {
    if (at === undefined) problems.push(`${what}: no successful read yet`);
    else if (now - at > bound)
      problems.push(
        `${what}: last successful read ${Math.round((now - at) / 1000)}s ago (limit ${bound / 1000}s)`,
      );
  };
  stale("cluster", options.lastObservation());
  stale("github", options.lastGitHubSuccess());
  return { ready: problems.length === 0, problems };
}

export interface FreshnessOptions {
  intervalMs: number;
  lastObservation: () => number | undefined;
  lastGitHubSuccess: () => number | undefined;
  /** Reads the cluster (the shared observer, so a reconcile's read counts too). */
  observe: () => Promise<unknown>;
  /** One cheap request to GitHub. */
  probeGitHub: () => Promise<unknown>;
  log: Logger;
  now?: () => number;
}

export interface Freshness {
  /** Looks now (the same look the timer makes); resolves when it ended. */
  check(): Promise<void>;
  /** Stops the timer; resolves when a look under way has ended. */
  stop(): Promise<void>;
}

/**
 * Keeps the facts readiness rests on fresh on every replica, whether or not it runs the loop:
 * at start and every interval, the cluster is read when its last complete read is older than
 * half the staleness bound, and GitHub is asked once when it has not answered for as long. On
 * a replica that reconciles, its reads are recent and nothing extra happens. Failures are
 * logged; readiness shows them.
 */
export function keepFresh(options: FreshnessOptions): Freshness {
  const now = options.now ?? Date.now;
  const refreshAfter = staleAfterMs(options.intervalMs) / 2;
  const old = (at: number | undefined) => at === undefined || now() - at >= refreshAfter;
  let current: Promise<void> | undefined;
  const look = async () => {
    if (old(options.lastObservation())) {
      await options.observe().catch((error: unknown) => {
        options.log.warn({ err: error }, "could not read the cluster");
      });
    }
    if (old(options.lastGitHubSuccess())) {
      await options.probeGitHub().catch((error: unknown) => {
        options.log.warn({ err: error }, "could not reach GitHub");
      });
    }
  };
  const check = () => {
    current ??= look().finally(() => {
      current = undefined;
    });
    return current;
  };
  void check();
  const timer = setInterval(() => void check(), options.intervalMs);
  timer.unref();
  return {
    check,
    async stop() {
      clearInterval(timer);
      await current;
    },
  };
}
