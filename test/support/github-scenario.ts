/**
 * The infra repository the forge scenarios run against: a terraform.tfvars with a worker count,
 * the bot's pull request for it, and the forge under test on the checked GitHub mock.
 */
import { createGitHubForge } from "../../src/forge/github/github-forge.ts";
import { type PullRequestMarker, withPullRequestMarker } from "../../src/forge/marker.ts";
import { KEY, LABELS } from "../forge/workers-plan.ts";
import { testOctokit } from "./github.ts";
import { OWNER, pullRequest, REPO, sha } from "./github-responses.ts";

export { KEY, LABELS, scaleWorkers, TFVARS, tfvars } from "../forge/workers-plan.ts";
export const BRANCH = `pr-autoscaler/${KEY}`;

export const HEAD1 = sha("head1");
export const TREE1 = sha("tree1");
export const HEAD2 = sha("head2");
export const TREE2 = sha("tree2");

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
