import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import {
  decideResource,
  decideSharedResource,
  type ResourceInput,
  roundUp,
} from "../../src/rightsizing/decide-resource.ts";
import { displayAmount, explainResource } from "../../src/rightsizing/explain-rightsizing.ts";

const Mi = 2 ** 20;
const Gi = 2 ** 30;

function cpu(overrides: Partial<ResourceInput> = {}): ResourceInput {
  return {
    resource: "cpu",
    current: 2000,
    recommendation: { target: 450, lowerBound: 300, upperBound: 1200, uncappedTarget: 450 },
    vpaRange: {},
    configRange: {},
    step: 10,
    tolerance: 20,
    limitMode: "keep",
    aboveLimit: "raise",
    controlled: true,
    historyProblems: [],
    vpaApplies: false,
    vpaScalesLimits: false,
    ...overrides,
  };
}

function memory(overrides: Partial<ResourceInput> = {}): ResourceInput {
  return cpu({
    resource: "memory",
    current: 4 * Gi,
    recommendation: { target: 1395864371, lowerBound: 1181116006, upperBound: 2.5 * Gi },
    step: 16 * Mi,
    ...overrides,
  });
}

describe("decideResource: the proposed request", () => {
  it("rounds the VPA target up to the step", () => {
    expect(decideResource(cpu({ recommendation: { target: 443 } }))).toMatchObject({
      action: "change",
      proposed: 450,
      steps: [
        { kind: "target", value: 443 },
        { kind: "rounded", step: 10, value: 450 },
      ],
    });
  });

  it("holds it inside the VPA's minAllowed/maxAllowed and the configured min/max", () => {
    expect(decideResource(cpu({ vpaRange: { min: 500 } })).proposed).toBe(500);
    expect(decideResource(cpu({ configRange: { max: 400 } })).proposed).toBe(400);
    const both = decideResource(cpu({ vpaRange: { max: 1000 }, configRange: { min: 600 } }));
    expect(both.steps.at(-1)).toEqual({
      kind: "clamped",
      by: "config-min",
      bound: 600,
      value: 600,
    });
  });

  it("never puts memory below the VPA lower bound, even under a configured max", () => {
    const decision = decideResource(memory({ configRange: { max: 512 * Mi } }));
    expect(decision.proposed).toBe(1136 * Mi);
    expect(decision.steps.at(-1)).toEqual({
      kind: "lower-bound",
      bound: 1181116006,
      value: 1136 * Mi,
    });
  });

  /** 512Mi + 20 %, rounded up to 16Mi. */
  const floorFrom512Mi = {
    kind: "oom-floor",
    base: 512 * Mi,
    basis: "limit",
    margin: 20,
    value: 624 * Mi,
  };

  it("after OOM kills gives memory at least the current limit plus the margin, whatever the target", () => {
    const decision = decideResource(
      memory({
        current: 256 * Mi,
        currentLimit: 512 * Mi,
        recommendation: { target: 300 * Mi, lowerBound: 200 * Mi, upperBound: 600 * Mi },
        oom: { kills: 2, last: "2025-06-05T08:00:00Z", margin: 20 },
      }),
    );
    expect(decision).toMatchObject({
      action: "change",
      proposed: 624 * Mi,
      proposedLimit: 624 * Mi,
      limitReason: "raised",
    });
    expect(decision.steps.at(-1)).toEqual({ ...floorFrom512Mi, kills: 2 });
    expect(decision.triggers[0]).toEqual({ kind: "oom", kills: 2, last: "2025-06-05T08:00:00Z" });
  });

  it("after OOM kills at a limit the file does not set, raises from it and says the limit must go up too", () => {
    // The pods were killed at the 512Mi a LimitRange gives them: 256Mi + 20 % would not help.
    const decision = decideResource(
      memory({
        current: 256 * Mi,
        runningLimits: [512 * Mi],
        recommendation: { target: 300 * Mi, lowerBound: 200 * Mi, upperBound: 600 * Mi },
        oom: { kills: 1, margin: 20 },
      }),
    );
    expect(decision.steps.at(-1)).toEqual({ ...floorFrom512Mi, kills: 1 });
    expect(decision).toMatchObject({
      action: "keep",
      hold: { kind: "unseen-limit", limit: 512 * Mi, proposed: 624 * Mi },
    });
  });

  it("an OOM kill raises memory even while the VPA history is too short; cpu waits", () => {
    const history = { historyProblems: ["the VPA has recorded for 3h, less than minHistory 7d"] };
    const oom = { oom: { kills: 1, margin: 20 } };
    expect(decideResource(memory({ current: 1 * Gi, ...history, ...oom }))).toMatchObject({
      action: "change",
      proposed: 1232 * Mi,
    });
    expect(decideResource(memory({ ...history }))).toMatchObject({
      action: "keep",
      hold: { kind: "history" },
    });
    expect(decideResource(cpu({ ...history }))).toMatchObject({
      action: "keep",
      hold: { kind: "history" },
    });
  });
});

