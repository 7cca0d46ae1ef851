import { describe, expect, it } from "@jest/globals";
import { applyControl } from "../../src/control/apply-control.ts";
import { type ControlState, emptyControlState } from "../../src/control/control-state.ts";
import type { ClosedBotPullRequest } from "../../src/forge/forge.ts";
import type { NodeDecision } from "../../src/planning/node-decision.ts";
import { nodeProposals } from "../../src/planning/proposal.ts";
import { planOne } from "../planning/plan-helpers.ts";
import { cluster, TFVARS, tfvars } from "../reconcile/support/infra.ts";

/** Three workers and a pod that needs a fourth: the plan wants 3 → 4. */
const up = planOne(cluster({ pending: 1, plex: false }));
/** The same pool with nothing waiting: no change, nothing held. */
const quiet = planOne(cluster({ pending: 0, plex: false }));
const FILES = new Map([[TFVARS, tfvars(3)]]);

/** A node pull request of the bot's that people closed without merging, 3 → 4. */
function closed(fields: Partial<ClosedBotPullRequest> = {}): ClosedBotPullRequest {
  return {
    number: 7,
    key: "nodes-workers",
    title: "Scale workers from 3 to 4 nodes",
    labels: ["autoscaling", "scale-up"],
    createdAt: "2025-06-06T11:00:00Z",
    closedAt: "2025-06-06T11:30:00Z",
    mergedAt: undefined,
    closedBy: "people",
    control: "bot",
    change: { from: 3, to: 4 },
    ...fields,
  };
}

/** A state that has looked at the closes up to 11:00. */
function looked(extra: Partial<ControlState> = {}): ControlState {
  return {
    ...emptyControlState(),
    closedSeen: { at: "2025-06-06T11:00:00Z", numbers: [] },
    ...extra,
  };
}

function control(
  state: ControlState,
  options: {
    decision?: NodeDecision;
    recentlyClosed?: ClosedBotPullRequest[];
    open?: number[];
  } = {},
) {
  const decision = options.decision ?? up;
  return applyControl({
    proposals: nodeProposals([decision], FILES).proposals,
    decisions: [decision],
    files: FILES,
    state,
    recentlyClosed: options.recentlyClosed ?? [],
    open: options.open ?? [],
    tolerance: 10,
  });
}

const STANDING = {
  workers: { number: 7, from: 3, to: 4, at: "2025-06-06T11:30:00Z" },
};

describe("a node pull request closed without merging", () => {
  it("is a rejection: the same change is not proposed, and a note says how to have it", () => {
    const result = control(looked(), { recentlyClosed: [closed()] });
    expect(result.proposals).toEqual([]);
    expect(result.state.rejected).toEqual(STANDING);
    expect(result.state.closedSeen).toEqual({ at: "2025-06-06T11:30:00Z", numbers: [7] });
    expect(result.notes).toEqual([
      {
        level: "info",
        subject: "nodes-workers",
        message:
          "Scale workers from 3 to 4: #7 closed without merging on 2025-06-06 11:30 UTC; not proposed again until the plan or the count changes; `/autoscaler scale workers=4` proposes it",
      },
    ]);
  });

  it("is not one when the bot closed it, people had taken it over, or who closed it is unknown", () => {
    for (const fields of [
      { closedBy: "bot" as const },
      { control: "human" as const },
      { closedBy: undefined },
      { mergedAt: "2025-06-06T11:30:00Z" },
      { change: undefined },
      { key: "resources-media-plex", change: undefined },
    ]) {
      const result = control(looked(), { recentlyClosed: [closed(fields)] });
      expect(result.state.rejected).toEqual({});
      expect(result.proposals.map((p) => p.key)).toEqual(["nodes-workers"]);
    }
  });

  it("takes what was closed before the first look as history", () => {
    const result = control(emptyControlState(), { recentlyClosed: [closed()] });
    expect(result.state.rejected).toEqual({});
    expect(result.state.closedSeen).toEqual({ at: "2025-06-06T11:30:00Z", numbers: [7] });
    expect(result.proposals).toHaveLength(1);
    const none = control(emptyControlState());
    expect(none.state.closedSeen).toEqual({ at: "1970-01-01T00:00:00Z", numbers: [] });
  });

  it("is taken once: a lapsed one is not taken again from the same list", () => {
    const seen = { at: "2025-06-06T11:30:00Z", numbers: [7] };
    const result = control(looked({ closedSeen: seen }), { recentlyClosed: [closed()] });
    expect(result.state.rejected).toEqual({});
    expect(result.proposals).toHaveLength(1);
  });

  it("takes a close in the same second as one already looked at", () => {
    const seen = { at: "2025-06-06T11:30:00Z", numbers: [6] };
    const merged = closed({ number: 6, mergedAt: "2025-06-06T11:30:00Z" });
    const result = control(looked({ closedSeen: seen }), { recentlyClosed: [closed(), merged] });
    expect(result.state.rejected).toEqual(STANDING);
    expect(result.state.closedSeen).toEqual({ at: "2025-06-06T11:30:00Z", numbers: [6, 7] });
  });

  it("leaves the mark where it is for the bot's own closes and merges", () => {
    const state = looked();
    const result = control(state, {
      recentlyClosed: [
        closed({ number: 8, closedBy: "bot", closedAt: "2025-06-06T11:40:00Z" }),
        closed({ number: 6, mergedAt: "2025-06-06T11:20:00Z", closedAt: "2025-06-06T11:20:00Z" }),
      ],
    });
    expect(result.state.closedSeen).toEqual(state.closedSeen);
  });

  it("keeps the latest of a pool's rejections", () => {
    const earlier = closed({ number: 5, closedAt: "2025-06-06T11:10:00Z" });
    const result = control(looked(), { recentlyClosed: [closed(), earlier] });
    expect(result.state.rejected.workers?.number).toBe(7);
  });
});

