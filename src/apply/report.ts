import { postNotification } from "../app/notify.ts";
import { commentTag, hasCommentTag, MAX_BODY_LENGTH } from "../forge/marker.ts";
import {
  type ApplyReportInput,
  applyCommentKey,
  applyStartedStatus,
  renderApplyReport,
} from "./report-apply.ts";
import type { ReportGitHub } from "./report-github.ts";
import { type PlanReportInput, planCommentKey, renderPlanReport } from "./report-plan.ts";
import { redactSecrets, redactStrings } from "./report-redact.ts";
import type { CommitStatus, RenderedReport } from "./report-vms.ts";

/** What one comment upsert did. */
export interface CommentResult {
  pr: number;
  action: "created" | "updated" | "unchanged";
  id: number;
  url: string;
}

/** Everything a report did on GitHub, for the command's output. */
export interface ReportResult {
  comments: CommentResult[];
  status: { sha: string; state: CommitStatus["state"]; context: string };
  /** Said when the report could not comment (no pull request for the commit). */
  note: string | undefined;
  /** How telling the chat went (NOTIFY_WEBHOOK_URL); undefined when none is set. */
  notification?: string;
}

const PLAN_TAG = "plan-guard";
const APPLY_TAG = "apply-result";
const SHORTENED = "\n\n… (shortened: the full report is longer than GitHub allows)";

/** A rendered report ready to send: secrets removed, the hidden marker appended. */
export interface PreparedReport {
  body: string;
  status: CommitStatus;
}

/** The plan report as it will be posted. */
export function preparePlanReport(
  input: PlanReportInput,
  env: Record<string, string | undefined>,
): PreparedReport {
  const tag = commentTag(PLAN_TAG, planCommentKey(input.pool));
  return prepare(renderPlanReport(redactStrings(input, env)), tag, env);
}

/** The apply report as it will be posted. */
export function prepareApplyReport(
  input: ApplyReportInput,
  env: Record<string, string | undefined>,
): PreparedReport {
  const tag = commentTag(APPLY_TAG, applyCommentKey(input.pool, input.sha));
  return prepare(renderApplyReport(redactStrings(input, env)), tag, env);
}

/**
 * The rendered report, redacted again and fitted to GitHub's limit. Its input was redacted before
 * rendering, because rendering cuts text (the log to its last lines, the status description to
 * 140 characters), and a secret cut in half is no longer found; the second pass catches a secret
 * that only the rendered whole shows.
 */
function prepare(
  rendered: RenderedReport,
  tag: string,
  env: Record<string, string | undefined>,
): PreparedReport {
  const body = redactSecrets(rendered.body, env);
  const room = MAX_BODY_LENGTH - tag.length - 2;
  const fitted = body.length > room ? body.slice(0, room - SHORTENED.length) + SHORTENED : body;
  const description = redactSecrets(rendered.status.description, env);
  return { body: `${fitted}\n\n${tag}`, status: { ...rendered.status, description } };
}

/**
 * Posts the plan guard's result on a pull request: updates the one comment with this pool's
 * marker (or creates it), then sets the commit status on the pull request's head.
 */
export async function reportPlan(
  github: ReportGitHub,
  pr: number,
  input: PlanReportInput,
  env: Record<string, string | undefined>,
): Promise<ReportResult> {
  const report = preparePlanReport(input, env);
  const key = planCommentKey(input.pool);
  const comment = await upsertComment(github, pr, report.body, (body) =>
    hasCommentTag(body, PLAN_TAG, key),
  );
  await github.setStatus(input.sha, report.status);
  return {
    comments: [comment],
    status: { sha: input.sha, state: report.status.state, context: report.status.context },
    note: undefined,
  };
}

/**
 * Posts the apply result: a comment on the merged pull request(s) of the commit (one per commit
 * and pool, updated when the workflow is re-run) and the commit status of the merged commit.
 * `pr` overrides the lookup.
 */
export async function reportApply(
  github: ReportGitHub,
  pr: number | undefined,
  input: ApplyReportInput,
  env: Record<string, string | undefined>,
): Promise<ReportResult> {
  const report = prepareApplyReport(input, env);
  const key = applyCommentKey(input.pool, input.sha);
  const pulls = pr === undefined ? await github.mergedPullRequests(input.sha) : [pr];
  const comments: CommentResult[] = [];
  for (const number of pulls) {
    comments.push(
      await upsertComment(github, number, report.body, (body) =>
        hasCommentTag(body, APPLY_TAG, key),
      ),
    );
  }
  await github.setStatus(input.sha, report.status);
  const notification = await notifyApply(github, input, report.status, comments, env);
  return {
    comments,
    status: { sha: input.sha, state: report.status.state, context: report.status.context },
    note:
      pulls.length === 0
        ? `no merged pull request brought ${input.sha.slice(0, 12)}: the result is only in the commit status`
        : undefined,
    ...(notification === undefined ? {} : { notification }),
  };
}

/**
 * Tells the chat behind NOTIFY_WEBHOOK_URL (a Slack-compatible incoming webhook) that the
 * merged change was applied, or that applying it failed or was cancelled, in one line with a
 * link to the pull request's comment (else the run). A failed delivery is said, never an
 * error: the report itself is done. The URL is a secret and is never printed.
 */
async function notifyApply(
  github: ReportGitHub,
  input: ApplyReportInput,
  status: CommitStatus,
  comments: CommentResult[],
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  const url = env.NOTIFY_WEBHOOK_URL?.trim();
  if (!url) return undefined;
  const { owner, repo } = github.repository;
  const what =
    status.state === "success"
      ? "apply done"
      : input.cancelled
        ? "apply cancelled"
        : "apply failed";
  const link = comments[0]?.url ?? input.runUrl;
  const text = [
    `${owner}/${repo}: ${what}${input.pool ? ` (pool ${input.pool})` : ""}: ${status.description}`,
    `(${input.sha.slice(0, 7)})`,
    link,
  ]
    .filter((part) => part !== undefined)
    .join(" ");
  try {
    await postNotification(url, redactSecrets(text, env));
    return "told the chat (NOTIFY_WEBHOOK_URL)";
  } catch (error) {
    return `could not tell the chat: ${(error as Error).message}`;
  }
}

/** Marks the merged commit as being applied (a pending status); comments come at the end. */
export async function reportApplyStarted(
  github: ReportGitHub,
  sha: string,
  context: string,
  runUrl: string | undefined,
): Promise<ReportResult> {
  const status = applyStartedStatus(context, runUrl);
  await github.setStatus(sha, status);
  return { comments: [], status: { sha, state: status.state, context }, note: undefined };
}

async function upsertComment(
  github: ReportGitHub,
  pr: number,
  body: string,
  isOurs: (body: string) => boolean,
): Promise<CommentResult> {
  const existing = await github.findOwnComment(pr, isOurs);
  if (!existing) {
    const created = await github.createComment(pr, body);
    return { pr, action: "created", ...created };
  }
  if (existing.body === body) {
    return { pr, action: "unchanged", id: existing.id, url: existing.url };
  }
  const updated = await github.updateComment(existing.id, body);
  return { pr, action: "updated", ...updated };
}
