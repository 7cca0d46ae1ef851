import { z } from "zod";
import { parseBytes, parseCpu } from "../planning/quantity.ts";
import { parseDuration } from "../policy/parse-duration.ts";

/** How many nodes a pool may start with or keep at least, or a pod line may create; keeps a typo from exploding. */
export const MAX_COUNT = 10_000;

/** The longest trace: a year and a day, so that a typo in the header does not run for ever. */
const MAX_DURATION_MS = 366 * 86_400_000;

/** A time from the trace's start: seconds as a number, or a duration such as `18h30m`. */
export const TraceTime = z
  .union([z.number(), z.string()], {
    error: (issue) =>
      issue.input === undefined
        ? "missing required key: give seconds (90) or a duration (90s, 10m, 1h30m)"
        : "expected seconds or a duration such as 18h30m",
  })
  .transform((value, ctx) => {
    const ms = typeof value === "number" ? value * 1000 : parseDuration(value);
    if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
      ctx.addIssue({
        code: "custom",
        message: `${JSON.stringify(value)} is not a time: give seconds (90) or a duration (90s, 10m, 1h30m)`,
      });
      return z.NEVER;
    }
    return Math.round(ms);
  });

/** A length of time that must be more than zero. */
export const PositiveTime = TraceTime.refine((ms) => ms > 0, { error: "must be more than 0" });

function quantity(what: "cpu" | "memory", examples: string) {
  const parse = what === "cpu" ? parseCpu : parseBytes;
  return z
    .union([z.string(), z.number()], { error: `expected a ${what} quantity such as ${examples}` })
    .transform((value, ctx) => {
      try {
        const amount = parse(String(value).trim());
        if (amount >= 0) return amount;
      } catch {
        // reported below
      }
      ctx.addIssue({
        code: "custom",
        message: `${JSON.stringify(value)} is not a ${what} quantity: write it like ${examples}`,
      });
      return z.NEVER;
    });
}

export const CpuAmount = quantity("cpu", "2, 0.5 or 500m");
export const MemoryAmount = quantity("memory", "16Gi, 512Mi or 8G");

const Labels = z.record(z.string(), z.string());

export const TaintLine = z.strictObject({
  key: z.string().min(1),
  value: z.string().optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
});

/** A toleration as the API server admits it: one it would refuse is refused here too. */
export const TolerationLine = z
  .strictObject({
    key: z.string().optional(),
    operator: z.enum(["Exists", "Equal"]).optional(),
    value: z.string().optional(),
    effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
  })
  .superRefine((toleration, ctx) => {
    const exists = toleration.operator === "Exists";
    if (!toleration.key && !exists)
      ctx.addIssue({
        code: "custom",
        path: ["operator"],
        message:
          'a toleration without a key must have operator "Exists" (it then tolerates every taint)',
      });
    if (exists && toleration.value)
      ctx.addIssue({
        code: "custom",
        path: ["value"],
        message: 'must be left out with operator "Exists", which matches every value',
      });
  });

const NodeShapeFields = {
  cpu: CpuAmount.refine((m) => m > 0, { error: "must be more than 0" }),
  memory: MemoryAmount.refine((b) => b > 0, { error: "must be more than 0" }),
  pods: z.number().int().positive().default(110),
  labels: Labels.default({}),
  taints: z.array(TaintLine).default([]),
};

export const PoolLine = z.strictObject({
  name: z.string().min(1),
  count: z.number().int().min(0).max(MAX_COUNT),
  /** Absent: 1, or 0 for a pool that starts empty (a GPU pool raised only when needed). */
  min: z.number().int().min(0).max(MAX_COUNT).optional(),
  nodeName: z
    .string()
    .includes("{index}", { error: "must contain {index}, e.g. talos-worker-{index}" }),
  indexBase: z.number().int().min(0).default(0),
  node: z.strictObject(NodeShapeFields),
});

export const NodeLine = z.strictObject({
  name: z.string().min(1),
  controlPlane: z.boolean().default(false),
  ...NodeShapeFields,
});

