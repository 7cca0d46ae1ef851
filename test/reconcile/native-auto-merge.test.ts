/**
 * GitHub's own auto-merge, end to end on the stateful fake GitHub: the bot turns it on when a
 * merge rule allows the pull request and only the required checks are still running, GitHub
 * merges once they pass; the bot turns it off on a hold, before an update writes other values
 * (whose grace period then counts from the change), when it leaves the pull request to people,
 * while the cluster cannot be read (at all, or in part), and while the requests behind a
 * right-sizing pull request cannot be judged (no recommendation, several VPAs, resources no
 * longer located in the repo), and leaves it on when an update
 * only rebuilds the same values on a moved default branch or the pool's decision only waits.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import nock from "nock";
import { readSnapshot } from "../../src/cluster/read-snapshot.ts";
import { readPullRequestMarker } from "../../src/forge/marker.ts";
import { HOLD_LABEL } from "../../src/merge/hold.ts";
import type { PodInfo, Snapshot } from "../../src/planning/snapshot.ts";
import type { ReconcileResult } from "../../src/reconcile/reconcile-types.ts";
import { controlPlane, freshNodeMetrics, pod as servedPod, worker } from "../cli/served-cluster.ts";
import { fixtureVpaObject } from "../rightsizing/rightsizing-helpers.ts";
import { FakeKubeApiserver } from "../support/fake-kube-apiserver.ts";
import { pendingPod } from "../support/snapshot-builder.ts";
import { BOT_LOGIN, type FakeGitHub, type FakePull } from "./support/fake-github.ts";
import {
  CONFIG_PATH,
  cluster,
  infraFiles,
  quiet,
  TFVARS,
  tfvars,
  WORKERS_POOL,
} from "./support/infra.ts";
import { oneNodeShort, poolScenario, runFor, type Scenario, scenario } from "./support/scenario.ts";

const MINUTE = 60_000;
const GUARD = "pr-autoscaler/plan-guard";
const BRANCH = "pr-autoscaler/nodes-workers";
const ENABLE = "POST /graphql enablePullRequestAutoMerge";
const DISABLE = "POST /graphql disablePullRequestAutoMerge";

/** Adding a node merges once the plan guard passed, with no grace period. */
const ADD_A_NODE = `    - name: add-a-node
      match: { kind: nodes, direction: up }
      action: merge
      requiredChecks: [${GUARD}]
`;

/** Removing a node merges an hour after its values, once the plan guard passed. */
const REMOVE_A_NODE = `    - name: remove-a-node
      match: { kind: nodes, direction: down }
      action: merge
      minAge: 1h
      requiredChecks: [${GUARD}]
`;

/**
 * A repository that allows GitHub's auto-merge and whose default branch requires the plan guard
 * (a ruleset), as the merge rules do.
 */
function guarded<T extends { github: FakeGitHub }>(world: T): T {
  world.github.allowAutoMerge = true;
  world.github.requiredChecks.push(GUARD);
  world.github.permissions.set("alice", "write");
  return world;
}

/** The scenario with the worker pool's 3 → 4 open and GitHub's auto-merge on, by the bot. */
async function addingANode(): Promise<{ w: Scenario; number: number }> {
  const w = guarded(oneNodeShort(`${WORKERS_POOL}automerge:\n  rules:\n${ADD_A_NODE}`));
  const opened = await w.run();
  const [pull] = w.github.openPulls();
  if (!pull) throw new Error("no pull request opened");
  expect(pull.title).toBe("Scale workers from 3 to 4 nodes");
  expect(opened.merges).toEqual([
    {
      number: pull.number,
      action: "auto-merge-enabled",
      note: "GitHub's auto-merge is on (squash); GitHub merges once the required checks pass",
    },
  ]);
  expect(pull.autoMerge).toEqual({ by: BOT_LOGIN, method: "squash" });
  return { w, number: pull.number };
}

/** Plex's requests (the right-sizing worked example) merge once the plan guard passed. */
const RIGHTSIZE = `${WORKERS_POOL}rightsizing: {}
automerge:
  rules:
    - name: right-size
      match: { kind: resources }
      action: merge
      requiredChecks: [${GUARD}]
`;

/** The scenario with Plex's right-sizing open and GitHub's auto-merge on, by the bot. */
async function rightSizingPlex(): Promise<{ w: Scenario; number: number }> {
  const w = guarded(scenario({ files: infraFiles({ config: RIGHTSIZE }), cluster: cluster() }));
  const opened = await w.run();
  const [pull] = w.github.openPulls();
  if (!pull) throw new Error("no pull request opened");
  expect(opened.pullRequests).toEqual([
    expect.objectContaining({ key: expect.stringMatching(/^resources/), action: "created" }),
  ]);
  expect(opened.merges).toEqual([
    expect.objectContaining({ number: pull.number, action: "auto-merge-enabled" }),
  ]);
  expect(pull.autoMerge).toEqual({ by: BOT_LOGIN, method: "squash" });
  return { w, number: pull.number };
}

/** A pod of 3.8 cpu that no worker has room for. */
function waiting(): PodInfo {
  return pendingPod("apps/big", { cpu: "3800m", memory: "1Gi" });
}

function merged(results: readonly ReconcileResult[]): number[] {
  return results.flatMap((r) => r.merges.filter((m) => m.action === "merged").map((m) => m.number));
}

/** The requests that write, since the last `reset`, in order. */
function writes(github: FakeGitHub): string[] {
  return github.calls().filter((call) => !call.startsWith("GET "));
}

/** The GraphQL mutations GitHub served since the last `reset`, by name. */
function mutations(github: FakeGitHub): string[] {
  return github.calls().filter((call) => call.startsWith("POST /graphql"));
}

