/**
 * Kubernetes families: real objects (the example cluster, the homelab fixture, real VPA and
 * metrics-server objects) with missing fields, wrong types and absurd quantities, given to the
 * converters (toNodeInfo, toPodInfo, toPdbInfo, toVpaInfo, toHpaInfo, toNodeUsage,
 * podUsageUpdate), and served by the fake kube-apiserver to readSnapshot.
 */

import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { parseAllDocuments } from "yaml";
import { toHpaInfo, toPdbInfo, toVpaInfo } from "../src/cluster/autoscaler-info.ts";
import {
  applyPodUsageUpdate,
  indexPods,
  type MetricsContext,
  podUsageUpdate,
  toNodeUsage,
} from "../src/cluster/metrics-usage.ts";
import { toNodeInfo } from "../src/cluster/node-info.ts";
import { toPodInfo } from "../src/cluster/pod-info.ts";
import { ClusterReadError, readSnapshot } from "../src/cluster/read-snapshot.ts";
import { loadSnapshot, snapshotToJson } from "../src/cluster/snapshot-file.ts";
import { WarningCollector } from "../src/cluster/warnings.ts";
import type { SnapshotWarning } from "../src/planning/snapshot.ts";
import { FakeKubeApiserver, type FakeResource } from "../test/support/fake-kube-apiserver.ts";
import {
  crash,
  errorMessage,
  type FamilySession,
  handled,
  type InputFamily,
  judgeError,
  type Outcome,
  type ReliabilityCase,
} from "./reliability-case.ts";
import { convertedProblems, quantityPositions } from "./reliability-kube-oracle.ts";
import {
  allPaths,
  familySeed,
  formatPathKeys,
  hostileValue,
  invariantViolations,
  nested,
  type PathKey,
  quantityText,
  sample,
  withAt,
} from "./reliability-values.ts";

type Raw = Record<string, unknown>;

/** When the example cluster was recorded: its metrics are fresh against this clock. */
const now = new Date("2026-11-27T14:30:00Z");
const freshTimestamp = "2026-11-27T14:29:41Z";

function loadObjects(url: URL): Raw[] {
  return parseAllDocuments(readFileSync(url, "utf8"))
    .map((document) => document.toJS() as Raw | null)
    .filter((object): object is Raw => object !== null);
}

/** The real objects the changes start from, by kind. */
function baseObjects(): Raw[] {
  const example = new URL("../examples/talos-proxmox/cluster/", import.meta.url);
  const kube = new URL("../test/fixtures/kube/", import.meta.url);
  const objects = [
    ...readdirSync(example)
      .filter((name) => name.endsWith(".yaml"))
      .sort()
      .flatMap((name) => loadObjects(new URL(name, example))),
    ...loadObjects(new URL("cluster/homelab.yaml", kube)),
    ...["cache-vpa.yaml", "api-vpa.yaml", "hamster-vpa.yaml"].flatMap((name) =>
      loadObjects(new URL(`vpa/${name}`, kube)),
    ),
    ...["node-minikube.json", "node-ub18.json", "pod-kube-scheduler-minikube.json"].map(
      (name) => JSON.parse(readFileSync(new URL(`metrics/${name}`, kube), "utf8")) as Raw,
    ),
  ];
  // Real metrics samples are old; the changes, not their age, are what is tried here.
  for (const object of objects) {
    if (object.kind === "NodeMetrics" || object.kind === "PodMetrics")
      object.timestamp = freshTimestamp;
  }
  return objects.filter((object) => converters[String(object.kind)] !== undefined);
}

interface Converted {
  value: unknown;
  warnings: SnapshotWarning[];
  subject: string;
}

type Converter = (raw: Raw) => Converted;

function subjectOf(prefix: string, raw: Raw, namespaced: boolean): string {
  const metadata = (raw.metadata ?? {}) as Raw;
  const name = typeof metadata.name === "string" ? metadata.name : "";
  const namespace = typeof metadata.namespace === "string" ? metadata.namespace : "";
  return namespaced ? `${prefix}/${namespace}/${name}` : `${prefix}/${name}`;
}

function withWarnings(
  subject: string,
  convert: (warnings: WarningCollector) => unknown,
): Converted {
  const warnings = new WarningCollector(Number.POSITIVE_INFINITY);
  const value = convert(warnings);
  return { value, warnings: warnings.finish(), subject };
}

