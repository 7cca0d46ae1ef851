import { z } from "zod";
import { formatFromName, TARGET_FORMAT_HINT, unknownFormatMessage } from "../editors/edit-file.ts";
import { AutomergeConfig } from "./automerge-config.ts";
import {
  CpuQuantity,
  CronExpression,
  Duration,
  MemoryQuantity,
  Percent,
  RepoFilePath,
  TimeZone,
  ValuePath,
} from "./config-values.ts";
import { hostCap } from "./host-cap.ts";
import { RightsizingConfig } from "./rightsizing-config.ts";

/** Where the infra repo keeps this app's configuration. */
export const REPO_CONFIG_PATH = ".github/pr-autoscaler.yml";

const POOL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export const LabelSelectorRequirementConfig = z
  .strictObject({
    key: z.string().min(1, { error: "must not be empty" }),
    operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]),
    values: z.array(z.string()).optional(),
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
  });

export const NodeSelectorConfig = z
  .strictObject({
    matchLabels: z.record(z.string(), z.string()).optional(),
    matchExpressions: z.array(LabelSelectorRequirementConfig).optional(),
  })
  .meta({
    description:
      "Labels that recognise the pool's nodes (Kubernetes label selector). Default: every node that is not control plane.",
  });

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
    if (format === undefined)
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
  .meta({ description: "The value in the infra repo that sets this pool's node count." });

export const TaintConfig = z.strictObject({
  key: z.string().min(1, { error: "must not be empty" }),
  value: z.string().optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
});

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
    labels: z
      .record(z.string(), z.string())
      .default({})
      .meta({ description: "Labels a new node will carry, besides those all pool nodes share." }),
    taints: z
      .array(TaintConfig)
      .default([])
      .meta({ description: "Taints a new node will carry, besides those all pool nodes share." }),
  })
  .meta({ description: "The shape of a node added to the pool." });

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
      .strictObject({ cpu: CpuQuantity.optional(), memory: MemoryQuantity.optional() })
      .optional()
      .meta({ description: "Host resources kept for the hypervisor and other machines." }),
    node: z
      .strictObject({ cpu: CpuQuantity.optional(), memory: MemoryQuantity.optional() })
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
  });

export const RemovalConfig = z
  .strictObject({
    nameTemplate: z
      .string()
      .regex(/\{index\}/, { error: "must contain {index}, e.g. talos-worker-{index}" })
      .optional()
      .meta({
        description:
          "Node name for a count index, e.g. talos-worker-{index}. Default: the node with the highest numeric suffix is the one a decrease removes.",
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
        "How long a pod must have been unschedulable before it adds nodes; a pod that finds room on its own within it opens no pull request. No node is removed while such a pod waits.",
    }),
    cpu: Percent.default(80).meta({ description: "CPU usage % of allocatable that adds a node." }),
    memory: Percent.default(85).meta({
      description: "Memory usage % of allocatable that adds a node.",
    }),
    requests: Percent.optional().meta({
      description: "Requests % of allocatable that adds a node (off unless set).",
    }),
    window: Duration.prefault("5m").meta({
      description: "How long usage must stay above the threshold.",
    }),
  })
  .meta({ description: "When to add nodes." });

export const ScaleDownConfig = z
  .strictObject({
    enabled: z.boolean().default(true),
    cpu: Percent.default(30).meta({ description: "CPU usage % below which the pool is unneeded." }),
    memory: Percent.default(40).meta({
      description: "Memory usage % below which the pool is unneeded.",
    }),
    requests: Percent.default(50).meta({
      description: "Requests % (cpu and memory) below which the pool is unneeded.",
    }),
    unneededTime: Duration.prefault("10m")
      .refine((ms) => ms >= 60_000, { error: "must be at least 1m: one sample is not a window" })
      .meta({ description: "How long usage must stay below the thresholds." }),
    delayAfterScaleUp: Duration.prefault("10m").meta({
      description: "No scale-down until this long after the nodes of the last scale-up are Ready.",
    }),
    unreadyTime: Duration.prefault("20m").meta({
      description:
        "While a pool node is not Ready, no Ready node is removed; the highest-numbered node not Ready this long is removed whatever the usage.",
    }),
    margin: z.number().min(0).lt(100).default(10).meta({
      description:
        "Percentage points the utilisation projected after removal must stay below the scale-up thresholds.",
    }),
    maxEmptyBulk: z
      .number()
      .int({ error: "expected a whole number of nodes such as 10" })
      .min(1, { error: "must be at least 1 (1 removes one node at a time)" })
      .default(10)
      .meta({
        description:
          "Most empty nodes (no pods but DaemonSet and mirror pods) one decrease removes at once; a node with pods always goes alone. 1 removes one node at a time.",
      }),
  })
  .meta({
    description:
      "When to remove nodes: one at a time, or several empty ones at once (maxEmptyBulk).",
  });