describe("GitHub's auto-merge under a merge rule", () => {
  it("is turned on while the required checks run, and GitHub merges when they pass", async () => {
    const { w, number } = await addingANode();
    const pull = w.github.pull(number);
    expect(w.github.mutations).toEqual([
      { name: "enablePullRequestAutoMerge", pullRequestId: pull.nodeId },
    ]);

    w.github.setStatus(pull.headSha, GUARD, "pending");
    expect(w.github.pull(number).state).toBe("open");
    // The bot's next look finds it on and leaves the waiting to GitHub.
    w.github.reset();
    const checked = await w.run(undefined, ["checks"]);
    expect(checked.merges).toEqual([
      { number, action: "auto-merge-on", note: "GitHub's auto-merge is on" },
    ]);
    expect(mutations(w.github)).toEqual([]);

    w.github.setStatus(pull.headSha, GUARD, "success");
    expect(w.github.pull(number)).toMatchObject({
      state: "closed",
      mergedAt: w.github.now().toISOString(),
    });
    expect(w.github.file(TFVARS)).toContain("worker_count      = 4");
  });
});

describe("a pull request with GitHub's auto-merge on, updated to other values", () => {
  /**
   * 3 → 4 opens while a pod waits for room, and GitHub's auto-merge goes on; its plan guard never
   * reports. Two hours later the pod is gone and the same pull request turns into 3 → 2.
   */
  async function flipped(): Promise<{ w: Scenario; flip: ReconcileResult; changedAt: string }> {
    const w = guarded(
      poolScenario(`${WORKERS_POOL}automerge:\n  rules:\n${ADD_A_NODE}${REMOVE_A_NODE}`),
    );
    const [opened] = await runFor(w, 1, (at) => quiet(at, { extraPods: [waiting()] }));
    expect(opened?.merges).toEqual([
      expect.objectContaining({ number: 1, action: "auto-merge-enabled" }),
    ]);
    w.github.advance(105 * MINUTE);
    await runFor(w, 15, (at) => quiet(at, { extraPods: [waiting()] }));
    expect(w.github.pull(1)).toMatchObject({
      title: "Scale workers from 3 to 4 nodes",
      state: "open",
      autoMerge: { by: BOT_LOGIN, method: "squash" },
    });

    w.github.reset();
    w.cluster = quiet(w.github.now());
    const flip = await w.run();
    return { w, flip, changedAt: w.github.now().toISOString() };
  }

  it("has it turned off before the branch, title or body change", async () => {
    const { w, flip, changedAt } = await flipped();
    expect(flip.pullRequests).toEqual([
      expect.objectContaining({
        key: "nodes-workers",
        action: "updated",
        number: 1,
        note: "GitHub's auto-merge turned off: the values changed, and they merge only when the policy allows again",
      }),
    ]);
    const pull = w.github.pull(1);
    expect(pull).toMatchObject({ title: "Scale workers from 3 to 2 nodes", autoMerge: null });
    expect(readPullRequestMarker(pull.body)).toMatchObject({ from: 3, to: 2, changedAt });

    const calls = w.github.calls();
    const off = calls.indexOf(DISABLE);
    const seen = calls.filter(
      (call) =>
        call === "PATCH /pulls/1" ||
        call === `PATCH /git/refs/heads/${BRANCH}` ||
        /^(POST|PUT|DELETE) \/issues\/1\/labels/.test(call),
    );
    expect(seen).toEqual(
      expect.arrayContaining(["PATCH /pulls/1", `PATCH /git/refs/heads/${BRANCH}`]),
    );
    expect(off).toBeGreaterThanOrEqual(0);
    for (const call of seen) expect(calls.indexOf(call)).toBeGreaterThan(off);
    // The merge step of the same reconcile sees the grace period start again: it stays off.
    expect(mutations(w.github)).toEqual([DISABLE]);
    expect(flip.merges).toEqual([
      expect.objectContaining({
        number: 1,
        action: "waiting",
        note: expect.stringContaining("Grace period"),
      }),
    ]);
  });

  it("does not merge when the checks pass within the grace period, and merges the first look after it", async () => {
    const { w, changedAt } = await flipped();
    w.github.setStatus(w.github.pull(1).headSha, GUARD, "success");
    expect(w.github.pull(1).state).toBe("open");
    w.github.reset();
    const checked = await w.run(undefined, ["checks"]);
    expect(checked.merges).toEqual([]);

    w.github.advance(MINUTE);
    const during = await runFor(w, 58, (at) => quiet(at));
    expect(merged(during)).toEqual([]);
    expect(mutations(w.github)).toEqual([]);
    expect(w.github.pull(1)).toMatchObject({ state: "open", autoMerge: null });

    // The checks passed already: GitHub refuses auto-merge for a pull request that can merge
    // now, and the bot merges it itself.
    const after = await runFor(w, 2, (at) => quiet(at));
    expect(merged(after)).toEqual([1]);
    expect(w.github.mutations.at(-1)).toEqual({
      name: "enablePullRequestAutoMerge",
      pullRequestId: w.github.pull(1).nodeId,
      refused: "Pull request Pull request is in clean status",
    });
    expect(w.github.pull(1).mergedAt).toBe(
      new Date(Date.parse(changedAt) + 60 * MINUTE).toISOString(),
    );
    expect(w.github.file(TFVARS)).toContain("worker_count      = 2");
  });

  it("has it turned on again after the grace period when the checks still run, and GitHub merges", async () => {
    const { w, changedAt } = await flipped();
    const head = w.github.pull(1).headSha;
    w.github.setStatus(head, GUARD, "pending");
    w.github.advance(MINUTE);
    w.github.reset();
    const during = await runFor(w, 58, (at) => quiet(at));
    expect(during.flatMap((r) => r.merges)).toEqual([]);
    expect(mutations(w.github)).toEqual([]);
    expect(w.github.pull(1).autoMerge).toBeNull();

    // The look at the end of the grace period, an hour after the change.
    expect(w.github.now().toISOString()).toBe(
      new Date(Date.parse(changedAt) + 59 * MINUTE).toISOString(),
    );
    const [last, end] = await runFor(w, 2, (at) => quiet(at));
    expect(last?.merges).toEqual([]);
    expect(end?.merges).toEqual([
      {
        number: 1,
        action: "auto-merge-enabled",
        note: "GitHub's auto-merge is on (squash); GitHub merges once the required checks pass",
      },
    ]);
    expect(mutations(w.github)).toEqual([ENABLE]);
    expect(w.github.pull(1).autoMerge).toEqual({ by: BOT_LOGIN, method: "squash" });

    w.github.setStatus(head, GUARD, "success");
    expect(w.github.pull(1).state).toBe("closed");
    expect(w.github.file(TFVARS)).toContain("worker_count      = 2");
  });
});

