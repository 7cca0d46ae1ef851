import { describe, expect, it } from "@jest/globals";
import { emptyControlState } from "../../src/control/control-state.ts";
import { nodeProposals } from "../../src/planning/proposal.ts";
import { renderDashboard } from "../../src/reconcile/dashboard.ts";
import { planOne } from "../planning/plan-helpers.ts";
import { buildSnapshot, nodes } from "../support/snapshot-builder.ts";

describe("the dashboard's notes", () => {
  // Four workers, two of them down: the pool holds, and a person is needed.
  const decision = planOne(
    buildSnapshot({
      nodes: [
        ...nodes(2, { usage: { cpu: "1", memory: "4Gi" } }),
        ...nodes(2, { ready: false }, "worker-", 3),
      ],
    }),
  );
  const { notes } = nodeProposals([decision], new Map());
  const dashboard = (extra = notes) =>
    renderDashboard({
      control: emptyControlState(),
      decisions: [decision],
      open: [],
      recentlyClosed: [],
      waiting: [],
      notes: extra,
    });

  it("give a held pool's warning under Why, not again as a note with its usage figures", () => {
    expect(notes[0]).toMatchObject({ level: "warning", subject: "pool/workers" });
    const body = dashboard();
    expect(body).toContain("## Why");
    expect(body).toContain("`workers` hold: 2 of 4 nodes not Ready (~50 % > ~45 %)");
    expect(body).not.toContain("## Right-sizing and other notes");
  });

  it("still list a warning that no decision carries", () => {
    const body = dashboard([
      ...notes,
      {
        level: "warning",
        subject: "pool/workers",
        message: "workers wants 4 → 5, but the change cannot be written: an anchor",
      },
    ]);
    expect(body).toContain("## Right-sizing and other notes");
    expect(body).toContain(
      "`pool/workers`: workers wants 4 → 5, but the change cannot be written: an anchor",
    );
  });
});
