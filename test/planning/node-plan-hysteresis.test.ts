import { describe, expect, it } from "@jest/globals";
import { explainNodeDecision } from "../../src/planning/explain-node-decision.ts";
import { utcTime } from "../../src/util/utc-time.ts";
import { buildSnapshot, node, nodes, pendingPod, pod } from "../support/snapshot-builder.ts";
import { BUSY, kinds, NOW, planOne, QUIET } from "./plan-helpers.ts";

const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();

/** Two full workers and a pending pod: wants one more node. */
function wantsOneMore() {
  const workers = nodes(2, BUSY);
  return buildSnapshot({
    nodes: workers,
    pods: [
      ...workers.map((w) => pod(`fill/${w.name}`, { node: w.name, cpu: "3500m" })),
      pendingPod("web/a", { cpu: "2" }),
    ],
  });
}

describe("cooldown after a change", () => {
  it("proposes nothing new within the cooldown of the last merged change", () => {
    const decision = planOne(
      wantsOneMore(),
      {},
      { facts: { lastChange: { at: minutesAgo(2), direction: "down" } } },
    );
    expect(decision.action).toBe("none");
    expect(decision.triggers.map((t) => t.kind)).toEqual(["pending-pods"]);
    expect(decision.holds).toEqual([
      {
        kind: "cooldown",
        since: minutesAgo(2),
        until: new Date(NOW.getTime() + 3 * 60_000).toISOString(),
      },
    ]);
  });

  it("acts once the cooldown has passed", () => {
    const decision = planOne(
      wantsOneMore(),
      {},
      { facts: { lastChange: { at: minutesAgo(6), direction: "down" } } },
    );
    expect(decision).toMatchObject({ action: "scale-up", desired: 3 });
  });

  it("follows the configured cooldown", () => {
    const facts = { lastChange: { at: minutesAgo(6), direction: "down" as const } };
    expect(planOne(wantsOneMore(), { cooldown: "10m" }, { facts }).action).toBe("none");
  });
});