describe("a hold", () => {
  it("turns the bot's auto-merge off, so passing checks do not merge; unhold merges", async () => {
    const { w, number } = await addingANode();
    w.github.comment(number, "/autoscaler hold");
    w.github.reset();
    const held = await w.run(undefined, ["comment"]);
    expect(w.github.pull(number).labels).toContain(HOLD_LABEL);
    expect(held.merges).toEqual([
      { number, action: "held", note: "on hold: not merging; GitHub's auto-merge turned off" },
    ]);
    expect(mutations(w.github)).toEqual([DISABLE]);
    expect(w.github.pull(number).autoMerge).toBeNull();

    w.github.setStatus(w.github.pull(number).headSha, GUARD, "success");
    expect(w.github.pull(number).state).toBe("open");
    const checked = await w.run(undefined, ["checks"]);
    expect(merged([checked])).toEqual([]);
    expect(w.github.pull(number).state).toBe("open");

    w.github.comment(number, "/autoscaler unhold");
    const released = await w.run(undefined, ["comment"]);
    expect(merged([released])).toEqual([number]);
    expect(w.github.file(TFVARS)).toContain("worker_count      = 4");
  });

  it("turns off the auto-merge a person turned on under a review rule", async () => {
    const config = `${WORKERS_POOL}automerge:
  rules:
    - name: nodes-need-review
      match: { kind: nodes }
      action: review
`;
    const w = guarded(oneNodeShort(config));
    await w.run();
    const [pull] = w.github.openPulls();
    if (!pull) throw new Error("no pull request opened");
    w.github.enableAutoMerge(pull.number, "alice", "merge");
    w.github.comment(pull.number, "/autoscaler hold");
    w.github.reset();
    const held = await w.run(undefined, ["comment"]);
    expect(held.merges).toEqual([
      expect.objectContaining({
        number: pull.number,
        action: "held",
        note: expect.stringContaining("GitHub's auto-merge turned off"),
      }),
    ]);
    expect(mutations(w.github)).toEqual([DISABLE]);
    w.github.setStatus(pull.headSha, GUARD, "success");
    expect(w.github.pull(pull.number)).toMatchObject({ state: "open", autoMerge: null });
  });
});

describe("a pause", () => {
  it("turns the bot's auto-merge off, so passing checks do not merge while paused; resume merges", async () => {
    const { w, number } = await addingANode();
    w.github.comment(number, "/autoscaler pause");
    w.github.reset();
    const paused = await w.run(undefined, ["comment"]);
    expect(paused.pullRequests).toContainEqual(
      expect.objectContaining({ key: "nodes-workers", action: "paused" }),
    );
    expect(mutations(w.github)).toEqual([DISABLE]);
    expect(w.github.pull(number).autoMerge).toBeNull();

    w.github.setStatus(w.github.pull(number).headSha, GUARD, "success");
    expect(w.github.pull(number).state).toBe("open");
    w.github.reset();
    const checked = await w.run(undefined, ["checks"]);
    expect(merged([checked])).toEqual([]);
    expect(mutations(w.github)).toEqual([]);
    expect(w.github.pull(number).state).toBe("open");

    w.github.comment(number, "/autoscaler resume");
    const resumed = await w.run(undefined, ["comment"]);
    expect(merged([resumed])).toEqual([number]);
    expect(w.github.file(TFVARS)).toContain("worker_count      = 4");
  });

  it("of the pool turns it off on a pull request the plan no longer wants, which it keeps open", async () => {
    const { w, number } = await addingANode();
    w.github.comment(number, "/autoscaler pause workers");
    // The pending pod goes: the plan no longer wants the pull request, which the pause keeps open.
    w.cluster = cluster({ pending: 0, plex: false });
    w.github.reset();
    const paused = await w.run(undefined, ["comment"]);
    expect(paused.pullRequests).toContainEqual(
      expect.objectContaining({ key: "nodes-workers", action: "left-alone", note: "paused" }),
    );
    expect(mutations(w.github)).toEqual([DISABLE]);
    expect(w.github.pull(number)).toMatchObject({ state: "open", autoMerge: null });
  });
});

/**
 * 3 → 4 opened while a pod waited for room, then turned into 3 → 2 once it was gone; at the end
 * of the removal's grace period GitHub's auto-merge went on again, and the plan guard has not
 * reported yet.
 */
async function removingANode(): Promise<{ w: Scenario; pull: FakePull }> {
  const w = guarded(
    poolScenario(`${WORKERS_POOL}automerge:\n  rules:\n${ADD_A_NODE}${REMOVE_A_NODE}`),
  );
  await runFor(w, 1, (at) => quiet(at, { extraPods: [waiting()] }));
  w.github.advance(105 * MINUTE);
  await runFor(w, 15, (at) => quiet(at, { extraPods: [waiting()] }));
  await runFor(w, 62, (at) => quiet(at));
  const [pull] = w.github.openPulls();
  if (!pull) throw new Error("no pull request open");
  expect(pull).toMatchObject({
    title: "Scale workers from 3 to 2 nodes",
    autoMerge: { by: BOT_LOGIN, method: "squash" },
  });
  return { w, pull };
}