function metricsContext(warnings: WarningCollector): MetricsContext {
  return { now, maxAgeSeconds: 300, warnings };
}

/** PodMetrics through the path readSnapshot takes: matched to a pod with those containers. */
function convertPodMetrics(raw: Raw, warnings: WarningCollector): unknown {
  const metadata = (raw.metadata ?? {}) as Raw;
  const names = (Array.isArray(raw.containers) ? raw.containers : []).map((c) =>
    typeof (c as Raw)?.name === "string" ? ((c as Raw).name as string) : "",
  );
  const pod = toPodInfo(
    {
      metadata: { name: metadata.name, namespace: metadata.namespace },
      spec: { containers: [...new Set(names)].map((name) => ({ name })) },
      status: { phase: "Running" },
    },
    { warnings: new WarningCollector(), claims: [], intern: (text) => text },
  );
  const update = podUsageUpdate(raw, indexPods([pod]), metricsContext(warnings));
  if (!update) return undefined;
  applyPodUsageUpdate(update);
  const containers: Record<string, unknown> = {};
  for (const container of pod.containers) containers[container.name] = container.usage;
  return { usage: pod.usage, containers };
}

const converters: Record<string, Converter> = {
  Node: (raw) => withWarnings(subjectOf("node", raw, false), (w) => toNodeInfo(raw, w)),
  Pod: (raw) =>
    withWarnings(subjectOf("pod", raw, true), (w) =>
      toPodInfo(raw, { warnings: w, claims: [], intern: (text) => text }),
    ),
  PodDisruptionBudget: (raw) => withWarnings(subjectOf("pdb", raw, true), (w) => toPdbInfo(raw, w)),
  VerticalPodAutoscaler: (raw) =>
    withWarnings(subjectOf("vpa", raw, true), (w) => toVpaInfo(raw, w)),
  HorizontalPodAutoscaler: (raw) => withWarnings(subjectOf("hpa", raw, true), () => toHpaInfo(raw)),
  NodeMetrics: (raw) =>
    withWarnings(subjectOf("node", raw, false), (w) => toNodeUsage(raw, metricsContext(w))?.[1]),
  PodMetrics: (raw) => withWarnings(subjectOf("pod", raw, true), (w) => convertPodMetrics(raw, w)),
};

/** A change to one object: a quantity rewritten, or any field replaced or removed. */
interface ObjectChange {
  object: number;
  target: "quantity" | "field" | "remove";
  position: number;
  quantity: string;
  value: unknown;
}

const objectChange: fc.Arbitrary<ObjectChange> = fc.record({
  object: fc.nat(),
  target: fc.constantFrom("quantity", "quantity", "field", "field", "remove"),
  position: fc.nat(),
  quantity: quantityText,
  value: hostileValue,
});

function applyChange(
  objects: readonly Raw[],
  change: ObjectChange,
  only?: (o: Raw) => boolean,
): { raw: Raw; what: string } {
  const pool = only ? objects.filter(only) : objects;
  const base = pool[change.object % pool.length] as Raw;
  const kind = String(base.kind);
  if (change.target === "quantity") {
    const positions = quantityPositions(kind, base);
    const position = positions[change.position % Math.max(positions.length, 1)];
    if (position) {
      const path = position.path.split(".").map((key) => (/^\d+$/.test(key) ? Number(key) : key));
      return {
        raw: withAt(base, path, change.quantity) as Raw,
        what: `${kind} ${position.path} = ${JSON.stringify(change.quantity).slice(0, 40)}`,
      };
    }
  }
  // Not the root, kind nor metadata.name: those decide which object this is.
  const paths = allPaths(base).filter(
    (path) => path.length > 0 && !(path[0] === "kind") && formatPathKeys(path) !== ".metadata.name",
  );
  const path = paths[change.position % paths.length] as PathKey[];
  const value = change.target === "remove" ? undefined : change.value;
  const shown = value === undefined ? "removed" : `= ${JSON.stringify(value)?.slice(0, 40)}`;
  return {
    raw: withAt(base, path, value) as Raw,
    what: `${kind} ${formatPathKeys(path)} ${shown}`,
  };
}

