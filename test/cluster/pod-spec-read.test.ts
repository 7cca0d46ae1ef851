import { describe, expect, it } from "@jest/globals";
import { resolveLocalClaims } from "../../src/cluster/local-volumes.ts";
import { evictableLocalVolumes, type PendingClaim, toPodInfo } from "../../src/cluster/pod-info.ts";
import { createInterner, type Raw } from "../../src/cluster/raw.ts";
import { WarningCollector } from "../../src/cluster/warnings.ts";

function read(affinity: Raw, labels: Record<string, string> = {}, spec: Raw = {}) {
  const raw = {
    metadata: { namespace: "dns", name: "blocky-5c8d7f6b9-x2k9p", labels },
    spec: { containers: [{ name: "blocky" }], affinity, ...spec },
    status: { phase: "Pending" },
  };
  return toPodInfo(raw, { warnings: new WarningCollector(), claims: [], intern: createInterner() });
}

describe("reading required pod affinity and anti-affinity", () => {
  it("keeps the required terms with their selector, namespaces and topology key", () => {
    const pod = read({
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            labelSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["db"] }] },
            namespaces: ["data"],
            topologyKey: "topology.kubernetes.io/zone",
          },
        ],
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 50,
            podAffinityTerm: { labelSelector: {}, topologyKey: "kubernetes.io/hostname" },
          },
        ],
      },
    });
    expect(pod.podAffinity).toEqual([
      {
        selector: { matchExpressions: [{ key: "app", operator: "In", values: ["db"] }] },
        namespaces: ["data"],
        topologyKey: "topology.kubernetes.io/zone",
      },
    ]);
    expect(pod.podAntiAffinity).toBeUndefined();
  });

  it("folds matchLabelKeys and mismatchLabelKeys into the selector with the pod's own values", () => {
    const pod = read(
      {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            {
              labelSelector: { matchLabels: { app: "blocky" } },
              matchLabelKeys: ["pod-template-hash", "absent"],
              mismatchLabelKeys: ["tenant"],
              topologyKey: "kubernetes.io/hostname",
            },
          ],
        },
      },
      { app: "blocky", "pod-template-hash": "5c8d7f6b9", tenant: "home" },
    );
    expect(pod.podAntiAffinity).toEqual([
      {
        selector: {
          matchLabels: { app: "blocky" },
          matchExpressions: [
            { key: "pod-template-hash", operator: "In", values: ["5c8d7f6b9"] },
            { key: "tenant", operator: "NotIn", values: ["home"] },
          ],
        },
        topologyKey: "kubernetes.io/hostname",
      },
    ]);
  });

  it("takes an empty namespaceSelector as every namespace and a null selector as selecting nothing", () => {
    const pod = read({
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            labelSelector: { matchLabels: { app: "x" } },
            namespaceSelector: {},
            topologyKey: "kubernetes.io/hostname",
          },
          { labelSelector: null, topologyKey: "kubernetes.io/hostname" },
          { labelSelector: { matchLabels: { app: "x" } } },
        ],
      },
    });
    expect(pod.podAntiAffinity).toEqual([
      {
        selector: { matchLabels: { app: "x" } },
        allNamespaces: true,
        topologyKey: "kubernetes.io/hostname",
      },
      { topologyKey: "kubernetes.io/hostname" },
    ]);
  });

  it("takes the namespaces a namespaceSelector names by kubernetes.io/metadata.name, beside those listed", () => {
    const byName = "kubernetes.io/metadata.name";
    const term = (namespaceSelector: Raw, namespaces?: string[]) => ({
      labelSelector: { matchLabels: { app: "redis" } },
      namespaceSelector,
      ...(namespaces ? { namespaces } : {}),
      topologyKey: "kubernetes.io/hostname",
    });
    const pod = read({
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          term({ matchLabels: { [byName]: "cache" } }, ["dns"]),
          term({ matchExpressions: [{ key: byName, operator: "In", values: ["a", "b"] }] }),
          // Both ask: only the name both allow.
          term({
            matchLabels: { [byName]: "b" },
            matchExpressions: [{ key: byName, operator: "In", values: ["a", "b"] }],
          }),
          // No namespace has two names: none is selected, not even the pod's own.
          term({
            matchLabels: { [byName]: "c" },
            matchExpressions: [{ key: byName, operator: "In", values: ["a"] }],
          }),
          // Other labels, or another operator: kept for the planner, which reads the labels.
          term({ matchLabels: { team: "media" } }, ["dns"]),
          term({ matchExpressions: [{ key: byName, operator: "NotIn", values: ["a"] }] }),
          // Asks for nothing: every namespace.
          term({ matchLabels: {} }),
        ],
      },
    });
    expect(
      pod.podAffinity?.map(({ namespaces, allNamespaces, namespaceSelector }) => [
        namespaces,
        allNamespaces,
        namespaceSelector,
      ]),
    ).toEqual([
      [["dns", "cache"], undefined, undefined],
      [["a", "b"], undefined, undefined],
      [["b"], undefined, undefined],
      [[], undefined, undefined],
      [["dns"], undefined, { matchLabels: { team: "media" } }],
      [
        undefined,
        undefined,
        { matchExpressions: [{ key: byName, operator: "NotIn", values: ["a"] }] },
      ],
      [undefined, true, undefined],
    ]);
  });
});