describe("a hold on the pool's decision that only waits", () => {
  it("leaves the bot's auto-merge on: after a restart, the usage window is not covered yet, and GitHub merges", async () => {
    const { w, pull } = await removingANode();

    // A new process knows no usage before its start: the window a removal needs is not covered.
    const restarted = w.replica();
    w.cluster = quiet(w.github.now());
    w.github.reset();
    const held = await w.run(restarted);
    expect(held.decisions[0]?.holds).toEqual([
      expect.objectContaining({ kind: "window-uncovered", direction: "down" }),
    ]);
    expect(held.pullRequests).toEqual([
      expect.objectContaining({
        key: "nodes-workers",
        action: "left-alone",
        number: pull.number,
        note: "held: cpu < 30 % (shown for 30s of 10m), memory < 40 % (shown for 30s of 10m) now, not yet over the window: no node is removed until it is, and an open pull request is left as it is",
      }),
    ]);
    expect(mutations(w.github)).toEqual([]);
    expect(w.github.pull(pull.number).autoMerge).toEqual({ by: BOT_LOGIN, method: "squash" });

    w.github.setStatus(pull.headSha, GUARD, "success");
    expect(w.github.pull(pull.number).state).toBe("closed");
    expect(w.github.file(TFVARS)).toContain("worker_count      = 2");
  });
});

describe("a hold on the pool's decision because something is wrong", () => {
  it("turns the bot's auto-merge off on the pull request it keeps open; once it clears, the merge is looked at afresh", async () => {
    const { w, number } = await addingANode();
    // The pods are read only in part: the plan cannot vouch for the 3 → 4 any more.
    w.cluster = cluster({ pending: 1, plex: false, complete: false });
    w.github.reset();
    const held = await w.run();
    expect(held.pullRequests).toEqual([
      expect.objectContaining({
        key: "nodes-workers",
        action: "left-alone",
        note: "held: the cluster snapshot is incomplete (pods: the list stopped part way); no action",
      }),
    ]);
    expect(mutations(w.github)).toEqual([DISABLE]);
    expect(w.github.pull(number)).toMatchObject({ state: "open", autoMerge: null });

    w.github.setStatus(w.github.pull(number).headSha, GUARD, "success");
    w.github.reset();
    const checked = await w.run(undefined, ["checks"]);
    expect(merged([checked])).toEqual([]);
    expect(mutations(w.github)).toEqual([]);
    expect(w.github.pull(number).state).toBe("open");

    // The cluster is read whole again, the default branch has not moved: the pull request is
    // unchanged, and merges under the policy since its checks passed.
    w.cluster = cluster({ pending: 1, plex: false });
    const cleared = await w.run();
    expect(cleared.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "unchanged", number }),
    ]);
    expect(merged([cleared])).toEqual([number]);
    expect(w.github.file(TFVARS)).toContain("worker_count      = 4");
  });

  it("turns it off when the count on the default branch can no longer be read, and on again once it can", async () => {
    const { w, number } = await addingANode();
    w.github.push({ [TFVARS]: tfvars(3).replace(/^worker_count.*\n/m, "") });
    w.github.reset();
    const held = await w.run();
    expect(held.decisions[0]?.holds).toContainEqual(
      expect.objectContaining({ kind: "target-unknown" }),
    );
    expect(held.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "left-alone", number }),
    ]);
    expect(mutations(w.github)).toEqual([DISABLE]);
    expect(w.github.pull(number)).toMatchObject({ state: "open", autoMerge: null });

    // Put back, the count reads as a change that landed: an ordinary wait, which turns nothing
    // off, and after it the rebuilt pull request is looked at afresh.
    w.github.push({ [TFVARS]: tfvars(3) });
    w.github.reset();
    const cooling = await w.run();
    expect(cooling.pullRequests).toEqual([
      expect.objectContaining({
        key: "nodes-workers",
        action: "left-alone",
        note: "held: cooldown after the change of 2025-06-06 12:00 UTC, until 2025-06-06 12:05 UTC",
      }),
    ]);
    expect(mutations(w.github)).toEqual([]);
    w.github.advance(5 * MINUTE);
    const fixed = await w.run();
    expect(fixed.merges).toEqual([
      expect.objectContaining({ number, action: "auto-merge-enabled" }),
    ]);
    expect(w.github.pull(number).autoMerge).toEqual({ by: BOT_LOGIN, method: "squash" });
    w.github.setStatus(w.github.pull(number).headSha, GUARD, "success");
    expect(w.github.pull(number).mergedAt).not.toBeNull();
  });
});

describe("a decrease whose pool's usage is no longer known", () => {
  it("has the bot's auto-merge turned off while metrics-server gives no sample; once it does, the merge is looked at afresh", async () => {
    const { w, pull } = await removingANode();
    w.cluster = quiet(w.github.now(), { unmeasured: true });
    w.github.reset();
    const held = await w.run();
    expect(held.decisions[0]?.holds).toEqual([expect.objectContaining({ kind: "usage-unknown" })]);
    expect(held.pullRequests).toEqual([
      expect.objectContaining({
        key: "nodes-workers",
        action: "left-alone",
        number: pull.number,
        note: "held: cpu and memory usage unknown on talos-worker-0, talos-worker-1, talos-worker-2; no decision is taken on the pool's usage (unknown is not zero)",
      }),
    ]);
    expect(mutations(w.github)).toEqual([DISABLE]);
    expect(w.github.pull(pull.number)).toMatchObject({ state: "open", autoMerge: null });

    w.github.setStatus(pull.headSha, GUARD, "success");
    expect(w.github.pull(pull.number).state).toBe("open");

    // A minute later usage is read again, as quiet as before: the plan wants the decrease again,
    // and the merge step, which had left it to GitHub's auto-merge, looks at it and merges.
    w.github.advance(MINUTE);
    w.cluster = quiet(w.github.now());
    const back = await w.run();
    expect(back.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "unchanged", number: pull.number }),
    ]);
    expect(merged([back])).toEqual([pull.number]);
    expect(w.github.file(TFVARS)).toContain("worker_count      = 2");
  });
});