export const ScheduleConfig = z
  .strictObject({
    name: z.string().optional(),
    cron: CronExpression.meta({
      description: "When the window starts (5 fields), e.g. 0 18 * * 5 for Fridays 18:00.",
    }),
    timezone: TimeZone.default("UTC").meta({ description: "IANA time zone of the cron fields." }),
    duration: Duration.refine((ms) => ms >= 60_000, {
      error:
        "must be at least 1m: the app reconciles once a minute by default, so a shorter window could open and close between two reconciles",
    }).meta({ description: "How long the window lasts, at least 1m, e.g. 6h." }),
    min: z.number().int().min(0).meta({ description: "Minimum node count during the window." }),
  })
  .meta({ description: "A time window that raises the minimum node count." });

const PoolFields = z.strictObject({
  name: z
    .string({ error: "expected a pool name" })
    .regex(POOL_NAME, { error: "use letters, digits, '.', '_' and '-' (at most 63)" }),
  target: TargetConfig,
  selector: NodeSelectorConfig.optional(),
  min: z.number().int().min(0).default(1).meta({ description: "Fewest nodes." }),
  max: z.number().int().min(1).meta({ description: "Most nodes." }),
  newNode: NewNodeConfig.prefault({}),
  host: HostConfig.optional(),
  removal: RemovalConfig.prefault({}),
  scaleUp: ScaleUpConfig.prefault({}),
  scaleDown: ScaleDownConfig.prefault({}),
  cooldown: Duration.prefault("5m").meta({
    description: "Nothing new until this long after the last merged change to the target.",
  }),
  provisionTimeout: Duration.prefault("15m").meta({
    description: "How long new nodes may take to become Ready before the change counts as failed.",
  }),
  maxUnready: Percent.default(45).meta({
    description: "No action while more than this % of the pool's nodes are not Ready.",
  }),
  expendablePriority: z
    .number()
    .int({ error: "expected a whole number such as -10" })
    .default(-10)
    .meta({
      description:
        "Pods whose priority is below this are expendable: they add no node, and they neither hold a node nor need room elsewhere when it goes (cluster-autoscaler's expendable-pods-priority-cutoff).",
    }),
  schedules: z.array(ScheduleConfig).default([]),
});

export const PoolConfig = PoolFields.superRefine(checkPoolBounds).meta({
  description: "A group of worker nodes whose count is one value in the infra repo.",
});

export const RepoConfig = z
  .strictObject({
    pools: z
      .array(PoolConfig)
      .default([])
      .meta({ description: "Node pools to scale. None: nothing is planned for nodes." }),
    automerge: AutomergeConfig.optional(),
    rightsizing: RightsizingConfig.optional(),
  })
  .superRefine(checkUniquePools)
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

function checkPoolBounds(pool: z.output<typeof PoolFields>, ctx: z.RefinementCtx): void {
  // A comparison with a value already refused would only repeat that error in other words.
  const valid = (...paths: PropertyKey[][]) => paths.every((path) => !refused(ctx, path));
  if (valid(["min"], ["max"]) && pool.min > pool.max)
    ctx.addIssue({
      code: "custom",
      path: ["min"],
      message: `min (${pool.min}) is greater than max (${pool.max})`,
    });
  const { cap } = hostCap(pool.host);
  if (valid(["min"], ["host"]) && cap !== undefined && cap < pool.min)
    ctx.addIssue({
      code: "custom",
      path: ["host"],
      message: `the host holds at most ${cap} node(s), fewer than min (${pool.min})`,
    });
  pool.schedules.forEach((schedule, i) => {
    if (valid(["schedules", i, "min"], ["max"]) && schedule.min > pool.max)
      ctx.addIssue({
        code: "custom",
        path: ["schedules", i, "min"],
        message: `schedule min (${schedule.min}) is greater than the pool's max (${pool.max})`,
      });
  });
  for (const kind of ["cpu", "memory"] as const) {
    const ordered = pool.scaleDown[kind] < pool.scaleUp[kind];
    if (valid(["scaleDown", kind], ["scaleUp", kind]) && !ordered)
      ctx.addIssue({
        code: "custom",
        path: ["scaleDown", kind],
        message: `scale-down threshold (${pool.scaleDown[kind]} %) must be below the scale-up threshold (${pool.scaleUp[kind]} %)`,
      });
  }
}

/** Whether an issue was already raised for the value at `path` or anything inside it. */
function refused(ctx: z.RefinementCtx, path: readonly PropertyKey[]): boolean {
  return ctx.issues.some((issue) => path.every((segment, i) => issue.path?.[i] === segment));
}

function checkUniquePools(config: { pools: z.output<typeof PoolFields>[] }, ctx: z.RefinementCtx) {
  const names = new Map<string, number>();
  const targets = new Map<string, number>();
  config.pools.forEach((pool, i) => {
    const first = names.get(pool.name);
    if (first !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["pools", i, "name"],
        message: `pool name ${JSON.stringify(pool.name)} is already used by pools[${first}]`,
      });
    else names.set(pool.name, i);
    const target = `${pool.target.file}\u0000${pool.target.path}`;
    const sameTarget = targets.get(target);
    if (sameTarget !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["pools", i, "target"],
        message: `pools[${sameTarget}] already scales ${pool.target.file} ${pool.target.path}`,
      });
    else targets.set(target, i);
  });
}
