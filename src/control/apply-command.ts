import type { BotPullRequest, ClosedBotPullRequest } from "../forge/forge.ts";
import type { RepoConfig } from "../policy/repo-config.ts";
import { type Command, USAGE } from "./command.ts";
import { type ControlState, isPaused } from "./control-state.ts";

/**
 * Where a command was written: the dashboard, one of the bot's open pull requests, or one of
 * its recently closed ones (closed, say, between the comment and the look for it).
 */
export type CommandPlace =
  | { kind: "dashboard" }
  | { kind: "pull-request"; pr: BotPullRequest }
  | { kind: "closed-pull-request"; pr: ClosedBotPullRequest };

/** The pools people's open pull requests hold (`poolsHeldByPeople`). */
export interface PoolsHeldByPeople {
  /** Pool → why it is held ("#12 by alice changes worker_count 3 → 5; …"). */
  held: ReadonlyMap<string, string>;
  /** Pool → the count the holding pull request sets. */
  counts: ReadonlyMap<string, number>;
}

export interface CommandContext {
  config: RepoConfig;
  place: CommandPlace;
  /** The commenter's login. */
  by: string;
  /** When the comment was made (ISO). */
  at: string;
  /**
   * Pools a person's open pull request holds, with why (`poolsHeldByPeople`): a count asked for
   * waits for it like any other, and the reply says so (absent: none known).
   */
  heldByPeople?: PoolsHeldByPeople;
}

/** What a command does besides changing the state. */
export type CommandEffect =
  | { kind: "recheck" }
  | { kind: "hold"; on: boolean; pr: BotPullRequest }
  | { kind: "close"; pr: BotPullRequest; reason: string };

export interface CommandOutcome {
  state: ControlState;
  effects: CommandEffect[];
  /** False when the command could not be obeyed: `reply` says why. */
  ok: boolean;
  /** Text for a reply (a refusal, help, or what an obeyed command does not change). */
  reply?: string;
}

/**
 * Applies one command to the state. Pure, and idempotent: every command sets a value rather
 * than toggling one, so a command applied twice (two replicas, a retried run) ends the same.
 */
export function applyCommand(
  state: ControlState,
  command: Command,
  context: CommandContext,
): CommandOutcome {
  const done = (next: ControlState, effects: CommandEffect[] = []): CommandOutcome => ({
    state: next,
    effects,
    ok: true,
  });
  const refuse = (reply: string): CommandOutcome => ({ state, effects: [], ok: false, reply });
  const record = { by: context.by, at: context.at };
  switch (command.verb) {
    case "pause":
    case "resume": {
      const problem = unknownPool(command.pool, context.config);
      if (problem) return refuse(problem);
      if (command.verb === "pause") return done(pause(state, command.pool, record));
      const resumed = done(resume(state, command.pool));
      const reply = resumeReply(state, command.pool);
      return reply ? { ...resumed, reply } : resumed;
    }
    case "scale":
      return scale(state, command, context, record, refuse, done);
    case "recheck":
      return done(state, [{ kind: "recheck" }]);
    case "ignore":
    case "hold":
    case "unhold": {
      const { place } = context;
      if (place.kind === "closed-pull-request")
        return onClosed(state, command.verb, place.pr, record, refuse, done);
      const pr = place.kind === "pull-request" ? place.pr : undefined;
      return command.verb === "ignore"
        ? ignore(state, pr, record, refuse, done)
        : hold(state, pr, command.verb === "hold", refuse, done);
    }
    case "help":
      return { state, effects: [], ok: true, reply: `pr-autoscaler understands:\n\n${USAGE}` };
  }
}

/**
 * A pull request command on a closed one: `ignore` of a right-sizing change closed without
 * merging keeps it from being proposed again (people may close first and ignore after, and a
 * command taken again after a restart finds the pull request it closed); the rest is refused.
 */
function onClosed(
  state: ControlState,
  verb: "ignore" | "hold" | "unhold",
  pr: ClosedBotPullRequest,
  record: { by: string; at: string },
  refuse: (reply: string) => CommandOutcome,
  done: (next: ControlState) => CommandOutcome,
): CommandOutcome {
  const merged = pr.mergedAt !== undefined;
  if (verb === "ignore" && !merged && pr.key.startsWith("resources"))
    return done({ ...state, ignored: { ...state.ignored, [pr.key]: record } });
  return refuse(
    `#${pr.number} is ${merged ? "merged" : "closed"}: \`/autoscaler ${verb}\` works on an open pull request of pr-autoscaler.`,
  );
}

function ignore(
  state: ControlState,
  pr: BotPullRequest | undefined,
  record: { by: string; at: string },
  refuse: (reply: string) => CommandOutcome,
  done: (next: ControlState, effects?: CommandEffect[]) => CommandOutcome,
): CommandOutcome {
  if (!pr?.key.startsWith("resources"))
    return refuse("`/autoscaler ignore` works on a right-sizing pull request of pr-autoscaler.");
  if (pr.control === "human")
    return refuse(
      "People took this pull request over: pr-autoscaler leaves it to them and does not close it. Close it yourself; should pr-autoscaler propose the change again, `/autoscaler ignore` on that pull request keeps it away.",
    );
  const next = { ...state, ignored: { ...state.ignored, [pr.key]: record } };
  const reason = `@${record.by} asked to ignore this change: it is not proposed again until the recommendation moves by more than the tolerance.`;
  return done(next, [{ kind: "close", pr, reason }]);
}