describe("no scale-down soon after a scale-up", () => {
  it("waits the delay after the new nodes became Ready", () => {
    const workers = [
      ...nodes(3, QUIET),
      node("worker-4", { ...QUIET, createdAt: minutesAgo(14), readySince: minutesAgo(8) }),
    ];
    const decision = planOne(
      buildSnapshot({ nodes: workers }),
      {},
      {
        facts: { lastChange: { at: minutesAgo(15), direction: "up" } },
      },
    );
    expect(decision.action).toBe("none");
    expect(decision.holds).toEqual([
      {
        kind: "scale-down-delay",
        since: minutesAgo(8),
        until: new Date(NOW.getTime() + 2 * 60_000).toISOString(),
      },
    ]);
  });

  it("waits the delay after the nodes of an earlier raise still joining at the last one", () => {
    // Raised 3 → 4 twenty minutes ago and 4 → 5 sixteen minutes ago: worker-5 was Ready 13
    // minutes ago, worker-4 only 2 minutes ago.
    const workers = [
      ...nodes(3, QUIET),
      node("worker-4", { ...QUIET, createdAt: minutesAgo(19), readySince: minutesAgo(2) }),
      node("worker-5", { ...QUIET, createdAt: minutesAgo(15), readySince: minutesAgo(13) }),
    ];
    const decision = planOne(
      buildSnapshot({ nodes: workers }),
      {},
      { facts: { lastChange: { at: minutesAgo(16), direction: "up" } } },
    );
    expect(decision.action).toBe("none");
    expect(decision.holds).toEqual([
      {
        kind: "scale-down-delay",
        since: minutesAgo(2),
        until: new Date(NOW.getTime() + 8 * 60_000).toISOString(),
      },
    ]);
  });

  it("says the delay has not started while the scale-up's nodes are not Ready", () => {
    // Raised by hand to 4 where the max is 3, three minutes ago: worker-4 is still booting.
    const workers = [
      ...nodes(3, QUIET),
      node("worker-4", { ready: false, createdAt: minutesAgo(2), readySince: minutesAgo(2) }),
    ];
    const decision = planOne(
      buildSnapshot({ nodes: workers }),
      { max: 3 },
      { facts: { lastChange: { at: minutesAgo(3), direction: "up" } } },
    );
    expect(decision.action).toBe("none");
    expect(decision.holds).toContainEqual({
      kind: "scale-down-delay",
      joining: ["worker-4"],
      delayMs: 600_000,
      until: new Date(NOW.getTime() + 10 * 60_000).toISOString(),
    });
    expect(explainNodeDecision(decision).join("\n")).toContain(
      `hold: no scale-down until 10m after the nodes of the last scale-up are Ready: worker-4 is not Ready yet (${utcTime(new Date(NOW.getTime() + 10 * 60_000).toISOString())} at the earliest)`,
    );
    // Past provisionTimeout it failed to join, and the delay no longer waits for it.
    const failed = planOne(
      buildSnapshot({ nodes: workers }),
      { max: 3 },
      { facts: { lastChange: { at: minutesAgo(16), direction: "up" } } },
    );
    expect(kinds(failed.holds)).toContain("provisioning-failed");
    expect(kinds(failed.holds)).not.toContain("scale-down-delay");
  });

  it("has not started the delay while nodes of the raise are not Ready or not listed yet", () => {
    // Raised 3 → 5 three minutes ago: worker-4 registered and is booting, the fifth VM is not
    // listed yet.
    const workers = [
      ...nodes(3, QUIET),
      node("worker-4", { ready: false, createdAt: minutesAgo(2), readySince: minutesAgo(2) }),
    ];
    const facts = { currentValue: 5, lastChange: { at: minutesAgo(3), direction: "up" as const } };
    const decision = planOne(buildSnapshot({ nodes: workers }), { max: 3 }, { facts });
    const until = new Date(NOW.getTime() + 10 * 60_000).toISOString();
    expect(decision.holds).toContainEqual({
      kind: "scale-down-delay",
      joining: ["worker-4"],
      missing: 1,
      delayMs: 600_000,
      until,
    });
    expect(explainNodeDecision(decision)).toContain(
      `  hold: no scale-down until 10m after the nodes of the last scale-up are Ready: worker-4 is not Ready yet, and 1 more node has not joined yet (${utcTime(until)} at the earliest)`,
    );
  });

  it("runs the delay from the raise, and says so, when no Ready node was created for it", () => {
    // Raised 3 → 4 seven minutes ago to match four nodes that were already there.
    const decision = planOne(
      buildSnapshot({ nodes: nodes(4, QUIET) }),
      {},
      { facts: { lastChange: { at: minutesAgo(7), direction: "up" } } },
    );
    const until = new Date(NOW.getTime() + 3 * 60_000).toISOString();
    expect(decision.holds).toEqual([
      { kind: "scale-down-delay", since: minutesAgo(7), until, from: "change" },
    ]);
    expect(explainNodeDecision(decision)).toContain(
      `  hold: no scale-down until ${utcTime(until)} (after the last scale-up, of ${utcTime(minutesAgo(7))}: none of the pool's Ready nodes was created for it, so the delay runs from the change)`,
    );
  });

  it("counts a Ready node whose creation and Ready times are unknown as one the raise may have added", () => {
    // Raised 3 → 4 seven minutes ago; worker-4 gives neither time (a snapshot that lost them).
    const workers = [...nodes(3, QUIET), node("worker-4", { ...QUIET, createdAt: "" })];
    const decision = planOne(
      buildSnapshot({ nodes: workers }),
      {},
      { facts: { lastChange: { at: minutesAgo(7), direction: "up" } } },
    );
    // It may have become Ready as late as now: the delay is not run from the raise.
    const until = new Date(NOW.getTime() + 10 * 60_000).toISOString();
    expect(decision.holds).toEqual([
      {
        kind: "scale-down-delay",
        since: NOW.toISOString(),
        until,
        readyTimeUnknown: ["worker-4"],
      },
    ]);
    expect(explainNodeDecision(decision).join("\n")).not.toContain(
      "none of the pool's Ready nodes",
    );
    // One whose Ready time is older than any node of the raise is not one of them.
    workers[3] = node("worker-4", { ...QUIET, createdAt: "", readySince: minutesAgo(600) });
    const older = planOne(
      buildSnapshot({ nodes: workers }),
      {},
      { facts: { lastChange: { at: minutesAgo(7), direction: "up" } } },
    );
    expect(older.holds).toEqual([
      {
        kind: "scale-down-delay",
        since: minutesAgo(7),
        until: new Date(NOW.getTime() + 3 * 60_000).toISOString(),
        from: "change",
      },
    ]);
  });

  it("does not wait for the node of a raise reverted before it was Ready, which is leaving", () => {
    // Raised 3 → 4 six minutes ago, lowered back to 3 two minutes later: worker-4 never became
    // Ready and is going.
    const workers = [
      ...nodes(3, QUIET),
      node("worker-4", { ready: false, createdAt: minutesAgo(5), readySince: minutesAgo(5) }),
    ];
    const facts = {
      currentValue: 3,
      lastChange: { at: minutesAgo(4), direction: "down" as const },
      lastScaleUp: { at: minutesAgo(6) },
    };
    const decision = planOne(buildSnapshot({ nodes: workers }), {}, { facts });
    const delay = decision.holds.find((hold) => hold.kind === "scale-down-delay");
    expect(delay).toEqual({
      kind: "scale-down-delay",
      since: minutesAgo(6),
      until: new Date(NOW.getTime() + 4 * 60_000).toISOString(),
      from: "change",
    });
    expect(explainNodeDecision(decision).join("\n")).not.toContain("not Ready yet");
  });

  it("counts a change of unknown direction as a scale-up", () => {
    const decision = planOne(
      buildSnapshot({ nodes: nodes(4, QUIET) }),
      {},
      {
        facts: { lastChange: { at: minutesAgo(7) } },
      },
    );
    expect(decision.action).toBe("none");
    expect(kinds(decision.holds)).toEqual(["scale-down-delay"]);
  });

  it("does not delay a scale-down after a scale-down", () => {
    const decision = planOne(
      buildSnapshot({ nodes: nodes(4, QUIET) }),
      {},
      {
        facts: { lastChange: { at: minutesAgo(7), direction: "down" } },
      },
    );
    expect(decision.action).toBe("scale-down");
  });

  it("still waits the delay after a scale-up that a decrease followed", () => {
    // Raised 5 → 6 eight minutes ago, lowered to 5 by hand a minute later: the cooldown runs
    // from the decrease and is over; the raise's delay is not.
    const workers = [
      ...nodes(4, QUIET),
      node("worker-5", { ...QUIET, createdAt: minutesAgo(8), readySince: minutesAgo(6) }),
    ];
    const facts = {
      lastChange: { at: minutesAgo(7), direction: "down" as const },
      lastScaleUp: { at: minutesAgo(8) },
    };
    const decision = planOne(buildSnapshot({ nodes: workers }), {}, { facts });
    expect(decision.action).toBe("none");
    expect(decision.holds).toEqual([
      {
        kind: "scale-down-delay",
        since: minutesAgo(6),
        until: new Date(NOW.getTime() + 4 * 60_000).toISOString(),
      },
    ]);
    const later = { ...facts, lastScaleUp: { at: minutesAgo(20) } };
    expect(planOne(buildSnapshot({ nodes: nodes(5, QUIET) }), {}, { facts: later }).action).toBe(
      "scale-down",
    );
  });

  it("does not hold back a scale-up", () => {
    const decision = planOne(
      wantsOneMore(),
      {},
      { facts: { lastChange: { at: minutesAgo(7), direction: "up" } } },
    );
    expect(decision.action).toBe("scale-up");
  });
});