function convertCase(id: string, raw: Raw, what: string): ReliabilityCase {
  return {
    id,
    input: what,
    payload: () => raw,
    run(): Outcome {
      const kind = String(raw.kind);
      const convert = converters[kind];
      if (!convert) return crash(`no converter for ${kind}`);
      let result: Converted;
      try {
        result = convert(raw);
      } catch (error) {
        // The converters read leniently: nothing they are given may make them throw.
        return crash(`${kind} converter threw ${errorMessage(error)}`, error);
      }
      const problems = convertedProblems(kind, raw, result.value, result.warnings, result.subject);
      return problems.length === 0 ? handled() : crash(problems.join("; "));
    },
  };
}

const handWrittenObjects = (): [string, Raw][] => {
  const node = (status: unknown): Raw => ({ kind: "Node", metadata: { name: "n" }, status });
  const pod = (containers: unknown, extra: Raw = {}): Raw => ({
    kind: "Pod",
    metadata: { name: "p", namespace: "ns" },
    spec: { containers, ...extra },
    status: { phase: "Running" },
  });
  return [
    ["node-empty", { kind: "Node" }],
    ["node-metadata-string", { kind: "Node", metadata: "n" }],
    ["node-capacity-list", node({ capacity: ["4", "8Gi"] })],
    ["node-capacity-negative", node({ capacity: { cpu: "-4", memory: "-8Gi" } })],
    ["node-capacity-negative-number", node({ capacity: { cpu: -4, memory: -1 } })],
    [
      "node-capacity-nan",
      node({ capacity: { cpu: Number.NaN, memory: Number.POSITIVE_INFINITY } }),
    ],
    ["node-capacity-fraction-number", node({ allocatable: { pods: 0.5, memory: 1.5 } })],
    ["node-capacity-huge", node({ capacity: { cpu: "1e400", memory: "99999999999Ei" } })],
    ["node-capacity-empty-string", node({ capacity: { cpu: "", memory: " " } })],
    [
      "node-conditions-garbage",
      node({ conditions: [null, 1, "Ready", { type: "Ready", status: true }] }),
    ],
    [
      "node-taints-garbage",
      {
        kind: "Node",
        metadata: { name: "n" },
        spec: { taints: [{ key: 1 }, null, { effect: "Explode" }] },
      },
    ],
    [
      "node-labels-garbage",
      { kind: "Node", metadata: { name: "n", labels: { a: 1, b: null, c: ["x"] } } },
    ],
    [
      "node-proto-labels",
      {
        kind: "Node",
        metadata: { name: "n", labels: JSON.parse('{"__proto__": "x", "constructor": "y"}') },
      },
    ],
    ["node-deep", { kind: "Node", metadata: { name: "n" }, status: nested(5000) as Raw }],
    ["pod-empty", { kind: "Pod" }],
    ["pod-containers-object", pod({ a: { name: "x" } })],
    ["pod-container-null", pod([null, 1, "x"])],
    ["pod-requests-string", pod([{ name: "a", resources: { requests: "1" } }])],
    [
      "pod-requests-negative",
      pod([{ name: "a", resources: { requests: { cpu: "-100m", memory: "-1Gi" } } }]),
    ],
    [
      "pod-requests-garbage",
      pod([{ name: "a", resources: { requests: { cpu: "lots", memory: "1 GB" } } }]),
    ],
    [
      "pod-requests-number",
      pod([{ name: "a", resources: { requests: { cpu: 0.25, memory: 1e21 } } }]),
    ],
    [
      "pod-requests-bool",
      pod([{ name: "a", resources: { requests: { cpu: true, memory: null } } }]),
    ],
    [
      "pod-init-garbage",
      pod([{ name: "a" }], {
        initContainers: [{ name: "i", resources: { requests: { cpu: "x" } } }],
      }),
    ],
    ["pod-overhead-garbage", pod([{ name: "a" }], { overhead: { cpu: "-1", memory: "x" } })],
    ["pod-overhead-string", pod([{ name: "a" }], { overhead: "250m" })],
    ["pod-priority-nan", pod([{ name: "a" }], { priority: Number.NaN })],
    ["pod-priority-huge", pod([{ name: "a" }], { priority: 1e300 })],
    ["pod-priority-fraction", pod([{ name: "a" }], { priority: 1.5 })],
    [
      "pod-volumes-garbage",
      pod([{ name: "a" }], {
        volumes: [null, { name: 1, emptyDir: null }, { persistentVolumeClaim: "x" }],
      }),
    ],
    [
      "pod-owner-garbage",
      {
        kind: "Pod",
        metadata: { name: "p", namespace: "ns", ownerReferences: [null, { kind: 1 }, "x"] },
      },
    ],
    [
      "pod-affinity-garbage",
      pod([{ name: "a" }], {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [null, { matchExpressions: "x" }],
            },
          },
        },
      }),
    ],
    [
      "pod-many-containers",
      pod(
        Array.from({ length: 5000 }, (_, i) => ({
          name: `c${i}`,
          resources: { requests: { cpu: "1m" } },
        })),
      ),
    ],
    [
      "pdb-negative",
      {
        kind: "PodDisruptionBudget",
        metadata: { name: "b", namespace: "ns" },
        status: { disruptionsAllowed: -3 },
      },
    ],
    [
      "pdb-fraction",
      {
        kind: "PodDisruptionBudget",
        metadata: { name: "b", namespace: "ns" },
        status: { disruptionsAllowed: 1.5 },
      },
    ],
    [
      "pdb-string",
      {
        kind: "PodDisruptionBudget",
        metadata: { name: "b", namespace: "ns" },
        status: { disruptionsAllowed: "2" },
      },
    ],
    [
      "pdb-huge",
      {
        kind: "PodDisruptionBudget",
        metadata: { name: "b", namespace: "ns" },
        status: { disruptionsAllowed: 1e300 },
      },
    ],
    [
      "pdb-selector-garbage",
      {
        kind: "PodDisruptionBudget",
        metadata: { name: "b", namespace: "ns" },
        spec: { selector: "app=x" },
      },
    ],
    [
      "hpa-negative",
      {
        kind: "HorizontalPodAutoscaler",
        metadata: { name: "h", namespace: "ns" },
        spec: { minReplicas: -1, maxReplicas: -5 },
        status: { currentReplicas: -2 },
      },
    ],
    [
      "hpa-fraction",
      {
        kind: "HorizontalPodAutoscaler",
        metadata: { name: "h", namespace: "ns" },
        spec: { minReplicas: 0.5, maxReplicas: 2.5 },
      },
    ],
    [
      "hpa-metrics-garbage",
      {
        kind: "HorizontalPodAutoscaler",
        metadata: { name: "h", namespace: "ns" },
        spec: { metrics: [null, { type: "Resource", resource: "cpu" }], maxReplicas: 3 },
      },
    ],
    [
      "vpa-recommendation-negative",
      {
        kind: "VerticalPodAutoscaler",
        metadata: { name: "v", namespace: "ns" },
        status: {
          recommendation: {
            containerRecommendations: [
              { containerName: "a", target: { cpu: "-1", memory: "-5Mi" } },
            ],
          },
        },
      },
    ],
    [
      "vpa-recommendation-garbage",
      {
        kind: "VerticalPodAutoscaler",
        metadata: { name: "v", namespace: "ns" },
        status: {
          recommendation: {
            containerRecommendations: [
              { containerName: "a", target: { cpu: "NaN", memory: {} }, lowerBound: "x" },
            ],
          },
        },
      },
    ],
    [
      "vpa-recommendation-number",
      {
        kind: "VerticalPodAutoscaler",
        metadata: { name: "v", namespace: "ns" },
        status: {
          recommendation: {
            containerRecommendations: [
              { containerName: "a", target: { cpu: 0.1, memory: 262144000 } },
            ],
          },
        },
      },
    ],
    [
      "vpa-policy-garbage",
      {
        kind: "VerticalPodAutoscaler",
        metadata: { name: "v", namespace: "ns" },
        spec: {
          resourcePolicy: {
            containerPolicies: [
              { containerName: 5, minAllowed: { cpu: "-1" }, maxAllowed: { memory: "1e999" } },
            ],
          },
        },
      },
    ],
    [
      "node-metrics-negative",
      {
        kind: "NodeMetrics",
        metadata: { name: "n" },
        timestamp: freshTimestamp,
        window: "20s",
        usage: { cpu: "-5m", memory: "-1Ki" },
      },
    ],
    [
      "node-metrics-garbage",
      {
        kind: "NodeMetrics",
        metadata: { name: "n" },
        timestamp: freshTimestamp,
        window: "20s",
        usage: { cpu: "busy", memory: 17 },
      },
    ],
    [
      "node-metrics-window-garbage",
      {
        kind: "NodeMetrics",
        metadata: { name: "n" },
        timestamp: freshTimestamp,
        window: "-5s",
        usage: { cpu: "5m", memory: "1Ki" },
      },
    ],
    [
      "node-metrics-window-huge",
      {
        kind: "NodeMetrics",
        metadata: { name: "n" },
        timestamp: freshTimestamp,
        window: "99999999999999999999h",
        usage: { cpu: "5m" },
      },
    ],
    [
      "node-metrics-timestamp-garbage",
      {
        kind: "NodeMetrics",
        metadata: { name: "n" },
        timestamp: "yesterday",
        usage: { cpu: "5m" },
      },
    ],
    [
      "node-metrics-timestamp-future",
      {
        kind: "NodeMetrics",
        metadata: { name: "n" },
        timestamp: "2999-01-01T00:00:00Z",
        usage: { cpu: "5m" },
      },
    ],
    [
      "node-metrics-timestamp-number",
      { kind: "NodeMetrics", metadata: { name: "n" }, timestamp: 1764253781, usage: { cpu: "5m" } },
    ],
    [
      "pod-metrics-garbage",
      {
        kind: "PodMetrics",
        metadata: { name: "p", namespace: "ns" },
        timestamp: freshTimestamp,
        window: "15s",
        containers: [
          { name: "a", usage: { cpu: "NaN", memory: "-1" } },
          { name: "b", usage: { cpu: "1m", memory: "1Mi" } },
        ],
      },
    ],
    [
      "pod-metrics-duplicate-container",
      {
        kind: "PodMetrics",
        metadata: { name: "p", namespace: "ns" },
        timestamp: freshTimestamp,
        window: "15s",
        containers: [
          { name: "a", usage: { cpu: "1m", memory: "1Mi" } },
          { name: "a", usage: { cpu: "x", memory: "1Mi" } },
        ],
      },
    ],
    [
      "pod-metrics-containers-garbage",
      {
        kind: "PodMetrics",
        metadata: { name: "p", namespace: "ns" },
        timestamp: freshTimestamp,
        containers: [null, "a", { usage: "x" }],
      },
    ],
  ];
};

