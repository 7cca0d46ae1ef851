/**
 * A pod resized in place is counted as the kube-scheduler counts it (k8s.io/component-helpers
 * resource.PodRequests with UseStatusResources): per container the largest of the spec's
 * requests, the status's `resources.requests` and `allocatedResources`; only the status's when
 * the resize is infeasible. The status shapes are those the kubelet writes (kubernetes.io,
 * "Resize CPU and Memory Resources assigned to Containers").
 */
import { describe, expect, it } from "@jest/globals";
import { toPodInfo } from "../../src/cluster/pod-info.ts";
import { createInterner, type Raw } from "../../src/cluster/raw.ts";
import { WarningCollector } from "../../src/cluster/warnings.ts";

const GiB = 2 ** 30;

/** A container whose spec requests `cpu` and `memory`. */
function container(name: string, cpu: string, memory = "1Gi", extra: Raw = {}): Raw {
  return { name, resources: { requests: { cpu, memory } }, ...extra };
}

/** A container status with what the kubelet gives the container and what it has admitted. */
function running(name: string, actual: Raw | undefined, allocated?: Raw): Raw {
  return {
    name,
    ready: true,
    restartCount: 0,
    state: { running: { startedAt: "2026-11-20T08:00:05Z" } },
    ...(actual ? { resources: { requests: actual } } : {}),
    ...(allocated ? { allocatedResources: allocated } : {}),
  };
}

function resizePending(reason: "Deferred" | "Infeasible"): Raw {
  return {
    lastProbeTime: null,
    lastTransitionTime: "2026-11-24T10:15:02Z",
    reason,
    status: "True",
    type: "PodResizePending",
  };
}

interface PodParts {
  containers: Raw[];
  initContainers?: Raw[];
  containerStatuses?: Raw[];
  initContainerStatuses?: Raw[];
  conditions?: Raw[];
  resize?: string;
  nodeName?: string | null;
  spec?: Raw;
}

function read(parts: PodParts) {
  const warnings = new WarningCollector();
  const status: Raw = { phase: parts.nodeName === null ? "Pending" : "Running" };
  for (const field of ["containerStatuses", "initContainerStatuses", "conditions"] as const)
    if (parts[field]) status[field] = parts[field];
  if (parts.resize) status.resize = parts.resize;
  const spec: Raw = {
    containers: parts.containers,
    ...(parts.initContainers ? { initContainers: parts.initContainers } : {}),
    ...(parts.nodeName === null ? {} : { nodeName: parts.nodeName ?? "talos-worker-1" }),
    ...parts.spec,
  };
  const pod = toPodInfo(
    { metadata: { namespace: "media", name: "jellyfin-6f7d8c9b5-rsz01" }, spec, status },
    { warnings, claims: [], intern: createInterner() },
  );
  return { pod, warnings: warnings.finish() };
}