describe("a standing rejection", () => {
  it("stands while the plan still wants the same change, without a request", () => {
    const result = control(looked({ rejected: STANDING }));
    expect(result.proposals).toEqual([]);
    expect(result.state.rejected).toEqual(STANDING);
  });

  it("stands while the decision is held: a held plan does not say what it wants", () => {
    const held: NodeDecision = {
      ...quiet,
      holds: [
        {
          kind: "snapshot-incomplete",
          warnings: ["pods: the list stopped part way"],
          lists: [{ list: "pods", read: "partial" }],
        },
      ],
    };
    expect(control(looked({ rejected: STANDING }), { decision: held }).state.rejected).toEqual(
      STANDING,
    );
  });

  it("lapses when the plan wants another count", () => {
    const five: NodeDecision = { ...up, desired: 5 };
    const result = control(looked({ rejected: STANDING }), { decision: five });
    expect(result.state.rejected).toEqual({});
    expect(result.proposals.map((p) => p.kind === "nodes" && [p.from, p.to])).toEqual([[3, 5]]);
    expect(result.notes).toContainEqual({
      level: "info",
      subject: "nodes-workers",
      message:
        "proposed again: the plan now wants 5 nodes, not the 4 of #7 (3 → 4, closed without merging)",
    });
  });

  it("lapses when the plan wants no change, with nothing holding it", () => {
    const result = control(looked({ rejected: STANDING }), { decision: quiet });
    expect(result.state.rejected).toEqual({});
    expect(result.notes.map((note) => note.message)).toEqual([
      "proposed again: the plan now wants 3 nodes, not the 4 of #7 (3 → 4, closed without merging)",
    ]);
  });

  it("lapses when the default branch's count is no longer the one it started from", () => {
    const moved: NodeDecision = { ...up, current: 4, desired: 5 };
    const result = control(looked({ rejected: STANDING }), { decision: moved });
    expect(result.state.rejected).toEqual({});
    expect(result.notes.map((note) => note.message)).toEqual([
      "proposed again: the default branch has 4 nodes now, not the 3 of #7 (3 → 4, closed without merging)",
    ]);
  });

  it("lapses when the pull request was reopened", () => {
    const result = control(looked({ rejected: STANDING }), { open: [7] });
    expect(result.state.rejected).toEqual({});
    expect(result.proposals).toHaveLength(1);
  });

  it("is not replaced by a newer one that is void at once", () => {
    // Someone asked for 5 and then closed that pull request; the plan still wants 4.
    const five = closed({
      number: 9,
      change: { from: 3, to: 5 },
      closedAt: "2025-06-06T11:40:00Z",
    });
    const result = control(looked({ rejected: STANDING }), { recentlyClosed: [five] });
    expect(result.state.rejected).toEqual(STANDING);
    expect(result.proposals).toEqual([]);
  });

  it("does not hold back a count a person asked for", () => {
    const asked = { by: "alice", at: "2025-06-06T11:45:00Z", count: 4 };
    const result = control(looked({ rejected: STANDING, scale: { workers: asked } }));
    expect(result.proposals.map((p) => p.kind === "nodes" && [p.from, p.to])).toEqual([[3, 4]]);
    expect(result.manual.get("nodes-workers")).toEqual(asked);
    expect(result.state.rejected).toEqual(STANDING);
  });
});