describe("a right-sizing pull request on a cluster read only in part", () => {
  it("has the bot's auto-merge turned off, and is kept open; once read whole, the merge is looked at afresh", async () => {
    const { w, number } = await rightSizingPlex();

    // The pods are read only in part: no request is decided on partial data.
    w.cluster = cluster({ complete: false });
    w.github.reset();
    const held = await w.run();
    expect(held.proposals).toEqual([]);
    expect(held.pullRequests).toEqual([
      expect.objectContaining({
        action: "left-alone",
        number,
        note: "the cluster snapshot is incomplete",
      }),
    ]);
    expect(mutations(w.github)).toEqual([DISABLE]);
    expect(w.github.pull(number)).toMatchObject({ state: "open", autoMerge: null });

    w.github.setStatus(w.github.pull(number).headSha, GUARD, "success");
    w.github.reset();
    const checked = await w.run(undefined, ["checks"]);
    expect(merged([checked])).toEqual([]);
    expect(mutations(w.github)).toEqual([]);
    expect(w.github.pull(number).state).toBe("open");

    w.cluster = cluster();
    const cleared = await w.run();
    expect(cleared.pullRequests).toEqual([
      expect.objectContaining({ action: "unchanged", number }),
    ]);
    expect(merged([cleared])).toEqual([number]);
  });
});

/**
 * The cluster with Plex's VPA recreated at `at`: until the recommender has written a
 * recommendation for it, its status is empty, and nothing says what Plex should request.
 */
function plexVpaRecreated(at: Date, recommended: "not yet" | "again"): Snapshot {
  const snapshot = cluster();
  return {
    ...snapshot,
    vpas: snapshot.vpas.map((vpa) => ({
      ...vpa,
      createdAt: at.toISOString(),
      ...(recommended === "not yet" ? { recommendations: [], conditions: [] } : {}),
    })),
  };
}

describe("a right-sizing pull request whose VPA has no recommendation any more", () => {
  it("is kept open with the bot's auto-merge off, saying why, until the recommendation has history again; then it merges", async () => {
    const { w, number } = await rightSizingPlex();
    const key = w.github.pull(number).branch.slice("pr-autoscaler/".length);
    const recreatedAt = w.github.now();

    w.cluster = plexVpaRecreated(recreatedAt, "not yet");
    w.github.reset();
    const held = await w.run();
    expect(held.proposals).toEqual([]);
    expect(held.pullRequests).toEqual([
      {
        key,
        action: "left-alone",
        number,
        note: "kept open until the requests can be judged again: Deployment media/plex: the VPA plex has no recommendation",
      },
    ]);
    expect(held.notes).toContainEqual({
      level: "info",
      subject: "deployment/media/plex",
      message:
        "the VPA plex has no recommendation yet: its requests are not judged, and a pull request open for them stays open",
    });
    expect(mutations(w.github)).toEqual([DISABLE]);
    expect(w.github.pull(number)).toMatchObject({ state: "open", autoMerge: null });

    w.github.setStatus(w.github.pull(number).headSha, GUARD, "success");
    const checked = await w.run(undefined, ["checks"]);
    expect(merged([checked])).toEqual([]);
    expect(w.github.pull(number).state).toBe("open");

    // A few minutes later the recommender recommends again, from a history of minutes: no
    // measurement yet, so the requests are still not judged.
    w.github.advance(5 * MINUTE);
    w.cluster = plexVpaRecreated(recreatedAt, "again");
    w.github.reset();
    const young = await w.run();
    expect(young.pullRequests).toEqual([
      {
        key,
        action: "left-alone",
        number,
        note: "kept open until the requests can be judged again: Deployment media/plex: the VPA has recorded for 5m, less than minHistory 7d",
      },
    ]);
    expect(mutations(w.github)).toEqual([]);
    expect(w.github.pull(number)).toMatchObject({ state: "open", autoMerge: null });

    // Its history long enough (the VPA as it was, 17 days old), the plan wants the change again.
    w.cluster = cluster();
    const back = await w.run();
    expect(back.pullRequests).toEqual([expect.objectContaining({ action: "unchanged", number })]);
    expect(merged([back])).toEqual([number]);
  });
});

/** Where Plex's HelmRelease and its Kustomization are; a second copy of them goes beside. */
const PLEX_APP = "kubernetes/apps/media/plex/app";
const PLEX_NEXT = "kubernetes/apps/media/plex-next/app";

/** Plex's container in the HelmRelease, as `rightsizing.targets` names it. */
const PLEX_TARGET = `    - workload: media/plex
      file: ${PLEX_APP}/helmrelease.yaml
      path: spec.values.controllers.plex.containers.app.resources
`;

/** The cluster with a second VPA on Plex, as a person applying another chart's VPA makes one. */
function plexWithTwoVpas(): Snapshot {
  const snapshot = cluster();
  const [plex] = snapshot.vpas;
  if (!plex) throw new Error("no Plex VPA");
  return { ...snapshot, vpas: [plex, { ...plex, name: "plex-vpa" }] };
}