describe("displayAmount", () => {
  it("shows memory of 1Mi and above in Mi or Gi, exact in them or rounded, never in Ki", () => {
    // 265728Ki is 259.5Mi: a request written in Ki (or a VPA target of 272105472 bytes).
    expect(displayAmount("memory", 265728 * 1024)).toBe("259.5Mi");
    expect(displayAmount("memory", 1344 * Mi)).toBe("1344Mi");
    expect(displayAmount("memory", 1.3 * Gi)).toBe("1.3Gi");
    expect(displayAmount("memory", 2 * Gi + 1024)).toBe("2Gi");
    // Below 1Mi, Ki (exact) and bytes are the units left.
    expect(displayAmount("memory", 512 * 1024)).toBe("512Ki");
    expect(displayAmount("memory", 1023)).toBe("1023");
    const decision = decideResource(
      memory({
        current: 265728 * 1024,
        recommendation: { target: 256 * Mi, lowerBound: 200 * Mi, upperBound: 300 * Mi },
      }),
    );
    expect(explainResource(decision)).toMatch(/^memory request 259\.5Mi kept: the target 256Mi /);
  });
});

describe("decideResource: whether it matters", () => {
  it("keeps a request within the tolerance and inside the bounds", () => {
    const decision = decideResource(cpu({ current: 500 }));
    expect(decision).toMatchObject({
      action: "keep",
      hold: { kind: "within-tolerance", percent: 10 },
    });
    expect(explainResource(decision)).toBe(
      "cpu request 500m kept: the target 450m differs by 10 %, within the tolerance of 20 %, and the request is inside the VPA bounds [VPA bounds 300m–1200m, uncapped target 450m]",
    );
  });

  it("compares the change itself with the tolerance, and shows it on its side of it", () => {
    // 2500m → 3001m is 20.04 %: beyond 20 %, though it is 20.0 % to one decimal.
    const recommendation = { target: 3001, lowerBound: 1000, upperBound: 4000 };
    const beyond = decideResource(cpu({ current: 2500, recommendation, step: 1 }));
    expect(beyond).toMatchObject({
      action: "change",
      proposed: 3001,
      triggers: [{ kind: "beyond-tolerance", percent: 20.04, tolerance: 20 }],
    });
    expect(explainResource(beyond)).toBe(
      "cpu request 2500m → 3001m (+20.04 %): VPA target 3001m [VPA bounds 1–4]; because it differs by 20.04 % (tolerance 20 %)",
    );
    // 2500m → 2001m is 19.96 %: within, and not shown as 20.0 % beside it.
    const within = decideResource(
      cpu({ current: 2500, recommendation: { ...recommendation, target: 2001 }, step: 1 }),
    );
    expect(within.hold).toEqual({ kind: "within-tolerance", percent: 19.96, tolerance: 20 });
    // A change of exactly the tolerance is within it.
    const exact = decideResource(
      cpu({ current: 2500, recommendation: { ...recommendation, target: 3000 }, step: 1 }),
    );
    expect(exact.hold).toEqual({ kind: "within-tolerance", percent: 20, tolerance: 20 });
    // Away from the tolerance one decimal is enough.
    const far = decideResource(
      cpu({ current: 2500, recommendation: { ...recommendation, target: 3333 }, step: 1 }),
    );
    expect(far.triggers).toEqual([{ kind: "beyond-tolerance", percent: 33.3, tolerance: 20 }]);
  });

  it("changes a request outside the VPA bounds even within the tolerance", () => {
    const decision = decideResource(
      cpu({ current: 290, recommendation: { target: 320, lowerBound: 300, upperBound: 900 } }),
    );
    expect(decision).toMatchObject({ action: "change", proposed: 320 });
    expect(decision.triggers).toEqual([{ kind: "below-lower-bound", bound: 300 }]);
  });

  it("adds a request the file does not set", () => {
    const { current: _, ...input } = cpu();
    expect(decideResource(input)).toMatchObject({
      action: "change",
      proposed: 450,
      triggers: [{ kind: "no-request" }],
    });
  });

  it("holds for an HPA on the same resource, a resource the VPA does not control, a value that is not a quantity", () => {
    expect(decideResource(cpu({ hpa: "plex" })).hold).toEqual({
      kind: "hpa",
      hpa: "plex",
      metric: "cpu",
    });
    expect(decideResource(cpu({ controlled: false })).hold?.kind).toBe("not-controlled");
    const unreadable = { field: "requests.cpu", value: "{{ .Values.cpu }}" };
    expect(decideResource(cpu({ unreadable })).hold).toEqual({ kind: "unreadable", ...unreadable });
  });

  it("only raises a stateful workload allowed increases", () => {
    expect(decideResource(cpu({ onlyIncrease: true })).hold).toEqual({
      kind: "stateful",
      proposed: 450,
    });
    expect(decideResource(cpu({ current: 100, onlyIncrease: true })).proposed).toBe(450);
  });
});

