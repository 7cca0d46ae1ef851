import { z } from "zod";
import {
  CpuQuantity,
  Duration,
  MemoryQuantity,
  Percent,
  RepoFilePath,
  ValuePath,
} from "./config-values.ts";

/** `namespace/name`, the way a workload is named everywhere in the rightsizing config. */
const WORKLOAD_KEY = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/;

export const WorkloadKey = z
  .string({ error: "expected a workload as namespace/name, e.g. media/plex" })
  .regex(WORKLOAD_KEY, {
    error: "write the workload as namespace/name in lower case, e.g. media/plex",
  });

const NamespaceName = z
  .string({ error: "expected a namespace name" })
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: "not a valid namespace name" });

const ResourceAmounts = z.strictObject({
  cpu: CpuQuantity.optional().meta({ description: "CPU, e.g. 100m or 2." }),
  memory: MemoryQuantity.optional().meta({ description: "Memory, e.g. 256Mi or 4Gi." }),
});

export const RightsizingBoundsConfig = z
  .strictObject({
    namespace: NamespaceName.optional().meta({
      description: "Applies to this namespace only.",
    }),
    workload: WorkloadKey.optional().meta({
      description: "Applies to this workload only (namespace/name).",
    }),
    container: z.string().min(1).optional().meta({
      description: "Applies to this container only.",
    }),
    min: ResourceAmounts.optional().meta({ description: "Requests never go below these." }),
    max: ResourceAmounts.optional().meta({ description: "Requests never go above these." }),
  })
  .superRefine((bounds, ctx) => {
    if (bounds.namespace && bounds.workload && !bounds.workload.startsWith(`${bounds.namespace}/`))
      ctx.addIssue({
        code: "custom",
        path: ["workload"],
        message: `workload ${bounds.workload} is not in namespace ${bounds.namespace}`,
      });
    for (const kind of ["cpu", "memory"] as const) {
      const min = bounds.min?.[kind];
      const max = bounds.max?.[kind];
      if (min !== undefined && max !== undefined && min > max)
        ctx.addIssue({
          code: "custom",
          path: ["min", kind],
          message: `min ${kind} is greater than max ${kind}`,
        });
    }
  })
  .meta({
    description:
      "Min/max requests for a namespace, a workload or a container; the most specific entry that sets a value wins.",
  });

export const LimitMode = z.enum(["keep", "ratio", "none"]).meta({
  description:
    "keep: leave the limit as it is; ratio: scale the limit with the request, keeping limit/request; none: never write a limit.",
});

export const RightsizingLimitsConfig = z
  .strictObject({
    cpu: LimitMode.default("keep"),
    memory: LimitMode.default("keep"),
    aboveLimit: z.enum(["raise", "refuse"]).default("raise").meta({
      description:
        "With keep: when the new request exceeds the current limit, raise the limit to the request, or leave the resource unchanged.",
    }),
  })
  .meta({ description: "What happens to limits when requests change." });

export const RightsizingTargetConfig = z
  .strictObject({
    workload: WorkloadKey.meta({ description: "The workload, as namespace/name." }),
    kind: z.enum(["Deployment", "StatefulSet", "DaemonSet"]).optional().meta({
      description: "Its kind, when a namespace holds workloads of different kinds with one name.",
    }),
    container: z.string().min(1).optional().meta({
      description: "The container; may be left out when the workload has one container.",
    }),
    file: RepoFilePath.meta({ description: "File in the infra repo that sets its resources." }),
    path: ValuePath.meta({
      description:
        "PATH of the container's `resources` mapping, e.g. spec.values.controllers.plex.containers.app.resources.",
    }),
    document: z.number().int().min(0).optional().meta({
      description: "0-based document, for a file holding several YAML documents.",
    }),
  })
  .meta({ description: "Where a container's resources are written; always wins over discovery." });

