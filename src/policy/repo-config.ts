import { z } from "zod";
import { formatFromName, TARGET_FORMAT_HINT, unknownFormatMessage } from "../editors/edit-file.ts";
import { formatPath, parsePath } from "../editors/path.ts";
import { counted } from "../util/plural.ts";
import { AutomergeConfig } from "./automerge-config.ts";
import {
  CpuQuantity,
  CronExpression,
  Duration,
  ExtendedResourceCount,
  ExtendedResourceName,
  LabelKey,
  LabelValue,
  MemoryQuantity,
  minuteDuration,
  Percent,
  RepoFilePath,
  TimeZone,
  ValuePath,
  zeroOrMinuteDuration,
} from "./config-values.ts";
import { hostCap } from "./host-cap.ts";
import { caseless } from "./number-pattern.ts";
import { RightsizingConfig } from "./rightsizing-config.ts";
import { conditional, hasAnyKey, hasKeys } from "./schema-rules.ts";

/** Where the infra repo keeps this app's configuration. */
export const REPO_CONFIG_PATH = ".github/pr-autoscaler.yml";

/** The config's name with the other YAML extension, which is not read. */
export const MISNAMED_CONFIG_PATH = ".github/pr-autoscaler.yaml";

/** What is said of a repo with no config that holds one under `MISNAMED_CONFIG_PATH`. */
export const MISNAMED_CONFIG = `${MISNAMED_CONFIG_PATH} is there, but only ${REPO_CONFIG_PATH} is read: rename it`;

const POOL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** What `/autoscaler pause all` and `resume all` take for every pool, in any case. */
const ALL_POOLS = /^[Aa][Ll][Ll]$/;
/**
 * A kind as Kubernetes takes a custom resource's (a DNS-1035 label in any case), alone or with an
 * API group after a dot (a DNS-1123 subdomain of at most 253: `Cluster.postgresql.cnpg.io`), or
 * `*`.
 */
const CONTROLLER_KIND =
  /^(?:\*|[A-Za-z](?:[-A-Za-z0-9]{0,61}[A-Za-z0-9])?(?:\.(?=.{1,253}$)[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)*)?)$/;

/**
 * Defaults of the pool keys that cross-checks compare. They are filled in after the checks, so a
 * check knows which values the operator wrote and puts its issue on one of those.
 */
export const POOL_DEFAULTS = {
  min: 1,
  scaleUp: { cpu: 80, memory: 85 },
  scaleDown: { cpu: 30, memory: 40, requests: 50, margin: 10 },
} as const;

/** For editors, as the loader checks it: In/NotIn need values, Exists/DoesNotExist take none. */
const VALUES_BY_OPERATOR = conditional(
  { required: ["operator"], properties: { operator: { enum: ["In", "NotIn"] } } },
  { required: ["values"], properties: { values: { type: "array", minItems: 1 } } },
  { properties: { values: { type: "array", maxItems: 0 } } },
);

export const LabelSelectorRequirementConfig = z
  .strictObject({
    key: LabelKey.meta({ description: "Node label key, e.g. node.kubernetes.io/pool." }),
    operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]).meta({
      description:
        "In/NotIn: the label's value is (not) one of values; Exists/DoesNotExist: the node has (not) the label.",
    }),
    values: z.array(LabelValue).optional().meta({
      description: "Label values: at least one for In and NotIn, none for Exists and DoesNotExist.",
    }),
  })
  .superRefine((requirement, ctx) => {
    const needsValues = requirement.operator === "In" || requirement.operator === "NotIn";
    const count = requirement.values?.length ?? 0;
    if (needsValues && count === 0)
      ctx.addIssue({
        code: "custom",
        path: ["values"],
        message: `operator ${requirement.operator} needs a non-empty values list`,
      });
    if (!needsValues && count > 0)
      ctx.addIssue({
        code: "custom",
        path: ["values"],
        message: `operator ${requirement.operator} takes no values`,
      });
  })
  .meta({ description: "A requirement on one node label.", ...VALUES_BY_OPERATOR });

