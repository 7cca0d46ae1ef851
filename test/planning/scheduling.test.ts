import { describe, expect, it } from "@jest/globals";
import {
  matchesLabelSelector,
  matchesRequiredAffinity,
  placementConflict,
  requirementMatches,
  taintText,
  toleratesTaints,
  unknownLabelOf,
  untoleratedTaints,
} from "../../src/planning/scheduling.ts";
import type { Taint } from "../../src/planning/snapshot.ts";
import { pendingPod } from "../support/snapshot-builder.ts";

const ssdNode = { name: "worker-1", labels: { disk: "ssd", zone: "a", cores: "8" }, taints: [] };

describe("requirementMatches", () => {
  it.each<[string, string[] | undefined, string | undefined, boolean]>([
    ["In", ["ssd", "nvme"], "ssd", true],
    ["In", ["nvme"], "ssd", false],
    ["In", ["ssd"], undefined, false],
    ["NotIn", ["hdd"], "ssd", true],
    ["NotIn", ["ssd"], "ssd", false],
    ["NotIn", ["ssd"], undefined, true],
    ["Exists", undefined, "", true],
    ["Exists", undefined, undefined, false],
    ["DoesNotExist", undefined, undefined, true],
    ["DoesNotExist", undefined, "x", false],
    ["Gt", ["4"], "8", true],
    ["Gt", ["8"], "8", false],
    ["Lt", ["16"], "8", true],
    ["Gt", ["4"], "eight", false],
    ["Lt", ["4"], undefined, false],
  ])("%s %p against %p is %p", (operator, values, value, expected) => {
    const requirement = { operator: operator as "In", ...(values ? { values } : {}) };
    expect(requirementMatches(requirement, value)).toBe(expected);
  });
});

describe("matchesRequiredAffinity", () => {
  it("ORs the terms and ANDs the expressions inside a term", () => {
    const terms = [
      {
        matchExpressions: [
          { key: "disk", operator: "In" as const, values: ["nvme"] },
          { key: "zone", operator: "In" as const, values: ["a"] },
        ],
      },
      { matchExpressions: [{ key: "cores", operator: "Gt" as const, values: ["4"] }] },
    ];
    expect(matchesRequiredAffinity(terms, ssdNode)).toBe(true);
    expect(matchesRequiredAffinity(terms.slice(0, 1), ssdNode)).toBe(false);
  });

  it("treats an empty term as matching nothing and no terms as no constraint", () => {
    expect(matchesRequiredAffinity([{}], ssdNode)).toBe(false);
    expect(matchesRequiredAffinity([], ssdNode)).toBe(true);
    expect(matchesRequiredAffinity(undefined, ssdNode)).toBe(true);
  });

  it("matches metadata.name fields against the node's name, which a new node does not have", () => {
    const terms = [
      { matchFields: [{ key: "metadata.name", operator: "In" as const, values: ["worker-1"] }] },
    ];
    expect(matchesRequiredAffinity(terms, ssdNode)).toBe(true);
    expect(matchesRequiredAffinity(terms, { labels: ssdNode.labels, taints: [] })).toBe(false);
  });
});