export const kubeObjectsFamily: InputFamily = {
  name: "kube-objects",
  description:
    "Kubernetes objects (real ones changed, and hand-written) given to the converters: nodes, pods, PDBs, VPAs, HPAs, metrics-server samples",
  async open(options): Promise<FamilySession> {
    const objects = baseObjects();
    const changes = sample(
      objectChange,
      options.generated,
      familySeed(options.seed, "kube-objects"),
    );
    const cases = [
      ...handWrittenObjects().map(([name, raw]) => convertCase(`kube-objects/${name}`, raw, name)),
      ...changes.map((change, index) => {
        const { raw, what } = applyChange(objects, change);
        return convertCase(`kube-objects/gen-${index}`, raw, what);
      }),
    ];
    return { cases, close: async () => {} };
  },
};

/** Where each kind is served by the fake kube-apiserver. */
const resourceOf: Record<string, FakeResource> = {
  Node: "nodes",
  Pod: "pods",
  PodDisruptionBudget: "poddisruptionbudgets",
  VerticalPodAutoscaler: "verticalpodautoscalers",
  HorizontalPodAutoscaler: "horizontalpodautoscalers",
  NodeMetrics: "nodemetrics",
  PodMetrics: "podmetrics",
};

const servedKinds = new Set([
  ...Object.keys(resourceOf),
  "PersistentVolume",
  "PersistentVolumeClaim",
]);