export const NodeSelectorConfig = z
  .strictObject({
    matchLabels: z.record(LabelKey, LabelValue).optional().meta({
      description: "Labels a pool node carries, each with exactly this value.",
    }),
    matchExpressions: z.array(LabelSelectorRequirementConfig).optional().meta({
      description: "Requirements a pool node's labels meet, all of them.",
    }),
  })
  .meta({
    description:
      "Labels that recognise the pool's nodes (Kubernetes label selector). Default: every node that is not control plane.",
  });

/** File names whose format the name tells, as `formatFromName` reads them (any letter case). */
const NAMED_FORMAT = `\\.(?:${["yaml", "yml", "json"].map(caseless).join("|")})$`;
const TFVARS_NAME = `\\.${caseless("tfvars")}$`;
const WITHOUT_FORMAT = { not: hasKeys("format") };

/**
 * For editors, as the loader checks it: a file whose name does not tell its format needs
 * `format`, and a tfvars file (by format or by name) takes no `document`.
 */
const TARGET_FORMAT_RULES = {
  allOf: [
    conditional(WITHOUT_FORMAT, {
      properties: { file: { type: "string", pattern: `(?:${TFVARS_NAME})|(?:${NAMED_FORMAT})` } },
    }),
    conditional(
      {
        anyOf: [
          { required: ["format"], properties: { format: { const: "tfvars" } } },
          { ...WITHOUT_FORMAT, properties: { file: { type: "string", pattern: TFVARS_NAME } } },
        ],
      },
      { not: hasKeys("document") },
    ),
  ],
};

export const TargetConfig = z
  .strictObject({
    file: RepoFilePath.meta({
      description:
        "File in the infra repo holding the node count, e.g. terraform/terraform.tfvars.",
    }),
    path: ValuePath.meta({
      description:
        'PATH of the count inside the file, e.g. worker_count or nodes["workers"].count.',
    }),
    format: z.enum(["tfvars", "yaml"]).optional().meta({
      description:
        "How the file is read when its name does not tell (*.tfvars; *.yaml, *.yml and *.json are read as YAML).",
    }),
    document: z.number().int().min(0).optional().meta({
      description:
        "0-based document of a multi-document YAML file holding the count, when PATH could mean several.",
    }),
  })
  .superRefine((target, ctx) => {
    const format = target.format ?? formatFromName(target.file);
    if (format === undefined && !refused(ctx, ["file"]))
      ctx.addIssue({
        code: "custom",
        path: ["file"],
        message: unknownFormatMessage(target.file, TARGET_FORMAT_HINT),
      });
    if (target.document !== undefined && format === "tfvars")
      ctx.addIssue({
        code: "custom",
        path: ["document"],
        message: "document applies to YAML files only; a tfvars file holds one",
      });
  })
  .meta({
    description: "The value in the infra repo that sets this pool's node count.",
    ...TARGET_FORMAT_RULES,
  });

export const TaintConfig = z
  .strictObject({
    key: LabelKey.meta({ description: "Taint key, e.g. nvidia.com/gpu." }),
    value: LabelValue.optional().meta({ description: "Taint value; none: the key alone." }),
    effect: z
      .enum(["NoSchedule", "PreferNoSchedule", "NoExecute"])
      .meta({ description: "What the taint does to pods that do not tolerate it." }),
  })
  .meta({ description: "A taint, as on a Kubernetes node." });

export const NewNodeConfig = z
  .strictObject({
    from: z.enum(["most-common", "smallest"]).default("most-common").meta({
      description:
        "How the new node's allocatable is learned from the pool's nodes when cpu/memory/pods are not set.",
    }),
    cpu: CpuQuantity.optional().meta({ description: "Allocatable CPU of a new node, e.g. 3800m." }),
    memory: MemoryQuantity.optional().meta({
      description: "Allocatable memory of a new node, e.g. 15Gi.",
    }),
    pods: z
      .number()
      .int()
      .positive()
      .optional()
      .meta({ description: "Pod capacity of a new node." }),
    extendedResources: z.record(ExtendedResourceName, ExtendedResourceCount).default({}).meta({
      description:
        "Extended resources a new node offers, e.g. nvidia.com/gpu: 1; each one set wins over the learned amount.",
    }),
    labels: z
      .record(LabelKey, LabelValue)
      .default({})
      .meta({ description: "Labels a new node will carry, besides those all pool nodes share." }),
    taints: z
      .array(TaintConfig)
      .default([])
      .meta({ description: "Taints a new node will carry, besides those all pool nodes share." }),
  })
  .meta({ description: "The shape of a node added to the pool." });

