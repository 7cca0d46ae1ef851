import { keyOfBranch } from "../branch-name.ts";
import type {
  BotPullRequest,
  ClosedBotPullRequest,
  CountChange,
  PeoplePullRequest,
  RepoState,
  StrayBranch,
} from "../forge.ts";
import { EmptyRepositoryError } from "../forge-error.ts";
import { markedChange, readPullRequestMarker, replacePullRequestMarker } from "../marker.ts";
import { byBot, type ForgeContext, type SweepResult } from "./forge-context.ts";
import { failedWith } from "./github-client.ts";
import {
  GitHubBranch,
  GitHubCommitSummaries,
  type GitHubPullRequest,
  GitHubPullRequest as GitHubPullRequestSchema,
  GitHubPullRequests,
  GitHubRefs,
  GitHubRepositoryInfo,
} from "./github-types.ts";
import { isBotCommitFor } from "./pull-request-steps.ts";

/** Open pull requests beyond this many pages (of 100) are not read. */
const MAX_PAGES = 10;
/** How many recently closed pull requests of the repository are looked through. */
const CLOSED_PAGE_SIZE = 50;

/**
 * Reads the repository's state. When nothing changed this is two conditional requests that
 * GitHub answers 304 (no rate limit): the default branch and the open pull requests. Closed pull
 * requests and bot branches change only when one of those does (a merge or close changes the
 * open list), so they are re-read only then, on the first read, or after a failed step.
 */
export async function readRepoState(context: ForgeContext): Promise<RepoState> {
  const defaultBranch = await resolveDefaultBranch(context);
  const head = await readHead(context, defaultBranch);
  const open = await listOpenPullRequests(context);
  const sweep =
    open.changed || context.memory.sweepDue || !context.memory.sweep
      ? await readSweep(context)
      : context.memory.sweep;
  context.memory.sweep = sweep;
  context.memory.sweepDue = false;
  context.memory.headSha = head.sha;

  const fullName = repositoryName(context);
  const bots = open.pulls.filter((pr) => isBotPullRequest(context, pr, fullName));
  const pullRequests = (await withoutCloseMarks(context, bots))
    .map((pr) => toBotPullRequest(pr, defaultBranch, head.sha))
    .sort((a, b) => a.number - b.number);
  return {
    defaultBranch,
    head,
    pullRequests,
    recentlyClosed: sweep.closed
      .filter((pr) => isBotPullRequest(context, pr, fullName))
      .flatMap((pr) => toClosedBotPullRequest(pr, defaultBranch))
      .sort((a, b) => b.closedAt.localeCompare(a.closedAt)),
    strayBranches: strayBranches(context, sweep, pullRequests),
    peoplePullRequests: open.pulls
      .filter((pr) => pr.base.ref === defaultBranch && !isBotPullRequest(context, pr, fullName))
      .map(
        (pr): PeoplePullRequest => ({
          number: pr.number,
          ...(pr.user?.login ? { login: pr.user.login } : {}),
          headSha: pr.head.sha,
          ...(pr.base.sha ? { baseSha: pr.base.sha } : {}),
          fork: pr.head.repo?.full_name.toLowerCase() !== fullName,
          ...(pr.draft ? { draft: true } : {}),
        }),
      )
      .sort((a, b) => a.number - b.number),
    mergedHeads: sweep.closed.flatMap((pr) =>
      pr.merged_at && pr.base.ref === defaultBranch
        ? [{ sha: pr.head.sha, mergedAt: pr.merged_at }]
        : [],
    ),
  };
}

/**
 * An open pull request whose marker says the bot closed it was reopened by people: the mark is
 * taken out (one request, only then), so that a close by people after it counts as theirs, and
 * the reopening is counted in the same request (see `closeBotPullRequest`).
 */
async function withoutCloseMarks(
  context: ForgeContext,
  pulls: readonly GitHubPullRequest[],
): Promise<GitHubPullRequest[]> {
  const result: GitHubPullRequest[] = [];
  for (const pr of pulls) {
    const marker = readPullRequestMarker(pr.body);
    if (marker?.closedBy === undefined) {
      result.push(pr);
      continue;
    }
    const { closedBy: _, ...rest } = marker;
    rest.reopened = (marker.reopened ?? 0) + 1;
    try {
      result.push(
        await context.client.call(
          `take the close mark off reopened pull request #${pr.number}`,
          "PATCH /repos/{owner}/{repo}/pulls/{pull_number}",
          { pull_number: pr.number, body: replacePullRequestMarker(pr.body ?? "", rest) },
          GitHubPullRequestSchema,
        ),
      );
    } catch {
      // The list still shows the mark: the next read tries again.
      result.push(pr);
    }
  }
  return result;
}