/** What the fake serves in one case, on top of the example cluster. */
interface Served {
  /** Objects stored as they are (they need a string metadata.name). */
  objects?: Raw[];
  /** Items served as raw JSON text, in the list of `resource`. */
  serialized?: {
    resource: FakeResource;
    items: { name: string; namespace?: string; json: string }[];
  };
  /** A list answered with this body instead (HTTP 200). */
  body?: { path: string; text: string };
}

interface ApiSession {
  fake: FakeKubeApiserver;
  kubeconfig: string;
  base: Raw[];
}

async function readWith(session: ApiSession, served: Served): Promise<Outcome> {
  const { fake } = session;
  fake.clear();
  fake.clearFaults();
  fake.add(...session.base);
  for (const object of served.objects ?? [])
    fake.put(resourceOf[String(object.kind)] as FakeResource, object);
  if (served.serialized) fake.putSerialized(served.serialized.resource, served.serialized.items);
  if (served.body) {
    fake.injectFault({
      path: served.body.path,
      status: 200,
      body: served.body.text,
      times: Number.POSITIVE_INFINITY,
    });
  }
  let snapshot: Awaited<ReturnType<typeof readSnapshot>>;
  try {
    snapshot = await readSnapshot({
      kubeconfig: session.kubeconfig,
      env: {},
      now: () => now,
      retries: 0,
      retryDelayMs: 0,
      limitYoungGeneration: false,
    });
  } catch (error) {
    if (error instanceof ClusterReadError) {
      return /cannot list (nodes|pods)/.test(error.message)
        ? { kind: "clear-error", detail: error.message }
        : crash(`a ClusterReadError that does not name the list: ${error.message}`, error);
    }
    return judgeError(error, undefined);
  }
  const problems = [
    ...invariantViolations(snapshot, "snapshot"),
    ...servedProblems(snapshot, served),
  ];
  try {
    loadSnapshot(snapshotToJson(snapshot), "snapshot.json");
  } catch (error) {
    problems.push(`the snapshot it read cannot be loaded back: ${errorMessage(error)}`);
  }
  return problems.length === 0 ? handled() : crash(problems.join("; "));
}