/** For editors, as the loader checks it: some limit is set; a host size comes with a node size. */
const HOST_RULES = {
  ...hasAnyKey(["maxNodes", "cpu", "memory"]),
  dependencies: Object.fromEntries(
    ["cpu", "memory"].map((kind) => [
      kind,
      { required: ["node"], properties: { node: { type: "object", ...hasKeys(kind) } } },
    ]),
  ),
};

export const HostConfig = z
  .strictObject({
    maxNodes: z
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ description: "At most this many pool nodes fit on the host." }),
    cpu: CpuQuantity.optional().meta({ description: "Host CPU, e.g. 16." }),
    memory: MemoryQuantity.optional().meta({ description: "Host memory, e.g. 64Gi." }),
    reserved: z
      .strictObject({
        cpu: CpuQuantity.optional().meta({
          description: "Host CPU kept for the hypervisor and other machines, e.g. 2.",
        }),
        memory: MemoryQuantity.optional().meta({
          description: "Host memory kept for the hypervisor and other machines, e.g. 8Gi.",
        }),
      })
      .optional()
      .meta({ description: "Host resources kept for the hypervisor and other machines." }),
    node: z
      .strictObject({
        cpu: CpuQuantity.optional().meta({
          description: "CPU of one pool node's machine (VM cores), e.g. 4; needed with host cpu.",
        }),
        memory: MemoryQuantity.optional().meta({
          description:
            "Memory of one pool node's machine (VM memory), e.g. 16Gi; needed with host memory.",
        }),
      })
      .optional()
      .meta({ description: "Machine size of one pool node (VM cores and memory)." }),
  })
  .superRefine((host, ctx) => {
    if (host.maxNodes === undefined && host.cpu === undefined && host.memory === undefined)
      ctx.addIssue({
        code: "custom",
        message: "set maxNodes, or the host's cpu/memory together with node.cpu/node.memory",
      });
    for (const kind of ["cpu", "memory"] as const) {
      if (host[kind] !== undefined && host.node?.[kind] === undefined)
        ctx.addIssue({
          code: "custom",
          path: [kind],
          message: `host ${kind} needs node.${kind}: the ${kind} of one pool node's machine`,
        });
      const reserved = host.reserved?.[kind];
      const total = host[kind];
      if (reserved !== undefined && total !== undefined && reserved >= total)
        ctx.addIssue({
          code: "custom",
          path: ["reserved", kind],
          message: `reserved ${kind} must be less than the host's ${kind}`,
        });
    }
  })
  .meta({
    description: "Capacity of the host(s) the pool's machines run on; caps the node count.",
    ...HOST_RULES,
  });

export const RemovalConfig = z
  .strictObject({
    nameTemplate: z
      .string()
      .regex(/\{index\}/, { error: "must contain {index}, e.g. talos-worker-{index}" })
      .optional()
      .meta({
        description:
          "Node name for a count index, e.g. talos-worker-{index}. Default: the node whose name ends in the highest number is the one a decrease removes, named only while the pool has as many nodes as the count and the names end in as many numbers in a row as there are nodes (talos-worker-1 … talos-worker-4), as names made from the count index do; otherwise no node is named.",
      }),
    indexBase: z
      .number()
      .int()
      .min(0)
      .default(0)
      .meta({ description: "Number in the name of the node at count index 0." }),
  })
  .meta({ description: "Which node a decrease of the count removes." });

