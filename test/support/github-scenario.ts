/**
 * The infra repository the forge scenarios run against: a terraform.tfvars with a worker count,
 * the bot's pull request for it, and the forge under test on the checked GitHub mock.
 */
import { createGitHubForge } from "../../src/forge/github/github-forge.ts";
import { type PullRequestMarker, withPullRequestMarker } from "../../src/forge/marker.ts";
import { KEY, LABELS, TFVARS, tfvars } from "../forge/workers-plan.ts";
import { type GitHubMock, testOctokit } from "./github.ts";
import { comparison, gitBlobSha, OWNER, pullRequest, REPO, sha } from "./github-responses.ts";
import { githubSteps } from "./github-steps.ts";

export { KEY, LABELS, scaleWorkers, TFVARS, tfvars } from "../forge/workers-plan.ts";
export const BRANCH = `pr-autoscaler/${KEY}`;

export const HEAD1 = sha("head1");
export const TREE1 = sha("tree1");
export const HEAD2 = sha("head2");
export const TREE2 = sha("tree2");
/** The bot's commits on its branch: the first one, and the one an update writes. */
export const C1 = sha("commit1");
export const C2 = sha("commit2");
/** The tree of the commit the forge writes. */
export const NEW_TREE = sha("newtree");

export interface BotPullFields {
  number: number;
  headSha: string;
  marker: Omit<PullRequestMarker, "key"> & { key?: string };
  title?: string;
  labels?: string[];
  createdAt?: string;
  text?: string;
}

/** An open pull request of the bot, as the list endpoint returns it. */
export function botPull(fields: BotPullFields): object {
  return pullRequest({
    number: fields.number,
    branch: BRANCH,
    headSha: fields.headSha,
    title: fields.title ?? "Scale worker nodes to 4",
    labels: fields.labels ?? LABELS,
    ...(fields.createdAt ? { createdAt: fields.createdAt } : {}),
    body: withPullRequestMarker(fields.text ?? "Pods are waiting for room.", {
      key: KEY,
      ...fields.marker,
    }),
  });
}

export function newForge() {
  return createGitHubForge({
    octokit: testOctokit(),
    owner: OWNER,
    repo: REPO,
    defaultBranch: "main",
  });
}

export type GitHubSteps = ReturnType<typeof githubSteps>;

export interface ForgeStateOptions {
  /** The default branch's head commit and its tree (HEAD1 and TREE1 by default). */
  head?: [string, string];
  /** The open pull requests (none by default). */
  pulls?: object[];
  /** The bot's branches (none by default). */
  branches?: { name: string; sha: string }[];
  /** The forge that reads the state (a new one by default). */
  forge?: ReturnType<typeof newForge>;
}

/**
 * A forge that has read the state: the default branch at `head`, these open pull requests and
 * branches, no closed pull request. The mock's record of requests starts empty after it.
 */
export async function forgeWithState(github: GitHubMock, options: ForgeStateOptions = {}) {
  const steps = githubSteps(github);
  const [head, tree] = options.head ?? [HEAD1, TREE1];
  steps.defaultBranch(head, tree, `"b-${head}"`);
  steps.openPulls(options.pulls ?? [], '"p1"');
  steps.closedPulls([]);
  steps.botBranches(options.branches ?? []);
  const forge = options.forge ?? newForge();
  const state = await forge.readState();
  github.reset();
  return { forge, state, steps };
}

/**
 * The requests that build the plan's commit on `head`: read the tfvars (as `file`), write the
 * tree, write the commit `commit`.
 */
export function buildsCommit(steps: GitHubSteps, commit: string, head = HEAD1, file = tfvars(3)) {
  steps.file(TFVARS, head, file);
  writesCommit(steps, commit, head);
}

/**
 * The requests that move pull request #7 from the bot's commit C1 to `commit`: read its branch
 * (just before, so that a person's push is not overwritten), update it, move the branch.
 */
export function updatesPull(steps: GitHubSteps, commit: string): void {
  steps.readRef(BRANCH, C1);
  steps.updatePull({ number: 7, branch: BRANCH, headSha: C1, body: "" });
  steps.moveRef(BRANCH, commit);
}

/**
 * The requests a forge that did not make the bot's commit `head` sends to check it, once: the
 * comparison with the default branch's head `base` (one commit on `parent`, a commit of the
 * default branch, that writes `file` to the tfvars) and the tfvars at the parent (`before`);
 * with `readsHead`, the tfvars at the head too (it holds other values than the plan's).
 */
export function checksHead(
  steps: GitHubSteps,
  options: {
    base?: string;
    head?: string;
    parent?: string;
    file?: string;
    before?: string;
    readsHead?: boolean;
  } = {},
): void {
  const { head = C1, parent = HEAD1, file = tfvars(4) } = options;
  comparesHead(steps, options);
  steps.file(TFVARS, parent, options.before ?? tfvars(3));
  if (options.readsHead) steps.file(TFVARS, head, file);
}

/**
 * GitHub's comparison of the default branch's head `base` with the bot's branch at `head`: one
 * commit on `parent` (a commit of the default branch) that writes `file` to the tfvars.
 */
export function comparesHead(
  steps: GitHubSteps,
  options: { base?: string; head?: string; parent?: string; file?: string } = {},
): void {
  const { base = HEAD1, head = C1, parent = HEAD1, file = tfvars(4) } = options;
  steps.compare(
    base,
    head,
    comparison({
      ahead: [{ sha: head, parents: [parent] }],
      behindBy: base === parent ? 0 : 1,
      mergeBase: parent,
      files: [{ filename: TFVARS, status: "modified", sha: gitBlobSha(file) }],
    }),
  );
}

/** The requests that write the plan's commit `commit` on `head` (its file was read before). */
export function writesCommit(steps: GitHubSteps, commit: string, head = HEAD1): void {
  steps.createTree(NEW_TREE);
  steps.createCommit(commit, { tree: NEW_TREE, parents: [head] });
}
