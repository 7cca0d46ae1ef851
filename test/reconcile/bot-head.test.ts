/**
 * Only the bot's own change merges under the bot's policy: a pull request's head counts as the
 * bot's when its change against the default branch is exactly what the plan writes, not because
 * the description's marker names it.
 */
import { describe, expect, it } from "@jest/globals";
import { readPullRequestMarker, replacePullRequestMarker } from "../../src/forge/marker.ts";
import type { ReconcileResult, ReconcileTarget } from "../../src/reconcile/reconcile-types.ts";
import { BOT_LOGIN } from "./support/fake-github.ts";
import { cluster, GUARDED_MERGE_CONFIG, TFVARS, tfvars, WORKERS_POOL } from "./support/infra.ts";
import { oneNodeShort, type Scenario } from "./support/scenario.ts";

const BRANCH = "pr-autoscaler/nodes-workers";
const GUARD = "pr-autoscaler/plan-guard";
const WORKFLOW = ".github/workflows/deploy.yml";

/** The four workers the bot's pull request writes. */
const FOUR = tfvars(3).replace("worker_count      = 3", "worker_count      = 4");

/** The bot's pull request #1, 3 → 4 workers, opened by the first reconcile. */
async function opened(): Promise<Scenario> {
  const world = oneNodeShort(GUARDED_MERGE_CONFIG);
  world.github.permissions.set("alice", "write");
  await world.run();
  return world;
}

/**
 * Someone with write access force-pushes to the bot's branch one commit on the default branch's
 * head, the bot's change with `files` written over it, and edits the hidden marker of the
 * description so that it names their commit as the bot's.
 */
function forgeHead(world: Scenario, files: Record<string, string>): string {
  world.github.git.branches.set(BRANCH, world.github.head());
  return nameInMarker(world, world.github.push({ [TFVARS]: FOUR, ...files }, { branch: BRANCH }));
}

/** Someone edits the hidden marker of the bot's pull request to name `sha` as the bot's commit. */
function nameInMarker(world: Scenario, sha: string): string {
  const pull = world.github.pull(1);
  const marker = readPullRequestMarker(pull.body);
  if (!marker) throw new Error("the bot's pull request has no marker");
  pull.body = replacePullRequestMarker(pull.body, { ...marker, sha });
  return sha;
}

/** The plan guard passes on the pull request's head, and its webhook comes to `target`. */
function guardPasses(world: Scenario, target?: ReconcileTarget): Promise<ReconcileResult> {
  world.github.setStatus(world.github.pull(1).headSha, GUARD, "success");
  return world.run(target, ["checks"]);
}

function expectLeftToPeople(world: Scenario, result: ReconcileResult, head: string, why: string) {
  const note = `its branch has commit ${head.slice(0, 7)}, which pr-autoscaler did not make: ${why}`;
  expect(result.pullRequests).toEqual([
    expect.objectContaining({ key: "nodes-workers", action: "human-edited", number: 1, note }),
  ]);
  expect(result.merges).toEqual([]);
  const pull = world.github.pull(1);
  expect(pull).toMatchObject({ state: "open", mergedAt: null, headSha: head });
  expect(world.github.git.branches.get(BRANCH)).toBe(head);
  expect(readPullRequestMarker(pull.body)?.handsOff).toBe(head);
  const notices = world.github
    .commentsOn(1)
    .filter((comment) => comment.body.includes("leaves this pull request to you"));
  expect(notices.map((comment) => comment.body.split("\n")[0])).toEqual([
    `pr-autoscaler leaves this pull request to you because ${note}.`,
  ]);
}