export const ScaleUpConfig = z
  .strictObject({
    pendingPods: z.boolean().default(true).meta({
      description: "Add nodes for pods that are unschedulable and would fit on a new node.",
    }),
    pendingFor: Duration.prefault("0s").meta({
      description:
        "How long a pod must have been unschedulable before it adds nodes; a pod that finds room on its own within it opens no pull request. No node is removed for low usage while such a pod waits.",
    }),
    cpu: Percent.optional().meta({
      default: POOL_DEFAULTS.scaleUp.cpu,
      description: "CPU usage % of allocatable that adds a node; above scaleDown.cpu.",
    }),
    memory: Percent.optional().meta({
      default: POOL_DEFAULTS.scaleUp.memory,
      description: "Memory usage % of allocatable that adds a node; above scaleDown.memory.",
    }),
    requests: Percent.optional().meta({
      description:
        "Requests % of allocatable that adds a node (off unless set); above scaleDown.requests.",
    }),
    window: Duration.prefault("5m").meta({
      description: "How long usage must stay above the threshold.",
    }),
  })
  .meta({ description: "When to add nodes." });

export const ScaleDownConfig = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .meta({ description: "false: never remove nodes, not even above max or the host cap." }),
    cpu: Percent.optional().meta({
      default: POOL_DEFAULTS.scaleDown.cpu,
      description: "CPU usage % below which the pool is unneeded; below scaleUp.cpu.",
    }),
    memory: Percent.optional().meta({
      default: POOL_DEFAULTS.scaleDown.memory,
      description: "Memory usage % below which the pool is unneeded; below scaleUp.memory.",
    }),
    requests: Percent.optional().meta({
      default: POOL_DEFAULTS.scaleDown.requests,
      description:
        "Requests % (cpu and memory) below which the pool is unneeded; below scaleUp.requests when that is set.",
    }),
    unneededTime: zeroOrMinuteDuration(
      "a shorter window holds one sample at most; 0 decides on the current usage",
    )
      .prefault("10m")
      .meta({
        description:
          "How long usage must stay below the thresholds; 0 or at least 1m. 0 takes the current usage as enough, as scaleUp.window 0 does.",
      }),
    delayAfterScaleUp: Duration.prefault("10m").meta({
      description: "No scale-down until this long after the nodes of the last scale-up are Ready.",
    }),
    unreadyTime: Duration.prefault("20m").meta({
      description:
        "While a pool node is not Ready, no Ready node is removed; the highest-numbered node not Ready this long is removed whatever the usage.",
    }),
    margin: z.number().min(0).lt(100).optional().meta({
      default: POOL_DEFAULTS.scaleDown.margin,
      description:
        "Percentage points the utilisation projected after removal must stay below the scale-up thresholds; less than each of them.",
    }),
    replicatedKinds: z
      .array(
        z.string({ error: "expected a controller kind such as Cluster" }).regex(CONTROLLER_KIND, {
          error:
            'expected a controller kind such as Cluster (letters, digits and "-", at most 63, as Kubernetes names kinds), the kind of one API group such as Cluster.postgresql.cnpg.io (the group in lowercase letters, digits, "-" and ".", as Kubernetes names groups), or "*" for every kind',
        }),
      )
      .default([])
      .meta({
        description:
          "Kinds of custom controllers (the pod's controller ownerReference kind, e.g. Cluster for CloudNativePG) whose pods are recreated elsewhere when evicted, as a ReplicaSet's are: Kind for that kind of any API group, Kind.group for one group's (Cluster.postgresql.cnpg.io), \"*\" for every kind. Pods of other custom controllers keep their node.",
      }),
    deleteEmptyDirData: z.boolean().default(false).meta({
      description:
        "true: a pod's emptyDir on disk no longer keeps its node, and the apply workflow's drain deletes that scratch data on the pool's nodes (kubectl drain's --delete-emptydir-data; cluster-autoscaler's --skip-nodes-with-local-storage=false). hostPath and node-local PersistentVolumes, whose data outlives the pod, still keep it. false (the default): a pod with one keeps its node unless it is annotated safe-to-evict or safe-to-evict-local-volumes.",
    }),
    skipNodesWithSystemPods: z.boolean().default(false).meta({
      description:
        'true: a pod in kube-system that is neither a DaemonSet nor a mirror pod nor expendable (expendablePriority), and that no PodDisruptionBudget selects, keeps its node, as cluster-autoscaler\'s --skip-nodes-with-system-pods (true there); safe-to-evict: "true" on the pod lets it go. false (the default): kube-system pods move like any other, so that a small cluster running CoreDNS or metrics-server on its workers can still lose one.',
    }),
    maxEmptyBulk: z
      .number()
      .int({ error: "expected a whole number of nodes such as 10" })
      .min(1, { error: "must be at least 1 (1 removes one node at a time)" })
      .default(1)
      .meta({
        description:
          "Most empty nodes (no pods but DaemonSet and mirror pods) one decrease removes at once; a node with pods goes alone, unless the count is above max or the host cap: it then comes down to it in one decrease. 1, the default, removes one node per decrease; more lets an idle pool's empty nodes go together (cluster-autoscaler's max-empty-bulk-delete is 10).",
      }),
  })
  .meta({
    description:
      "When to remove nodes: one at a time, several empty ones at once (maxEmptyBulk), or down to max or the host cap in one decrease when the count is above it.",
  });