describe("nodes joining or leaving", () => {
  it("waits for the nodes of a merged scale-up to join, until the provision timeout", () => {
    const decision = planOne(
      wantsOneMore(),
      {},
      {
        facts: { currentValue: 3, lastChange: { at: minutesAgo(6), direction: "up" } },
      },
    );
    expect(decision.action).toBe("none");
    expect(decision.holds).toEqual([
      {
        kind: "provisioning",
        state: "joining",
        expected: 3,
        present: 2,
        since: minutesAgo(6),
        deadline: new Date(NOW.getTime() + 9 * 60_000).toISOString(),
      },
    ]);
  });

  it("reports the change as failed after the provision timeout, and still adds nothing", () => {
    const decision = planOne(
      wantsOneMore(),
      {},
      {
        facts: { currentValue: 3, lastChange: { at: minutesAgo(20), direction: "up" } },
      },
    );
    expect(decision.action).toBe("none");
    expect(decision.holds).toEqual([
      {
        kind: "provisioning-failed",
        state: "joining",
        expected: 3,
        present: 2,
        since: minutesAgo(20),
        timeoutMs: 900_000,
      },
    ]);
    expect(explainNodeDecision(decision).join("\n")).toContain(
      `hold: the repo asks for 3 nodes, 2 are Ready, 15m or more after the change of ${utcTime(minutesAgo(20))}: a node failed to join or stopped being Ready, or joined without the labels the pool's selector matches; nothing new until it is resolved`,
    );
  });

  it("names the awaited nodes that are listed but not Ready, and says what the rest may be", () => {
    // Raised from 2 to 4 twenty minutes ago: worker-3 came up with no Ready condition (no time
    // on it), and a fourth node is not listed at all.
    const workers = [
      ...nodes(2, BUSY),
      node("worker-3", { ready: false, createdAt: minutesAgo(19) }),
    ];
    const decision = planOne(
      buildSnapshot({
        nodes: workers,
        pods: workers.map((w) => pod(`fill/${w.name}`, { node: w.name, cpu: "3500m" })),
      }),
      {},
      { facts: { currentValue: 4, lastChange: { at: minutesAgo(20), direction: "up" } } },
    );
    expect(decision.holds).toContainEqual(
      expect.objectContaining({
        kind: "provisioning-failed",
        state: "joining",
        expected: 4,
        present: 2,
        nodes: ["worker-3"],
      }),
    );
    expect(explainNodeDecision(decision).join("\n")).toContain(
      `hold: the repo asks for 4 nodes, 2 are Ready, 15m or more after the change of ${utcTime(minutesAgo(20))}: worker-3 is listed but not Ready, and another node failed to join or stopped being Ready, or joined without the labels the pool's selector matches; nothing new until it is resolved`,
    );
  });

  it("reports the change as failed at exactly the provision timeout, and the words say so", () => {
    const decision = planOne(
      wantsOneMore(),
      {},
      {
        facts: { currentValue: 3, lastChange: { at: minutesAgo(15), direction: "up" } },
      },
    );
    expect(decision.holds).toEqual([
      {
        kind: "provisioning-failed",
        state: "joining",
        expected: 3,
        present: 2,
        since: minutesAgo(15),
        timeoutMs: 900_000,
      },
    ]);
    // Exactly 15m after the change is not "more than" 15m after it.
    const text = explainNodeDecision(decision).join("\n");
    expect(text).toContain(
      `2 are Ready, 15m or more after the change of ${utcTime(minutesAgo(15))}:`,
    );
    expect(text).not.toContain("more than 15m");
  });

  it("counts a node the change created that is there but not Ready as not joined", () => {
    const workers = [
      ...nodes(2, BUSY),
      node("worker-3", { ready: false, createdAt: minutesAgo(2) }),
    ];
    const decision = planOne(
      buildSnapshot({ nodes: workers }),
      {},
      {
        facts: { lastChange: { at: minutesAgo(3), direction: "up" } },
      },
    );
    expect(decision.holds[0]).toMatchObject({
      kind: "provisioning",
      state: "joining",
      expected: 3,
      present: 2,
    });
  });

  it("awaits a node an earlier raise is still adding when another raise came after it", () => {
    // Raised 2 → 3 nine minutes ago and 3 → 4 six minutes ago: worker-4 is up, worker-3 (eight
    // minutes old, never Ready) is still joining, not a VM that died to plan around.
    const workers = [
      ...nodes(2, BUSY),
      node("worker-3", { ready: false, createdAt: minutesAgo(8), readySince: minutesAgo(8) }),
      node("worker-4", { ...BUSY, createdAt: minutesAgo(5), readySince: minutesAgo(3) }),
    ];
    const fill = ["worker-1", "worker-2", "worker-4"].map((name) =>
      pod(`web/fill-${name}`, { node: name, cpu: "3900m", memory: "1Gi" }),
    );
    const waiting = pendingPod("web/a", { cpu: "1", memory: "1Gi" });
    const decision = planOne(
      buildSnapshot({ nodes: workers, pods: [...fill, waiting] }),
      {},
      { facts: { lastChange: { at: minutesAgo(6), direction: "up" } } },
    );
    expect(decision.action).toBe("none");
    expect(decision.holds[0]).toEqual({
      kind: "provisioning",
      state: "joining",
      expected: 4,
      present: 3,
      since: minutesAgo(6),
      deadline: new Date(NOW.getTime() + 9 * 60_000).toISOString(),
      nodes: ["worker-3"],
    });
    // Created more than provisionTimeout before the change, it had failed to join by then.
    const older = workers.map((w) =>
      w.name === "worker-3" ? { ...w, createdAt: minutesAgo(22), readySince: minutesAgo(22) } : w,
    );
    const around = planOne(
      buildSnapshot({ nodes: older, pods: [...fill, waiting] }),
      {},
      { facts: { lastChange: { at: minutesAgo(6), direction: "up" } } },
    );
    expect(around).toMatchObject({ action: "scale-up", current: 4, desired: 5 });
  });

  it("takes a node there before the change that is not Ready now as unready, not joining", () => {
    // A VM that died: pods wait for room, and a node is added for them.
    const workers = [...nodes(2, BUSY), node("worker-3", { ready: false })];
    const fill = ["worker-1", "worker-2"].map((name) =>
      pod(`web/fill-${name}`, { node: name, cpu: "3900m", memory: "1Gi" }),
    );
    const waiting = pendingPod("web/a", { cpu: "1", memory: "1Gi" });
    const decision = planOne(
      buildSnapshot({ nodes: workers, pods: [...fill, waiting] }),
      {},
      { facts: { lastChange: { at: minutesAgo(120), direction: "up" } } },
    );
    expect(decision.holds).toEqual([]);
    expect(decision).toMatchObject({ action: "scale-up", current: 3, desired: 4 });
    expect(decision.pending.awaited).toBeUndefined();
    // Without the time of the change, a node created more than provisionTimeout ago is not
    // joining either; one created a minute ago is.
    const unknown = planOne(buildSnapshot({ nodes: workers, pods: [...fill, waiting] }));
    expect(unknown.action).toBe("scale-up");
    const fresh = [...nodes(2, BUSY), node("worker-3", { ready: false, createdAt: minutesAgo(1) })];
    const booting = planOne(buildSnapshot({ nodes: fresh, pods: [...fill, waiting] }));
    expect(booting.action).toBe("none");
    expect(booting.holds[0]).toMatchObject({ kind: "provisioning", state: "joining" });
  });

  it("takes a node the change created that was Ready and stopped as unready, not as failed to join", () => {
    // The count was set a day ago and the VMs created after it, as Terraform does.
    const facts = { lastChange: { at: minutesAgo(24 * 60), direction: "up" as const } };
    const created = minutesAgo(24 * 60 - 5);
    const workers = [
      node("worker-1", { ...BUSY, createdAt: created, ready: false, readySince: minutesAgo(6) }),
      ...nodes(2, { ...BUSY, createdAt: created }, "worker-", 2),
    ];
    const fill = ["worker-2", "worker-3"].map((name) =>
      pod(`web/fill-${name}`, { node: name, cpu: "3900m", memory: "1Gi" }),
    );
    const waiting = pendingPod("web/a", { cpu: "1", memory: "1Gi" });
    const decision = planOne(
      buildSnapshot({ nodes: workers, pods: [...fill, waiting] }),
      {},
      { facts },
    );
    expect(decision.holds).toEqual([]);
    expect(decision).toMatchObject({ action: "scale-up", current: 3, desired: 4 });
    // One that never became Ready (its condition changed when it registered) failed to join.
    const never = [
      node("worker-1", { ...BUSY, createdAt: created, ready: false, readySince: created }),
      ...nodes(2, { ...BUSY, createdAt: created }, "worker-", 2),
    ];
    const failed = planOne(
      buildSnapshot({ nodes: never, pods: [...fill, waiting] }),
      {},
      { facts },
    );
    expect(failed.action).toBe("none");
    expect(failed.holds[0]).toMatchObject({ kind: "provisioning-failed", state: "joining" });
  });

  it("counts the delay after a scale-up from its nodes that are Ready, not from one that died since", () => {
    const facts = { lastChange: { at: minutesAgo(60), direction: "up" as const } };
    const joined = minutesAgo(55);
    const workers = [
      ...nodes(3, { ...QUIET, createdAt: minutesAgo(600) }),
      node("worker-4", { ...QUIET, createdAt: minutesAgo(58), readySince: joined }),
      node("worker-5", {
        ...QUIET,
        createdAt: minutesAgo(58),
        ready: false,
        readySince: minutesAgo(2),
      }),
    ];
    const decision = planOne(buildSnapshot({ nodes: workers }), {}, { facts });
    expect(kinds(decision.holds)).not.toContain("scale-down-delay");
  });

  describe("a node that stopped being Ready, for a scale-down", () => {
    const dead = (since: number) =>
      node("worker-4", { ...QUIET, ready: false, readySince: minutesAgo(since) });
    const facts = { lastChange: { at: minutesAgo(600), direction: "up" as const } };

    it("removes no Ready node while it is not Ready: its pods will need the room", () => {
      const lower = [...nodes(4, QUIET)];
      lower[1] = {
        ...lower[1],
        ready: false,
        readySince: minutesAgo(60),
      } as (typeof lower)[number];
      const held = planOne(buildSnapshot({ nodes: lower }), {}, { facts });
      expect(held.action).toBe("none");
      // Not Ready for an hour, and not the node a decrease removes: only a person ends the hold.
      expect(held.holds).toContainEqual({
        kind: "nodes-unready",
        nodes: ["worker-2"],
        stuck: ["worker-2"],
      });
      expect(explainNodeDecision(held).join("\n")).toContain(
        "worker-2 is not Ready: no Ready node is removed while its pods may need the room; worker-2 has not been Ready for scaleDown.unreadyTime and the decrease does not remove it",
      );
      // Not Ready for five minutes, it may come back: the hold is one time may end.
      lower[1] = { ...lower[1], readySince: minutesAgo(5) } as (typeof lower)[number];
      const recent = planOne(buildSnapshot({ nodes: lower }), {}, { facts });
      expect(recent.holds).toContainEqual({ kind: "nodes-unready", nodes: ["worker-2"] });
      // The highest-numbered node, not Ready for an hour, goes (with the empty nodes before it,
      // when empty nodes may go together).
      const highest = planOne(
        buildSnapshot({ nodes: [...nodes(3, QUIET), dead(60)] }),
        { scaleDown: { maxEmptyBulk: 10 } },
        { facts },
      );
      expect(highest.action).toBe("scale-down");
      expect(highest.removing).toEqual(["worker-4", "worker-3", "worker-2"]);
      expect(highest.scaleDown.bulk?.nodes).toEqual(highest.removing);
      expect(explainNodeDecision(highest).join("\n")).toContain(
        "scale-down: worker-4, not Ready for longer than 20m (scaleDown.unreadyTime), goes whatever the usage when nothing blocks it and its pods fit elsewhere (usage and requests decide only whether empty nodes go with it, up to scaleDown.maxEmptyBulk in all)",
      );
    });

    it("above the max: brings the count down to it, and no Ready node beyond it", () => {
      /** `count` workers at `spec`, worker-2 not Ready for five minutes. */
      const withDown = (count: number, spec = QUIET) =>
        buildSnapshot({
          nodes: nodes(count, spec).map((w) =>
            w.name === "worker-2" ? { ...w, ready: false, readySince: minutesAgo(5) } : w,
          ),
        });
      const one = planOne(withDown(5, BUSY), { max: 4 }, { facts });
      expect(one).toMatchObject({ action: "scale-down", desired: 4, removing: ["worker-5"] });
      expect(kinds(one.holds)).not.toContain("nodes-unready");
      // Below the max, the empty nodes that would go with them for low usage stay.
      const bulk = planOne(withDown(6), { max: 4, scaleDown: { maxEmptyBulk: 10 } }, { facts });
      expect(bulk).toMatchObject({
        action: "scale-down",
        desired: 4,
        removing: ["worker-6", "worker-5"],
      });
      expect(bulk.holds).toContainEqual({
        kind: "nodes-unready",
        nodes: ["worker-2"],
        max: 4,
        bound: "max",
      });
      const text = explainNodeDecision(bulk);
      expect(text).toContain(
        "  hold: worker-2 is not Ready: the count comes down to the max of 4 and no further while its pods may need the room",
      );
      expect(text).toContain(
        "  scale-down: 2 empty nodes go together (at most 10): worker-6, worker-5; no more: the count comes down to the max of 4 and no further while the pods of nodes not Ready may need the room",
      );
    });

    it("removes the nodes long not Ready a decrease starts with while another is not Ready, and no Ready node", () => {
      const workers = [
        ...nodes(4, QUIET).map((w) =>
          w.name === "worker-2" ? { ...w, ready: false, readySince: minutesAgo(5) } : w,
        ),
        node("worker-5", { ...QUIET, ready: false, readySince: minutesAgo(60) }),
      ];
      const decision = planOne(
        buildSnapshot({ nodes: workers }),
        { scaleDown: { maxEmptyBulk: 10 } },
        { facts },
      );
      expect(decision).toMatchObject({ action: "scale-down", desired: 4, removing: ["worker-5"] });
      expect(decision.holds).toContainEqual({
        kind: "nodes-unready",
        nodes: ["worker-2", "worker-5"],
      });
      expect(explainNodeDecision(decision)).toContain(
        "  scale-down: worker-5 goes alone; no more: no Ready node goes while the pods of nodes not Ready may need the room",
      );
    });

    it("removes the highest-numbered of two nodes not Ready, one at a time: it takes no room", () => {
      const worker5 = node("worker-5", { ...QUIET, ready: false, readySince: minutesAgo(60) });
      const worker6 = node("worker-6", { ...QUIET, ready: false, readySince: minutesAgo(60) });
      const one = { scaleDown: { maxEmptyBulk: 1 } };
      const decision = planOne(
        buildSnapshot({ nodes: [...nodes(4, QUIET), worker5, worker6] }),
        one,
        { facts },
      );
      expect(decision).toMatchObject({ action: "scale-down", desired: 5, removing: ["worker-6"] });
      expect(kinds(decision.holds)).not.toContain("nodes-unready");
      // Not Ready for 10 minutes only, it waits for scaleDown.unreadyTime, and the hold names it.
      const recent = node("worker-6", { ...QUIET, ready: false, readySince: minutesAgo(10) });
      const held = planOne(buildSnapshot({ nodes: [...nodes(4, QUIET), worker5, recent] }), one, {
        facts,
      });
      expect(held.action).toBe("none");
      expect(held.holds).toContainEqual({
        kind: "nodes-unready",
        nodes: ["worker-6"],
        until: minutesAgo(-10),
      });
    });

    it("removes the highest-numbered node not Ready for unreadyTime whatever the usage", () => {
      const busyDead = (since: number) =>
        node("worker-4", { ...BUSY, ready: false, readySince: minutesAgo(since) });
      const decision = planOne(
        buildSnapshot({ nodes: [...nodes(3, BUSY), busyDead(25)] }),
        {},
        { facts },
      );
      expect(decision).toMatchObject({ action: "scale-down", desired: 3, removing: ["worker-4"] });
      expect(decision.triggers).toEqual([
        {
          kind: "unready-node",
          node: "worker-4",
          since: minutesAgo(25),
          notReadyForMs: 1_500_000,
          unreadyTimeMs: 1_200_000,
        },
      ]);
      expect(explainNodeDecision(decision).join("\n")).toContain(
        `worker-4 has not been Ready for 25m (since ${utcTime(minutesAgo(25))}), more than 20m (scaleDown.unreadyTime): it goes whatever the usage`,
      );
      const early = planOne(
        buildSnapshot({ nodes: [...nodes(3, BUSY), busyDead(10)] }),
        {},
        { facts },
      );
      expect(early.action).toBe("none");
      expect(early.triggers).toEqual([]);
      // Never below the min, and not while something on it blocks its removal.
      const atMin = planOne(
        buildSnapshot({ nodes: [...nodes(3, BUSY), busyDead(25)] }),
        { min: 4 },
        { facts },
      );
      expect(atMin.action).toBe("none");
      const bare = pod("debug/shell", { node: "worker-4", cpu: "100m", owner: null });
      const blocked = planOne(
        buildSnapshot({ nodes: [...nodes(3, BUSY), busyDead(25)], pods: [bare] }),
        {},
        { facts },
      );
      expect(blocked.action).toBe("none");
      expect(blocked.scaleDown.refusedBy?.map((condition) => condition.kind)).toContain(
        "no-blockers",
      );
    });

    it("removes the not-Ready node itself only once it has been so for unreadyTime", () => {
      const early = planOne(buildSnapshot({ nodes: [...nodes(3, QUIET), dead(5)] }), {}, { facts });
      expect(early.action).toBe("none");
      expect(early.holds).toContainEqual({
        kind: "nodes-unready",
        nodes: ["worker-4"],
        until: new Date(NOW.getTime() + 15 * 60_000).toISOString(),
      });
      const late = planOne(buildSnapshot({ nodes: [...nodes(3, QUIET), dead(20)] }), {}, { facts });
      expect(late.action).toBe("scale-down");
      expect(late.removing?.[0]).toBe("worker-4");
      const configured = planOne(
        buildSnapshot({ nodes: [...nodes(3, QUIET), dead(20)] }),
        { scaleDown: { unreadyTime: "30m" } },
        { facts },
      );
      expect(configured.action).toBe("none");
    });

    it("says a not-Ready node with no time on its Ready condition is held for that unknown time", () => {
      // worker-4 is the only node the decrease takes (one at a time): no Ready node would go.
      const unknownSince = node("worker-4", { ...QUIET, ready: false });
      const decision = planOne(
        buildSnapshot({ nodes: [...nodes(3, QUIET), unknownSince] }),
        { scaleDown: { maxEmptyBulk: 1 } },
        { facts },
      );
      expect(decision.action).toBe("none");
      expect(decision.scaleDown.bulk?.nodes).toEqual(["worker-4"]);
      expect(decision.holds).toContainEqual({
        kind: "nodes-unready",
        nodes: ["worker-4"],
        sinceUnknown: ["worker-4"],
      });
      const text = explainNodeDecision(decision).join("\n");
      expect(text).toContain(
        "hold: worker-4 is not Ready since a time that is unknown (no time on its Ready condition): whether it has been so for scaleDown.unreadyTime cannot be told, so the decrease that removes it waits (unknown is not long ago)",
      );
      expect(text).not.toContain("no Ready node is removed");
      // Beside a node whose time is known, only the unknown one is named as such.
      const lower = [...nodes(2, QUIET), dead(30), unknownSince];
      lower[2] = { ...(lower[2] as (typeof lower)[number]), name: "worker-3" };
      const both = planOne(
        buildSnapshot({ nodes: lower }),
        { scaleDown: { maxEmptyBulk: 10 } },
        { facts },
      );
      expect(both.holds).toContainEqual({
        kind: "nodes-unready",
        nodes: ["worker-3", "worker-4"],
        sinceUnknown: ["worker-4"],
      });
      expect(explainNodeDecision(both).join("\n")).toContain(
        "hold: worker-3, worker-4 are not Ready, and since when worker-4 has not been is unknown (no time on its Ready condition): whether it has been so for scaleDown.unreadyTime cannot be told, so the decrease that removes them waits (unknown is not long ago)",
      );
    });
  });

  it("waits for a removed node to leave", () => {
    const decision = planOne(
      buildSnapshot({ nodes: nodes(4, QUIET) }),
      {},
      {
        facts: { currentValue: 3, lastChange: { at: minutesAgo(6), direction: "down" } },
      },
    );
    expect(decision.action).toBe("none");
    expect(decision.holds[0]).toMatchObject({
      kind: "provisioning",
      state: "leaving",
      expected: 3,
      present: 4,
    });
  });

  it("waits without a deadline when the time of the change is unknown", () => {
    const decision = planOne(wantsOneMore(), {}, { facts: { currentValue: 3 } });
    expect(decision.holds).toEqual([
      { kind: "provisioning", state: "joining", expected: 3, present: 2 },
    ]);
  });
});