export const HeaderLine = z.strictObject({
  type: z.literal("header"),
  version: z.literal(1, { error: "expected version 1" }),
  name: z.string().min(1),
  description: z.string().optional(),
  start: z.iso.datetime({ offset: true, error: "expected a time such as 2025-06-06T00:00:00Z" }),
  duration: PositiveTime.refine((ms) => ms <= MAX_DURATION_MS, {
    error: "must be at most 366d",
  }),
  config: z.string().min(1).optional(),
  pools: z.array(PoolLine).min(1),
  nodes: z.array(NodeLine).default([]),
});

/** One usage value; a resource left out is the pod's request. */
const UsageValue = { cpu: CpuAmount.optional(), memory: MemoryAmount.optional() };

export const UsagePointLine = z.strictObject({ at: TraceTime, ...UsageValue });

/**
 * `{cpu, memory}` for constant usage, or `{points, shape, period}` for usage that changes; one
 * object so an error names the key rather than a failed alternative.
 */
export const UsageLine = z
  .strictObject({
    ...UsageValue,
    points: z.array(UsagePointLine).min(1).optional(),
    shape: z.enum(["step", "linear"]).optional(),
    period: PositiveTime.optional(),
  })
  .superRefine((usage, ctx) => {
    if (usage.points === undefined) {
      for (const key of ["shape", "period"] as const)
        if (usage[key] !== undefined)
          ctx.addIssue({ code: "custom", path: [key], message: `${key} needs points` });
      return;
    }
    for (const key of ["cpu", "memory"] as const)
      if (usage[key] !== undefined)
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `give ${key} inside each point when points are used`,
        });
    usage.points.forEach((point, i) => {
      const previous = usage.points?.[i - 1];
      if (previous && point.at <= previous.at)
        ctx.addIssue({
          code: "custom",
          path: ["points", i, "at"],
          message: "points must be in increasing time order",
        });
      if (usage.period !== undefined && point.at >= usage.period)
        ctx.addIssue({
          code: "custom",
          path: ["points", i, "at"],
          message: "must be less than the period",
        });
    });
  });

/** A pod's `namespace/name` in lower case. */
const PodName = z.string().regex(/^(?:[a-z0-9][a-z0-9.-]*\/)?[a-z0-9][a-z0-9.-]*$/, {
  error: "expected namespace/name in lower case, e.g. media/plex",
});

/** A pod arrival's name: as PodName, where `{i}` may stand for the index of each of `count`. */
const ArrivalName = z
  .string()
  .regex(
    /^(?:(?:[a-z0-9]|\{i\})(?:[a-z0-9.-]|\{i\})*\/)?(?:[a-z0-9]|\{i\})(?:[a-z0-9.-]|\{i\})*$/,
    {
      error:
        "expected namespace/name in lower case, e.g. media/plex ({i} for the index with count)",
    },
  );

export const PodLine = z.strictObject({
  type: z.literal("pod"),
  at: TraceTime,
  name: ArrivalName,
  count: z.number().int().min(1).max(MAX_COUNT).optional(),
  requests: z
    .strictObject({ cpu: CpuAmount.optional(), memory: MemoryAmount.optional() })
    .default({}),
  usage: UsageLine.optional(),
  duration: PositiveTime.optional(),
  labels: Labels.default({}),
  owner: z.enum(["Deployment", "StatefulSet", "Job", "none"]).optional(),
  nodeSelector: Labels.default({}),
  tolerations: z.array(TolerationLine).default([]),
  priority: z.number().int().default(0),
  localStorage: z.boolean().default(false),
  safeToEvict: z.boolean().optional(),
});

export const UsageEventLine = z.strictObject({
  type: z.literal("usage"),
  at: TraceTime,
  pod: PodName,
  usage: UsageLine,
});

export const DeleteLine = z.strictObject({
  type: z.literal("delete"),
  at: TraceTime,
  pod: PodName,
});

export type HeaderLine = z.output<typeof HeaderLine>;
export type PodLine = z.output<typeof PodLine>;
export type UsageEventLine = z.output<typeof UsageEventLine>;
export type DeleteLine = z.output<typeof DeleteLine>;
export type UsageLine = z.output<typeof UsageLine>;

/** The schema of each event line, by its `type`. */
export const EVENT_LINES = {
  pod: PodLine,
  usage: UsageEventLine,
  delete: DeleteLine,
} as const;