export const ScheduleConfig = z
  .strictObject({
    name: z
      .string()
      .regex(/\S/, { error: "must not be empty: leave name out to call the window schedules[N]" })
      .optional()
      .meta({
        description:
          "Names the window in explanations; each window of a pool has its own. Default: schedules[N].",
      }),
    cron: CronExpression.meta({
      description:
        "When the window starts: 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, e.g. 0 18 * * 5 for Fridays 18:00.",
    }),
    timezone: TimeZone.default("UTC").meta({
      description:
        "IANA time zone of the cron fields, e.g. Europe/Berlin (the app checks the name).",
    }),
    duration: minuteDuration(
      "the app reconciles once a minute by default, so a shorter window could open and close between two reconciles",
    ).meta({ description: "How long the window lasts, at least 1m, e.g. 6h." }),
    min: z.number().int().min(0).meta({ description: "Minimum node count during the window." }),
  })
  .meta({ description: "A time window that raises the minimum node count." });

const PoolFields = z.strictObject({
  name: z
    .string({ error: "expected a pool name" })
    .regex(POOL_NAME, { error: "use letters, digits, '.', '_' and '-' (at most 63)" })
    .refine((name) => !ALL_POOLS.test(name), {
      error:
        "a pool cannot be named all: `/autoscaler pause all` means every pool, so it could not be paused alone; choose another name",
    })
    .meta({
      description:
        "Names the pool in pull requests and explanations: letters, digits, '.', '_' and '-'; unique; not all, in any case, which commands take for every pool.",
      not: { pattern: ALL_POOLS.source },
    }),
  target: TargetConfig,
  selector: NodeSelectorConfig.optional(),
  min: z
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ default: POOL_DEFAULTS.min, description: "Fewest nodes; at most max." }),
  max: z.number().int().min(1).meta({ description: "Most nodes." }),
  newNode: NewNodeConfig.prefault({}),
  host: HostConfig.optional(),
  removal: RemovalConfig.prefault({}),
  scaleUp: ScaleUpConfig.prefault({}),
  scaleDown: ScaleDownConfig.prefault({}),
  cooldown: Duration.prefault("5m").meta({
    description: "Nothing new until this long after the last merged change to the target.",
  }),
  provisionTimeout: minuteDuration(
    "a new VM takes longer than that to boot and join, and 0 would report every change as failed as soon as it merges",
  )
    .prefault("15m")
    .meta({
      description:
        "How long new nodes may take to become Ready before the change counts as failed; at least 1m.",
    }),
  maxUnready: Percent.default(45).meta({
    description: "No action while more than this % of the pool's nodes are not Ready.",
  }),
  okUnready: z
    .number()
    .int({ error: "expected a whole number of nodes such as 1" })
    .min(0, { error: "must be 0 or more (0 leaves the maxUnready stop as it is)" })
    .default(0)
    .meta({
      description:
        "A floor under maxUnready: no action only while the nodes not Ready are more than this many as well. 0, the default, leaves the maxUnready stop as it is; cluster-autoscaler's ok-total-unready-count is 3.",
    }),
  expendablePriority: z
    .number()
    .int({ error: "expected a whole number such as -10" })
    .default(-10)
    .meta({
      description:
        "Pods whose priority is below this are expendable: they add no node, and need no room elsewhere when their node goes, though what stops their eviction still holds it (cluster-autoscaler's expendable-pods-priority-cutoff).",
    }),
  schedules: z.array(ScheduleConfig).default([]).meta({
    description: "Time windows that raise the minimum node count, e.g. before a known load.",
  }),
});

