import { deadlineFactor, KubeApiError } from "../cluster/kube-client.ts";
import { cutByTimeout, type DrainApi, type ReadOptions, readTimeoutMs } from "./drain-api.ts";
import { podKey } from "./drain-pod.ts";
import type { DrainClock } from "./drain-result.ts";

/**
 * The least a read is given, even at or past the deadline: enough for a server that answers to
 * tell what became of a pod evicted just before it, so that the report is right, and short
 * enough that a server that does not answer holds the drain up no longer.
 */
export const lateReadMs = 1_000;

/**
 * A read of the API that the drain's deadline cut short: it got no answer within the time
 * that was left. `what` names the read, `reason` is the request's failure.
 */
export class DeadlineReached extends Error {
  readonly what: string;
  readonly reason: string;

  constructor(what: string, reason: string) {
    super(`the timeout ran out while ${what} (${reason})`);
    this.name = "DeadlineReached";
    this.what = what;
    this.reason = reason;
  }
}

/**
 * The drain's reads, each waiting for its answer no longer than the time left before
 * `deadline` (epoch ms on `clock`), and at least `leastMs` ({@link lateReadMs} unless said);
 * with more left than a read's own limits ({@link readTimeoutMs}, three times it in all), it
 * has those. A read so cut short throws
 * {@link DeadlineReached}: the drain is out of time, and says which read it was waiting for.
 * Writes (the cordon, evictions) go as they are: an eviction is given the time left by the
 * drain itself.
 */
export function deadlineApi(
  api: DrainApi,
  clock: DrainClock,
  deadline: number,
  leastMs = lateReadMs,
): DrainApi {
  const read = async <T>(what: string, send: (options: ReadOptions) => Promise<T>) => {
    const options = timeLeft(clock, deadline, leastMs);
    try {
      return await send(options);
    } catch (error) {
      throw deadlineError(error, options, what);
    }
  };
  return {
    getNode: (name) => read(`reading node ${name}`, (o) => api.getNode(name, o)),
    setUnschedulable: (name, unschedulable, options) =>
      api.setUnschedulable(name, unschedulable, options),
    listPods: (node) => read(`listing the pods on ${node}`, (o) => api.listPods(node, o)),
    claimVolume: (namespace, claim) =>
      read(`reading claim ${namespace}/${claim}`, (o) => api.claimVolume(namespace, claim, o)),
    evict: (pod, options) => api.evict(pod, options),
    currentPod: (pod) => read(`reading pod ${podKey(pod)}`, (o) => api.currentPod(pod, o)),
    listBudgets: (namespace) =>
      read(`listing the PodDisruptionBudgets of namespace ${namespace}`, (o) =>
        api.listBudgets(namespace, o),
      ),
    close: () => api.close(),
  };
}

/**
 * The options of a read sent now: the time left before `deadline` (epoch ms on `clock`), at
 * least `leastMs` ({@link lateReadMs} unless said); none (the read's own limits) when more is
 * left than those.
 */
export function timeLeft(clock: DrainClock, deadline: number, leastMs = lateReadMs): ReadOptions {
  const left = deadline - clock.now();
  if (left >= deadlineFactor * readTimeoutMs) return {};
  return { timeoutMs: Math.max(left, leastMs) };
}

/**
 * The failure of a read sent with `options` (see {@link timeLeft}), as it is, or as
 * {@link DeadlineReached} naming the read (`what`) when the time left cut it short.
 */
export function deadlineError(error: unknown, options: ReadOptions, what: string): unknown {
  if (error instanceof KubeApiError && cutByTimeout(error, options)) {
    return new DeadlineReached(what, error.message);
  }
  return error;
}