describe("reading a pod resized in place", () => {
  it("counts a container being shrunk at what the kubelet still gives it", () => {
    // The kubelet has admitted 1 core (allocatedResources) and still runs the container at 3.
    const { pod } = read({
      containers: [container("app", "1")],
      containerStatuses: [running("app", { cpu: "3", memory: "1Gi" }, { cpu: "1", memory: "1Gi" })],
      conditions: [{ type: "PodResizeInProgress", status: "True" }],
    });
    expect(pod.requests).toEqual({ cpu: 3000, memory: GiB });
    // The container's own requests stay as declared (right-sizing compares them with the file).
    expect(pod.containers[0]?.requests).toEqual({ cpu: 1000, memory: GiB });
    // The spec's figures stay beside the pod's, for the explanation to say which it counts.
    expect(pod.specRequests).toEqual({ cpu: 1000, memory: GiB });
  });

  it("counts a container growing, or waiting to grow, at the size it asks for", () => {
    const { pod } = read({
      containers: [container("app", "3", "2Gi")],
      containerStatuses: [running("app", { cpu: "1", memory: "1Gi" }, { cpu: "1", memory: "1Gi" })],
      conditions: [resizePending("Deferred")],
    });
    expect(pod.requests).toEqual({ cpu: 3000, memory: 2 * GiB });
    // Counted as its spec asks: nothing to say beside it.
    expect(pod).not.toHaveProperty("specRequests");
  });

  it("takes the largest of each resource, from whichever list holds it", () => {
    const { pod } = read({
      containers: [container("app", "2", "1Gi")],
      containerStatuses: [
        running("app", { cpu: "1", memory: "3Gi" }, { cpu: "500m", memory: "2Gi" }),
      ],
    });
    expect(pod.requests).toEqual({ cpu: 2000, memory: 3 * GiB });
  });

  it("counts a resize the kubelet found infeasible at what the container has", () => {
    const { pod } = read({
      containers: [container("app", "8", "32Gi")],
      containerStatuses: [running("app", { cpu: "1", memory: "1Gi" }, { cpu: "1", memory: "1Gi" })],
      conditions: [{ type: "PodScheduled", status: "True" }, resizePending("Infeasible")],
    });
    expect(pod.requests).toEqual({ cpu: 1000, memory: GiB });
  });

  it("reads an infeasible resize from status.resize, as clusters before 1.33 write it", () => {
    const { pod } = read({
      containers: [container("app", "8", "32Gi")],
      containerStatuses: [running("app", { cpu: "1", memory: "1Gi" })],
      resize: "Infeasible",
    });
    expect(pod.requests).toEqual({ cpu: 1000, memory: GiB });
  });

  it("keeps the spec for a container whose status has no resources", () => {
    // A cluster without in-place resize (or a kubelet that has not reported yet) writes none.
    const { pod } = read({
      containers: [container("app", "1"), container("exporter", "100m", "64Mi")],
      containerStatuses: [
        running("app", undefined, { cpu: "4", memory: "8Gi" }),
        running("exporter", { cpu: "200m", memory: "64Mi" }),
      ],
    });
    expect(pod.requests).toEqual({ cpu: 1200, memory: GiB + 64 * 2 ** 20 });
  });

  it("keeps the spec for a pod bound to no node", () => {
    const { pod } = read({
      nodeName: null,
      containers: [container("app", "1")],
      containerStatuses: [running("app", { cpu: "3", memory: "1Gi" })],
    });
    expect(pod.requests).toEqual({ cpu: 1000, memory: GiB });
  });

  it("reads a sidecar's status, not a regular init container's", () => {
    const { pod } = read({
      initContainers: [
        container("migrate", "2", "1Gi"),
        container("proxy", "100m", "128Mi", { restartPolicy: "Always" }),
      ],
      containers: [container("app", "1", "1Gi")],
      initContainerStatuses: [
        running("migrate", { cpu: "3", memory: "1Gi" }),
        running("proxy", { cpu: "500m", memory: "128Mi" }),
      ],
      containerStatuses: [running("app", { cpu: "1", memory: "1Gi" })],
    });
    // The sidecar runs at 500m beside the app's 1 core; the migration ran alone at its spec's 2.
    expect(pod.requests).toEqual({ cpu: 2000, memory: GiB + 128 * 2 ** 20 });
    const { pod: larger } = read({
      initContainers: [
        container("migrate", "1", "1Gi"),
        container("proxy", "100m", "128Mi", { restartPolicy: "Always" }),
      ],
      containers: [container("app", "1", "1Gi")],
      initContainerStatuses: [
        running("migrate", { cpu: "3", memory: "1Gi" }),
        running("proxy", { cpu: "500m", memory: "128Mi" }),
      ],
    });
    expect(larger.requests).toEqual({ cpu: 1500, memory: GiB + 128 * 2 ** 20 });
  });

  it("adds the overhead, and lets pod-level requests replace what the containers add up to", () => {
    const { pod } = read({
      containers: [container("app", "1")],
      containerStatuses: [running("app", { cpu: "3", memory: "2Gi" })],
      spec: { overhead: { cpu: "250m", memory: "64Mi" }, resources: { requests: { cpu: "2" } } },
    });
    expect(pod.requests).toEqual({ cpu: 2250, memory: 2 * GiB + 64 * 2 ** 20 });
  });

  it("leaves a resource unknown when the status's quantity cannot be read, and says where", () => {
    const { pod, warnings } = read({
      containers: [container("app", "1")],
      containerStatuses: [running("app", { cpu: "three", memory: "1Gi" })],
    });
    expect(pod.requests).toEqual({ memory: GiB });
    expect(warnings).toEqual([
      expect.objectContaining({
        code: "quantity-invalid",
        subject: "pod/media/jellyfin-6f7d8c9b5-rsz01",
        message: expect.stringContaining("status.containerStatuses[0].resources.requests.cpu"),
      }),
    ]);
  });
});