/**
 * Runs a cross-check of a mapping even when some of its values are refused, so that every
 * problem of the file is reported at once; the check compares only values that are not.
 */
const EVEN_WITH_ISSUES = {
  when: (payload: z.core.ParsePayload) => isMapping(payload.value),
};

export const PoolConfig = PoolFields.superRefine(checkPoolBounds, EVEN_WITH_ISSUES)
  .transform(withPoolDefaults)
  .meta({ description: "A group of worker nodes whose count is one value in the infra repo." });

export const RepoConfig = z
  .strictObject({
    pools: z
      .array(PoolConfig)
      .default([])
      .meta({ description: "Node pools to scale. None: nothing is planned for nodes." }),
    automerge: AutomergeConfig.optional(),
    rightsizing: RightsizingConfig.optional(),
  })
  .superRefine(checkUniquePools, EVEN_WITH_ISSUES)
  .meta({
    title: "pr-autoscaler repository configuration",
    description:
      "Configuration of pr-autoscaler, kept in .github/pr-autoscaler.yml of the infra repo.",
  });

export type RepoConfig = z.output<typeof RepoConfig>;
export type RepoConfigInput = z.input<typeof RepoConfig>;
export type PoolConfig = z.output<typeof PoolConfig>;
export type PoolConfigInput = z.input<typeof PoolConfig>;
export type ScheduleConfig = z.output<typeof ScheduleConfig>;
export type NodeSelectorConfig = z.output<typeof NodeSelectorConfig>;
export type RemovalConfig = z.output<typeof RemovalConfig>;
export type NewNodeConfig = z.output<typeof NewNodeConfig>;

type PoolFieldsOutput = z.output<typeof PoolFields>;

/** A value a cross-check compares: where it sits, and whether the operator wrote it. */
interface Setting {
  path: PropertyKey[];
  value: number;
  written: boolean;
}

function setting(path: PropertyKey[], value: number | undefined, fallback: number): Setting {
  return { path, value: value ?? fallback, written: value !== undefined };
}

/** The value for a message, marked when it is the default: `30 %, default`. */
function shown(value: Setting, unit = ""): string {
  return `${value.value}${unit}${value.written ? "" : ", default"}`;
}

function checkPoolBounds(pool: PoolFieldsOutput, ctx: z.RefinementCtx): void {
  // A comparison with a value already refused would only repeat that error in other words.
  const valid = (...paths: PropertyKey[][]) => paths.every((path) => !refused(ctx, path));
  const min = setting(["min"], pool.min, POOL_DEFAULTS.min);
  if (valid(["min"], ["max"]) && min.value > pool.max)
    ctx.addIssue({
      code: "custom",
      path: ["min"],
      message: `min (${shown(min)}) is greater than max (${pool.max})`,
    });
  const { cap } = hostCap(pool.host);
  if (valid(["min"], ["host"]) && cap !== undefined && cap < min.value)
    ctx.addIssue({
      code: "custom",
      path: ["host"],
      message: `the host holds at most ${counted(cap, "node")}, fewer than min (${shown(min)})`,
    });
  // Each value compared below is one no issue was raised for, so it has its type.
  if (Array.isArray(pool.schedules)) {
    const named = new Map<string, number>();
    pool.schedules.forEach((schedule, i) => {
      if (valid(["schedules", i, "min"], ["max"]) && schedule.min > pool.max)
        ctx.addIssue({
          code: "custom",
          path: ["schedules", i, "min"],
          message: `schedule min (${schedule.min}) is greater than the pool's max (${pool.max})`,
        });
      if (!valid(["schedules", i, "name"]) || schedule.name === undefined) return;
      const name = schedule.name;
      const first = named.get(name);
      if (first === undefined) named.set(name, i);
      else
        ctx.addIssue({
          code: "custom",
          path: ["schedules", i, "name"],
          message: `schedules[${first}] is named ${name} too: explanations tell a window by its name, so give each its own`,
        });
    });
  }
  checkThresholds(pool, ctx, valid);
}

