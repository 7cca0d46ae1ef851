import { ForgeError } from "../forge/forge-error.ts";
import type { GitHubClient } from "../forge/github/github-client.ts";
import type { CheckState, CheckStates } from "./check-states.ts";
import {
  GitHubBranchRules,
  GitHubCheckRunList,
  GitHubProtectedBranch,
  GitHubStatuses,
} from "./github-merge-types.ts";

/** Pages of 100 check runs read at most (a commit with more is unusual). */
const MAX_CHECK_RUN_PAGES = 5;

/** Check run conclusions GitHub counts as passing for a required check. */
const PASSING = new Set(["success", "neutral", "skipped"]);

/**
 * The checks of `sha` and which of them `branch` requires. Required checks come from classic
 * branch protection and from rulesets; a source the token may not read is left out, and when
 * neither is readable `required` is undefined (the policy's own list then stands alone).
 */
export async function readCheckStates(
  client: GitHubClient,
  sha: string,
  branch: string,
): Promise<CheckStates> {
  const required = await readRequiredChecks(client, branch);
  const states: Record<string, CheckState> = {};
  const record = (name: string, state: CheckState) => {
    states[name] = worst(states[name], state);
  };
  const combined = await client.call(
    `read the statuses of ${sha.slice(0, 7)}`,
    "GET /repos/{owner}/{repo}/commits/{ref}/status",
    { ref: sha, per_page: 100 },
    GitHubStatuses,
  );
  for (const status of combined.statuses) record(status.context, statusState(status.state));
  for (const run of await readCheckRuns(client, sha)) record(run.name, runState(run));
  return { required, states };
}

/** Required check names of `branch`, or undefined when neither protection nor rulesets are readable. */
export async function readRequiredChecks(
  client: GitHubClient,
  branch: string,
): Promise<string[] | undefined> {
  const fromProtection = await readable(async () => {
    const answer = await client.call(
      `read the protection of ${branch}`,
      "GET /repos/{owner}/{repo}/branches/{branch}",
      { branch },
      GitHubProtectedBranch,
    );
    const checks = answer.protection?.required_status_checks;
    if (!answer.protected || !checks || checks.enforcement_level === "off") return [];
    return [...(checks.contexts ?? []), ...(checks.checks ?? []).map((check) => check.context)];
  });
  const fromRulesets = await readable(async () => {
    const rules = await client.call(
      `read the rulesets of ${branch}`,
      "GET /repos/{owner}/{repo}/rules/branches/{branch}",
      { branch, per_page: 100 },
      GitHubBranchRules,
    );
    return rules
      .filter((rule) => rule.type === "required_status_checks")
      .flatMap((rule) =>
        (rule.parameters?.required_status_checks ?? []).map((check) => check.context),
      );
  });
  if (fromProtection === undefined && fromRulesets === undefined) return undefined;
  return [...new Set([...(fromProtection ?? []), ...(fromRulesets ?? [])])].sort();
}

/** The answer, or undefined when GitHub says the token may not see it (403) or it is not there (404). */
async function readable<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof ForgeError && (error.status === 403 || error.status === 404))
      return undefined;
    throw error;
  }
}

async function readCheckRuns(client: GitHubClient, sha: string) {
  const runs: { name: string; status: string; conclusion: string | null }[] = [];
  for (let page = 1; page <= MAX_CHECK_RUN_PAGES; page++) {
    const answer = await client.call(
      `read the check runs of ${sha.slice(0, 7)}`,
      "GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
      { ref: sha, per_page: 100, ...(page > 1 ? { page } : {}) },
      GitHubCheckRunList,
    );
    runs.push(...answer.check_runs);
    if (runs.length >= answer.total_count || answer.check_runs.length === 0) break;
  }
  return runs;
}

function statusState(state: string): CheckState {
  if (state === "success") return "success";
  if (state === "pending") return "pending";
  return "failure";
}

function runState(run: { status: string; conclusion: string | null }): CheckState {
  if (run.status !== "completed") return "pending";
  return run.conclusion !== null && PASSING.has(run.conclusion) ? "success" : "failure";
}

/** Several reports under one name: a failure wins over pending, pending over success. */
function worst(a: CheckState | undefined, b: CheckState): CheckState {
  const rank: Record<CheckState, number> = { success: 0, pending: 1, failure: 2 };
  return a === undefined || rank[b] > rank[a] ? b : a;
}
