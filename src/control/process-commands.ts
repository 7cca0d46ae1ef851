import type { BotPullRequest, Forge, RepoState } from "../forge/forge.ts";
import type { RepoConfig } from "../policy/repo-config.ts";
import {
  applyCommand,
  type CommandEffect,
  type CommandPlace,
  type PoolsHeldByPeople,
} from "./apply-command.ts";
import { inlineCode, parseCommands, USAGE } from "./command.ts";
import type { CommandGitHub, CommentRecord } from "./command-github.ts";
import { type ControlState, emptyControlState } from "./control-state.ts";

/** Comments without commands may pile up this far behind before the recorded id moves on. */
const QUIET_LAG = 50;

export interface ProcessCommandsInput {
  github: CommandGitHub;
  /** The state as last recorded; undefined when none was ever recorded (first run). */
  state: ControlState | undefined;
  config: RepoConfig;
  repoState: RepoState;
  /** The dashboard issue, where commands are also taken. */
  dashboardNumber: number | undefined;
  forge: Pick<Forge, "closePullRequest">;
  /**
   * Called before the first comment that holds a command is taken, so commands act on the
   * latest state; it may throw to have the caller start over on a newer one.
   */
  beforeTaking?: () => Promise<void>;
  /**
   * The pools people's open pull requests hold, with why and the count each sets; asked once,
   * and only when a comment asks for a count (absent: none).
   */
  heldByPeople?: () => Promise<PoolsHeldByPeople>;
}

/** How one command comment was answered. */
export interface CommandReport {
  commentId: number;
  issueNumber: number;
  login: string;
  /** The command lines. */
  commands: string[];
  outcome: "obeyed" | "refused" | "not-allowed";
  note?: string;
}

export interface ProcessCommandsResult {
  state: ControlState;
  reports: CommandReport[];
  /** Someone asked to look again: caches are bypassed in this run. */
  recheck: boolean;
  /** Pull requests closed by `/autoscaler ignore`. */
  closed: number[];
  /** Pull requests whose hold changed (their auto-merge is looked at again now). */
  held: number[];
  /** Set when a comment could not be processed: it and later ones are retried next run. */
  error?: unknown;
}

/**
 * Takes the comments made since the last processed one, in order, on the dashboard and on the
 * bot's open pull requests, and obeys the commands of people with write access. Each comment is
 * acknowledged once: a 👍 reaction when obeyed (GitHub keeps one reaction per person and kind),
 * or one reply saying why not (a reply already there for that comment is not repeated). Comments
 * of bots, the app's own included, are never obeyed or answered.
 */
export async function processCommands(input: ProcessCommandsInput): Promise<ProcessCommandsResult> {
  const after = input.state?.lastComment ?? 0;
  const { comments, newest } = await input.github.newComments(after);
  const result: ProcessCommandsResult = {
    state: input.state ?? emptyControlState(newest ?? 0),
    reports: [],
    recheck: false,
    closed: [],
    held: [],
  };
  // The first run starts from now: comments written before the bot kept any state are history.
  if (!input.state) return result;
  if (input.beforeTaking && comments.some((comment) => holdsCommand(input, comment)))
    await input.beforeTaking();
  const permissions = new Map<string, { allowed: boolean; permission: string }>();
  const taking = { ...input, heldByPeople: once(input.heldByPeople) };
  for (const comment of comments) {
    try {
      await processComment(taking, comment, result, permissions);
    } catch (error) {
      result.error = error;
      return result;
    }
    result.state = { ...result.state, lastComment: Math.max(result.state.lastComment, comment.id) };
  }
  if (result.reports.length === 0 && comments.length < QUIET_LAG) {
    // Only other talk (the bot's own comments among it): keeping the recorded id saves a
    // dashboard write; those comments are read again next time and skipped again, for free.
    return { ...result, state: { ...result.state, lastComment: input.state.lastComment } };
  }
  if (newest !== undefined)
    result.state = { ...result.state, lastComment: Math.max(result.state.lastComment, newest) };
  return result;
}

/**
 * `read` asked at most once. What cannot be read holds nothing here: the reply then says nothing
 * of it, and the plan still holds the pool.
 */
function once(
  read: (() => Promise<PoolsHeldByPeople>) | undefined,
): () => Promise<PoolsHeldByPeople> {
  let held: Promise<PoolsHeldByPeople> | undefined;
  const none = (): PoolsHeldByPeople => ({ held: new Map(), counts: new Map() });
  return () => {
    held ??= (read?.() ?? Promise.resolve(none())).catch(none);
    return held;
  };
}

