import { describe, expect, it } from "@jest/globals";
import type { SnapshotWarning } from "../../src/planning/snapshot.ts";
import { usageWarningsOutsidePools } from "../../src/planning/unread-usage.ts";
import { node } from "../support/snapshot-builder.ts";

const nodes = [
  node("cp-1", { controlPlane: true }),
  node("gpu-1", { labels: { pool: "gpu" } }),
  node("worker-1", { labels: { pool: "workers" } }),
  node("worker-2", { labels: { pool: "workers" }, ready: false }),
];
const pools = [{ selector: { matchLabels: { pool: "workers" } } }];
/** Right-sizing on: pods' usage is read. */
const on = { enabled: true };

const noSeries = (name: string): SnapshotWarning => ({
  code: "prometheus-no-series",
  message: `Prometheus has no usage series for node ${name}; its usage is unknown`,
  subject: `node/${name}`,
});

describe("usageWarningsOutsidePools", () => {
  it("makes a note of a usage warning on a node no pool has, and keeps a pool node's", () => {
    const listFailed = { code: "list-failed", message: "HTTP 500", subject: "node/cp-1" };
    const { warnings, notes } = usageWarningsOutsidePools(
      {
        nodes,
        warnings: [
          noSeries("cp-1"),
          noSeries("gpu-1"),
          noSeries("worker-1"),
          noSeries("worker-2"),
          noSeries("gone-1"),
          listFailed,
          { code: "metrics-missing", message: "no usable metrics", subject: "pod/a/b" },
        ],
      },
      pools,
      on,
    );
    // A node of the pool warns, Ready or not; a warning of another kind on a node stays one.
    expect(warnings).toEqual([
      noSeries("worker-1"),
      noSeries("worker-2"),
      listFailed,
      { code: "metrics-missing", message: "no usable metrics", subject: "pod/a/b" },
    ]);
    expect(notes.map((note) => [note.level, note.subject])).toEqual([
      ["info", "node/cp-1"],
      ["info", "node/gpu-1"],
      ["info", "node/gone-1"],
    ]);
    expect(notes[0]?.message).toBe(
      "Prometheus has no usage series for node cp-1; its usage is unknown [prometheus-no-series]; no pool has cp-1, so no decision reads its usage (the room pods find on it is judged by their requests)",
    );
  });

  it("keeps a summary of warnings left out, which names no node of its own", () => {
    const summary: SnapshotWarning = {
      code: "metrics-missing",
      message: "13 more warnings with code metrics-missing were left out (63 in all)",
      subject: "node/cp-1",
      omitted: 13,
    };
    const { warnings, notes } = usageWarningsOutsidePools(
      { nodes, warnings: [summary] },
      pools,
      undefined,
    );
    expect(warnings).toEqual([summary]);
    expect(notes).toEqual([]);
  });

  it("keeps every warning of a node a pool without a selector has, but a control plane's", () => {
    const { warnings, notes } = usageWarningsOutsidePools(
      { nodes, warnings: [noSeries("cp-1"), noSeries("gpu-1")] },
      [{ selector: undefined }],
      on,
    );
    expect(warnings).toEqual([noSeries("gpu-1")]);
    expect(notes.map((note) => note.subject)).toEqual(["node/cp-1"]);
  });

  it("says the pods' and containers' usage warnings in one line while right-sizing is off", () => {
    const missing = (pod: string): SnapshotWarning => ({
      code: "metrics-missing",
      message: "no usable metrics for this running pod; usage unknown",
      subject: `pod/${pod}`,
    });
    const container: SnapshotWarning = {
      code: "prometheus-no-series",
      message:
        "Prometheus has no usage series for container media/plex-0/app; its usage is unknown",
      subject: "container/media/plex-0/app",
    };
    const stale: SnapshotWarning = {
      code: "metrics-stale",
      message: "usage of 2 pods measured more than 300s from the time planned for",
      subject: "pods",
    };
    // A pod's requests that cannot be read are what the node plan counts: that stays a warning.
    const requests: SnapshotWarning = {
      code: "quantity-invalid",
      message: "spec.containers[0].resources.requests.cpu: not a quantity",
      subject: "pod/media/plex-0",
    };
    const all = [
      missing("media/plex-0"),
      container,
      missing("kube-system/cilium-x1"),
      missing("kube-system/cilium-x2"),
      missing("kube-system/cilium-x3"),
      stale,
      requests,
    ];
    const absent = usageWarningsOutsidePools({ nodes, warnings: all }, pools, undefined);
    expect(absent.warnings).toEqual([requests]);
    expect(absent.notes).toEqual([]);
    expect(absent.podUsage).toBe(
      "usage unknown for 4 pods (media/plex-0, kube-system/cilium-x1, kube-system/cilium-x2, and 1 more) [metrics-missing, prometheus-no-series]; usage of 2 pods measured more than 300s from the time planned for [metrics-stale]; right-sizing is off (the config has no rightsizing section), so no decision reads a pod's usage (the node plan counts pods by their requests)",
    );
    const disabled = usageWarningsOutsidePools({ nodes, warnings: all }, pools, {
      enabled: false,
    });
    expect(disabled.podUsage).toContain("right-sizing is off (rightsizing.enabled is false)");
    expect(usageWarningsOutsidePools({ nodes, warnings: all }, pools, on)).toEqual({
      warnings: all,
      notes: [],
    });
  });
});
