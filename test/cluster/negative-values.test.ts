import { describe, expect, it } from "@jest/globals";
import { toHpaInfo, toPdbInfo } from "../../src/cluster/autoscaler-info.ts";
import { toNodeInfo } from "../../src/cluster/node-info.ts";
import { toPodInfo } from "../../src/cluster/pod-info.ts";
import { createInterner } from "../../src/cluster/raw.ts";
import { loadSnapshot } from "../../src/cluster/snapshot-file.ts";
import { WarningCollector } from "../../src/cluster/warnings.ts";

describe("values below zero read as unknown, never as amounts", () => {
  it("leaves a negative node capacity unknown, with a warning naming the field", () => {
    const warnings = new WarningCollector();
    const node = toNodeInfo(
      {
        metadata: { name: "w-1", creationTimestamp: "2026-01-01T00:00:00Z" },
        status: { capacity: { cpu: "-4", memory: "8Gi" }, allocatable: { cpu: "4", memory: -1 } },
      },
      warnings,
    );
    expect(node.capacity).toEqual({ memory: 8 * 2 ** 30 });
    expect(node.allocatable).toEqual({ cpu: 4000 });
    const text = JSON.stringify(warnings.finish());
    expect(text).toContain("capacity.cpu");
    expect(text).toContain("negative");
  });

  it("counts an invalid PodDisruptionBudget allowance as no eviction allowed, and says so", () => {
    for (const given of [-3, 1.5, "2"]) {
      const warnings = new WarningCollector();
      const pdb = toPdbInfo(
        { metadata: { namespace: "a", name: "b" }, status: { disruptionsAllowed: given } },
        warnings,
      );
      expect(pdb.disruptionsAllowed).toBe(0);
      expect(warnings.finish()[0]?.code).toBe("pdb-status-invalid");
    }
  });

  it("drops negative and fractional HPA replica counts", () => {
    const hpa = toHpaInfo({
      metadata: { namespace: "a", name: "b" },
      spec: { minReplicas: -1, maxReplicas: 2.5 },
      status: { currentReplicas: -2 },
    });
    expect(hpa).toMatchObject({ maxReplicas: 0 });
    expect(hpa.minReplicas).toBeUndefined();
    expect(hpa.currentReplicas).toBeUndefined();
  });

  it("refuses a saved snapshot with negative amounts, windows or an impossible percentile", () => {
    const node = {
      name: "w",
      pool: "workers",
      labels: {},
      taints: [],
      unschedulable: false,
      ready: true,
      createdAt: "2026-01-01T00:00:00Z",
      controlPlane: false,
      capacity: { cpu: 1000 },
      allocatable: { cpu: 1000 },
    };
    const snapshot = (n: object) =>
      JSON.stringify({
        version: 1,
        takenAt: "2026-01-01T00:00:00Z",
        source: { kind: "file" },
        complete: true,
        warnings: [],
        nodes: [{ ...node, ...n }],
        pods: [],
        pdbs: [],
        vpas: [],
        hpas: [],
        metrics: { nodes: "available", pods: "available", source: "metrics-server" },
      });
    expect(() => loadSnapshot(snapshot({}), "s.json")).not.toThrow();
    for (const bad of [
      { capacity: { cpu: -1000 } },
      { usage: { source: "metrics-server", memory: -5 } },
      { usage: { source: "prometheus", windowSeconds: -20 } },
      { usage: { source: "prometheus", peak: { percentile: 250 } } },
    ]) {
      expect(() => loadSnapshot(snapshot(bad), "s.json")).toThrow(
        expect.objectContaining({ location: expect.objectContaining({ file: "s.json" }) }),
      );
    }
  });
});

describe("times that are not ISO 8601 are unknown, never a date made up from them", () => {
  it("reads a node's garbage creation and Ready times as unknown", () => {
    const node = toNodeInfo(
      {
        metadata: { name: "w-1", creationTimestamp: "1 " },
        status: {
          allocatable: { cpu: "4", memory: "8Gi" },
          conditions: [{ type: "Ready", status: "True", lastTransitionTime: "yesterday" }],
        },
      },
      new WarningCollector(),
    );
    expect(node.createdAt).toBe("");
    expect(node.readySince).toBeUndefined();
  });

  it("keeps a pod with a garbage deletion time as being deleted, at an unknown time", () => {
    const pod = toPodInfo(
      {
        metadata: { namespace: "a", name: "p", creationTimestamp: "1 ", deletionTimestamp: "soon" },
        spec: { containers: [{ name: "c" }], nodeName: "w-1" },
        status: { phase: "Running" },
      },
      { warnings: new WarningCollector(), claims: [], intern: createInterner() },
    );
    expect(pod.createdAt).toBe("");
    expect(pod.deletingSince).toBe("");
  });
});