async function processComment(
  input: ProcessCommandsInput,
  comment: CommentRecord,
  result: ProcessCommandsResult,
  permissions: Map<string, { allowed: boolean; permission: string }>,
): Promise<void> {
  if (comment.isBot) return;
  const place = placeOf(input, comment.issueNumber);
  if (!place) return;
  const lines = parseCommands(comment.body);
  if (lines.length === 0) return;
  const report: CommandReport = {
    commentId: comment.id,
    issueNumber: comment.issueNumber,
    login: comment.login,
    commands: lines.map((line) => line.text),
    outcome: "obeyed",
  };
  let access = permissions.get(comment.login);
  if (!access) {
    access = await input.github.permission(comment.login);
    permissions.set(comment.login, access);
  }
  if (!access.allowed) {
    const note = `Thank you, @${comment.login}. pr-autoscaler takes commands only from people with write access to this repository (yours: ${access.permission}), so it leaves this one alone.`;
    await input.github.reply(comment, note);
    result.reports.push({ ...report, outcome: "not-allowed", note });
    return;
  }
  const replies: string[] = [];
  const obeyed: string[] = [];
  let refused = false;
  for (const line of lines) {
    if (!line.ok) {
      refused = true;
      replies.push(`${inlineCode(line.text)}: ${line.problem}.`);
      continue;
    }
    const held =
      line.command.verb === "scale" && line.command.count !== "auto"
        ? await input.heldByPeople?.()
        : undefined;
    const outcome = applyCommand(result.state, line.command, {
      config: input.config,
      place,
      by: comment.login,
      at: comment.createdAt,
      ...(held ? { heldByPeople: held } : {}),
    });
    result.state = outcome.state;
    if (!outcome.ok) refused = true;
    else if (line.command.verb !== "help") obeyed.push(line.text);
    // Among several commands, a refusal names the line it answers.
    const named = !outcome.ok && lines.length > 1;
    if (outcome.reply)
      replies.push(named ? `${inlineCode(line.text)}: ${outcome.reply}` : outcome.reply);
    for (const effect of outcome.effects) await runEffect(input, effect, result);
  }
  // One list of the commands after every line that could not be read, however many there were,
  // unless the comment asked for it.
  const helped = lines.some((line) => line.ok && line.command.verb === "help");
  if (lines.some((line) => !line.ok) && !helped) replies.push(USAGE);
  // No 👍 when something was refused: the reply says what was done all the same.
  if (refused && obeyed.length > 0)
    replies.unshift(`Done: ${obeyed.map((text) => inlineCode(text)).join(", ")}. Not done:`);
  if (replies.length > 0)
    await input.github.reply(comment, `@${comment.login} ${replies.join("\n\n")}`);
  if (!refused) await input.github.react(comment.id, "+1");
  result.reports.push({
    ...report,
    outcome: refused ? "refused" : "obeyed",
    ...(replies.length > 0 ? { note: replies.join("\n\n") } : {}),
  });
}

/** Whether the comment is one the commands act on (which may write). */
function holdsCommand(input: ProcessCommandsInput, comment: CommentRecord): boolean {
  return (
    !comment.isBot &&
    placeOf(input, comment.issueNumber) !== undefined &&
    parseCommands(comment.body).length > 0
  );
}

function placeOf(input: ProcessCommandsInput, issueNumber: number): CommandPlace | undefined {
  if (issueNumber === input.dashboardNumber) return { kind: "dashboard" };
  const pr = input.repoState.pullRequests.find(
    (open: BotPullRequest) => open.number === issueNumber,
  );
  if (pr) return { kind: "pull-request", pr };
  // Closed since the comment was written (commands are looked for every few minutes without
  // webhooks): its commands are still answered, not dropped unseen.
  const closed = input.repoState.recentlyClosed.find((entry) => entry.number === issueNumber);
  return closed ? { kind: "closed-pull-request", pr: closed } : undefined;
}

async function runEffect(
  input: ProcessCommandsInput,
  effect: CommandEffect,
  result: ProcessCommandsResult,
): Promise<void> {
  switch (effect.kind) {
    case "recheck":
      result.recheck = true;
      return;
    case "hold": {
      const { pr } = effect;
      await input.github.setHold(pr.number, effect.on);
      // The merge step turns auto-merge off for a hold on the bot's pull requests; one people
      // took over it no longer looks at, and GitHub's auto-merge would merge it held or not.
      if (effect.on && pr.control === "human" && pr.autoMerge && pr.nodeId)
        await input.github.turnOffAutoMerge(pr.nodeId);
      result.held.push(pr.number);
      return;
    }
    case "close":
      if (result.closed.includes(effect.pr.number)) return;
      await input.forge.closePullRequest(effect.pr, effect.reason, input.repoState);
      result.closed.push(effect.pr.number);
      return;
  }
}