describe("reading topology spread constraints and host ports", () => {
  it("keeps DoNotSchedule constraints with their policies, and drops ScheduleAnyway ones", () => {
    const pod = read(
      {},
      { app: "blocky", "pod-template-hash": "5c8d7f6b9" },
      {
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: "kubernetes.io/hostname",
            whenUnsatisfiable: "DoNotSchedule",
            labelSelector: { matchLabels: { app: "blocky" } },
            matchLabelKeys: ["pod-template-hash"],
          },
          {
            maxSkew: 2,
            topologyKey: "topology.kubernetes.io/zone",
            whenUnsatisfiable: "DoNotSchedule",
            labelSelector: { matchLabels: { app: "blocky" } },
            minDomains: 3,
            nodeAffinityPolicy: "Ignore",
            nodeTaintsPolicy: "Honor",
          },
          {
            maxSkew: 1,
            topologyKey: "kubernetes.io/hostname",
            whenUnsatisfiable: "ScheduleAnyway",
            labelSelector: { matchLabels: { app: "blocky" } },
          },
        ],
      },
    );
    expect(pod.topologySpread).toEqual([
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        selector: {
          matchLabels: { app: "blocky" },
          matchExpressions: [{ key: "pod-template-hash", operator: "In", values: ["5c8d7f6b9"] }],
        },
        honorNodeAffinity: true,
        honorTaints: false,
      },
      {
        maxSkew: 2,
        topologyKey: "topology.kubernetes.io/zone",
        selector: { matchLabels: { app: "blocky" } },
        minDomains: 3,
        honorNodeAffinity: false,
        honorTaints: true,
      },
    ]);
  });

  it("reads host ports of app containers and sidecars, TCP by default", () => {
    const pod = read(
      {},
      {},
      {
        containers: [
          {
            name: "blocky",
            ports: [
              { containerPort: 53, hostPort: 53, protocol: "UDP" },
              { containerPort: 4000, hostPort: 4000 },
              { containerPort: 8080 },
            ],
          },
        ],
        initContainers: [
          { name: "setup", ports: [{ containerPort: 9000, hostPort: 9000 }] },
          {
            name: "exporter",
            restartPolicy: "Always",
            ports: [{ containerPort: 9100, hostPort: 9100, hostIP: "192.168.50.21" }],
          },
        ],
      },
    );
    expect(pod.hostPorts).toEqual([
      { port: 53, protocol: "UDP" },
      { port: 4000, protocol: "TCP" },
      { port: 9100, protocol: "TCP", hostIP: "192.168.50.21" },
    ]);
  });

  it("takes a hostNetwork pod's container ports as its host ports, as the API server fills them in", () => {
    const ports = [
      { containerPort: 9100, name: "metrics" },
      { containerPort: 9101, hostPort: 0, protocol: "UDP" },
      { containerPort: 9102, hostPort: 9102 },
    ];
    const onHost = read({}, {}, { hostNetwork: true, containers: [{ name: "exporter", ports }] });
    expect(onHost.hostPorts).toEqual([
      { port: 9100, protocol: "TCP" },
      { port: 9101, protocol: "UDP" },
      { port: 9102, protocol: "TCP" },
    ]);
    const onPodNetwork = read({}, {}, { containers: [{ name: "exporter", ports }] });
    expect(onPodNetwork.hostPorts).toEqual([{ port: 9102, protocol: "TCP" }]);
  });
});