/** The default branch name: given, remembered, or read once. */
export async function resolveDefaultBranch(context: ForgeContext): Promise<string> {
  const known = context.defaultBranch ?? context.memory.defaultBranch;
  if (known) return known;
  const info = await context.client.call(
    "read the repository's default branch",
    "GET /repos/{owner}/{repo}",
    {},
    GitHubRepositoryInfo,
  );
  context.memory.defaultBranch = info.default_branch;
  return info.default_branch;
}

async function readHead(context: ForgeContext, branch: string): Promise<RepoState["head"]> {
  const step = `read the default branch ${branch}`;
  try {
    const answer = await context.client.conditional(
      step,
      "GET /repos/{owner}/{repo}/branches/{branch}",
      { branch },
      GitHubBranch,
    );
    return { sha: answer.data.commit.sha, treeSha: answer.data.commit.commit.tree.sha };
  } catch (error) {
    if (failedWith(error, 404) && (await isEmpty(context))) throw new EmptyRepositoryError(step);
    throw error;
  }
}

/**
 * Whether the repository has no commit at all, which GitHub's list of commits answers with 409
 * (a branch that is missing from a repository with commits is another matter: an error).
 */
async function isEmpty(context: ForgeContext): Promise<boolean> {
  try {
    await context.client.call(
      "look whether the repository is empty",
      "GET /repos/{owner}/{repo}/commits",
      { per_page: 1 },
      GitHubCommitSummaries,
    );
    return false;
  } catch (error) {
    if (failedWith(error, 409)) return true;
    throw error;
  }
}

async function listOpenPullRequests(
  context: ForgeContext,
): Promise<{ pulls: GitHubPullRequest[]; changed: boolean }> {
  const pulls: GitHubPullRequest[] = [];
  let changed = false;
  for (let page = 1; page <= MAX_PAGES; page++) {
    const answer = await context.client.conditional(
      "list open pull requests",
      "GET /repos/{owner}/{repo}/pulls",
      { state: "open", per_page: 100, ...(page > 1 ? { page } : {}) },
      GitHubPullRequests,
    );
    pulls.push(...answer.data);
    changed ||= answer.changed;
    if (!answer.hasNextPage) break;
  }
  return { pulls, changed };
}