describe("decideResource: limits", () => {
  const raise = { current: 250 * Mi, recommendation: { target: 700 * Mi } };

  it("keep: leaves the limit, raises it to a request above it, or refuses per aboveLimit", () => {
    expect(
      decideResource(memory({ ...raise, currentLimit: 2 * Gi })).proposedLimit,
    ).toBeUndefined();
    expect(decideResource(memory({ ...raise, currentLimit: 512 * Mi }))).toMatchObject({
      proposed: 704 * Mi,
      proposedLimit: 704 * Mi,
    });
    expect(
      decideResource(memory({ ...raise, currentLimit: 512 * Mi, aboveLimit: "refuse" })),
    ).toMatchObject({
      action: "keep",
      hold: { kind: "limit", limit: 512 * Mi, mode: "keep" },
    });
  });

  it("none: never writes a limit, so a request above it is refused", () => {
    expect(
      decideResource(memory({ ...raise, currentLimit: 512 * Mi, limitMode: "none" })),
    ).toMatchObject({
      action: "keep",
      hold: { kind: "limit", mode: "none" },
    });
    expect(decideResource(memory({ ...raise, limitMode: "none" })).proposedLimit).toBeUndefined();
  });

  it("ratio: keeps limit/request as the VPA does, and adds no limit where there was none", () => {
    expect(
      decideResource(cpu({ current: 1000, currentLimit: 2000, limitMode: "ratio" })),
    ).toMatchObject({
      proposed: 450,
      proposedLimit: 900,
      limitReason: "ratio",
    });
    expect(decideResource(cpu({ limitMode: "ratio" })).proposedLimit).toBeUndefined();
  });

  it("ratio: a request of 0 is no request, as the VPA reads it: the limit follows at ratio 1", () => {
    const decision = decideResource(
      cpu({ current: 0, currentLimit: 500, limitMode: "ratio", recommendation: { target: 250 } }),
    );
    expect(decision).toMatchObject({ action: "change", proposed: 250, proposedLimit: 250 });
    expect(explainResource(decision)).toContain("cpu request 0 → 250m: VPA target 250m;");
    // A limit of 0 with no request: the limit becomes the request, never a number that is none.
    expect(
      decideResource(cpu({ current: undefined, currentLimit: 0, limitMode: "ratio" })),
    ).toMatchObject({ proposed: 450, proposedLimit: 450 });
  });

  it("ratio: a limit equal to its request stays equal, not rounded up to the step", () => {
    // A configured min of 455m is no multiple of the 10m step: a limit of 460m would make the
    // pods Burstable.
    const decision = decideResource(
      cpu({ currentLimit: 2000, limitMode: "ratio", configRange: { min: 455 }, guaranteed: true }),
    );
    expect(decision).toMatchObject({ proposed: 455, proposedLimit: 455 });
    expect(decision.qosClass).toBeUndefined();
  });

  it("says a request of Guaranteed pods left other than its limit makes them Burstable", () => {
    const guaranteed = { current: 4 * Gi, guaranteed: true } as const;
    const none = decideResource(memory({ ...guaranteed, currentLimit: 4 * Gi, limitMode: "none" }));
    expect(none.qosClass).toEqual({
      current: "Guaranteed",
      proposed: "Burstable",
      limit: 4 * Gi,
      from: "file",
      limitMode: "none",
    });
    expect(explainResource(none)).toMatch(
      /; the limit 4Gi stays \(limits\.memory is none\), so the request no longer equals it: the pods' QoS class goes from Guaranteed to Burstable$/,
    );
    // A limit the pods carry from elsewhere (a LimitRange's default) stays as well.
    const unseen = decideResource(memory({ ...guaranteed, runningLimits: [4 * Gi] }));
    expect(unseen.qosClass).toMatchObject({ limit: 4 * Gi, from: "pods" });
    expect(explainResource(unseen)).toMatch(
      /; the running pods' limit 4Gi, which the file does not set, stays, so the request no longer equals it: the pods' QoS class goes from Guaranteed to Burstable$/,
    );
    // A limit raised to the request keeps the two equal.
    const raised = decideResource(
      memory({ current: 512 * Mi, currentLimit: 512 * Mi, guaranteed: true }),
    );
    expect(raised).toMatchObject({ proposedLimit: raised.proposed });
    expect(raised.qosClass).toBeUndefined();
  });

  it("never raises a request above a limit the running pods carry and the file does not set", () => {
    // A LimitRange's default limit, or a limit in values the file does not show.
    const decision = decideResource(memory({ ...raise, runningLimits: [512 * Mi, 600 * Mi] }));
    expect(decision).toMatchObject({
      action: "keep",
      hold: { kind: "unseen-limit", limit: 512 * Mi, proposed: 704 * Mi },
    });
    expect(explainResource(decision)).toContain(
      "the running pods have a memory limit of 512Mi that the file does not set (a LimitRange default, or values set elsewhere); the new request 704Mi would be above it",
    );
    // Below that limit the change is made; a limit in the file is decided as configured.
    expect(decideResource(memory({ ...raise, runningLimits: [1 * Gi] })).proposed).toBe(704 * Mi);
    expect(
      decideResource(memory({ ...raise, currentLimit: 512 * Mi, runningLimits: [512 * Mi] })),
    ).toMatchObject({ proposed: 704 * Mi, proposedLimit: 704 * Mi });
    // A VPA that leaves limits alone (controlledValues RequestsOnly) leaves the pods the
    // template's limits, even while it sets their requests.
    expect(
      decideResource(memory({ ...raise, runningLimits: [512 * Mi], vpaApplies: true })).hold,
    ).toEqual({ kind: "unseen-limit", limit: 512 * Mi, proposed: 704 * Mi });
  });

  it("holds a raise when the VPA scales the pods' limits and the file sets none: the template's limit is not known", () => {
    const auto = {
      ...raise,
      vpaApplies: true,
      vpaScalesLimits: true,
      updateMode: "Auto",
    } satisfies Partial<ResourceInput>;
    // The VPA set these pods' limits from the template's in proportion to the requests it set:
    // neither 512Mi nor 2Gi is the limit a new pod gets before the VPA sees it.
    for (const runningLimits of [[512 * Mi], [2 * Gi]]) {
      const decision = decideResource(memory({ ...auto, runningLimits }));
      expect(decision).toMatchObject({
        action: "keep",
        hold: {
          kind: "unknown-limit",
          running: runningLimits,
          proposed: 704 * Mi,
          updateMode: "Auto",
        },
      });
    }
    expect(explainResource(decideResource(memory({ ...auto, runningLimits: [2 * Gi] })))).toContain(
      "the running pods carry a memory limit (2Gi) that the file does not set, and the VPA (updateMode Auto) scales pod limits with the requests it sets, so the limit new pods get from their template (a LimitRange default, or values set elsewhere) is not known; raising the request to 704Mi could put it above that limit",
    );
    // Adding a request where the file sets none is a raise too; lowering one is not.
    expect(
      decideResource(memory({ ...auto, current: undefined, runningLimits: [2 * Gi] })).hold,
    ).toMatchObject({ kind: "unknown-limit" });
    expect(
      decideResource(memory({ ...auto, current: 2 * Gi, runningLimits: [2 * Gi] })),
    ).toMatchObject({ action: "change", proposed: 704 * Mi });
    // Pods without a limit have none from a LimitRange or elsewhere: the raise is made.
    expect(decideResource(memory({ ...auto, runningLimits: [] })).proposed).toBe(704 * Mi);
  });
});