/** Checks the served objects' conversions inside the snapshot. */
function servedProblems(
  snapshot: Awaited<ReturnType<typeof readSnapshot>>,
  served: Served,
): string[] {
  const problems: string[] = [];
  for (const raw of served.objects ?? []) {
    const kind = String(raw.kind);
    const metadata = raw.metadata as Raw;
    const name = metadata.name;
    const namespace = metadata.namespace ?? "default";
    let converted: unknown;
    let subject: string;
    if (kind === "Node") {
      converted = snapshot.nodes.find((node) => node.name === name);
      subject = `node/${name}`;
    } else if (kind === "Pod") {
      converted = snapshot.pods.find((pod) => pod.name === name && pod.namespace === namespace);
      subject = `pod/${namespace}/${name}`;
    } else if (kind === "NodeMetrics") {
      converted = snapshot.nodes.find((node) => node.name === name)?.usage;
      subject = `node/${name}`;
    } else continue;
    if (converted === undefined) continue;
    problems.push(...convertedProblems(kind, raw, converted, snapshot.warnings, subject));
  }
  return problems;
}

function apiCase(session: ApiSession, id: string, served: Served, what: string): ReliabilityCase {
  return {
    id,
    input: what,
    payload: () => served,
    run: () => readWith(session, served),
  };
}

const nodeJson = (capacity: string) =>
  `{"kind":"Node","apiVersion":"v1","metadata":{"name":"raw-node","creationTimestamp":"2026-11-01T00:00:00Z"},"status":{"capacity":${capacity},"allocatable":${capacity},"conditions":[{"type":"Ready","status":"True"}]}}`;

