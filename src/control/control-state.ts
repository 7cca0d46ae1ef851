import { z } from "zod";

/**
 * What people told the bot with comment commands, kept in the repository (a hidden block in
 * the dashboard issue, written only by the reconcile), so no restart loses it.
 */
const Record_ = z.object({ by: z.string(), at: z.string() });

export const PauseRecord = Record_;
export type PauseRecord = z.infer<typeof PauseRecord>;

export const ScaleRequest = Record_.extend({ count: z.number().int().nonnegative() });
export type ScaleRequest = z.infer<typeof ScaleRequest>;

export const IgnoreRecord = Record_.extend({
  /**
   * The VPA targets the ignored change rested on, by `namespace/workload/container/resource`;
   * absent until the next plan records them.
   */
  targets: z.record(z.string(), z.number()).optional(),
});
export type IgnoreRecord = z.infer<typeof IgnoreRecord>;

/**
 * A node pull request of the bot's that people closed without merging: a "no" to changing the
 * pool from `from` to `to`, kept until the plan or the count moves on.
 */
export const RejectRecord = z.object({
  /** The closed pull request. */
  number: z.number().int().positive(),
  from: z.number().int().nonnegative(),
  to: z.number().int().nonnegative(),
  /** When it was closed. */
  at: z.string(),
});
export type RejectRecord = z.infer<typeof RejectRecord>;

/**
 * The latest closing time among the bot's closed pull requests already looked at for
 * rejections, and the pull requests closed at that very time (GitHub's times are to the second).
 */
export const ClosedSeen = z.object({
  at: z.string(),
  numbers: z.array(z.number().int().positive()),
});
export type ClosedSeen = z.infer<typeof ClosedSeen>;

export const ControlState = z.object({
  version: z.literal(1),
  /** The highest comment id already processed: later ones are new. */
  lastComment: z.number().int().nonnegative(),
  paused: z.object({
    all: PauseRecord.optional(),
    pools: z.record(z.string(), PauseRecord).default({}),
  }),
  /** Counts asked for with `/autoscaler scale`, by pool. */
  scale: z.record(z.string(), ScaleRequest).default({}),
  /** Right-sizing changes not to propose again, by pull request key. */
  ignored: z.record(z.string(), IgnoreRecord).default({}),
  /** Node changes people closed without merging, not proposed again while they stand, by pool. */
  rejected: z.record(z.string(), RejectRecord).default({}),
  /** How far the bot's closed pull requests were looked at for rejections; absent before. */
  closedSeen: ClosedSeen.optional(),
});
export type ControlState = z.infer<typeof ControlState>;

export function emptyControlState(lastComment = 0): ControlState {
  return { version: 1, lastComment, paused: { pools: {} }, scale: {}, ignored: {}, rejected: {} };
}

const TAG = "pr-autoscaler:control";
const PATTERN = new RegExp(`<!-- ${TAG} (\\{[^\\n]*?\\}) -->`);

/** The state as a hidden HTML comment (`<` and `>` escaped so no value can end it early). */
export function controlMarker(state: ControlState): string {
  const json = JSON.stringify(state).replaceAll("<", "\\u003c").replaceAll(">", "\\u003e");
  return `<!-- ${TAG} ${json} -->`;
}

/** The state recorded in a dashboard body; undefined when there is none or it is unreadable. */
export function readControlMarker(body: string | null | undefined): ControlState | undefined {
  const json = body ? PATTERN.exec(body)?.[1] : undefined;
  if (json === undefined) return undefined;
  try {
    const parsed = ControlState.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the pool (or everything) is paused. */
export function isPaused(state: ControlState, pool?: string): boolean {
  return state.paused.all !== undefined || (pool !== undefined && pool in state.paused.pools);
}