/**
 * Each scale-down threshold below its scale-up threshold, and the margin below every scale-up
 * threshold (the projection after a removal must stay under threshold − margin, which nothing
 * does at 0 or less). The issue goes on a key the operator wrote, where they can fix it, and
 * names a default as such.
 */
function checkThresholds(
  pool: PoolFieldsOutput,
  ctx: z.RefinementCtx,
  valid: (...paths: PropertyKey[][]) => boolean,
): void {
  const { scaleUp, scaleDown } = pool;
  const marginPath = ["scaleDown", "margin"];
  const margin = setting(
    marginPath,
    valid(marginPath) ? scaleDown.margin : undefined,
    POOL_DEFAULTS.scaleDown.margin,
  );
  const tight: Setting[] = [];
  for (const kind of ["cpu", "memory", "requests"] as const) {
    if (!valid(["scaleUp", kind], ["scaleDown", kind])) continue;
    // scaleUp.requests has no default: unless it is set, requests add no node.
    const upDefault = kind === "requests" ? undefined : POOL_DEFAULTS.scaleUp[kind];
    const upValue = scaleUp[kind] ?? upDefault;
    if (upValue === undefined) continue;
    const up = setting(["scaleUp", kind], scaleUp[kind], upValue);
    const down = setting(["scaleDown", kind], scaleDown[kind], POOL_DEFAULTS.scaleDown[kind]);
    if (down.value >= up.value) ctx.addIssue(orderIssue(down, up, kind));
    else if (valid(margin.path) && margin.value >= up.value) tight.push(up);
  }
  if (tight.length === 0) return;
  if (margin.written) ctx.addIssue(marginIssue(margin, tight));
  else for (const up of tight) ctx.addIssue(marginIssue(margin, [up]));
}

function orderIssue(down: Setting, up: Setting, kind: string): z.core.$ZodRawIssue {
  if (down.written || !up.written)
    return {
      code: "custom",
      path: down.path,
      input: down.value,
      message: `scale-down threshold (${shown(down, " %")}) must be below the scale-up threshold (${shown(up, " %")})`,
    };
  return {
    code: "custom",
    path: up.path,
    input: up.value,
    message: `scale-up threshold (${shown(up, " %")}) must be above the scale-down threshold (${shown(down, " %")}): raise it, or set scaleDown.${kind} below it`,
  };
}

/** `ups` are the scale-up thresholds at or below the margin (at least one); names the lowest. */
function marginIssue(margin: Setting, ups: Setting[]): z.core.$ZodRawIssue {
  const up = ups.reduce((lowest, each) => (each.value < lowest.value ? each : lowest));
  const name = String(up.path.at(-1));
  const never = "no node could ever be removed";
  // Written values have a few decimals at most; their difference is shown without float noise.
  const below = Number((up.value - margin.value).toFixed(6));
  if (margin.written)
    return {
      code: "custom",
      path: margin.path,
      input: margin.value,
      message: `margin (${margin.value} points) must be below the scale-up ${name} threshold (${shown(up, " %")}): the usage after a removal would have to stay below ${below} %, so ${never}`,
    };
  return {
    code: "custom",
    path: up.path,
    input: up.value,
    message: `scale-up threshold (${up.value} %) must be above scaleDown.margin (${shown(margin, " points")}): the usage after a removal would have to stay below ${below} %, so ${never}; raise it, or lower the margin`,
  };
}

