/**
 * A metrics-server sample over a window of 0s (or one that is not a duration), served by the
 * API server and planned with `plan --kubeconfig`: its cpu is a rate over no time, so it is
 * unknown, not the figure written, and no node is removed on it (docs/snapshot.md,
 * "Situation"; docs/configuration.md, "What holds a change back"). Memory is the working set
 * at the scrape and still counts. A sample that gives no window at all (made by hand: the
 * metrics API always writes one) is read as `kubectl top` reads it.
 */
import { describe, expect, it } from "@jest/globals";
import { nodeMetrics } from "../support/kube-fixtures.ts";
import { type PlanJson, pod, type Raw } from "./served-cluster.ts";
import { apps, cluster, FOUR, judgedNow, nameOf, poolNote, serveForTest } from "./served-plan.ts";

/** FOUR light workers, talos-worker-`n`'s sample over `window` instead of metrics-server's 20s. */
function sampledOver(node: string, window: string): Raw[] {
  const stamped = new Date(Date.now() - 15_000).toISOString().replace(/\.\d+Z$/, "Z");
  return [...cluster(FOUR), ...apps(FOUR)].map((object) =>
    object.kind === "NodeMetrics" && nameOf(object) === node
      ? nodeMetrics(node, object.usage as { cpu: string; memory: string }, stamped, window)
      : object,
  );
}

/** FOUR light workers, talos-worker-4's sample with `window` as given (left out when undefined). */
function withWindow(window: string | undefined): Raw[] {
  return sampledOver("talos-worker-4", "20.035s").map((object) => {
    if (object.kind !== "NodeMetrics" || nameOf(object) !== "talos-worker-4") return object;
    const { window: _window, ...rest } = object;
    return window === undefined ? rest : { ...rest, window };
  });
}

describe("plan against a served cluster: a sample over a window of 0s", () => {
  it("removes no node while a node's cpu is a rate over 0s, whichever node it is", async () => {
    // Over metrics-server's usual window, the quiet pool loses talos-worker-4.
    const usual = await serveForTest(sampledOver("talos-worker-4", "20.035s"));
    const removed = JSON.parse((await usual.run(["--json"], judgedNow(4))).stdout) as PlanJson;
    expect(removed.proposals[0]).toMatchObject({ from: 4, to: 3, direction: "down" });
    for (const node of ["talos-worker-4", "talos-worker-2"]) {
      const served = await serveForTest(sampledOver(node, "0s"));
      const run = await served.run(["--json"], judgedNow(4));
      expect(run.code).toBe(0);
      expect(run.stderr).toContain(
        `warning: node/${node}: usage.cpu is a rate over the sample's window of 0s, which measures nothing; cpu usage treated as unknown [metrics-invalid]\n`,
      );
      const output = JSON.parse(run.stdout) as PlanJson;
      expect(output.proposals).toEqual([]);
      expect(poolNote(output)).toContain(
        `hold: cpu usage unknown on ${node}; no decision is taken on the pool's usage (unknown is not zero)`,
      );
      expect(poolNote(output)).toContain(
        "scale-down: cpu after removal < 70 %: unknown, so not met",
      );
      // Memory is read at the scrape, whatever the window: it is still compared.
      expect(poolNote(output)).toMatch(/scale-down: memory after removal \d+ % < 75 %: met/);
      expect(output.notes.find((note) => note.subject === "pool/workers")?.holds).toEqual([
        { kind: "usage-unknown", nodes: [node], resources: ["cpu"] },
      ]);
    }
  });

  it("takes cpu over a window that is not a duration as unknown too", async () => {
    const served = await serveForTest(withWindow("-5s"));
    const run = await served.run(["--json"], judgedNow(4));
    expect(run.stderr).toContain(
      'warning: node/talos-worker-4: usage.cpu is a rate over the sample\'s window, and "-5s" is not a duration; cpu usage treated as unknown [metrics-invalid]\n',
    );
    const output = JSON.parse(run.stdout) as PlanJson;
    expect(output.proposals).toEqual([]);
    expect(output.notes.find((note) => note.subject === "pool/workers")?.holds).toEqual([
      { kind: "usage-unknown", nodes: ["talos-worker-4"], resources: ["cpu"] },
    ]);
  });

  it("reads cpu from a sample that gives no window, as kubectl top does", async () => {
    const served = await serveForTest(withWindow(undefined));
    const run = await served.run(["--json"], judgedNow(4));
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain("metrics-invalid");
    const output = JSON.parse(run.stdout) as PlanJson;
    // The same quiet pool as over metrics-server's usual window: talos-worker-4 goes.
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3, direction: "down" });
    expect(output.notes.find((note) => note.subject === "pool/workers")?.holds ?? []).toEqual([]);
  });

  it("still adds a node for a pending pod, which rests on requests, not usage", async () => {
    const pending = pod("batch", "transcode-29123400-w0s01", {
      owner: { kind: "Job", name: "transcode-29123400" },
      // More than the 3600m each worker has free, less than the 3700m a new node has.
      cpu: "3650m",
      memory: "1Gi",
    });
    const served = await serveForTest([...sampledOver("talos-worker-2", "0s"), pending]);
    const output = JSON.parse((await served.run(["--json"], judgedNow(4))).stdout) as PlanJson;
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 5, direction: "up" });
  });
});
