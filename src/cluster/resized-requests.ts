import type { ContainerRequests } from "./pod-requests.ts";
import { list, type Raw, record, string } from "./raw.ts";
import { type ResourceAmounts, readResourceList } from "./resources.ts";
import type { WarningCollector } from "./warnings.ts";

/** A pod's containers, in order, and what each requests, as read from its spec. */
export interface CountedContainers {
  containers: readonly { name: string }[];
  initContainers: readonly { name: string }[];
  app: ContainerRequests[];
  init: ContainerRequests[];
}

/**
 * A bound pod's container requests as the kube-scheduler and the kubelet count them while an
 * in-place resize (on by default since Kubernetes 1.33) is pending or under way, in place of
 * what its spec asks for. The spec holds the requests the pod is being resized to; a container
 * status, once it has `resources`, holds what the kubelet gives the container now
 * (`resources.requests`) and what it has admitted (`allocatedResources`). As
 * k8s.io/component-helpers resource.PodRequests counts them with `UseStatusResources` (set by
 * the scheduler's node accounting whenever InPlacePodVerticalScaling is on):
 * - an app container, or a sidecar (an init container with `restartPolicy: Always`), whose
 *   status has `resources` counts, per resource, the largest of its spec's requests, its
 *   status's and its `allocatedResources`;
 * - when the resize is infeasible (the pod's first `PodResizePending` condition has reason
 *   `Infeasible`; before Kubernetes 1.33, `status.resize: Infeasible`), the spec is left out:
 *   the larger of the status's requests and `allocatedResources`;
 * - a regular init container, a container whose status has no `resources`, the pod-level
 *   resources and the overhead keep the spec.
 * A quantity of the status that cannot be read leaves that resource unknown, with a warning.
 * Whether any container's requests were taken from its status.
 */
export function asAllocated(
  parts: CountedContainers,
  status: Raw,
  subject: string,
  warnings: WarningCollector,
): boolean {
  const statuses = new Map<string, { raw: Raw; field: string }>();
  for (const field of ["containerStatuses", "initContainerStatuses"] as const) {
    list(status[field]).forEach((item, index) => {
      const entry = record(item);
      const name = string(entry.name);
      if (name !== undefined)
        statuses.set(name, { raw: entry, field: `status.${field}[${index}]` });
    });
  }
  if (statuses.size === 0) return false;
  let adjusted = false;
  const infeasible = resizeInfeasible(status);
  const adjust = (containers: CountedContainers["containers"], counted: ContainerRequests[]) => {
    counted.forEach((spec, index) => {
      // Of the init containers the scheduler reads sidecars' statuses only: others keep the spec.
      if (counted === parts.init && !spec.sidecar) return;
      const name = containers[index]?.name;
      const found = name === undefined ? undefined : statuses.get(name);
      const resources = found?.raw.resources;
      if (!found || typeof resources !== "object" || resources === null) return;
      const context = (at: string) => ({ subject, field: `${found.field}.${at}`, warnings });
      const actual = readResourceList(record(resources).requests, context("resources.requests"));
      const allocated = readResourceList(
        found.raw.allocatedResources,
        context("allocatedResources"),
      );
      const lists = infeasible ? [actual, allocated] : [spec, actual, allocated];
      counted[index] = { ...largest(lists), ...(spec.sidecar ? { sidecar: true } : {}) };
      adjusted = true;
    });
  };
  adjust(parts.containers, parts.app);
  adjust(parts.initContainers, parts.init);
  return adjusted;
}

/** Whether the kubelet found the pod's resize infeasible, as the scheduler reads it. */
function resizeInfeasible(status: Raw): boolean {
  if (status.resize === "Infeasible") return true;
  for (const item of list(status.conditions)) {
    const condition = record(item);
    if (condition.type === "PodResizePending") return condition.reason === "Infeasible";
  }
  return false;
}

/** Per resource the largest amount of the lists; unknown when any of them could not read it. */
function largest(lists: readonly ResourceAmounts[]): ResourceAmounts {
  const amounts: Record<string, number> = {};
  const invalid = new Set<string>();
  for (const { amounts: each, invalid: unread } of lists) {
    for (const name in each) {
      const value = each[name] as number;
      if (amounts[name] === undefined || value > (amounts[name] as number)) amounts[name] = value;
    }
    for (const name of unread ?? []) invalid.add(name);
  }
  for (const name of invalid) delete amounts[name];
  return { amounts, invalid: invalid.size > 0 ? [...invalid] : undefined };
}