/** The pool with the defaults of {@link POOL_DEFAULTS} filled in, once the checks are done. */
function withPoolDefaults(pool: PoolFieldsOutput) {
  const { scaleUp, scaleDown } = pool;
  return {
    ...pool,
    min: pool.min ?? POOL_DEFAULTS.min,
    scaleUp: {
      ...scaleUp,
      cpu: scaleUp.cpu ?? POOL_DEFAULTS.scaleUp.cpu,
      memory: scaleUp.memory ?? POOL_DEFAULTS.scaleUp.memory,
    },
    scaleDown: {
      ...scaleDown,
      cpu: scaleDown.cpu ?? POOL_DEFAULTS.scaleDown.cpu,
      memory: scaleDown.memory ?? POOL_DEFAULTS.scaleDown.memory,
      requests: scaleDown.requests ?? POOL_DEFAULTS.scaleDown.requests,
      margin: scaleDown.margin ?? POOL_DEFAULTS.scaleDown.margin,
    },
  };
}

/**
 * Whether an issue was already raised for the value at `path`, anything inside it, or a mapping
 * or list on the way to it (which then holds no value of its own type). An unknown key of a
 * mapping refuses none of its other values.
 */
function refused(ctx: z.RefinementCtx, path: readonly PropertyKey[]): boolean {
  return ctx.issues.some((issue) => {
    if (issue.code === "unrecognized_keys") return false;
    const at = issue.path ?? [];
    return at.slice(0, path.length).every((segment, i) => segment === path[i]);
  });
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** One spelling of a PATH (`workers["count"]` is `workers.count`); as written if it does not parse. */
function canonicalPath(path: string): string {
  try {
    return formatPath(parsePath(path));
  } catch {
    return path;
  }
}

function checkUniquePools(config: { pools: PoolConfig[] }, ctx: z.RefinementCtx) {
  const names = new Map<string, number>();
  const targets = new Map<string, number[]>();
  if (!Array.isArray(config.pools)) return;
  // Pools with problems of their own are compared by the values they have no issue for.
  config.pools.forEach((pool, i) => {
    if (!refused(ctx, ["pools", i, "name"])) checkUniqueName(pool, i, names, ctx);
    if (!refused(ctx, ["pools", i, "target"])) checkUniqueTarget(config.pools, i, targets, ctx);
  });
}

function checkUniqueName(
  pool: PoolConfig,
  i: number,
  names: Map<string, number>,
  ctx: z.RefinementCtx,
): void {
  const first = names.get(pool.name);
  if (first === undefined) {
    names.set(pool.name, i);
    return;
  }
  ctx.addIssue({
    code: "custom",
    path: ["pools", i, "name"],
    message: `pool name ${JSON.stringify(pool.name)} is already used by pools[${first}]`,
  });
}

/**
 * Two documents of one file are two values (two MachineDeployments, each its `spec.replicas`);
 * a target without `document` may be any of them, so it shares the value of every other.
 */
function sameDocument(a: number | undefined, b: number | undefined): boolean {
  return a === undefined || b === undefined || a === b;
}

function checkUniqueTarget(
  pools: readonly PoolConfig[],
  i: number,
  targets: Map<string, number[]>,
  ctx: z.RefinementCtx,
): void {
  const { target } = pools[i] as PoolConfig;
  const key = `${target.file}\u0000${canonicalPath(target.path)}`;
  const earlier = targets.get(key) ?? [];
  const first = earlier.find((j) => sameDocument(pools[j]?.target.document, target.document));
  if (first === undefined) {
    targets.set(key, [...earlier, i]);
    return;
  }
  const scaled = pools[first]?.target;
  const document = scaled?.document === undefined ? "" : ` (document ${scaled.document})`;
  const tell =
    scaled?.document === target.document
      ? ""
      : "; when they are two documents of the file, set target.document on both";
  ctx.addIssue({
    code: "custom",
    path: ["pools", i, "target"],
    message: `pools[${first}] already scales ${scaled?.file} ${scaled?.path}${document}${tell}`,
  });
}