describe("reading pod-level resources", () => {
  it("takes spec.resources.requests over what the containers add up to, then adds the overhead", () => {
    const pod = read(
      {},
      {},
      {
        containers: [
          { name: "app", resources: { requests: { cpu: "250m", memory: "256Mi" } } },
          { name: "sidecar" },
        ],
        resources: { requests: { cpu: "2", memory: "2Gi" }, limits: { memory: "4Gi" } },
        overhead: { cpu: "100m", memory: "64Mi" },
      },
    );
    expect(pod.requests).toEqual({ cpu: 2100, memory: 2 * 2 ** 30 + 64 * 2 ** 20 });
  });

  it("keeps the containers' sum for a resource the pod level leaves out", () => {
    const pod = read(
      {},
      {},
      {
        containers: [{ name: "app", resources: { requests: { cpu: "250m", memory: "256Mi" } } }],
        resources: { requests: { memory: "1Gi" } },
      },
    );
    expect(pod.requests).toEqual({ cpu: 250, memory: 2 ** 30 });
  });
});

describe("reading a container with limits and no requests", () => {
  it("counts the limit as the request, as the API server fills it in", () => {
    const pod = read(
      {},
      {},
      {
        containers: [
          { name: "app", resources: { limits: { cpu: "1", memory: "512Mi" } } },
          { name: "sidecar", resources: { requests: { cpu: "100m" }, limits: { cpu: "500m" } } },
        ],
      },
    );
    // The request the sidecar gives is kept; only a missing one takes the limit.
    expect(pod.requests).toEqual({ cpu: 1100, memory: 512 * 2 ** 20 });
  });

  it("leaves the request unknown when the limit standing in for it cannot be read", () => {
    const pod = read(
      {},
      {},
      { containers: [{ name: "app", resources: { limits: { cpu: "2 cores", memory: "1Gi" } } }] },
    );
    expect(pod.requests.cpu).toBeUndefined();
    expect(pod.requests.memory).toBe(2 ** 30);
  });
});

const localVolumesAnnotation = "cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes";

/** Reads a running pod with these volumes and annotations, keeping the claims it queues. */
function readWithVolumes(volumes: Raw[], annotations: Record<string, string> = {}) {
  const claims: PendingClaim[] = [];
  const pod = toPodInfo(
    {
      metadata: { namespace: "media", name: "jellyfin-0", annotations },
      spec: { nodeName: "worker-2", containers: [{ name: "jellyfin" }], volumes },
      status: { phase: "Running" },
    },
    { warnings: new WarningCollector(), claims, intern: createInterner() },
  );
  return { pod, claims };
}

