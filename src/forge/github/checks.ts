import { createHash } from "node:crypto";
import type { CheckAnnotation, CheckReport, CommitStatusReport, ReportResult } from "../forge.ts";
import type { ForgeContext } from "./forge-context.ts";
import { GitHubCheckRun, GitHubCheckRuns, GitHubCombinedStatus } from "./github-types.ts";

/** GitHub takes at most 50 annotations per request; more are added by updating the run. */
const ANNOTATIONS_PER_REQUEST = 50;
const MAX_SUMMARY = 65_535;
const MAX_STATUS_DESCRIPTION = 140;

/**
 * Reports a completed check run with file:line annotations. The report's digest is stored as the
 * run's external id, so the same report on the same commit is not posted twice. A changed report
 * is a new run (GitHub shows the latest per name; updating a run would append annotations).
 */
export async function reportCheckRun(
  context: ForgeContext,
  check: CheckReport,
): Promise<ReportResult> {
  const digest = reportDigest(check);
  const existing = await context.client.call(
    `read check runs of ${check.headSha.slice(0, 7)}`,
    "GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
    { ref: check.headSha, check_name: check.name, filter: "latest" },
    GitHubCheckRuns,
  );
  const same = existing.check_runs.some(
    (run) => run.status === "completed" && run.external_id === digest,
  );
  if (same) return { action: "unchanged" };
  const batches = chunk(check.annotations.map(toGitHubAnnotation), ANNOTATIONS_PER_REQUEST);
  const output = (annotations: unknown[]) => ({
    title: check.title,
    summary: check.summary.slice(0, MAX_SUMMARY),
    annotations,
  });
  const run = await context.client.call(
    `create check run ${check.name}`,
    "POST /repos/{owner}/{repo}/check-runs",
    {
      name: check.name,
      head_sha: check.headSha,
      status: "completed",
      conclusion: check.conclusion,
      external_id: digest,
      output: output(batches[0] ?? []),
    },
    GitHubCheckRun,
  );
  for (const batch of batches.slice(1)) {
    await context.client.call(
      `add annotations to check run ${check.name}`,
      "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
      { check_run_id: run.id, output: output(batch) },
      GitHubCheckRun,
    );
  }
  return { action: "created" };
}

/** Sets a commit status unless the latest one for its context already says the same. */
export async function reportCommitStatus(
  context: ForgeContext,
  status: CommitStatusReport,
): Promise<ReportResult> {
  const description = status.description.slice(0, MAX_STATUS_DESCRIPTION);
  const combined = await context.client.call(
    `read statuses of ${status.sha.slice(0, 7)}`,
    "GET /repos/{owner}/{repo}/commits/{ref}/status",
    { ref: status.sha },
    GitHubCombinedStatus,
  );
  const latest = combined.statuses.find((item) => item.context === status.context);
  const same =
    latest?.state === status.state &&
    latest.description === description &&
    (latest.target_url ?? undefined) === status.targetUrl;
  if (same) return { action: "unchanged" };
  await context.client.send(
    `set status ${status.context}`,
    "POST /repos/{owner}/{repo}/statuses/{sha}",
    {
      sha: status.sha,
      state: status.state,
      context: status.context,
      description,
      ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
    },
  );
  return { action: "created" };
}

function toGitHubAnnotation(annotation: CheckAnnotation) {
  return {
    path: annotation.path,
    start_line: annotation.startLine,
    end_line: annotation.endLine ?? annotation.startLine,
    annotation_level: annotation.level,
    message: annotation.message,
    ...(annotation.title ? { title: annotation.title } : {}),
  };
}

function reportDigest(check: CheckReport): string {
  const content = JSON.stringify([check.conclusion, check.title, check.summary, check.annotations]);
  return `pr-autoscaler:${createHash("sha256").update(content).digest("hex").slice(0, 32)}`;
}

function chunk<T>(items: T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    batches.push(items.slice(start, start + size));
  }
  return batches;
}
