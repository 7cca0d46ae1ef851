/**
 * When a pull request's values change: the plan records the moment an update writes other values
 * than the open pull request holds, and keeps it through every other update, so the grace period
 * of a merge rule counts from the values people see.
 */
import { describe, expect, it } from "@jest/globals";
import type { BotPullRequest } from "../../src/forge/forge.ts";
import type { AutomergePolicy } from "../../src/policy/automerge-policy.ts";
import { loadRepoConfig } from "../../src/policy/load-repo-config.ts";
import type { RepoConfig } from "../../src/policy/repo-config.ts";
import { forgeRepoReader } from "../../src/reconcile/forge-repo-reader.ts";
import { planChanges } from "../../src/reconcile/plan-repo.ts";
import {
  type PlannedPullRequest,
  plannedPullRequest,
  proposalValuesFingerprint,
} from "../../src/reconcile/pull-request-content.ts";
import { policyOf } from "../merge/policy-support.ts";
import { CONFIG, cluster, infraFiles, NOW, TFVARS } from "./support/infra.ts";

/** Ten minutes of grace for any node change, after its opening or its last change. */
const POLICY = "rules: [{ name: nodes, match: { kind: nodes }, action: merge, minAge: 10m }]\n";
const OPENED_AT = "2025-06-06T11:00:00.000Z";
const EARLIER_CHANGE = "2025-06-06T11:30:00.000Z";

function repoConfig(): RepoConfig {
  const loaded = loadRepoConfig(CONFIG);
  if (!loaded.ok) throw new Error("config");
  return loaded.config;
}

/** The worker pool's proposal for `pending` waiting pods, and usage `cpu` per worker. */
async function nodeProposal(options: { pending: number; cpu?: string; workers?: number }) {
  const files = infraFiles({ workers: options.workers ?? 3 });
  const { proposals } = await planChanges({
    repo: forgeRepoReader({
      forge: { readFile: async (path) => files.get(path), fileHistory: async () => [] },
      headSha: "head",
    }),
    config: repoConfig(),
    snapshot: cluster({
      workers: options.workers ?? 3,
      pending: options.pending,
      cpuPerNode: options.cpu ?? "2",
      plex: false,
    }),
    now: NOW,
  });
  const [proposal] = proposals;
  if (proposal?.kind !== "nodes") throw new Error("no node proposal");
  return proposal;
}

function plan(
  policy: AutomergePolicy,
  proposal: Awaited<ReturnType<typeof nodeProposal>>,
  existing?: BotPullRequest,
): PlannedPullRequest {
  return plannedPullRequest({
    proposal,
    config: repoConfig(),
    policy,
    existing,
    recentlyClosed: [],
    history: [],
    manual: undefined,
    now: NOW,
  });
}

/** The open pull request as the forge reads it back after `planned` was written. */
function opened(planned: PlannedPullRequest, fields: Partial<BotPullRequest> = {}): BotPullRequest {
  const { desired } = planned;
  return {
    number: 1,
    key: desired.key,
    branch: `pr-autoscaler/${desired.key}`,
    title: desired.title,
    body: desired.body,
    url: "https://github.com/octocat/Hello-World/pull/1",
    headSha: "c1",
    labels: desired.labels,
    createdAt: OPENED_AT,
    fingerprint: desired.fingerprint,
    control: "bot",
    handsOffReason: undefined,
    upToDate: true,
    handsOffNoticed: false,
    ...(desired.change ? { change: desired.change } : {}),
    ...(desired.valuesFingerprint ? { valuesFingerprint: desired.valuesFingerprint } : {}),
    ...(desired.changedAt ? { changedAt: desired.changedAt } : {}),
    ...fields,
  };
}

function graceMessages(planned: PlannedPullRequest): string[] {
  return planned.verdict.blockedBy.filter((b) => b.kind === "age").map((b) => b.message);
}

describe("the moment a pull request's values change", () => {
  it("is not set when the pull request opens: its grace counts from the opening", async () => {
    const policy = await policyOf(POLICY);
    const first = plan(policy, await nodeProposal({ pending: 1 }));
    expect(first.desired.valuesFingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(first.desired.changedAt).toBeUndefined();
    expect(graceMessages(first)).toEqual([
      "not before Fri 2025-06-06 12:10 UTC (10m after it opened)",
    ]);
  });

  it("is now when the plan writes other values, and the grace counts from it", async () => {
    const policy = await policyOf(POLICY);
    const first = plan(policy, await nodeProposal({ pending: 1 }));
    const more = plan(policy, await nodeProposal({ pending: 2 }), opened(first));
    expect(more.desired.changedAt).toBe(NOW.toISOString());
    expect(more.desired.valuesFingerprint).not.toBe(first.desired.valuesFingerprint);
    expect(graceMessages(more)).toEqual([
      "not before Fri 2025-06-06 12:10 UTC (10m after it changed to 3 → 5)",
    ]);
  });

  it("is kept when only the usage moves or the verdict changes, the values staying", async () => {
    const policy = await policyOf(POLICY);
    const first = plan(policy, await nodeProposal({ pending: 1 }));
    const existing = opened(first, { changedAt: EARLIER_CHANGE });
    const busier = plan(policy, await nodeProposal({ pending: 1, cpu: "2100m" }), existing);
    expect(busier.desired.changedAt).toBe(EARLIER_CHANGE);
    expect(busier.desired.valuesFingerprint).toBe(first.desired.valuesFingerprint);
    // Another rule decides now: a new fingerprint, and the body is rewritten, the values not.
    const review = await policyOf("rules: [{ name: people, action: review }]\n");
    const reviewed = plan(review, await nodeProposal({ pending: 1 }), existing);
    expect(reviewed.desired.fingerprint).not.toBe(first.desired.fingerprint);
    expect(reviewed.desired.changedAt).toBe(EARLIER_CHANGE);
    // The grace ended 10 minutes after the earlier change: nothing waits for it any more.
    expect(graceMessages(busier)).toEqual([]);
  });

  it("takes a marker written before the values were recorded as unchanged only with the same plan", async () => {
    const policy = await policyOf(POLICY);
    const first = plan(policy, await nodeProposal({ pending: 1 }));
    const older = opened(first, { valuesFingerprint: undefined });
    const same = plan(policy, await nodeProposal({ pending: 1, cpu: "2100m" }), older);
    expect(same.desired.changedAt).toBeUndefined();
    // Its plan's fingerprint changed: the values may have, so the grace starts again.
    const review = await policyOf("rules: [{ name: people, action: review }]\n");
    const other = plan(review, await nodeProposal({ pending: 1 }), older);
    expect(other.desired.changedAt).toBe(NOW.toISOString());
  });
});

describe("the values' fingerprint", () => {
  it("changes with a value before the change (a count people changed on the default branch)", async () => {
    const proposal = await nodeProposal({ pending: 1 });
    const [change] = proposal.changes;
    if (!change) throw new Error("no change");
    expect(change).toMatchObject({ file: TFVARS, before: 3, after: 4 });
    const from5 = { ...proposal, changes: [{ ...change, before: 5 }] };
    expect(proposalValuesFingerprint(from5)).not.toBe(proposalValuesFingerprint(proposal));
    expect(proposalValuesFingerprint({ ...proposal, reasons: [] })).toBe(
      proposalValuesFingerprint(proposal),
    );
  });
});