describe("reading safe-to-evict-local-volumes", () => {
  it("splits the annotation on commas, trimming spaces and dropping empty names", () => {
    expect([
      ...evictableLocalVolumes({ [localVolumesAnnotation]: " cache, tmp ,,transcode, " }),
    ]).toEqual(["cache", "tmp", "transcode"]);
    expect(evictableLocalVolumes({}).size).toBe(0);
    expect(evictableLocalVolumes({ [localVolumesAnnotation]: "" }).size).toBe(0);
    expect(evictableLocalVolumes({ [localVolumesAnnotation]: 3 }).size).toBe(0);
  });

  it("leaves the volumes it names out of the blocking volumes, and keeps the others", () => {
    const volumes = [
      { name: "cache", emptyDir: {} },
      { name: "transcode", emptyDir: { sizeLimit: "20Gi" } },
      // Scratch in RAM is no local storage, named or not (as cluster-autoscaler reads it).
      { name: "shm", emptyDir: { medium: "Memory" } },
      { name: "tmp", hostPath: { path: "/tmp/jellyfin" } },
      { name: "media", hostPath: { path: "/mnt/media" } },
      { name: "config", configMap: { name: "jellyfin" } },
    ];
    expect(readWithVolumes(volumes).pod.blockingVolumes).toEqual([
      { name: "cache", type: "emptyDir" },
      { name: "transcode", type: "emptyDir" },
      { name: "tmp", type: "hostPath" },
      { name: "media", type: "hostPath" },
    ]);
    const named = readWithVolumes(volumes, { [localVolumesAnnotation]: "cache, tmp" });
    expect(named.pod.blockingVolumes).toEqual([
      { name: "transcode", type: "emptyDir" },
      { name: "media", type: "hostPath" },
    ]);
    const all = readWithVolumes(volumes, {
      [localVolumesAnnotation]: "cache,transcode, tmp,media",
    });
    expect(all.pod.blockingVolumes).toEqual([]);
  });

  it("does not make a claim it names local, even when bound to a node-local volume", () => {
    const volumes = [
      { name: "config", persistentVolumeClaim: { claimName: "config-jellyfin-0" } },
      { name: "scratch", ephemeral: { volumeClaimTemplate: { spec: {} } } },
      { name: "metadata", persistentVolumeClaim: { claimName: "metadata-jellyfin-0" } },
    ];
    const bindings = new Map([
      ["media/config-jellyfin-0", { volume: "pvc-0a1" }],
      ["media/jellyfin-0-scratch", { volume: "pvc-0b2" }],
      ["media/metadata-jellyfin-0", { volume: "pvc-0c3" }],
    ]);
    const local = new Map(
      ["pvc-0a1", "pvc-0b2", "pvc-0c3"].map((name) => [name, { name, local: true }]),
    );

    const plain = readWithVolumes(volumes);
    resolveLocalClaims(plain.claims, bindings, local);
    expect(plain.pod.blockingVolumes.map((volume) => volume.name)).toEqual([
      "config",
      "scratch",
      "metadata",
    ]);

    const named = readWithVolumes(volumes, { [localVolumesAnnotation]: "scratch, config" });
    resolveLocalClaims(named.claims, bindings, local);
    expect(named.pod.blockingVolumes).toEqual([
      { name: "metadata", type: "local", claim: "metadata-jellyfin-0" },
    ]);
  });
});

describe("reading resource claims", () => {
  it("keeps the names of spec.resourceClaims, and leaves the field out without any", () => {
    const pod = read(
      {},
      {},
      {
        resourceClaims: [
          { name: "gpu", resourceClaimTemplateName: "single-gpu" },
          { name: "nic", resourceClaimName: "sriov-vf-0" },
          { resourceClaimName: "nameless" },
        ],
      },
    );
    expect(pod.resourceClaims).toEqual(["gpu", "nic"]);
    expect(read({}).resourceClaims).toBeUndefined();
    expect(read({}, {}, { resourceClaims: [] }).resourceClaims).toBeUndefined();
  });
});

