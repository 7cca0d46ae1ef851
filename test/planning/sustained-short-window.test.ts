import { describe, expect, it } from "@jest/globals";
import { type ResourceUtilisation, sustainedCheck } from "../../src/planning/utilisation.ts";

const NOW = new Date("2025-06-06T12:00:00Z");
const at = (secondsAgo: number) => NOW.getTime() - secondsAgo * 1000;

/** Low cpu usage as metrics-server measures it: a 20-second window, far shorter than 1m. */
const low: ResourceUtilisation = {
  resource: "cpu",
  nodes: 4,
  allocatable: 16_000,
  usage: 1200,
  percent: 7.5,
  requests: 1000,
  windowSeconds: 20,
  source: "metrics-server",
  unknownNodes: [],
};

function below(history: { at: number; percent: number }[], windowMs = 60_000) {
  return sustainedCheck({
    resource: "cpu",
    direction: "below",
    threshold: 30,
    windowMs,
    utilisation: low,
    history,
    now: NOW,
  });
}

describe("sustainedCheck over a window of a minute or two", () => {
  it("takes no evidence from the sample of this moment alone (a process that just started)", () => {
    // The reconcile remembers its own sample before planning: it is the whole history then.
    expect(below([{ at: at(0), percent: 7.5 }])).toMatchObject({
      outcome: "no-evidence",
      samples: 1,
    });
    expect(below([{ at: at(0), percent: 7.5 }], 120_000).outcome).toBe("no-evidence");
  });

  it("takes samples that reach back half the window", () => {
    const history = [30, 0].map((s) => ({ at: at(s), percent: 7.5 }));
    expect(below(history)).toMatchObject({ outcome: "met", basis: "history", samples: 2 });
    const short = [20, 0].map((s) => ({ at: at(s), percent: 7.5 }));
    expect(below(short).outcome).toBe("no-evidence");
  });
});