describe("a right-sizing pull request whose workload cannot be judged any more", () => {
  it("is kept open with the bot's auto-merge off while two HelmReleases may set Plex's resources; with one again, it merges", async () => {
    const { w, number } = await rightSizingPlex();
    const key = w.github.pull(number).branch.slice("pr-autoscaler/".length);

    // A copy of Plex's app is pushed beside it (a migration under way): discovery cannot choose.
    w.github.push({
      [`${PLEX_NEXT}/helmrelease.yaml`]: w.github.file(`${PLEX_APP}/helmrelease.yaml`) ?? null,
      [`${PLEX_NEXT}/kustomization.yaml`]: w.github.file(`${PLEX_APP}/kustomization.yaml`) ?? null,
    });
    w.github.reset();
    const held = await w.run(undefined, ["push"]);
    expect(held.proposals).toEqual([]);
    expect(held.pullRequests).toEqual([
      {
        key,
        action: "left-alone",
        number,
        note: `kept open until the requests can be judged again: Deployment media/plex: container app: several files match exactly: ${PLEX_NEXT}/helmrelease.yaml (HelmRelease plex (namespace media from ${PLEX_NEXT}/kustomization.yaml), controllers.plex.containers.app); ${PLEX_APP}/helmrelease.yaml (HelmRelease plex (namespace media from ${PLEX_APP}/kustomization.yaml), controllers.plex.containers.app)`,
      },
    ]);
    expect(mutations(w.github)).toEqual([DISABLE]);
    expect(w.github.pull(number)).toMatchObject({ state: "open", autoMerge: null });
    expect(w.github.commentsOn(number)).toEqual([]);

    w.github.setStatus(w.github.pull(number).headSha, GUARD, "success");
    const checked = await w.run(undefined, ["checks"]);
    expect(merged([checked])).toEqual([]);
    expect(w.github.pull(number).state).toBe("open");

    // The copy is removed: the plan judges Plex again, still wants the change, and it merges.
    w.github.push({
      [`${PLEX_NEXT}/helmrelease.yaml`]: null,
      [`${PLEX_NEXT}/kustomization.yaml`]: null,
    });
    const back = await w.run(undefined, ["push"]);
    expect(back.pullRequests).toEqual([expect.objectContaining({ key, number })]);
    expect(w.github.pull(number).state).toBe("open");
    w.github.setStatus(w.github.pull(number).headSha, GUARD, "success");
    expect(w.github.pull(number).mergedAt).not.toBeNull();
  });

  it("is kept open while its configured target names a file that moved; the target fixed, it is updated", async () => {
    const config = RIGHTSIZE.replace("rightsizing: {}", `rightsizing:\n  targets:\n${PLEX_TARGET}`);
    const w = guarded(scenario({ files: infraFiles({ config }), cluster: cluster() }));
    await w.run();
    const [pull] = w.github.openPulls();
    if (!pull) throw new Error("no pull request opened");
    const { number } = pull;
    const key = pull.branch.slice("pr-autoscaler/".length);

    const moved = "kubernetes/apps/media/plex/helmrelease.yaml";
    w.github.push({
      [moved]: w.github.file(`${PLEX_APP}/helmrelease.yaml`) ?? null,
      [`${PLEX_APP}/helmrelease.yaml`]: null,
    });
    w.github.reset();
    const held = await w.run(undefined, ["push"]);
    expect(held.pullRequests).toEqual([
      {
        key,
        action: "left-alone",
        number,
        note: `kept open until the requests can be judged again: Deployment media/plex: container app: the configured target ${PLEX_APP}/helmrelease.yaml does not exist`,
      },
    ]);
    expect(mutations(w.github)).toEqual([DISABLE]);
    expect(w.github.pull(number)).toMatchObject({ state: "open", autoMerge: null });

    w.github.push({ [CONFIG_PATH]: config.replace(`${PLEX_APP}/helmrelease.yaml`, moved) });
    const fixed = await w.run(undefined, ["push"]);
    expect(fixed.pullRequests).toEqual([
      expect.objectContaining({ key, action: "updated", number }),
    ]);
    expect(w.github.pull(number).state).toBe("open");
  });

  it("is kept open while several VPAs target Plex, leaving a person's auto-merge on", async () => {
    const config = `${WORKERS_POOL}rightsizing: {}
automerge:
  rules:
    - name: requests-need-review
      match: { kind: resources }
      action: review
`;
    const w = guarded(scenario({ files: infraFiles({ config }), cluster: cluster() }));
    await w.run();
    const [pull] = w.github.openPulls();
    if (!pull) throw new Error("no pull request opened");
    const { number } = pull;
    const key = pull.branch.slice("pr-autoscaler/".length);
    w.github.enableAutoMerge(number, "alice", "merge");

    w.cluster = plexWithTwoVpas();
    w.github.reset();
    const held = await w.run();
    expect(held.pullRequests).toEqual([
      {
        key,
        action: "left-alone",
        number,
        note: "kept open until the requests can be judged again: Deployment media/plex: several VPAs target it (plex, plex-vpa)",
      },
    ]);
    expect(held.notes).toContainEqual({
      level: "warning",
      subject: "deployment/media/plex",
      message: "several VPAs target it (plex, plex-vpa); none is used",
    });
    expect(mutations(w.github)).toEqual([]);
    expect(w.github.pull(number)).toMatchObject({
      state: "open",
      autoMerge: { by: "alice", method: "merge" },
    });
  });

  it("is closed when the VPAs say Plex is gone, though its resources cannot be located either", async () => {
    const { w, number } = await rightSizingPlex();
    w.github.push({
      [`${PLEX_NEXT}/helmrelease.yaml`]: w.github.file(`${PLEX_APP}/helmrelease.yaml`) ?? null,
      [`${PLEX_NEXT}/kustomization.yaml`]: w.github.file(`${PLEX_APP}/kustomization.yaml`) ?? null,
    });
    const snapshot = cluster({ plex: false });
    const [plex] = cluster().vpas;
    if (!plex) throw new Error("no Plex VPA");
    const gone = {
      ...plex,
      conditions: [
        ...plex.conditions,
        {
          type: "NoPodsMatched",
          status: "True" as const,
          message: "No pods match this VPA object",
        },
      ],
    };
    w.cluster = { ...snapshot, vpas: [gone] };
    const closed = await w.run(undefined, ["push"]);
    expect(closed.pullRequests).toEqual([expect.objectContaining({ action: "closed", number })]);
    expect(w.github.pull(number).state).toBe("closed");
  });
});

