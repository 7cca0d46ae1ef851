import { describe, expect, it } from "@jest/globals";
import { HOLD_LABEL } from "../../src/merge/hold.ts";
import { cluster, GUARDED_MERGE_CONFIG, TFVARS } from "./support/infra.ts";
import { oneNodeShort, scenario } from "./support/scenario.ts";

describe("auto-merge", () => {
  it("waits for the required check, then merges when a check webhook says it passed", async () => {
    const world = oneNodeShort(GUARDED_MERGE_CONFIG);
    const first = await world.run();
    expect(first.merges).toEqual([expect.objectContaining({ number: 1, action: "waiting" })]);
    expect(world.github.pull(1).body).toContain("**Merges itself** under rule `scale-up`");
    world.github.reset();
    await world.run();
    expect(world.github.calls().filter((call) => call.startsWith("GET /pulls/1"))).toEqual([]);
    world.github.setStatus(world.github.pull(1).headSha, "pr-autoscaler/plan-guard", "success");
    const checked = await world.run(undefined, ["checks"]);
    expect(checked.merges).toEqual([expect.objectContaining({ number: 1, action: "merged" })]);
    expect(world.github.pull(1).mergedAt).not.toBeNull();
    expect(world.github.file(TFVARS)).toContain("worker_count      = 4");
  });

  it("merges when the required check that reported pending reports success", async () => {
    const world = oneNodeShort(GUARDED_MERGE_CONFIG);
    await world.run();
    const head = world.github.pull(1).headSha;
    world.github.setStatus(head, "pr-autoscaler/plan-guard", "pending");
    const running = await world.run(undefined, ["checks"]);
    expect(running.merges).toEqual([expect.objectContaining({ number: 1, action: "waiting" })]);
    world.github.setStatus(head, "pr-autoscaler/plan-guard", "success");
    const passed = await world.run(undefined, ["checks"]);
    expect(passed.merges).toEqual([expect.objectContaining({ number: 1, action: "merged" })]);
    expect(world.github.file(TFVARS)).toContain("worker_count      = 4");
  });

  it("merges when the required check run that failed passes when re-run", async () => {
    const world = oneNodeShort(GUARDED_MERGE_CONFIG);
    await world.run();
    const head = world.github.pull(1).headSha;
    world.github.setCheckRun(head, "pr-autoscaler/plan-guard", "failure");
    const failed = await world.run(undefined, ["checks"]);
    expect(failed.merges).toEqual([
      expect.objectContaining({
        number: 1,
        action: "waiting",
        note: expect.stringContaining("fail"),
      }),
    ]);
    world.github.setCheckRun(head, "pr-autoscaler/plan-guard", "success");
    const passed = await world.run(undefined, ["checks"]);
    expect(passed.merges).toEqual([expect.objectContaining({ number: 1, action: "merged" })]);
  });

  it("looks again without webhooks after the merge poll interval", async () => {
    const world = oneNodeShort(GUARDED_MERGE_CONFIG);
    await world.run();
    world.github.setStatus(world.github.pull(1).headSha, "pr-autoscaler/plan-guard", "success");
    expect((await world.run()).merges).toEqual([]);
    world.github.advance(5 * 60_000);
    expect((await world.run()).merges).toEqual([expect.objectContaining({ action: "merged" })]);
  });

  it("does not merge a pull request on hold", async () => {
    const world = oneNodeShort(GUARDED_MERGE_CONFIG);
    world.github.permissions.set("alice", "write");
    await world.run();
    world.github.comment(1, "/autoscaler hold");
    const held = await world.run(undefined, ["comment"]);
    expect(world.github.pull(1).labels).toContain(HOLD_LABEL);
    expect(held.merges).toEqual([expect.objectContaining({ number: 1, action: "held" })]);
    world.github.setStatus(world.github.pull(1).headSha, "pr-autoscaler/plan-guard", "success");
    const checked = await world.run(undefined, ["checks"]);
    expect(checked.merges.map((merge) => merge.action)).not.toContain("merged");
    expect(world.github.pull(1).state).toBe("open");
  });
});

describe("limits against noise", () => {
  it("opens at most PR_AUTOSCALER_MAX_PER_HOUR new pull requests in an hour; the rest waits", async () => {
    const world = scenario({ cluster: cluster({ pending: 1 }), settings: { maxPerHour: 1 } });
    const first = await world.run();
    expect(first.pullRequests.map((o) => [o.key, o.action])).toEqual([
      ["nodes-workers", "created"],
      ["resources-media-plex", "deferred"],
    ]);
    const dashboard = world.github.botIssue("dashboard")?.body ?? "";
    expect(dashboard).toContain(
      "Right-size media/plex: cpu 2 → 450m, memory 4Gi → 1344Mi (`resources-media-plex`): waits, 1 pull requests opened in the last hour, at most 1 (PR_AUTOSCALER_MAX_PER_HOUR)",
    );
    world.github.advance(61 * 60_000);
    const later = await world.run();
    expect(later.pullRequests.map((o) => [o.key, o.action])).toContainEqual([
      "resources-media-plex",
      "created",
    ]);
  });

  it("keeps at most PR_AUTOSCALER_MAX_OPEN open; updates are never held back", async () => {
    const world = scenario({ cluster: cluster({ pending: 1 }), settings: { maxOpen: 1 } });
    await world.run();
    expect(world.github.openPulls().map((pull) => pull.branch)).toEqual([
      "pr-autoscaler/nodes-workers",
    ]);
    world.cluster = cluster({ pending: 2 });
    const next = await world.run();
    expect(next.pullRequests.map((o) => [o.key, o.action])).toEqual([
      ["nodes-workers", "updated"],
      ["resources-media-plex", "deferred"],
    ]);
  });

  it("cancels a requested count with scale POOL=auto", async () => {
    const world = scenario({ cluster: cluster({ plex: false }) });
    world.github.permissions.set("alice", "write");
    await world.run();
    const dashboard = world.github.botIssue("dashboard")?.number ?? 0;
    world.github.comment(dashboard, "/autoscaler scale workers=5");
    await world.run(undefined, ["comment"]);
    expect(world.github.openPulls()).toHaveLength(1);
    world.github.comment(dashboard, "/autoscaler scale workers=auto");
    const cancelled = await world.run(undefined, ["comment"]);
    expect(cancelled.pullRequests).toEqual([expect.objectContaining({ action: "closed" })]);
    expect(world.github.openPulls()).toEqual([]);
  });
});
