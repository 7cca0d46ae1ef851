import { loadKubeConfig } from "../cluster/kube-config.ts";
import { defaultTiming, jitterFactor, type LeaderElectionTiming } from "./election-timing.ts";
import {
  kubeLeaseStore,
  type LeaseRecord,
  type LeaseStore,
  type StoredLease,
} from "./lease-store.ts";
import type { LeaderElectionSettings } from "./settings.ts";

/** The reason a replica gives up the Lease on its way out: a normal event, not a warning. */
const STOPPING = "stopping";

export { defaultTiming, type LeaderElectionTiming };

/** Time and timers, injectable so tests can drive them. */
export interface Clock {
  /** Milliseconds since the epoch (also written into the Lease's times). */
  now(): number;
  /**
   * Milliseconds from a fixed point that never goes back nor jumps (performance.now()): every
   * duration is measured on it, so stepping the wall clock cannot stretch the renew deadline or
   * cut a Lease short. Absent: `now()` is used.
   */
  monotonic?(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** pino's methods the elector logs with. */
export interface ElectionLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

export interface LeaderElectorOptions extends LeaderElectionTiming {
  store: LeaseStore;
  /** This replica's name in the Lease (the pod's name). */
  identity: string;
  log: ElectionLog;
  /** Called when this replica becomes the leader. */
  onStartedLeading?: () => void;
  /** Called when it stops being the leader: lost, taken over, or released. */
  onStoppedLeading?: () => void;
  clock?: Clock;
  random?: () => number;
}

export interface LeaderElector {
  /** Starts trying to acquire the Lease, and keeps trying until stopped. */
  start(): void;
  /** Whether this replica leads now. */
  isLeader(): boolean;
  /** The holder last seen in the Lease ("" when released, undefined before the first read). */
  holder(): string | undefined;
  /**
   * Stops acquiring and renewing. With `release` (the default), a leader gives the Lease up
   * (no holder, a one-second duration) so another replica takes over at its next attempt;
   * without, the Lease is left to expire, as when the process is killed.
   */
  stop(options?: { release?: boolean }): Promise<void>;
}

const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

type Outcome = "held" | "held-by-other" | "failed";

/**
 * Leader election on a coordination.k8s.io Lease, as client-go's leaderelection package does
 * it: the replica that creates the Lease, or updates it once it has expired, leads, and
 * renews it every retry period; writes name the resourceVersion they read, so of two replicas
 * that race, one gets 409 Conflict and follows. A leader that cannot renew within the renew
 * deadline steps down before its Lease can expire for the others: at worst nobody leads for a
 * while, never two (with the caveat on clock rates in docs/app.md).
 *
 * Expiry is judged on this replica's own clock: a Lease is expired when its record has not
 * changed for leaseDurationSeconds since this replica first saw it, so clocks that differ
 * between nodes do not matter (the times in the Lease are for people to read).
 * @throws Error when the timing is inconsistent (renew deadline not below the lease duration).
 */
export function createLeaderElector(options: LeaderElectorOptions): LeaderElector {
  const { store, identity, log } = options;
  const clock = options.clock ?? systemClock;
  const elapsedClock = clock.monotonic?.bind(clock) ?? (() => clock.now());
  const random = options.random ?? Math.random;
  const leaseSeconds = options.leaseDurationSeconds ?? defaultTiming.leaseDurationSeconds;
  const renewDeadline = options.renewDeadlineMs ?? defaultTiming.renewDeadlineMs;
  const retryPeriod = options.retryPeriodMs ?? defaultTiming.retryPeriodMs;
  checkTiming(leaseSeconds, renewDeadline, retryPeriod);
  const context = { lease: store.description, identity };

  let started = false;
  let stopped = false;
  let leading = false;
  /** The Lease as last read or written, and when (monotonic) its record was first seen. */
  let observed: { lease: StoredLease; at: number } | undefined;
  let lastError: string | undefined;
  let retryTimer: unknown;
  let deadlineTimer: unknown;
  let attempt: Promise<void> | undefined;

  function observe(lease: StoredLease): void {
    if (observed?.lease.resourceVersion === lease.resourceVersion) return;
    const before = observed?.lease.record.holderIdentity;
    observed = { lease, at: elapsedClock() };
    const holder = lease.record.holderIdentity;
    if (holder !== before && holder !== identity)
      log.info({ ...context, holder: holder || "(released)" }, "the Lease has a new holder");
  }

  function expired(now: number): boolean {
    if (!observed) return true;
    const { record } = observed.lease;
    return observed.at + record.leaseDurationSeconds * 1000 <= now;
  }

  async function tryAcquireOrRenew(begun: number): Promise<Outcome> {
    const time = microTime(clock.now());
    const current = await store.get();
    if (!current) {
      const created = await store.create({
        holderIdentity: identity,
        leaseDurationSeconds: leaseSeconds,
        acquireTime: time,
        renewTime: time,
        leaseTransitions: 0,
      });
      if (!created) return "held-by-other";
      observe(created);
      return "held";
    }
    observe(current);
    const old = current.record;
    const mine = old.holderIdentity === identity;
    if (!mine && old.holderIdentity !== "" && !expired(begun)) return "held-by-other";
    const record: LeaseRecord = {
      holderIdentity: identity,
      leaseDurationSeconds: leaseSeconds,
      acquireTime: mine ? (old.acquireTime ?? time) : time,
      renewTime: time,
      leaseTransitions: mine ? old.leaseTransitions : old.leaseTransitions + 1,
    };
    const written = await store.update(current, record);
    if (!written) return "held-by-other";
    observe(written);
    return "held";
  }

  async function run(): Promise<void> {
    const begun = elapsedClock();
    let outcome: Outcome;
    try {
      outcome = await tryAcquireOrRenew(begun);
      if (lastError !== undefined) log.info(context, "the Lease can be read and written again");
      lastError = undefined;
    } catch (error) {
      outcome = "failed";
      reportFailure(error);
    }
    if (stopped) return;
    // A renewal that took longer than the deadline came too late to count: the deadline
    // timer may have stepped down already, and the next attempt renews again.
    if (outcome === "held" && elapsedClock() - begun < renewDeadline) renewed(begun);
    else if (outcome === "held-by-other" && leading)
      stepDown("another replica holds the Lease now");
    schedule(leading ? retryPeriod : retryPeriod * (1 + jitterFactor * random()));
  }

  function reportFailure(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const fields = { ...context, leader: leading, err: message };
    // Every two seconds while the API is down: once loudly, then quietly until it changes.
    if (message === lastError) log.debug(fields, "leader election: the Lease API still fails");
    else
      log.error(
        fields,
        leading
          ? "could not renew the Lease; still leading until the renew deadline"
          : "could not read or acquire the Lease; trying again",
      );
    lastError = message;
  }

  function renewed(at: number): void {
    if (deadlineTimer !== undefined) clock.clearTimeout(deadlineTimer);
    deadlineTimer = clock.setTimeout(
      () => {
        deadlineTimer = undefined;
        stepDown(`the Lease was not renewed within ${renewDeadline / 1000}s`);
      },
      Math.max(0, at + renewDeadline - elapsedClock()),
    );
    if (leading) return;
    leading = true;
    log.info(context, "became the leader: this replica runs the reconcile loop");
    options.onStartedLeading?.();
  }

  function stepDown(reason: string): void {
    if (deadlineTimer !== undefined) clock.clearTimeout(deadlineTimer);
    deadlineTimer = undefined;
    if (!leading) return;
    leading = false;
    if (reason === STOPPING)
      log.info({ ...context }, "stopped leading: this replica is stopping and releases the Lease");
    else
      log.warn(
        { ...context, reason },
        "stopped leading: this replica stops its reconcile loop and keeps serving webhooks",
      );
    options.onStoppedLeading?.();
  }

  function schedule(ms: number): void {
    retryTimer = clock.setTimeout(() => {
      retryTimer = undefined;
      attempt = run().finally(() => {
        attempt = undefined;
      });
    }, ms);
  }

  async function release(): Promise<void> {
    try {
      const current = await store.get();
      if (current?.record.holderIdentity !== identity) return;
      const time = microTime(clock.now());
      const released = await store.update(current, {
        ...current.record,
        holderIdentity: "",
        leaseDurationSeconds: 1,
        acquireTime: time,
        renewTime: time,
      });
      if (released) log.info(context, "released the Lease");
      else log.warn(context, "could not release the Lease: it changed meanwhile");
    } catch (error) {
      log.error(
        { ...context, err: error instanceof Error ? error.message : String(error) },
        "could not release the Lease; another replica takes over when it expires",
      );
    }
  }

  return {
    start() {
      if (started || stopped) return;
      started = true;
      schedule(0);
    },
    isLeader: () => leading,
    holder: () => observed?.lease.record.holderIdentity,
    async stop(stopOptions = {}) {
      if (stopped) return;
      stopped = true;
      if (retryTimer !== undefined) clock.clearTimeout(retryTimer);
      retryTimer = undefined;
      await attempt;
      stepDown(STOPPING);
      // Also when an acquisition landed just as stopping began, before it made us the leader.
      const holding = observed?.lease.record.holderIdentity === identity;
      if (holding && stopOptions.release !== false) await release();
      store.close();
    },
  };
}

function checkTiming(leaseSeconds: number, renewDeadline: number, retryPeriod: number): void {
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 1)
    throw new Error("leader election: the lease duration must be a whole number of seconds");
  if (!(renewDeadline < leaseSeconds * 1000))
    throw new Error("leader election: the renew deadline must be shorter than the lease duration");
  if (!(retryPeriod > 0 && retryPeriod < renewDeadline))
    throw new Error("leader election: the retry period must be shorter than the renew deadline");
}

/** A MicroTime: RFC 3339 in UTC with six fractional digits, as the API server writes it. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export interface KubeLeaderElectorOptions
  extends LeaderElectionTiming,
    Pick<LeaderElectorOptions, "log" | "onStartedLeading" | "onStoppedLeading"> {
  settings: LeaderElectionSettings;
  /** A kubeconfig file; undefined: found as kubectl finds it (in a pod: its service account). */
  kubeconfig?: string;
  context?: string;
}

/**
 * A {@link LeaderElector} on the Lease the settings name, through the Kubernetes API the
 * kubeconfig (or the pod's service account) reaches.
 * @throws InputError when no usable Kubernetes configuration is found.
 */
export function createKubeLeaderElector(options: KubeLeaderElectorOptions): LeaderElector {
  const { settings, kubeconfig, context, ...rest } = options;
  const loaded = loadKubeConfig({
    ...(kubeconfig ? { kubeconfig } : {}),
    ...(context ? { context } : {}),
  });
  const renewDeadline = options.renewDeadlineMs ?? defaultTiming.renewDeadlineMs;
  const store = kubeLeaseStore({
    loaded,
    namespace: settings.namespace,
    name: settings.lease,
    // Two requests (read, then write) fit in the deadline; the deadline's own timer steps
    // down on time whatever a request does.
    timeoutMs: Math.max(1000, renewDeadline / 2),
  });
  return createLeaderElector({ ...rest, store, identity: settings.identity });
}