describe("reading karpenter.sh/do-not-disrupt", () => {
  /** A running pod with the annotation set to `value`, started at `startTime` when given. */
  function withAnnotation(value: string, startTime?: string) {
    return toPodInfo(
      {
        metadata: {
          namespace: "ci",
          name: "runner-7c9d8f6b5-q4x2m",
          annotations: { "karpenter.sh/do-not-disrupt": value },
        },
        spec: { nodeName: "worker-4", containers: [{ name: "runner" }] },
        status: { phase: "Running", ...(startTime ? { startTime } : {}) },
      },
      { warnings: new WarningCollector(), claims: [], intern: createInterner() },
    );
  }

  it('keeps "true" for good, and a duration until that long after the pod started', () => {
    expect(withAnnotation("true")).toMatchObject({ doNotDisrupt: true });
    expect(withAnnotation("true").doNotDisruptUntil).toBeUndefined();
    for (const [value, until] of [
      ["2h30m", "2026-11-22T11:30:00.000Z"],
      ["90s", "2026-11-22T09:01:30.000Z"],
      ["1.5h", "2026-11-22T10:30:00.000Z"],
      ["1h0m0.5s", "2026-11-22T10:00:00.500Z"],
      ["1500ms", "2026-11-22T09:00:01.500Z"],
    ] as const) {
      const pod = withAnnotation(value, "2026-11-22T09:00:00Z");
      expect([value, pod.doNotDisrupt, pod.doNotDisruptUntil]).toEqual([value, false, until]);
    }
  });

  it("keeps a duration for good while the pod's start is not known, as Karpenter does", () => {
    const pod = withAnnotation("30m");
    expect(pod.doNotDisrupt).toBe(true);
    expect(pod.doNotDisruptUntil).toBeUndefined();
  });

  it("reads any other value as no annotation: not a duration, or not a positive one", () => {
    for (const value of ["false", "True", "yes", "30", "1d", "0", "-5m", "5 m", "m", ""]) {
      const pod = withAnnotation(value, "2026-11-22T09:00:00Z");
      expect([value, pod.doNotDisrupt, pod.doNotDisruptUntil]).toEqual([value, false, undefined]);
    }
  });
});

describe("reading spec.schedulerName", () => {
  it("keeps a scheduler other than the default one, and leaves the default one out", () => {
    expect(read({}, {}, { schedulerName: "volcano" }).schedulerName).toBe("volcano");
    expect(read({}, {}, { schedulerName: "default-scheduler" })).not.toHaveProperty(
      "schedulerName",
    );
    expect(read({}, {}, { schedulerName: "" })).not.toHaveProperty("schedulerName");
    expect(read({})).not.toHaveProperty("schedulerName");
  });
});

describe("reading a PodScheduled condition that is True or Unknown", () => {
  const condition = (status: string, reason?: string) => ({
    type: "PodScheduled",
    status,
    ...(reason ? { reason } : {}),
    lastTransitionTime: "2026-11-20T08:00:00Z",
  });
  function readPending(conditions: Raw[], spec: Raw = {}) {
    const raw = {
      metadata: { namespace: "batch", name: "import-0" },
      spec: { containers: [{ name: "import" }], ...spec },
      status: { phase: "Pending", conditions },
    };
    return toPodInfo(raw, {
      warnings: new WarningCollector(),
      claims: [],
      intern: createInterner(),
    });
  }

  it("keeps its status on a pod bound to no node, apart from a False one", () => {
    expect(readPending([condition("True")]).podScheduled).toBe("True");
    expect(readPending([condition("Unknown")]).podScheduled).toBe("Unknown");
    const marked = readPending([condition("False", "Unschedulable")]);
    expect(marked).not.toHaveProperty("podScheduled");
    expect(marked.unschedulable).toBeDefined();
    expect(readPending([])).not.toHaveProperty("podScheduled");
  });

  it("leaves it out on a pod bound to a node, where it tells nothing more", () => {
    expect(readPending([condition("True")], { nodeName: "worker-1" })).not.toHaveProperty(
      "podScheduled",
    );
  });
});