describe("toleratesTaints", () => {
  const gpu: Taint = { key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" };
  it("needs every NoSchedule and NoExecute taint tolerated", () => {
    expect(toleratesTaints([], [gpu])).toBe(false);
    expect(toleratesTaints([{ key: "nvidia.com/gpu", operator: "Exists" }], [gpu])).toBe(true);
    expect(toleratesTaints([{ key: "nvidia.com/gpu", value: "true" }], [gpu])).toBe(true);
    expect(toleratesTaints([{ key: "nvidia.com/gpu", value: "false" }], [gpu])).toBe(false);
    expect(
      toleratesTaints([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoExecute" }], [gpu]),
    ).toBe(false);
  });

  it("lets an Exists toleration without a key tolerate everything", () => {
    expect(
      toleratesTaints([{ operator: "Exists" }], [gpu, { key: "x", effect: "NoExecute" }]),
    ).toBe(true);
  });

  it("ignores PreferNoSchedule", () => {
    expect(toleratesTaints([], [{ key: "spot", effect: "PreferNoSchedule" }])).toBe(true);
  });

  it("names the NoSchedule and NoExecute taints left untolerated, as kubectl writes them", () => {
    const batch: Taint = { key: "dedicated", value: "batch", effect: "NoExecute" };
    const spot: Taint = { key: "spot", effect: "PreferNoSchedule" };
    const left = untoleratedTaints(
      [{ key: "nvidia.com/gpu", operator: "Exists" }],
      [gpu, batch, spot, { key: "maintenance", effect: "NoSchedule" }],
    );
    expect(left.map(taintText)).toEqual(["dedicated=batch:NoExecute", "maintenance:NoSchedule"]);
  });
});

describe("placementConflict", () => {
  it("names the first rule that keeps a pod off a node", () => {
    expect(placementConflict(pendingPod("a", { nodeSelector: { disk: "hdd" } }), ssdNode)).toBe(
      "node-selector",
    );
    const affinity = [
      { matchExpressions: [{ key: "zone", operator: "NotIn" as const, values: ["a"] }] },
    ];
    expect(placementConflict(pendingPod("b", { affinity }), ssdNode)).toBe("node-affinity");
    const tainted = { ...ssdNode, taints: [{ key: "dedicated", effect: "NoSchedule" as const }] };
    expect(placementConflict(pendingPod("c"), tainted)).toBe("taints");
    expect(placementConflict(pendingPod("d", { nodeSelector: { disk: "ssd" } }), ssdNode)).toBe(
      undefined,
    );
  });

  it("names a taint before the nodeSelector and node affinity, as kube-scheduler's filters run", () => {
    const tainted = { ...ssdNode, taints: [{ key: "dedicated", effect: "NoSchedule" as const }] };
    const affinity = [
      { matchExpressions: [{ key: "disk", operator: "In" as const, values: ["hdd"] }] },
    ];
    const both = pendingPod("e", { nodeSelector: { disk: "hdd" }, affinity });
    expect(placementConflict(both, tainted)).toBe("taints");
    expect(placementConflict(both, ssdNode)).toBe("node-selector");
    const tolerating = pendingPod("f", {
      nodeSelector: { disk: "hdd" },
      affinity,
      tolerations: [{ key: "dedicated", operator: "Exists" }],
    });
    expect(placementConflict(tolerating, tainted)).toBe("node-selector");
  });
});

describe("placementConflict on a node still to be added, where a label's value is not known", () => {
  // Every pool node has a zone, each its own (a Proxmox host each); only some have a GPU label,
  // which a new node is taken not to carry.
  const newNode = { labels: { disk: "ssd" }, taints: [], unknownValueLabels: ["zone"] };
  const on = (
    key: string,
    operator: "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt",
    values?: string[],
  ) =>
    pendingPod("p", {
      affinity: [{ matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] }],
    });

  it("lets the key exist, and not be missing, whatever its value", () => {
    expect(placementConflict(on("zone", "Exists"), newNode)).toBe(undefined);
    expect(placementConflict(on("zone", "DoesNotExist"), newNode)).toBe("node-affinity");
  });

  it("does not know whether a rule on its value matches", () => {
    expect(placementConflict(on("zone", "In", ["pve-1"]), newNode)).toBe("label-unknown");
    expect(placementConflict(on("zone", "NotIn", ["pve-1"]), newNode)).toBe("label-unknown");
    expect(placementConflict(on("zone", "Gt", ["1"]), newNode)).toBe("label-unknown");
    const selecting = pendingPod("s", { nodeSelector: { zone: "pve-1" } });
    expect(placementConflict(selecting, newNode)).toBe("label-unknown");
    expect(unknownLabelOf(selecting, newNode)).toBe("zone");
  });

  it("takes a key only some pool nodes carry as missing", () => {
    expect(placementConflict(on("gpu", "Exists"), newNode)).toBe("node-affinity");
    expect(placementConflict(on("gpu", "DoesNotExist"), newNode)).toBe(undefined);
  });

  it("lets a rule known to fail, or a term known to match, decide over an unknown one", () => {
    const both = pendingPod("b", { nodeSelector: { zone: "pve-1", disk: "hdd" } });
    expect(placementConflict(both, newNode)).toBe("node-selector");
    const orTerms = pendingPod("o", {
      affinity: [
        { matchExpressions: [{ key: "zone", operator: "In" as const, values: ["pve-1"] }] },
        { matchExpressions: [{ key: "disk", operator: "In" as const, values: ["ssd"] }] },
      ],
    });
    expect(placementConflict(orTerms, newNode)).toBe(undefined);
    expect(matchesRequiredAffinity(orTerms.requiredNodeAffinity, newNode)).toBe(true);
    const oneZone = on("zone", "In", ["pve-1"]).requiredNodeAffinity;
    expect(matchesRequiredAffinity(oneZone, newNode)).toBe(false);
  });
});

describe("matchesLabelSelector", () => {
  it("ANDs matchLabels and matchExpressions, and an empty selector matches all", () => {
    const labels = { app: "web", tier: "front" };
    expect(matchesLabelSelector({}, labels)).toBe(true);
    expect(matchesLabelSelector({ matchLabels: { app: "web" } }, labels)).toBe(true);
    expect(
      matchesLabelSelector(
        {
          matchLabels: { app: "web" },
          matchExpressions: [{ key: "tier", operator: "NotIn", values: ["front"] }],
        },
        labels,
      ),
    ).toBe(false);
  });
});
