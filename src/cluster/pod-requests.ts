/** One container's requests, keyed by Kubernetes resource name, with unreadable names. */
export interface ContainerRequests {
  amounts: Record<string, number>;
  invalid: string[] | undefined;
  /** An init container with restartPolicy Always (a sidecar). */
  sidecar?: boolean;
}

/** The resources a pod may request as a whole (`spec.resources`). */
const POD_LEVEL = /^(?:cpu|memory|hugepages-.+)$/;

export interface EffectiveRequests {
  amounts: Record<string, number>;
  /** Resources left unknown because some container's quantity could not be read. */
  unknown: Set<string>;
}

/**
 * The pod's request as the scheduler computes it (k8s.io/component-helpers resource.PodRequests):
 * app containers and sidecars add up; each regular init container runs alone beside the
 * sidecars started before it; the pod needs the larger of the two, plus its overhead.
 * Pod-level resources (`spec.resources.requests`, cpu, memory and huge pages) replace what the
 * containers add up to for those resources, before the overhead.
 * cpu and memory are always present (zero when nothing is requested, which the scheduler
 * counts as zero); other resources only when something requests them.
 */
export function effectiveRequests(
  containers: readonly ContainerRequests[],
  initContainers: readonly ContainerRequests[],
  overhead: ContainerRequests | undefined,
  podLevel?: ContainerRequests,
): EffectiveRequests {
  const unknown = new Set<string>();
  const steady: Record<string, number> = { cpu: 0, memory: 0 };
  const initPeak: Record<string, number> = {};
  const sidecars: Record<string, number> = {};
  for (const container of containers) {
    addInto(steady, container.amounts);
    markUnknown(unknown, container);
  }
  for (const init of initContainers) {
    markUnknown(unknown, init);
    if (init.sidecar) {
      addInto(steady, init.amounts);
      addInto(sidecars, init.amounts);
      maxInto(initPeak, sidecars);
    } else {
      const running = { ...sidecars };
      addInto(running, init.amounts);
      maxInto(initPeak, running);
    }
  }
  maxInto(steady, initPeak);
  if (podLevel) {
    for (const name in podLevel.amounts)
      if (POD_LEVEL.test(name)) steady[name] = podLevel.amounts[name] as number;
    markUnknown(unknown, podLevel);
  }
  if (overhead) {
    addInto(steady, overhead.amounts);
    markUnknown(unknown, overhead);
  }
  for (const name of unknown) delete steady[name];
  return { amounts: steady, unknown };
}

function addInto(target: Record<string, number>, source: Record<string, number>): void {
  for (const name in source) target[name] = (target[name] ?? 0) + (source[name] as number);
}

function maxInto(target: Record<string, number>, source: Record<string, number>): void {
  for (const name in source) {
    const value = source[name] as number;
    if (target[name] === undefined || value > (target[name] as number)) target[name] = value;
  }
}

function markUnknown(unknown: Set<string>, container: ContainerRequests): void {
  if (container.invalid) for (const name of container.invalid) unknown.add(name);
}
