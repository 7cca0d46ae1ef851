import type { DesiredIssue, IssueResult } from "../forge.ts";
import { type IssueMarker, readIssueMarker, withIssueMarker } from "../marker.ts";
import type { ForgeContext } from "./forge-context.ts";
import { GitHubIssue, GitHubIssues } from "./github-types.ts";

const MAX_PAGES = 5;

/**
 * Keeps one issue per key, found again by the issue label and a hidden marker. It is updated in
 * place only when its title or body changed: an unchanged issue costs the (conditional) list
 * read alone. An issue people closed stays closed until its text changes. Duplicates (two
 * replicas creating at once) are closed in favour of the oldest, when found and right after
 * creating one: GitHub cannot create an issue only if none exists, so the creator looks again.
 */
export async function ensureBotIssue(
  context: ForgeContext,
  desired: DesiredIssue,
): Promise<IssueResult> {
  const issue = await oldestClosingOthers(context, desired.key);
  const wantOpen = desired.open ?? true;
  if (issue) return converge(context, issue, desired);
  if (!wantOpen) return { action: "absent" };
  const created = await context.client.call(
    `open issue ${desired.key}`,
    "POST /repos/{owner}/{repo}/issues",
    {
      title: desired.title.trim(),
      body: withIssueMarker(desired.body, markerOf(desired)),
      labels: [context.issueLabel],
    },
    GitHubIssue,
  );
  // Of two created at once, both creators keep the older. The list may not show this run's own
  // issue yet: it counts as listed, else a creator that sees only the other's newer issue would
  // keep that one while the other keeps this. The kept one's text may differ from this run's.
  const kept = await oldestClosingOthers(context, desired.key, created);
  if (!kept || kept.number === created.number) return { action: "created", number: created.number };
  return converge(context, kept, desired);
}

/** The oldest issue for `key` (with `created` among them), after closing the others as duplicates. */
async function oldestClosingOthers(
  context: ForgeContext,
  key: string,
  created?: GitHubIssue,
): Promise<GitHubIssue | undefined> {
  const found = await findIssues(context, key);
  if (created && !found.some((issue) => issue.number === created.number)) found.push(created);
  const [issue, ...duplicates] = found.sort((a, b) => a.number - b.number);
  for (const duplicate of duplicates) await closeDuplicate(context, duplicate, issue);
  return issue;
}

/** Updates the issue when its text or state is not the wanted one. */
async function converge(
  context: ForgeContext,
  issue: GitHubIssue,
  desired: DesiredIssue,
): Promise<IssueResult> {
  const wantOpen = desired.open ?? true;
  // GitHub trims titles; comparing untrimmed ones would update the issue on every run.
  const title = desired.title.trim();
  const body = withIssueMarker(desired.body, markerOf(desired));
  const sameText = issue.title === title && (issue.body ?? "") === body;
  const unchanged = wantOpen ? sameText : issue.state === "closed";
  if (unchanged) return { action: "unchanged", number: issue.number };
  await context.client.call(
    `update issue #${issue.number}`,
    "PATCH /repos/{owner}/{repo}/issues/{issue_number}",
    {
      issue_number: issue.number,
      title,
      body,
      state: wantOpen ? "open" : "closed",
    },
    GitHubIssue,
  );
  return { action: "updated", number: issue.number };
}

function markerOf(desired: DesiredIssue): IssueMarker {
  return desired.lastComment === undefined
    ? { key: desired.key }
    : { key: desired.key, lastComment: desired.lastComment };
}

/** The bot's issues for `key` (pull requests, which the issues API also lists, skipped). */
async function findIssues(context: ForgeContext, key: string): Promise<GitHubIssue[]> {
  const found: GitHubIssue[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const answer = await context.client.conditional(
      "list pr-autoscaler issues",
      "GET /repos/{owner}/{repo}/issues",
      {
        labels: context.issueLabel,
        state: "all",
        sort: "created",
        direction: "asc",
        per_page: 100,
        ...(page > 1 ? { page } : {}),
      },
      GitHubIssues,
    );
    found.push(
      ...answer.data.filter(
        (issue) => issue.pull_request === undefined && readIssueMarker(issue.body)?.key === key,
      ),
    );
    if (!answer.hasNextPage) break;
  }
  return found;
}

async function closeDuplicate(
  context: ForgeContext,
  duplicate: GitHubIssue,
  kept: GitHubIssue | undefined,
) {
  if (duplicate.state === "closed" || !kept) return;
  await context.client.call(
    `close duplicate issue #${duplicate.number}`,
    "PATCH /repos/{owner}/{repo}/issues/{issue_number}",
    { issue_number: duplicate.number, state: "closed", state_reason: "duplicate" },
    GitHubIssue,
  );
}
