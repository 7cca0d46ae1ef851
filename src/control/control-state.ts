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
export type ControlState = z.infer<typeof ControlState> & {
  /**
   * Set, in a process's memory only, while the dashboard holds no readable state: everything is
   * held as paused until `/autoscaler resume`, which drops it.
   */
  unreadable?: UnreadableControl;
};

/**
 * A dashboard whose command state block people removed or broke. Nothing says which pauses,
 * requests, ignores and "no"s stand, so everything is held; the block found is written back as
 * it was (people may mend it), never a valid one, until someone resumes.
 */
export interface UnreadableControl {
  /** What is wrong with the block, to show and log. */
  problem: string;
  /** The block as found, on its one line; empty when there was none (or it was not closed). */
  block: string;
  /**
   * The last comment taken as the dashboard recorded it apart from the block (in its issue
   * marker): comments up to it are history, later ones are taken. Kept as the dashboard's record
   * while held, so a restarted process takes the same comments again (commands are idempotent).
   */
  lastComment: number;
  /** When this process found it (ISO). */
  at: string;
}

export function emptyControlState(lastComment = 0): ControlState {
  return { version: 1, lastComment, paused: { pools: {} }, scale: {}, ignored: {}, rejected: {} };
}

const TAG = "pr-autoscaler:control";
const PATTERN = new RegExp(`<!-- ${TAG} (\\{[^\\n]*?\\}) -->`);
/** The block whatever is wrong inside it, when it is one closed comment on one line. */
const LOOSE = new RegExp(`<!-- ${TAG}\\b[^\\n]*?-->`);

/**
 * The state as a hidden HTML comment (`<` and `>` escaped so no value can end it early); while
 * unreadable, the block as it was found, so only a resume writes a valid one.
 */
export function controlMarker(state: ControlState): string {
  if (state.unreadable) return state.unreadable.block;
  const json = JSON.stringify(state).replaceAll("<", "\\u003c").replaceAll(">", "\\u003e");
  return `<!-- ${TAG} ${json} -->`;
}

/** What a dashboard body holds: its state, or what keeps it from being read. */
export type ControlRead = { state: ControlState } | { problem: string; block: string };

/** Reads the state block of an existing dashboard's body. */
export function readControlBlock(body: string | null | undefined): ControlRead {
  const text = body ?? "";
  const block = LOOSE.exec(text)?.[0] ?? "";
  const json = PATTERN.exec(text)?.[1];
  if (json === undefined) {
    if (block !== "") return { problem: "its JSON is not one object", block };
    return text.includes(`<!-- ${TAG}`)
      ? { problem: "the block is not closed on its line", block }
      : { problem: "the block is missing", block };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    return { problem: `its JSON does not parse (${(error as Error).message})`, block };
  }
  const state = ControlState.safeParse(parsed);
  if (state.success) return { state: state.data };
  const issue = state.error.issues[0];
  const where = issue?.path.length ? `\`${issue.path.join(".")}\`: ` : "";
  return { problem: `its JSON does not hold a command state (${where}${issue?.message})`, block };
}

/** The state recorded in a dashboard body; undefined when there is none or it is unreadable. */
export function readControlMarker(body: string | null | undefined): ControlState | undefined {
  const read = readControlBlock(body);
  return "state" in read ? read.state : undefined;
}

/** The state of a dashboard whose block cannot be read: everything held, nothing else known. */
export function heldControlState(
  found: { problem: string; block: string },
  lastComment: number,
  at: string,
): ControlState {
  return { ...emptyControlState(lastComment), unreadable: { ...found, lastComment, at } };
}

/**
 * The last comment taken as the dashboard records it beside the block: while held, the one
 * recorded before, so comments since are taken again after a restart rather than lost.
 */
export function recordedLastComment(state: ControlState): number {
  return state.unreadable?.lastComment ?? state.lastComment;
}

/** Whether the pool (or everything) is paused. */
export function isPaused(state: ControlState, pool?: string): boolean {
  if (state.unreadable !== undefined || state.paused.all !== undefined) return true;
  return pool !== undefined && pool in state.paused.pools;
}