const handWrittenServed = (): [string, Served][] => [
  [
    "number-overflow-json",
    {
      serialized: {
        resource: "nodes",
        items: [{ name: "raw-node", json: nodeJson('{"cpu":1e999,"memory":-1e999}') }],
      },
    },
  ],
  [
    "number-as-quantity-json",
    {
      serialized: {
        resource: "nodes",
        items: [{ name: "raw-node", json: nodeJson('{"cpu":4,"memory":17179869184}') }],
      },
    },
  ],
  [
    "duplicate-keys-json",
    {
      serialized: {
        resource: "nodes",
        items: [{ name: "raw-node", json: nodeJson('{"cpu":"4","cpu":"-4"}') }],
      },
    },
  ],
  [
    "item-not-object",
    {
      serialized: {
        resource: "pods",
        items: [
          { name: "x", json: '"just a string"' },
          { name: "y", json: "null" },
          { name: "z", json: "[1,2]" },
        ],
      },
    },
  ],
  [
    "item-invalid-json",
    { serialized: { resource: "pods", items: [{ name: "x", json: '{"metadata": {"name": "x"' }] } },
  ],
  [
    "item-deep",
    {
      serialized: {
        resource: "pods",
        items: [
          {
            name: "x",
            json: `{"metadata":{"name":"x","namespace":"d"},"spec":${"[".repeat(20000)}${"]".repeat(20000)}}`,
          },
        ],
      },
    },
  ],
  [
    "item-huge-string",
    {
      serialized: {
        resource: "nodes",
        items: [{ name: "raw-node", json: `{"metadata":{"name":"${"n".repeat(1_000_000)}"}}` }],
      },
    },
  ],
  [
    "item-lone-surrogate",
    {
      serialized: {
        resource: "nodes",
        items: [
          {
            name: "raw-node",
            json: '{"metadata":{"name":"\\ud800"},"status":{"capacity":{"cpu":"\\ud800"}}}',
          },
        ],
      },
    },
  ],
  [
    "nodes-body-html",
    { body: { path: "/api/v1/nodes", text: "<html><body>502 Bad Gateway</body></html>" } },
  ],
  ["nodes-body-empty", { body: { path: "/api/v1/nodes", text: "" } }],
  [
    "nodes-body-items-not-list",
    { body: { path: "/api/v1/nodes", text: '{"kind":"NodeList","items":{"a":1}}' } },
  ],
  [
    "nodes-body-no-items",
    { body: { path: "/api/v1/nodes", text: '{"kind":"NodeList","metadata":{}}' } },
  ],
  [
    "nodes-body-truncated",
    {
      body: {
        path: "/api/v1/nodes",
        text: '{"kind":"NodeList","items":[{"metadata":{"name":"a"}},',
      },
    },
  ],
  [
    "nodes-body-continue-garbage",
    {
      body: {
        path: "/api/v1/nodes",
        text: '{"kind":"NodeList","metadata":{"continue":5},"items":[]}',
      },
    },
  ],
  [
    "pods-body-status-object",
    { body: { path: "/api/v1/pods", text: '{"kind":"Status","status":"Failure","code":200}' } },
  ],
  ["pdbs-body-garbage", { body: { path: "/apis/policy/v1/poddisruptionbudgets", text: "null" } }],
  [
    "vpas-body-garbage",
    { body: { path: "/apis/autoscaling.k8s.io/v1/verticalpodautoscalers", text: "[]" } },
  ],
  [
    "metrics-body-garbage",
    {
      body: {
        path: "/apis/metrics.k8s.io/v1beta1/pods",
        text: '{"items":[{"metadata":{"name":1}}, 5, null]}',
      },
    },
  ],
  [
    "pdb-fraction",
    {
      objects: [
        {
          kind: "PodDisruptionBudget",
          metadata: { name: "plex", namespace: "media" },
          spec: { minAvailable: 1 },
          status: { disruptionsAllowed: 1.5 },
        },
      ],
    },
  ],
  [
    "metrics-node-garbage-usage",
    {
      objects: [
        {
          kind: "NodeMetrics",
          metadata: { name: "homelab-worker-1" },
          timestamp: freshTimestamp,
          window: "20s",
          usage: { cpu: "-1", memory: "NaN" },
        },
      ],
    },
  ],
];

export const kubeApiFamily: InputFamily = {
  name: "kube-api",
  description:
    "the example cluster served by the fake kube-apiserver with damaged objects and list bodies, read by readSnapshot",
  async open(options): Promise<FamilySession> {
    const cluster = exampleCluster();
    const fake = await FakeKubeApiserver.start();
    const dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-reliability-"));
    const kubeconfig = await fake.writeKubeconfig(join(dir, "kubeconfig"));
    const session: ApiSession = { fake, kubeconfig, base: cluster };
    const changes = sample(objectChange, options.generated, familySeed(options.seed, "kube-api"));
    const cases = [
      ...handWrittenServed().map(([name, served]) =>
        apiCase(session, `kube-api/${name}`, served, name),
      ),
      ...changes.map((change, index) => {
        const { raw, what } = applyChange(cluster, change, (o) =>
          ["Node", "Pod", "NodeMetrics"].includes(String(o.kind)),
        );
        const metadata = raw.metadata as Raw | undefined;
        const served: Served =
          typeof metadata?.name === "string" && metadata.name !== ""
            ? { objects: [raw] }
            : {
                serialized: {
                  resource: resourceOf[String(raw.kind)] as FakeResource,
                  items: [{ name: "changed", json: JSON.stringify(raw) ?? "null" }],
                },
              };
        return apiCase(session, `kube-api/gen-${index}`, served, what);
      }),
    ];
    return {
      cases,
      async close() {
        await fake.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

/** The example cluster's objects, as the fake serves them. */
function exampleCluster(): Raw[] {
  const example = new URL("../examples/talos-proxmox/cluster/", import.meta.url);
  return readdirSync(example)
    .filter((name) => name.endsWith(".yaml"))
    .sort()
    .flatMap((name) => loadObjects(new URL(name, example)))
    .filter((object) => servedKinds.has(String(object.kind)));
}
