import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { InputError } from "../errors.ts";
import type { Snapshot } from "../planning/snapshot.ts";
import { time } from "./raw.ts";
import { formatFieldPath, unknownFieldWarnings } from "./unknown-fields.ts";

// Lenient where it costs nothing: unknown keys are ignored (a newer writer may add fields), each
// place with a warning (a misspelt field would otherwise go unread without a word), but every
// field the planner reads must have the right type, so a damaged file is refused instead of
// being planned on.

/** What a refused value was, shortened: an amount written as cores, a version of another format. */
function received(issue: { input?: unknown }): string {
  const text = JSON.stringify(issue.input) ?? String(issue.input);
  return `received ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}
/** A signed whole number (pod priority may be negative). */
const integer = z.number().int({ error: (issue) => `expected a whole number, ${received(issue)}` });
/**
 * Amounts and counts: whole numbers (millicores, bytes), never below zero. A cpu written in cores
 * (`0.5`) is refused as what it is, not as an "int".
 */
const count = integer.nonnegative({
  error: (issue) => `expected a whole number not below 0, ${received(issue)}`,
});
/**
 * An ISO 8601 time with its offset, as the API writes them; empty where the object had none. A
 * time without an offset would be read in the machine's own time zone.
 */
const timestamp = z.string().refine((text) => text === "" || time(text) !== undefined, {
  error: "expected an ISO 8601 time with its offset, such as 2026-11-20T08:00:00Z",
});
/** The time a snapshot was taken: never empty, everything is judged against it. */
const takenAtTime = z.string().refine((text) => time(text) !== undefined, {
  error: "expected an ISO 8601 time with its offset, such as 2026-11-20T08:00:00Z",
});

const Resources = z.object({
  cpu: count.optional(),
  memory: count.optional(),
  pods: count.optional(),
  ephemeralStorage: count.optional(),
  extended: z.record(z.string(), count).optional(),
});

const Usage = z.object({
  cpu: count.optional(),
  memory: count.optional(),
  windowSeconds: z.number().nonnegative().optional(),
  gapSeconds: z.number().nonnegative().optional(),
  timestamp: timestamp.optional(),
  source: z.enum(["metrics-server", "prometheus"]),
  peak: z
    .object({
      cpu: count.optional(),
      memory: count.optional(),
      percentile: z.number().gt(0).max(100),
    })
    .optional(),
  low: z.object({ cpu: count.optional(), memory: count.optional() }).optional(),
  points: z
    .array(z.object({ at: timestamp, cpu: count.optional(), memory: count.optional() }))
    .optional(),
});

const TaintEffect = z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]);

const NodeInfo = z.object({
  name: z.string(),
  pool: z.string(),
  labels: z.record(z.string(), z.string()),
  taints: z.array(z.object({ key: z.string(), value: z.string().optional(), effect: TaintEffect })),
  unschedulable: z.boolean(),
  ready: z.boolean(),
  readySince: timestamp.optional(),
  createdAt: timestamp,
  controlPlane: z.boolean(),
  scaleDownDisabled: z.string().optional(),
  capacity: Resources,
  allocatable: Resources,
  usage: Usage.optional(),
});

const NodeSelectorRequirement = z.object({
  key: z.string(),
  operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]),
  values: z.array(z.string()).optional(),
});

const ContainerInfo = z.object({
  name: z.string(),
  requests: Resources,
  limits: Resources,
  sidecar: z.boolean().optional(),
  usage: Usage.optional(),
});

const LabelSelector = z.object({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      z.object({
        key: z.string(),
        operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]),
        values: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});

const PodAffinityTerm = z.object({
  selector: LabelSelector.optional(),
  namespaces: z.array(z.string()).optional(),
  allNamespaces: z.boolean().optional(),
  namespaceSelector: LabelSelector.optional(),
  topologyKey: z.string(),
});

const TopologySpreadConstraint = z.object({
  maxSkew: z.number().int().min(1),
  topologyKey: z.string(),
  selector: LabelSelector.optional(),
  minDomains: z.number().int().min(1).optional(),
  honorNodeAffinity: z.boolean(),
  honorTaints: z.boolean(),
});

const HostPort = z.object({
  port: z.number().int().min(1).max(65_535),
  protocol: z.enum(["TCP", "UDP", "SCTP"]),
  hostIP: z.string().optional(),
});

const NodeSelectorTerms = z.array(
  z.object({
    matchExpressions: z.array(NodeSelectorRequirement).optional(),
    matchFields: z.array(NodeSelectorRequirement).optional(),
  }),
);

const Tolerations = z.array(
  z.object({
    key: z.string().optional(),
    operator: z.enum(["Exists", "Equal"]).optional(),
    value: z.string().optional(),
    effect: TaintEffect.optional(),
  }),
);

const DaemonSetInfo = z.object({
  namespace: z.string(),
  name: z.string(),
  requests: Resources,
  nodeSelector: z.record(z.string(), z.string()),
  requiredNodeAffinity: NodeSelectorTerms.optional(),
  tolerations: Tolerations,
  hostPorts: z.array(HostPort).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  podAntiAffinity: z.array(PodAffinityTerm).optional(),
});

const VolumeClaimPlacement = z.object({
  claim: z.string(),
  state: z.enum(["bound", "provisioned", "waiting"]),
  nodeAffinity: NodeSelectorTerms.optional(),
  why: z.string().optional(),
  unmade: z.literal(true).optional(),
  csi: z.object({ driver: z.string(), volume: z.string() }).optional(),
});

const PodInfo = z.object({
  namespace: z.string(),
  name: z.string(),
  phase: z.enum(["Pending", "Running", "Succeeded", "Failed", "Unknown"]),
  ready: z.boolean().optional(),
  nodeName: z.string().optional(),
  labels: z.record(z.string(), z.string()),
  owner: z.object({ kind: z.string(), name: z.string(), group: z.string().optional() }).optional(),
  requests: Resources,
  specRequests: Resources.optional(),
  containers: z.array(ContainerInfo),
  initContainers: z.array(ContainerInfo),
  overhead: Resources.optional(),
  nodeSelector: z.record(z.string(), z.string()),
  requiredNodeAffinity: NodeSelectorTerms.optional(),
  podAffinity: z.array(PodAffinityTerm).optional(),
  podAntiAffinity: z.array(PodAffinityTerm).optional(),
  topologySpread: z.array(TopologySpreadConstraint).optional(),
  hostPorts: z.array(HostPort).optional(),
  tolerations: Tolerations,
  priority: integer.optional(),
  unschedulable: z.object({ message: z.string(), since: timestamp.optional() }).optional(),
  notScheduled: z
    .object({ reason: z.string(), message: z.string(), since: timestamp.optional() })
    .optional(),
  podScheduled: z.enum(["True", "Unknown"]).optional(),
  schedulingGates: z.array(z.string()).optional(),
  schedulerName: z.string().optional(),
  nominatedNode: z.string().optional(),
  deletingSince: timestamp.optional(),
  blockingVolumes: z.array(
    z.object({
      name: z.string(),
      type: z.enum(["emptyDir", "hostPath", "local"]),
      claim: z.string().optional(),
      ephemeral: z.literal(true).optional(),
    }),
  ),
  volumeClaims: z
    .array(VolumeClaimPlacement.extend({ remade: VolumeClaimPlacement.optional() }))
    .optional(),
  resourceClaims: z.array(z.string()).optional(),
  safeToEvict: z.boolean().optional(),
  doNotDisrupt: z.boolean(),
  doNotDisruptUntil: timestamp.optional(),
  daemonSet: z.boolean(),
  mirror: z.boolean(),
  oomKills: z.array(
    z.object({
      container: z.string(),
      at: timestamp.optional(),
      restarts: z.number().int().nonnegative().optional(),
    }),
  ),
  createdAt: timestamp,
  usage: Usage.optional(),
});

const WorkloadRef = z.object({
  kind: z.string(),
  name: z.string(),
  apiVersion: z.string().optional(),
});

const VpaInfo = z.object({
  namespace: z.string(),
  name: z.string(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  target: WorkloadRef,
  updateMode: z.string(),
  resourcePolicy: z.array(
    z.object({
      containerName: z.string(),
      mode: z.enum(["Auto", "Off"]).optional(),
      minAllowed: Resources.optional(),
      maxAllowed: Resources.optional(),
      controlledResources: z.array(z.string()).optional(),
      controlledValues: z.enum(["RequestsAndLimits", "RequestsOnly"]).optional(),
    }),
  ),
  recommendations: z.array(
    z.object({
      containerName: z.string(),
      target: Resources,
      lowerBound: Resources.optional(),
      upperBound: Resources.optional(),
      uncappedTarget: Resources.optional(),
    }),
  ),
  conditions: z.array(
    z.object({
      type: z.string(),
      status: z.enum(["True", "False", "Unknown"]),
      reason: z.string().optional(),
      message: z.string().optional(),
      lastTransitionTime: timestamp.optional(),
    }),
  ),
  createdAt: timestamp,
});

const Availability = z.enum(["available", "partial", "unavailable"]);

/** The saved snapshot file (`pr-autoscaler snapshot --out`), version 1. */
export const SnapshotSchema = z
  .object({
    version: z.literal(1, {
      error: (issue) =>
        `expected 1, the snapshot format this pr-autoscaler reads, ${received(issue)}`,
    }),
    takenAt: takenAtTime,
    source: z.object({
      kind: z.enum(["kubernetes", "file", "simulation"]),
      server: z.string().optional(),
      context: z.string().optional(),
      prometheus: z.string().optional(),
    }),
    complete: z.boolean(),
    warnings: z.array(
      z.object({
        code: z.string(),
        message: z.string(),
        subject: z.string().optional(),
        omitted: count.optional(),
      }),
    ),
    nodes: z.array(NodeInfo),
    pods: z.array(PodInfo),
    pdbs: z.array(
      z.object({
        namespace: z.string(),
        name: z.string(),
        selector: LabelSelector.optional(),
        disruptionsAllowed: count,
        unhealthyPodEvictionPolicy: z.enum(["IfHealthyBudget", "AlwaysAllow"]).optional(),
        currentHealthy: count.optional(),
        desiredHealthy: count.optional(),
        expectedPods: count.optional(),
      }),
    ),
    vpas: z.array(VpaInfo),
    hpas: z.array(
      z.object({
        namespace: z.string(),
        name: z.string(),
        target: WorkloadRef,
        resourceMetrics: z.array(z.string()),
        minReplicas: count.optional(),
        maxReplicas: count,
        currentReplicas: count.optional(),
      }),
    ),
    // Absent in snapshots saved before DaemonSets were read: they keep telling them by their pods.
    daemonSets: z.union([z.array(DaemonSetInfo), z.literal("unknown")]).optional(),
    // Absent in snapshots saved before namespaces were read: a namespaceSelector on other
    // labels than kubernetes.io/metadata.name is then unknown.
    namespaceLabels: z
      .union([z.record(z.string(), z.record(z.string(), z.string())), z.literal("unknown")])
      .optional(),
    // Absent in snapshots saved before CSINodes were read: their claims name no CSI driver, and
    // no volume limit is judged.
    csiVolumeLimits: z
      .union([z.record(z.string(), z.record(z.string(), count)), z.literal("unknown")])
      .optional(),
    metrics: z.object({
      nodes: Availability,
      pods: Availability,
      source: z.enum(["metrics-server", "prometheus", "none"]),
      windowSeconds: z.number().nonnegative().optional(),
      percentile: z.number().gt(0).max(100).optional(),
    }),
  })
  .superRefine((snapshot, context) => {
    // Objects are told apart by name: a second one of a name would be counted twice.
    const nodes = new Set<string>();
    snapshot.nodes.forEach((node, i) => {
      if (nodes.has(node.name))
        context.addIssue({
          code: "custom",
          message: `a second node named ${node.name}`,
          path: ["nodes", i, "name"],
        });
      nodes.add(node.name);
    });
    const pods = new Set<string>();
    snapshot.pods.forEach((pod, i) => {
      const key = `${pod.namespace}/${pod.name}`;
      if (pods.has(key))
        context.addIssue({
          code: "custom",
          message: `a second pod ${key}`,
          path: ["pods", i, "name"],
        });
      pods.add(key);
    });
  }) satisfies z.ZodType<Snapshot>;

/**
 * Parses and validates a saved snapshot.
 * @throws InputError naming the file, the line and the path of the first problem
 *   (`nodes[3].capacity.cpu: expected number, received string`).
 */
export function loadSnapshot(written: string, file: string): Snapshot {
  // A byte order mark, as some Windows editors write one, is no part of the JSON (RFC 8259).
  const text = written.startsWith("\uFEFF") ? written.slice(1) : written;
  // An empty file is most often a snapshot whose write failed (`snapshot > file` that exited 1).
  if (text.trim() === "")
    throw new InputError(
      "the file is empty, not a JSON snapshot: write one with `pr-autoscaler snapshot --out FILE`",
      { file },
    );
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    // The location gives the line and column; the parser's offset and its own "(line 9 column
    // 416)" would say it again, the offset in a form no editor goes to.
    const said = message.replace(/ (?:in JSON )?at position \d+(?: \(line \d+ column \d+\))?$/, "");
    throw new InputError(`not a JSON snapshot: ${said}`, {
      file,
      ...jsonErrorPosition(text, message),
    });
  }
  const result = SnapshotSchema.safeParse(data);
  if (result.success) {
    const ignored = unknownFieldWarnings(SnapshotSchema, data);
    if (ignored.length === 0) return result.data;
    return { ...result.data, warnings: [...result.data.warnings, ...ignored] };
  }
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  const path = formatFieldPath(issue.path);
  const others = result.error.issues.slice(1);
  const listed = others
    .slice(0, 5)
    .map(
      (other) => `${formatFieldPath(other.path)}: ${other.message.replace(/^Invalid input: /, "")}`,
    );
  const more =
    others.length === 0
      ? ""
      : ` (and ${others.length} more problem${others.length === 1 ? "" : "s"}: ${listed.join("; ")}${others.length > listed.length ? "; …" : ""})`;
  throw new InputError(
    `invalid snapshot: ${path || "(top level)"}: ${issue.message.replace(/^Invalid input: /, "")}${more}`,
    { file, ...locatePath(text, issue.path) },
  );
}

function jsonErrorPosition(text: string, message: string): { line?: number; column?: number } {
  const explicit = /line (\d+) column (\d+)/.exec(message);
  if (explicit) return { line: Number(explicit[1]), column: Number(explicit[2]) };
  const position = /position (\d+)/.exec(message);
  // A file cut short (a copy or a write that stopped) ends where the parser ran out of it.
  if (!position) return /end of JSON input/.test(message) ? lineAndColumn(text, text.length) : {};
  return lineAndColumn(text, Number(position[1]));
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (
    let index = text.indexOf("\n");
    index !== -1 && index < offset;
    index = text.indexOf("\n", index + 1)
  ) {
    line++;
    start = index + 1;
  }
  return { line, column: offset - start + 1 };
}

/** The line of the value at `path` (or of its nearest existing parent), for error messages. */
function locatePath(
  text: string,
  path: readonly PropertyKey[],
): { line?: number; column?: number } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  for (let length = path.length; length >= 0; length--) {
    const node = document.getIn(path.slice(0, length) as unknown[], true) as
      | { range?: [number, number, number] }
      | undefined;
    if (node?.range) {
      const { line, col } = lineCounter.linePos(node.range[0]);
      return { line, column: col };
    }
  }
  return {};
}

export { snapshotToJson, writeSnapshotJson } from "./snapshot-json.ts";