export const RightsizingConfig = z
  .strictObject({
    enabled: z.boolean().default(true).meta({
      description: "Turns right-sizing off while keeping the settings.",
    }),
    minHistory: Duration.prefault("7d").meta({
      description:
        "How long a VPA must have been recording before its recommendation is used (a fresh VPA reports floor values).",
    }),
    tolerance: Percent.default(20).meta({
      description:
        "Change a request only when the new value differs from it by more than this % (or it lies outside the VPA bounds).",
    }),
    steps: z
      .strictObject({
        cpu: CpuQuantity.prefault("10m").meta({
          description: "CPU requests are rounded up to this step.",
        }),
        memory: MemoryQuantity.prefault("16Mi").meta({
          description: "Memory requests are rounded up to this step.",
        }),
      })
      .prefault({})
      .meta({ description: "Proposed requests are rounded up to these steps." }),
    resources: z
      .array(z.enum(["cpu", "memory"]))
      .min(1, { error: "name at least one resource, or set enabled: false" })
      .default(["cpu", "memory"])
      .meta({ description: "Which requests may change." }),
    min: ResourceAmounts.prefault({}).meta({ description: "Requests never go below these." }),
    max: ResourceAmounts.prefault({}).meta({ description: "Requests never go above these." }),
    bounds: z.array(RightsizingBoundsConfig).default([]).meta({
      description:
        "Min/max requests per namespace, workload or container; the most specific entry that sets a value wins.",
    }),
    limits: RightsizingLimitsConfig.prefault({}),
    oom: z
      .strictObject({
        margin: Percent.default(20).meta({
          description:
            "After an OOM kill, memory becomes at least the current limit (or request) plus this %.",
        }),
        window: Duration.prefault("7d").meta({
          description: "How recent an OOM kill must be to count.",
        }),
      })
      .prefault({})
      .meta({ description: "Memory for a container OOM-killed recently." }),
    namespaces: z
      .strictObject({
        include: z.array(NamespaceName).default([]).meta({
          description: "Only these namespaces (empty: all).",
        }),
        exclude: z
          .array(NamespaceName)
          .default([])
          .meta({ description: "Never these namespaces." }),
      })
      .prefault({})
      .meta({ description: "Which namespaces are right-sized." }),
    exclude: z.array(WorkloadKey).default([]).meta({
      description: "Workloads never right-sized (namespace/name).",
    }),
    stateful: z
      .strictObject({
        workloads: z.array(WorkloadKey).default([]).meta({
          description: "Workloads whose restarts are costly, e.g. databases (namespace/name).",
        }),
        changes: z.enum(["none", "increase"]).default("none").meta({
          description: "none: leave them alone; increase: only raise their requests.",
        }),
      })
      .prefault({})
      .meta({ description: "Workloads whose restarts are costly, and what may change for them." }),
    group: z.enum(["workload", "namespace", "repo"]).default("workload").meta({
      description: "One pull request per workload, per namespace or for the whole repo.",
    }),
    maxOpenPullRequests: z.number().int().min(1).default(3).meta({
      description:
        "At most this many right-sizing pull requests open at once (most important first).",
    }),
    discovery: z
      .strictObject({
        enabled: z.boolean().default(true).meta({
          description: "Look for the files that set resources when no target is configured.",
        }),
        accept: z.enum(["exact", "likely"]).default("likely").meta({
          description: "The least certain match that may become a pull request.",
        }),
      })
      .prefault({})
      .meta({
        description: "Finding the file that sets a container's resources when no target maps it.",
      }),
    targets: z.array(RightsizingTargetConfig).default([]).meta({
      description:
        "Where containers' resources are written, for workloads discovery does not find or gets wrong.",
    }),
  })
  .superRefine(checkRightsizing)
  .meta({
    description:
      "Right-sizing of container requests from VerticalPodAutoscaler recommendations. Off unless this section is present.",
  });

export type RightsizingConfig = z.output<typeof RightsizingConfig>;
export type RightsizingConfigInput = z.input<typeof RightsizingConfig>;
export type RightsizingTargetConfig = z.output<typeof RightsizingTargetConfig>;
export type RightsizingBoundsConfig = z.output<typeof RightsizingBoundsConfig>;
export type LimitMode = z.output<typeof LimitMode>;

function checkRightsizing(
  config: {
    min: z.output<typeof ResourceAmounts>;
    max: z.output<typeof ResourceAmounts>;
    targets: RightsizingTargetConfig[];
  },
  ctx: z.RefinementCtx,
): void {
  for (const kind of ["cpu", "memory"] as const) {
    const min = config.min[kind];
    const max = config.max[kind];
    if (min !== undefined && max !== undefined && min > max)
      ctx.addIssue({
        code: "custom",
        path: ["min", kind],
        message: `min ${kind} is greater than max ${kind}`,
      });
  }
  const seen = new Map<string, number>();
  config.targets.forEach((target, i) => {
    const key = `${target.workload}\u0000${target.kind ?? ""}\u0000${target.container ?? ""}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else
      ctx.addIssue({
        code: "custom",
        path: ["targets", i],
        message: `targets[${first}] already maps ${target.workload}${target.container ? ` container ${target.container}` : ""}`,
      });
  });
}

/** The settings of an empty `rightsizing: {}` section (an absent section turns right-sizing off). */
export function defaultRightsizingConfig(): RightsizingConfig {
  return RightsizingConfig.parse({});
}