describe("an open scaling pull request", () => {
  it("is updated with the new decision", () => {
    const decision = planOne(
      wantsOneMore(),
      {},
      { facts: { openPullRequest: { number: 12, desired: 3 } } },
    );
    expect(decision).toMatchObject({
      action: "scale-up",
      desired: 3,
      pullRequest: { action: "update", number: 12 },
    });
  });

  it("is closed when nothing is wanted any more and nothing holds the evaluation", () => {
    const snapshot = buildSnapshot({ nodes: nodes(2, BUSY) });
    const decision = planOne(snapshot, {}, { facts: { openPullRequest: { number: 12 } } });
    expect(decision.pullRequest).toEqual({ action: "close", number: 12 });
  });

  it("is closed when it would remove a Ready node while another is not Ready; kept when it removes only that one", () => {
    const facts = { lastChange: { at: minutesAgo(600), direction: "up" as const } };
    const dying = (name: string) =>
      node(name, { ...QUIET, ready: false, readySince: minutesAgo(3) });
    const second = [node("worker-1", QUIET), dying("worker-2"), ...nodes(2, QUIET, "worker-", 3)];
    const open = { number: 12, desired: 3 };
    const closed = planOne(
      buildSnapshot({ nodes: second }),
      {},
      { facts: { ...facts, openPullRequest: open } },
    );
    expect(closed.pullRequest).toEqual({ action: "close", number: 12 });
    const highest = [...nodes(3, QUIET), dying("worker-4")];
    const kept = planOne(
      buildSnapshot({ nodes: highest }),
      {},
      { facts: { ...facts, openPullRequest: open } },
    );
    expect(kept.pullRequest).toEqual({ action: "leave", number: 12 });
  });

  it("above the max: is left when it comes down to it while another is not Ready, and closed when it goes below", () => {
    const cooldown = { lastChange: { at: minutesAgo(1), direction: "up" as const } };
    const workers = nodes(5, BUSY).map((w) =>
      w.name === "worker-2" ? { ...w, ready: false, readySince: minutesAgo(3) } : w,
    );
    const open = (desired: number) =>
      planOne(
        buildSnapshot({ nodes: workers }),
        { max: 4 },
        { facts: { ...cooldown, openPullRequest: { number: 12, desired, from: 5 } } },
      );
    expect(open(4).pullRequest).toEqual({ action: "leave", number: 12 });
    const below = open(3);
    expect(below.pullRequest).toEqual({ action: "close", number: 12 });
    // The hold beside the cooldown says why it closes.
    expect(below.holds).toContainEqual({
      kind: "nodes-unready",
      nodes: ["worker-2"],
      max: 4,
      bound: "max",
    });
    expect(explainNodeDecision(below)).toContain(
      "  hold: worker-2 is not Ready: the count comes down to the max of 4 and no further while its pods may need the room",
    );
  });

  it("above the max: names the node not Ready beside a cooldown that holds a decrease it cuts, once", () => {
    // Six quiet workers, the first three running a pod, worker-3 not Ready for three minutes, a
    // max of 4: empty worker-6 and worker-5 would go, and no more. The bulk line's stop names
    // nodes not Ready; a hold names worker-3, with a pull request open (down to the max, or
    // below it and closed) or not.
    const cooldown = { lastChange: { at: minutesAgo(1), direction: "up" as const } };
    const workers = nodes(6, QUIET).map((w) =>
      w.name === "worker-3" ? { ...w, ready: false, readySince: minutesAgo(3) } : w,
    );
    const pool = { max: 4, scaleDown: { maxEmptyBulk: 5 } };
    for (const desired of [undefined, 4, 3]) {
      const open =
        desired === undefined ? {} : { openPullRequest: { number: 12, desired, from: 6 } };
      const pods = workers.slice(0, 3).map((w) => pod(`web/${w.name}`, { node: w.name }));
      const decision = planOne(buildSnapshot({ nodes: workers, pods }), pool, {
        facts: { ...cooldown, ...open },
      });
      expect(decision.action).toBe("none");
      expect(decision.holds.filter((hold) => hold.kind === "nodes-unready")).toEqual([
        { kind: "nodes-unready", nodes: ["worker-3"], max: 4, bound: "max" },
      ]);
      const text = explainNodeDecision(decision);
      expect(text).toContain(
        "  hold: worker-3 is not Ready: the count comes down to the max of 4 and no further while its pods may need the room",
      );
      expect(text).toContain(
        "  scale-down: 2 empty nodes would go together (at most 5): worker-6, worker-5; no more: the count comes down to the max of 4 and no further while the pods of nodes not Ready may need the room",
      );
    }
  });

  it("says why it is closed while a cooldown holds the pool and a node is not Ready", () => {
    const cooldown = { lastChange: { at: minutesAgo(1), direction: "up" as const } };
    const workers = nodes(4, BUSY).map((w) =>
      w.name === "worker-2" ? { ...w, ready: false, readySince: minutesAgo(60) } : w,
    );
    const decision = planOne(
      buildSnapshot({ nodes: workers }),
      {},
      { facts: { ...cooldown, openPullRequest: { number: 12, desired: 3, from: 4 } } },
    );
    expect(decision.pullRequest).toEqual({ action: "close", number: 12 });
    // Not `stuck`: the plan's own decrease, held by the cooldown, says whether it stays for good.
    expect(decision.holds).toContainEqual({ kind: "nodes-unready", nodes: ["worker-2"] });
    expect(explainNodeDecision(decision)).toContain(
      "  hold: worker-2 is not Ready: no Ready node is removed while its pods may need the room",
    );
  });

  it("is left as it is while something holds the evaluation", () => {
    const decision = planOne(
      wantsOneMore(),
      {},
      {
        facts: {
          openPullRequest: { number: 12 },
          lastChange: { at: minutesAgo(1), direction: "down" },
        },
      },
    );
    expect(decision.pullRequest).toEqual({ action: "leave", number: 12 });
  });

  /** Four workers, a cooldown over them (a change a minute ago), and the open pull request. */
  function heldWith(open: { number: number; desired: number; from: number }, pool = {}) {
    const workers = nodes(4, BUSY);
    const snapshot = buildSnapshot({
      nodes: workers,
      pods: workers.map((w) => pod(`web/${w.name}`, { node: w.name, cpu: "1500m" })),
    });
    return planOne(snapshot, pool, {
      facts: { openPullRequest: open, lastChange: { at: minutesAgo(1), direction: "up" } },
    });
  }

  it("is closed, naming why, when the count was changed under it, whatever holds the pool", () => {
    const decision = heldWith({ number: 12, desired: 5, from: 3 });
    expect(kinds(decision.holds)).toEqual(["cooldown"]);
    expect(decision.pullRequest).toEqual({
      action: "close",
      number: 12,
      closes: { kind: "count-changed", from: 3, desired: 5, current: 4 },
    });
    expect(explainNodeDecision(decision)).toContain(
      "  pull request: close #12, the count changed under it: it changes 3 → 5, and the default branch has 4 now, so it no longer applies",
    );
  });

  it("is closed, naming the bound, when its count is outside the bounds, whatever holds the pool", () => {
    const above = heldWith({ number: 12, desired: 5, from: 4 }, { max: 4 });
    expect(above.pullRequest).toEqual({
      action: "close",
      number: 12,
      closes: { kind: "out-of-bounds", desired: 5, bound: "max", limit: 4 },
    });
    expect(explainNodeDecision(above)).toContain(
      "  pull request: close #12, its count of 5 is above the max of 4 now, so it no longer applies",
    );
    const below = heldWith({ number: 12, desired: 2, from: 4 }, { min: 3 });
    expect(below.pullRequest).toMatchObject({
      action: "close",
      closes: { kind: "out-of-bounds", desired: 2, bound: "min", limit: 3 },
    });
    expect(explainNodeDecision(below)).toContain(
      "  pull request: close #12, its count of 2 is below the min of 3 now, so it no longer applies",
    );
  });
});
