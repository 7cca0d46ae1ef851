import type { TriggerReason } from "../reconcile/reconcile-types.ts";

export interface SchedulerOptions {
  /** Reconciles one repository; it never runs twice at once for the same repository. */
  run: (repository: string, reasons: TriggerReason[]) => Promise<void>;
  /** The repositories the timer goes through. */
  repositories: () => readonly string[];
  intervalMs: number;
  /** Up to this fraction of the interval is added or removed at random, so replicas drift apart. */
  jitter?: number;
  random?: () => number;
  /**
   * When the repository may be reconciled again (ms since the epoch; undefined: now). A run asked
   * for earlier waits until then, its triggers merged as for a running one.
   */
  notBefore?: (repository: string) => number | undefined;
  /** Told when a run is put off until `notBefore`. */
  onDeferred?: (repository: string, until: number, reasons: readonly TriggerReason[]) => void;
  now?: () => number;
}

export interface Scheduler {
  /**
   * Asks for a reconcile soon: coalesced with one running or put off (at most one more is
   * queued).
   */
  trigger(repository: string, reason: TriggerReason): void;
  /**
   * Starts the timer: a reconcile of every repository now, then every interval (± jitter).
   * Starting it while it runs changes nothing; after {@link pause} it starts afresh.
   */
  start(): void;
  /**
   * Stops the timer only (a replica that stopped leading): triggers are still taken and
   * running reconciles go on.
   */
  pause(): void;
  /** Whether the timer runs (started, not paused or stopped). */
  timerRunning(): boolean;
  /** Stops the timer and waits for running reconciles to end. */
  stop(): Promise<void>;
  /**
   * Resolves when nothing runs (for tests and shutdown); a run put off until `notBefore` is not
   * waited for.
   */
  idle(): Promise<void>;
}

interface Lane {
  running: Promise<void> | undefined;
  queued: Set<TriggerReason> | undefined;
  /** Set while the next run waits for the repository's `notBefore`. */
  wake: NodeJS.Timeout | undefined;
}

/**
 * Runs reconciles: one at a time per repository, with triggers that arrive meanwhile merged
 * into one follow-up run (webhooks only make a run come sooner; the timer alone is enough).
 */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const lanes = new Map<string, Lane>();
  const jitter = options.jitter ?? 0.1;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  function lane(repository: string): Lane {
    let found = lanes.get(repository);
    if (!found) {
      found = { running: undefined, queued: undefined, wake: undefined };
      lanes.set(repository, found);
    }
    return found;
  }

  function launch(repository: string, reasons: TriggerReason[]): void {
    const current = lane(repository);
    current.running = options
      .run(repository, reasons)
      .catch(() => {
        // The runner reports its own failures; the next trigger simply tries again.
      })
      .finally(() => {
        current.running = undefined;
        const next = current.queued;
        current.queued = undefined;
        if (next && !stopped) begin(repository, [...next]);
      });
  }

  /** Runs now, or at the repository's `notBefore` when that is still to come. */
  function begin(repository: string, reasons: TriggerReason[]): void {
    const current = lane(repository);
    const until = options.notBefore?.(repository);
    const waitMs = until === undefined ? 0 : until - now();
    if (until === undefined || waitMs <= 0) {
      launch(repository, reasons);
      return;
    }
    current.queued = new Set([...(current.queued ?? []), ...reasons]);
    current.wake = setTimeout(() => {
      current.wake = undefined;
      const next = current.queued;
      current.queued = undefined;
      if (next && !stopped) begin(repository, [...next]);
    }, waitMs);
    options.onDeferred?.(repository, until, [...current.queued]);
  }

  function trigger(repository: string, reason: TriggerReason): void {
    if (stopped) return;
    const current = lane(repository);
    if (current.running || current.wake) {
      current.queued = new Set([...(current.queued ?? []), reason]);
      return;
    }
    begin(repository, [reason]);
  }

  function tick(reason: TriggerReason): void {
    for (const repository of options.repositories()) trigger(repository, reason);
    const spread = options.intervalMs * jitter * (2 * random() - 1);
    timer = setTimeout(() => tick("timer"), Math.max(1000, options.intervalMs + spread));
  }

  async function idle(): Promise<void> {
    for (;;) {
      const running = [...lanes.values()].flatMap((l) => (l.running ? [l.running] : []));
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  function pause(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
  }

  return {
    trigger,
    start() {
      if (!stopped && !timer) tick("start");
    },
    pause,
    timerRunning: () => timer !== undefined,
    async stop() {
      stopped = true;
      pause();
      for (const current of lanes.values()) {
        clearTimeout(current.wake);
        current.wake = undefined;
      }
      await idle();
    },
    idle,
  };
}