describe("a head the marker names but the bot did not make", () => {
  it("is left to people when it adds a file: not merged, not moved, said once", async () => {
    const world = await opened();
    const head = forgeHead(world, { [WORKFLOW]: "on: push\n" });
    const result = await guardPasses(world);
    expectLeftToPeople(
      world,
      result,
      head,
      `it changes ${WORKFLOW}, besides what pr-autoscaler writes`,
    );
    expect(world.github.file(WORKFLOW)).toBeUndefined();

    const later = await guardPasses(world);
    expect(later.merges).toEqual([]);
    expect(world.github.pull(1).state).toBe("open");
  });

  it("is left to people when it changes other lines of the file the change writes", async () => {
    const world = await opened();
    const head = forgeHead(world, {
      [TFVARS]: FOUR.replace("worker_cores      = 4", "worker_cores      = 8"),
    });
    const result = await guardPasses(world);
    expectLeftToPeople(
      world,
      result,
      head,
      `it changes ${TFVARS} beyond what pr-autoscaler writes`,
    );
    expect(world.github.file(TFVARS)).toBe(tfvars(3));
  });

  it("that only writes another count is taken as an earlier plan's: rebuilt, never merged", async () => {
    const world = await opened();
    const head = forgeHead(world, { [TFVARS]: tfvars(6) });
    const result = await guardPasses(world);
    expect(result.pullRequests).toEqual([
      expect.objectContaining({ action: "rebuilt", number: 1 }),
    ]);
    expect(result.merges).toEqual([expect.objectContaining({ number: 1, action: "waiting" })]);
    expect(world.github.pull(1).headSha).not.toBe(head);
    expect(world.github.file(TFVARS, BRANCH)).toBe(FOUR);
    expect(world.github.file(TFVARS)).toBe(tfvars(3));
  });

  it("is checked again, once, by a new process: refused there too", async () => {
    const world = await opened();
    const head = forgeHead(world, { [WORKFLOW]: "on: push\n" });
    const restarted = world.replica();
    world.github.reset();
    const result = await guardPasses(world, restarted);
    expectLeftToPeople(
      world,
      result,
      head,
      `it changes ${WORKFLOW}, besides what pr-autoscaler writes`,
    );
    expect(world.github.calls().filter((call) => call.startsWith("GET /compare/"))).toHaveLength(1);
  });

  it("is left to people when it is pushed on top of the bot's commit", async () => {
    const world = await opened();
    const pushed = world.github.push({ "notes.md": "why four\n" }, { branch: BRANCH });
    const head = nameInMarker(world, pushed);
    const result = await guardPasses(world);
    expectLeftToPeople(world, result, head, "it is not a single commit on top of main");
    expect(world.github.file("notes.md")).toBeUndefined();
  });
});

/** The bot's pull request #1, 3 → 4 workers, opened with GitHub's auto-merge on by the bot. */
async function autoMerging(): Promise<Scenario> {
  const world = oneNodeShort(`${WORKERS_POOL}automerge:
  rules:
    - name: add-a-node
      match: { kind: nodes, direction: up }
      action: merge
      requiredChecks: [${GUARD}]
`);
  world.github.allowAutoMerge = true;
  world.github.requiredChecks.push(GUARD);
  world.github.permissions.set("alice", "write");
  await world.run();
  expect(world.github.pull(1).autoMerge).toEqual({ by: BOT_LOGIN, method: "squash" });
  return world;
}

describe("a head the marker names, GitHub's auto-merge on by the bot", () => {
  it("gets the auto-merge turned off, so that passing checks merge nothing", async () => {
    const world = await autoMerging();
    // Someone with write access pushes: GitHub keeps the auto-merge on.
    const head = forgeHead(world, { [WORKFLOW]: "on: push\n" });
    expect(world.github.pull(1).autoMerge).not.toBeNull();

    const result = await world.run();
    expect(result.pullRequests).toEqual([
      expect.objectContaining({ action: "human-edited", note: expect.stringContaining(WORKFLOW) }),
    ]);
    expect(world.github.pull(1).autoMerge).toBeNull();
    world.github.setStatus(head, GUARD, "success");
    expect(world.github.pull(1)).toMatchObject({ state: "open", mergedAt: null });
    expect(world.github.file(WORKFLOW)).toBeUndefined();
  });
});

describe("a head the marker names, GitHub's auto-merge on by the bot, the change no longer wanted", () => {
  it("gets the auto-merge turned off before anything else, then is closed", async () => {
    const world = await autoMerging();
    forgeHead(world, { [WORKFLOW]: "on: push\n" });
    world.cluster = cluster({ pending: 0, plex: false });
    world.github.reset();

    const result = await world.run();
    expect(result.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "closed", number: 1 }),
    ]);
    const writes = world.github.calls().filter((call) => !call.startsWith("GET "));
    expect(writes.slice(0, 2)).toEqual([
      "POST /graphql disablePullRequestAutoMerge",
      "POST /issues/1/comments",
    ]);
    expect(world.github.pull(1)).toMatchObject({
      state: "closed",
      mergedAt: null,
      autoMerge: null,
    });
  });
});