describe("a right-sizing pull request on a served cluster where a second VPA comes to target Plex", () => {
  let api: FakeKubeApiserver;
  let dir: string;
  let kubeconfig: string;

  beforeAll(async () => {
    nock.enableNetConnect("127.0.0.1");
    api = await FakeKubeApiserver.start();
    const plex = servedPod("media", "plex-7d9c65958-ghrmp", {
      node: "talos-worker-1",
      labels: { "pod-template-hash": "7d9c65958" },
      cpu: "2",
      memory: "4Gi",
    });
    const [app] = (plex.spec as { containers: { resources: Record<string, unknown> }[] })
      .containers;
    if (app) app.resources = { ...app.resources, limits: { memory: "8Gi" } };
    const workers = ["talos-worker-1", "talos-worker-2", "talos-worker-3"];
    api.add(
      controlPlane("talos-cp-1"),
      ...workers.flatMap((name) => [worker(name), freshNodeMetrics(name, "600m", "2Gi")]),
      plex,
      fixtureVpaObject("plex-worked-example.yaml"),
    );
    dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-two-vpas-"));
    kubeconfig = await api.writeKubeconfig(join(dir, "kubeconfig"));
  });

  afterAll(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("is kept open with the bot's auto-merge off while both are there, and merges once one is left", async () => {
    const w = guarded(scenario({ files: infraFiles({ config: RIGHTSIZE }), cluster: cluster() }));
    w.read = () => readSnapshot({ kubeconfig });
    const opened = await w.run();
    const outcome = opened.pullRequests.find((o) => o.key === "resources-media-plex");
    if (outcome?.number === undefined) throw new Error("no right-sizing pull request opened");
    const { number } = outcome;
    expect(w.github.pull(number).autoMerge).toEqual({ by: BOT_LOGIN, method: "squash" });

    // Someone applies a second VPA for Plex, as a chart's own VPA next to the one in the repo.
    const second = fixtureVpaObject("plex-worked-example.yaml");
    second.metadata = { ...second.metadata, name: "plex-vpa" };
    api.add(second);
    w.github.reset();
    const held = await w.run();
    expect(held.pullRequests).toContainEqual({
      key: "resources-media-plex",
      action: "left-alone",
      number,
      note: "kept open until the requests can be judged again: Deployment media/plex: several VPAs target it (plex, plex-vpa)",
    });
    expect(mutations(w.github)).toEqual([DISABLE]);
    expect(w.github.pull(number)).toMatchObject({ state: "open", autoMerge: null });
    w.github.setStatus(w.github.pull(number).headSha, GUARD, "success");
    expect(w.github.pull(number).state).toBe("open");

    api.remove("verticalpodautoscalers", "plex-vpa", "media");
    const back = await w.run();
    expect(back.pullRequests).toContainEqual(
      expect.objectContaining({ key: "resources-media-plex", action: "unchanged", number }),
    );
    expect(merged([back])).toEqual([number]);
  });
});

describe("a cluster that cannot be read at all", () => {
  /**
   * A Kubernetes API server where the app's service account may no longer list nodes (its
   * ClusterRoleBinding was removed), answering as the API server does: the read fails whole.
   */
  let api: FakeKubeApiserver;
  let dir: string;
  let kubeconfig: string;

  beforeAll(async () => {
    nock.enableNetConnect("127.0.0.1");
    api = await FakeKubeApiserver.start();
    api.injectFault({
      path: "/api/v1/nodes",
      status: 403,
      reason: "Forbidden",
      message:
        'nodes is forbidden: User "system:serviceaccount:pr-autoscaler:pr-autoscaler" cannot list resource "nodes" in API group "" at the cluster scope',
      times: Number.POSITIVE_INFINITY,
    });
    dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-unreadable-"));
    kubeconfig = await api.writeKubeconfig(join(dir, "kubeconfig"));
  });

  afterAll(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  function unreadable(w: Scenario): void {
    w.read = () => readSnapshot({ kubeconfig });
  }

  it("turns the bot's auto-merge off on the pull request it keeps open; once it is read again, the merge is looked at afresh", async () => {
    const { w, number } = await addingANode();
    unreadable(w);
    w.github.reset();
    const failed = await w.run();
    expect(failed.status).toBe("cluster-error");
    expect(failed.errors).toEqual([expect.stringMatching(/^cluster: cannot list nodes: .*403/)]);
    expect(mutations(w.github)).toEqual([DISABLE]);
    expect(w.github.pull(number)).toMatchObject({ state: "open", autoMerge: null });

    // The plan guard passes meanwhile: nothing merges, and no further request turns anything off.
    w.github.setStatus(w.github.pull(number).headSha, GUARD, "success");
    w.github.reset();
    const checked = await w.run(undefined, ["checks"]);
    expect(checked.status).toBe("cluster-error");
    expect(checked.merges).toEqual([]);
    expect(mutations(w.github)).toEqual([]);
    expect(w.github.pull(number).state).toBe("open");

    // Read again, at the same time and on the same default branch: the pull request is unchanged,
    // and the merge step, which had left it to GitHub's auto-merge, looks at it again and merges.
    w.read = undefined;
    const cleared = await w.run();
    expect(cleared.status).toBe("ok");
    expect(cleared.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "unchanged", number }),
    ]);
    expect(merged([cleared])).toEqual([number]);
    expect(w.github.file(TFVARS)).toContain("worker_count      = 4");
  });

  it("turns it off on a right-sizing pull request too, and looks at it afresh once read again", async () => {
    const { w, number } = await rightSizingPlex();
    unreadable(w);
    w.github.reset();
    const failed = await w.run();
    expect(failed.status).toBe("cluster-error");
    expect(mutations(w.github)).toEqual([DISABLE]);
    expect(w.github.pull(number)).toMatchObject({ state: "open", autoMerge: null });

    w.github.setStatus(w.github.pull(number).headSha, GUARD, "success");
    expect(w.github.pull(number).state).toBe("open");
    w.read = undefined;
    const cleared = await w.run();
    expect(cleared.pullRequests).toEqual([
      expect.objectContaining({ action: "unchanged", number }),
    ]);
    expect(merged([cleared])).toEqual([number]);
  });

  it("leaves the auto-merge a person turned on", async () => {
    const config = `${WORKERS_POOL}automerge:
  rules:
    - name: nodes-need-review
      match: { kind: nodes }
      action: review
`;
    const w = guarded(oneNodeShort(config));
    await w.run();
    const [pull] = w.github.openPulls();
    if (!pull) throw new Error("no pull request opened");
    w.github.enableAutoMerge(pull.number, "alice", "merge");
    unreadable(w);
    w.github.reset();
    const failed = await w.run();
    expect(failed.status).toBe("cluster-error");
    expect(mutations(w.github)).toEqual([]);
    expect(w.github.pull(pull.number).autoMerge).toEqual({ by: "alice", method: "merge" });
  });
});