describe("decideSharedResource: values several containers read", () => {
  const reader = (name: string, target: number, overrides: Partial<ResourceInput> = {}) => ({
    reader: `StatefulSet db/${name} container metrics`,
    input: cpu({
      current: 500,
      recommendation: { target, lowerBound: target / 2, upperBound: target * 4 },
      ...overrides,
    }),
  });

  it("proposes the highest of what each container needs, never one container's lower value", () => {
    const decision = decideSharedResource([reader("primary", 100), reader("read", 300)]);
    expect(decision).toMatchObject({ action: "change", current: 500, proposed: 300 });
    expect(decision.steps.at(-1)).toEqual({
      kind: "shared",
      values: [
        { reader: "StatefulSet db/primary container metrics", value: 100 },
        { reader: "StatefulSet db/read container metrics", value: 300 },
      ],
      value: 300,
    });
    // Within the tolerance of the highest need (450m against 500m), the request stays, however
    // far below it another container's need is.
    expect(decideSharedResource([reader("primary", 100), reader("read", 450)]).hold).toMatchObject({
      kind: "within-tolerance",
    });
  });

  it("is held by whatever holds one of the containers", () => {
    const young = reader("read", 300, { historyProblems: ["the VPA has recorded for 1h"] });
    expect(decideSharedResource([reader("primary", 100), young])).toMatchObject({
      action: "keep",
      hold: {
        kind: "shared-reader",
        reader: "StatefulSet db/read container metrics",
        hold: { kind: "history", problems: ["the VPA has recorded for 1h"] },
      },
    });
  });
});

describe("decideResource: properties", () => {
  it("a proposal is on the step or a bound, within the ranges, and memory never below the lower bound", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 * Gi }),
        fc.integer({ min: 1, max: 64 * Gi }),
        fc.integer({ min: 0, max: 64 * Gi }),
        fc.integer({ min: 1, max: 256 * Mi }),
        fc.option(fc.integer({ min: 1, max: 64 * Gi }), { nil: undefined }),
        (target, current, lowerBound, step, max) => {
          const input = memory({
            current,
            recommendation: { target, lowerBound: Math.min(lowerBound, target) },
            step,
            configRange: max === undefined ? {} : { max },
          });
          const decision = decideResource(input);
          if (decision.action !== "change") return;
          const proposed = decision.proposed as number;
          const floor = roundUp(Math.min(lowerBound, target), step);
          expect(proposed).toBeGreaterThanOrEqual(Math.min(lowerBound, target));
          expect(proposed % step === 0 || proposed === max).toBe(true);
          if (max !== undefined) expect(proposed <= max || proposed === floor).toBe(true);
        },
      ),
    );
  });
});