describe("the bot's own head", () => {
  it("still merges after an update, with no request to check the commit the process made", async () => {
    const world = await opened();
    world.cluster = cluster({ pending: 2, plex: false });
    const updated = await world.run();
    expect(updated.pullRequests).toEqual([expect.objectContaining({ action: "updated" })]);
    const merged = await guardPasses(world);
    expect(merged.merges).toEqual([expect.objectContaining({ number: 1, action: "merged" })]);
    expect(world.github.file(TFVARS)).toContain("worker_count      = 5");
    expect(world.github.calls().filter((call) => call.startsWith("GET /compare/"))).toEqual([]);
  });

  it("is checked once by a new process, with one request, and merges", async () => {
    const world = await opened();
    const restarted = world.replica();
    world.github.reset();
    const merged = await guardPasses(world, restarted);
    expect(merged.merges).toEqual([expect.objectContaining({ number: 1, action: "merged" })]);
    expect(world.github.file(TFVARS)).toBe(FOUR);
    expect(world.github.calls().filter((call) => call.startsWith("GET /compare/"))).toEqual([
      expect.stringMatching(/^GET \/compare\/[0-9a-f]{40}\.\.\.[0-9a-f]{40}$/),
    ]);
  });

  it("is checked once per head: the next reconciles of the new process ask nothing more", async () => {
    const world = await opened();
    const restarted = world.replica();
    await world.run(restarted);
    world.github.reset();
    await world.run(restarted);
    await world.run(restarted);
    expect(world.github.calls().filter((call) => call.startsWith("GET /compare/"))).toEqual([]);
  });

  it("of an earlier plan is updated by a new process, not left to people", async () => {
    const world = await opened();
    world.cluster = cluster({ pending: 2, plex: false });
    const result = await world.run(world.replica());
    expect(result.pullRequests).toEqual([
      expect.objectContaining({ action: "updated", number: 1 }),
    ]);
    expect(world.github.file(TFVARS, BRANCH)).toContain("worker_count      = 5");
    expect(world.github.commentsOn(1)).toEqual([]);
  });

  it("behind a moved default branch is rebuilt by a new process", async () => {
    const world = await opened();
    const moved = world.github.push({ "README.md": "the infra repository\n" });
    const result = await world.run(world.replica());
    expect(result.pullRequests).toEqual([
      expect.objectContaining({ action: "rebuilt", number: 1 }),
    ]);
    const head = world.github.git.commits.get(world.github.pull(1).headSha);
    expect(head?.parents).toEqual([moved]);
    expect(world.github.commentsOn(1)).toEqual([]);
  });
});

describe("the bot's head made for a target the configuration has moved since", () => {
  const MOVED = "terraform/workers.auto.tfvars";

  /** The pool's count moves to its own file, and the cooldown this starts has passed. */
  function moveTarget(world: Scenario) {
    world.github.push({
      ".github/pr-autoscaler.yml": GUARDED_MERGE_CONFIG.replace(
        `file: ${TFVARS}`,
        `file: ${MOVED}`,
      ),
      [TFVARS]: null,
      [MOVED]: tfvars(3),
    });
    world.github.advance(6 * 60_000);
  }

  for (const [who, restart] of [
    ["the process that made it", false],
    ["a new process", true],
  ] as const) {
    it(`is rebuilt at the new target by ${who}, then merges`, async () => {
      const world = await opened();
      moveTarget(world);
      const target = restart ? world.replica() : undefined;
      const result = await world.run(target);
      expect(result.errors).toEqual([]);
      expect(result.pullRequests).toEqual([
        expect.objectContaining({ key: "nodes-workers", action: "updated", number: 1 }),
      ]);
      expect(world.github.file(MOVED, BRANCH)).toBe(FOUR);
      expect(world.github.file(TFVARS, BRANCH)).toBeUndefined();
      expect(world.github.commentsOn(1)).toEqual([]);
      const merged = await guardPasses(world, target);
      expect(merged.merges).toEqual([expect.objectContaining({ number: 1, action: "merged" })]);
      expect(world.github.file(MOVED)).toBe(FOUR);
    });
  }
});

describe("a branch left without a pull request, its commit's message copied from the bot's", () => {
  it("is not opened as it is when it holds more than the plan's change", async () => {
    const world = oneNodeShort(GUARDED_MERGE_CONFIG);
    // Opening the pull request fails: the branch stays with the bot's commit.
    world.github.fail("POST", /^\/pulls$/, 422, "Validation Failed");
    const failed = await world.run();
    expect(failed.pullRequests).toEqual([expect.objectContaining({ action: "failed" })]);
    const bots = world.github.git.commits.get(world.github.git.branches.get(BRANCH) ?? "");
    expect(bots?.message).toContain("Pr-Autoscaler-Fingerprint:");

    world.github.git.branches.set(BRANCH, world.github.head());
    const head = world.github.push(
      { [TFVARS]: FOUR, [WORKFLOW]: "on: push\n" },
      { branch: BRANCH, message: bots?.message ?? "" },
    );
    const result = await world.run();
    expect(result.pullRequests).toEqual([
      expect.objectContaining({
        key: "nodes-workers",
        action: "blocked",
        note: `branch ${BRANCH} has commit ${head.slice(0, 7)}, which pr-autoscaler did not make: it changes ${WORKFLOW}, besides what pr-autoscaler writes; delete the branch to let it open a pull request`,
      }),
    ]);
    expect(world.github.openPulls()).toEqual([]);
    expect(world.github.git.branches.get(BRANCH)).toBe(head);
  });
});