describe("a pull request people took over", () => {
  it("gets the bot's GitHub auto-merge turned off: GitHub kept it on for their push", async () => {
    const { w, number } = await addingANode();
    // A push by someone with write access keeps the bot's auto-merge on, as GitHub does.
    w.github.push({ "notes.md": "four, please\n" }, { branch: BRANCH, login: "alice" });
    expect(w.github.pull(number).autoMerge).toEqual({ by: BOT_LOGIN, method: "squash" });
    w.github.reset();
    const taken = await w.run();
    expect(taken.pullRequests).toEqual([expect.objectContaining({ action: "human-edited" })]);
    expect(mutations(w.github)).toEqual([DISABLE]);
    expect(w.github.pull(number).autoMerge).toBeNull();
    expect(w.github.commentsOn(number).at(-1)?.body).toContain(
      "GitHub's auto-merge, which pr-autoscaler had turned on, is off: turn it on again if you want it.",
    );

    w.github.setStatus(w.github.pull(number).headSha, GUARD, "success");
    expect(w.github.pull(number)).toMatchObject({ state: "open", mergedAt: null });
  });
});

describe("a pull request people took over that the plan no longer wants", () => {
  it("gets the bot's GitHub auto-merge turned off before anything else, and is left to them", async () => {
    const { w, number } = await addingANode();
    w.github.push({ "notes.md": "four, please\n" }, { branch: BRANCH, login: "alice" });
    // The pod that wanted a fourth node is gone.
    w.cluster = cluster({ pending: 0, plex: false });
    w.github.reset();
    const left = await w.run();
    expect(left.pullRequests).toEqual([
      expect.objectContaining({
        number,
        action: "left-alone",
        note: expect.stringContaining("did not make"),
      }),
    ]);
    expect(writes(w.github)[0]).toBe(DISABLE);
    expect(w.github.commentsOn(number).at(-1)?.body).toContain(
      "GitHub's auto-merge, which pr-autoscaler had turned on, is off: turn it on again if you want it.",
    );
    w.github.setStatus(w.github.pull(number).headSha, GUARD, "success");
    expect(w.github.pull(number)).toMatchObject({ state: "open", mergedAt: null });
    // Told once: the next run asks nothing of it.
    w.github.reset();
    await w.run();
    expect(writes(w.github)).toEqual([]);
  });
});

describe("a hold on a pull request people took over", () => {
  it("turns GitHub's auto-merge off, which the merge step no longer looks at", async () => {
    const { w, number } = await addingANode();
    w.github.push({ "notes.md": "four, please\n" }, { branch: BRANCH, login: "alice" });
    const taken = await w.run();
    expect(taken.pullRequests).toEqual([expect.objectContaining({ action: "human-edited" })]);
    // Who pushed turns GitHub's auto-merge on again, for their own change.
    w.github.enableAutoMerge(number, "alice");

    const id = w.github.comment(number, "/autoscaler hold");
    w.github.reset();
    const held = await w.run(undefined, ["comment"]);
    expect(held.commands).toEqual([expect.objectContaining({ commentId: id, outcome: "obeyed" })]);
    expect(mutations(w.github)).toEqual([DISABLE]);
    expect(w.github.pull(number)).toMatchObject({ autoMerge: null });
    expect(w.github.pull(number).labels).toContain(HOLD_LABEL);
    expect(w.github.commentsOn(number).at(-1)?.body).toContain(
      "@alice People took this pull request over: pr-autoscaler does not merge it. Held: the label is on, and GitHub's auto-merge is off.",
    );

    w.github.setStatus(w.github.pull(number).headSha, GUARD, "success");
    expect(w.github.pull(number).state).toBe("open");
  });
});

describe("an update that rebuilds the same values on a moved default branch", () => {
  it("leaves GitHub's auto-merge on, and GitHub merges the rebuilt pull request", async () => {
    const { w, number } = await addingANode();
    const moved = w.github.push({
      [TFVARS]: tfvars(3).replace("worker_cores      = 4", "worker_cores      = 6"),
    });
    w.github.reset();
    const rebuilt = await w.run();
    expect(rebuilt.pullRequests).toEqual([expect.objectContaining({ action: "rebuilt", number })]);
    expect(rebuilt.pullRequests[0]?.note).toBeUndefined();
    expect(mutations(w.github)).toEqual([]);
    const pull = w.github.pull(number);
    expect(w.github.git.commits.get(pull.headSha)?.parents).toEqual([moved]);
    expect(pull.autoMerge).toEqual({ by: BOT_LOGIN, method: "squash" });
    expect(rebuilt.merges).toEqual([
      { number, action: "auto-merge-on", note: "GitHub's auto-merge is on" },
    ]);

    w.github.setStatus(pull.headSha, GUARD, "success");
    expect(w.github.pull(number).state).toBe("closed");
    const merged = w.github.file(TFVARS);
    expect(merged).toContain("worker_count      = 4");
    expect(merged).toContain("worker_cores      = 6");
  });
});

describe("GitHub (the fake) and pushes to a branch with auto-merge on", () => {
  it("keeps it on for a push by someone with write access, turns it off for anyone else", async () => {
    const { w, number } = await addingANode();
    w.github.push({ "notes.md": "four, please\n" }, { branch: BRANCH, login: "alice" });
    expect(w.github.pull(number).autoMerge).toEqual({ by: BOT_LOGIN, method: "squash" });
    w.github.permissions.set("mallory", "read");
    w.github.push({ "notes.md": "five!\n" }, { branch: BRANCH, login: "mallory" });
    expect(w.github.pull(number).autoMerge).toBeNull();
  });
});