async function readSweep(context: ForgeContext): Promise<SweepResult> {
  const closed = await context.client.conditional(
    "list recently closed pull requests",
    "GET /repos/{owner}/{repo}/pulls",
    { state: "closed", sort: "updated", direction: "desc", per_page: CLOSED_PAGE_SIZE },
    GitHubPullRequests,
  );
  const refs = await context.client.conditional(
    "list pr-autoscaler branches",
    "GET /repos/{owner}/{repo}/git/matching-refs/{ref}",
    { ref: "heads/pr-autoscaler" },
    GitHubRefs,
  );
  const branches = refs.data.flatMap((ref) => {
    const branch = ref.ref.replace(/^refs\/heads\//, "");
    return keyOfBranch(branch) ? [{ branch, sha: ref.object.sha }] : [];
  });
  return { closed: closed.data, branches };
}

function repositoryName(context: ForgeContext): string {
  const { owner, repo } = context.client.repository;
  return `${owner}/${repo}`.toLowerCase();
}

/**
 * Opened by the bot, with its head on a `pr-autoscaler/<key>` branch of this repository (a
 * fork's branch is never ours). A pull request someone else opened from such a branch, its
 * description copied from one of the bot's, marker included, is theirs.
 */
function isBotPullRequest(context: ForgeContext, pr: GitHubPullRequest, fullName: string): boolean {
  return (
    keyOfBranch(pr.head.ref) !== undefined &&
    pr.head.repo?.full_name.toLowerCase() === fullName &&
    byBot(context, pr)
  );
}

function toBotPullRequest(
  pr: GitHubPullRequest,
  defaultBranch: string,
  headSha: string,
): BotPullRequest {
  const key = keyOfBranch(pr.head.ref) ?? "";
  const body = pr.body ?? "";
  const marker = readPullRequestMarker(body);
  const handsOffReason = reasonForPeople(pr, key, defaultBranch);
  return {
    number: pr.number,
    key,
    branch: pr.head.ref,
    title: pr.title,
    body,
    url: pr.html_url,
    headSha: pr.head.sha,
    labels: pr.labels.map((label) => label.name),
    createdAt: pr.created_at,
    fingerprint: marker?.fingerprint,
    control: handsOffReason === undefined ? "bot" : "human",
    handsOffReason,
    upToDate:
      handsOffReason === undefined && pr.head.sha === marker?.sha && marker.base === headSha,
    handsOffNoticed: marker?.handsOff !== undefined,
    ...withChange(markedChange(marker)),
    ...(marker?.valuesFingerprint ? { valuesFingerprint: marker.valuesFingerprint } : {}),
    ...(marker?.changedAt ? { changedAt: marker.changedAt } : {}),
    ...(marker?.workloads ? { workloads: marker.workloads } : {}),
    ...(marker?.containers ? { containers: marker.containers } : {}),
    ...(marker?.requests ? { requests: marker.requests } : {}),
    ...(marker?.kept ? { keptNotice: marker.kept } : {}),
    ...(marker?.keptSaid ? { keptSaid: marker.keptSaid } : {}),
    ...(pr.auto_merge ? { autoMerge: true } : {}),
    ...(pr.auto_merge?.enabled_by ? { autoMergeBy: pr.auto_merge.enabled_by.login } : {}),
    ...(pr.node_id ? { nodeId: pr.node_id } : {}),
  };
}

/**
 * Why people now own the pull request, or undefined while it is still the bot's: its head is the
 * commit the marker names (or the one before, when the bot's last update stopped half-way).
 */
function reasonForPeople(
  pr: GitHubPullRequest,
  key: string,
  defaultBranch: string,
): string | undefined {
  const marker = readPullRequestMarker(pr.body);
  if (!marker || marker.key !== key) return "its description no longer carries the bot's marker";
  if (marker.handsOff !== undefined) return "people took it over earlier";
  if (pr.base.ref !== defaultBranch) return `it now targets ${pr.base.ref}`;
  if (pr.head.sha !== marker.sha && pr.head.sha !== marker.previous) {
    return `its branch has commit ${pr.head.sha.slice(0, 7)}, which pr-autoscaler did not make`;
  }
  return undefined;
}

/**
 * A closed pull request without a closing time is not usable for limits: left out. Who closed it
 * comes from its marker, which the bot's own close marks: the list says no more without a
 * request per pull request.
 */
function toClosedBotPullRequest(
  pr: GitHubPullRequest,
  defaultBranch: string,
): ClosedBotPullRequest[] {
  const closedAt = pr.closed_at ?? pr.merged_at;
  if (!closedAt) return [];
  const key = keyOfBranch(pr.head.ref) ?? "";
  const marker = readPullRequestMarker(pr.body);
  return [
    {
      number: pr.number,
      key,
      title: pr.title,
      labels: pr.labels.map((label) => label.name),
      createdAt: pr.created_at,
      closedAt,
      mergedAt: pr.merged_at ?? undefined,
      closedBy: marker?.closedBy === "bot" ? "bot" : "people",
      control: reasonForPeople(pr, key, defaultBranch) === undefined ? "bot" : "human",
      ...withChange(markedChange(marker)),
    },
  ];
}

function withChange(change: CountChange | undefined): { change?: CountChange } {
  return change ? { change } : {};
}

/** Bot branches without an open pull request; those whose head is known to be people's say so. */
function strayBranches(
  context: ForgeContext,
  sweep: SweepResult,
  open: BotPullRequest[],
): StrayBranch[] {
  const withPullRequest = new Set(open.map((pr) => pr.branch));
  return sweep.branches
    .filter(({ branch }) => !withPullRequest.has(branch))
    .map(({ branch, sha }) => {
      const key = keyOfBranch(branch) ?? "";
      const head = context.memory.commits.get(sha);
      const foreign = head !== undefined && !isBotCommitFor(head, key);
      return { key, branch, sha, ...(foreign ? { foreignHead: true as const } : {}) };
    });
}