function hold(
  state: ControlState,
  pr: BotPullRequest | undefined,
  on: boolean,
  refuse: (reply: string) => CommandOutcome,
  done: (next: ControlState, effects?: CommandEffect[]) => CommandOutcome,
): CommandOutcome {
  const verb = on ? "hold" : "unhold";
  if (!pr) return refuse(`\`/autoscaler ${verb}\` works on a pull request of pr-autoscaler.`);
  const held = done(state, [{ kind: "hold", on, pr }]);
  if (pr.control !== "human") return held;
  // pr-autoscaler no longer merges it, but GitHub's auto-merge may: a hold turns that off.
  const reply = on
    ? "People took this pull request over: pr-autoscaler does not merge it. Held: the label is on, and GitHub's auto-merge is off."
    : "People took this pull request over: pr-autoscaler does not merge it, people do. The hold label is off.";
  return { ...held, reply };
}

function unknownPool(pool: string | undefined, config: RepoConfig): string | undefined {
  if (pool === undefined || config.pools.some((p) => p.name === pool)) return undefined;
  const names = config.pools.map((p) => `\`${p.name}\``).join(", ") || "none";
  return `There is no pool named \`${pool}\` in .github/pr-autoscaler.yml (pools: ${names}).`;
}

function pause(
  state: ControlState,
  pool: string | undefined,
  record: { by: string; at: string },
): ControlState {
  if (pool === undefined) return { ...state, paused: { ...state.paused, all: record } };
  if (state.paused.pools[pool]) return state;
  return {
    ...state,
    paused: { ...state.paused, pools: { ...state.paused.pools, [pool]: record } },
  };
}

function resume(state: ControlState, pool: string | undefined): ControlState {
  if (pool === undefined) {
    // A state that could not be read is written anew from here on.
    const { unreadable: _, ...readable } = state;
    return { ...readable, paused: { pools: {} } };
  }
  const { [pool]: _, ...pools } = state.paused.pools;
  return { ...state, paused: { ...state.paused, pools } };
}

/** What a resume changes less (or more) than it may seem to, when it does. */
function resumeReply(state: ControlState, pool: string | undefined): string | undefined {
  // `resume POOL` lifts the pool's own pause, not a pause of everything.
  if (pool !== undefined) {
    if (state.unreadable)
      return "Everything is still paused, because the command state of the dashboard could not be read: `/autoscaler resume` lifts that.";
    const all = state.paused.all;
    return all && `Everything is still paused (by @${all.by}): \`/autoscaler resume\` lifts that.`;
  }
  if (!state.unreadable) return undefined;
  return `The command state of the dashboard could not be read (${state.unreadable.problem}): it is written anew now, and the pauses, requested counts, ignored changes and "no"s it held are forgotten. Give again the commands that should stand.`;
}

function scale(
  state: ControlState,
  command: Extract<Command, { verb: "scale" }>,
  context: CommandContext,
  record: { by: string; at: string },
  refuse: (reply: string) => CommandOutcome,
  done: (next: ControlState) => CommandOutcome,
): CommandOutcome {
  const problem = unknownPool(command.pool, context.config);
  if (problem) return refuse(problem);
  const { [command.pool]: _, ...others } = state.scale;
  if (command.count === "auto") return done({ ...state, scale: others });
  const pool = context.config.pools.find((p) => p.name === command.pool);
  if (pool && (command.count < pool.min || command.count > pool.max))
    return refuse(
      `Pool \`${pool.name}\` may have ${pool.min} to ${pool.max} nodes (min and max in .github/pr-autoscaler.yml); ${command.count} is outside.`,
    );
  const next = {
    ...state,
    scale: { ...others, [command.pool]: { ...record, count: command.count } },
  };
  const resume =
    state.paused.all || state.unreadable
      ? "/autoscaler resume"
      : `/autoscaler resume ${command.pool}`;
  const paused = isPaused(state, command.pool)
    ? `${command.pool} is paused: the ${command.count} nodes asked for are proposed after \`${resume}\`.`
    : undefined;
  const people = context.heldByPeople?.held.get(command.pool);
  // A person's pull request is a change already under review: a second one from the bot would
  // only compete with it, so the count asked for waits, and the reply names what it waits for.
  // When it sets that very count, merging it is what brings the nodes.
  const theirs = context.heldByPeople?.counts.get(command.pool);
  const held =
    people === undefined
      ? undefined
      : theirs === command.count
        ? `${command.pool} is held by a person's pull request (${people}), which already sets the ${command.count} nodes asked for: they come once it is merged, and are proposed if it is closed unmerged.`
        : `${command.pool} is held by a person's pull request (${people}): the ${command.count} nodes asked for are proposed once it is merged or closed.`;
  const waits = [paused, held].filter((text) => text !== undefined).join("\n\n") || undefined;
  const standing = state.rejected[command.pool];
  if (!standing) return waits ? { ...done(next), reply: waits } : done(next);
  // A person said yes to the pool: the "no" goes, so that once the request is done or
  // cancelled the planner owns the pool's pull request again.
  const { [command.pool]: _no, ...rejected } = state.rejected;
  const dropped = `The "no" to ${command.pool} ${standing.from} → ${standing.to} (#${standing.number}, closed without merging) is dropped: ${command.count} nodes are proposed as asked, and after \`/autoscaler scale ${command.pool}=auto\` the planner proposes what it wants.`;
  return {
    ...done({ ...next, rejected }),
    reply: waits ? `${dropped}\n\n${waits}` : dropped,
  };
}
