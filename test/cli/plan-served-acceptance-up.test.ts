/**
 * Scale-up cases an operator would check `plan --kubeconfig` against, each worked out by hand
 * before reading the plan, from how the kube-scheduler filters nodes (NodeResourcesFit with
 * ephemeral storage, TaintToleration, NodePorts) and how first-fit-decreasing packing fills
 * the room left on existing nodes and then on new ones.
 *
 * The workers are the Talos VMs of served-cluster.ts: 3800m cpu, 15986572Ki memory, 110 pods
 * and 58623335106 bytes (54.6 GiB) of ephemeral storage allocatable, Cilium (100m, 128 MiB) on
 * each. A new worker so has 3700m, 15855500Ki (15.1 GiB), 109 pods and 54.6 GiB free.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type RunningPrometheus, startPrometheus } from "../support/prometheus.ts";
import { openMetricsOf, rootCgroup } from "../support/prometheus-series.ts";
import { type PlanJson, type PodOptions, pod, type Raw } from "./served-cluster.ts";
import { cluster, config, fillers, plan, serveForTest, WORKERS } from "./served-plan.ts";

/** The reasons of the plan's only proposal, one per line. */
function reasons(output: PlanJson): string {
  expect(output.proposals).toHaveLength(1);
  return output.proposals[0]?.reasons.join("\n") ?? "";
}

/** A Pending pod of a CI runner Job (1500m, 1 GiB unless `options` say otherwise). */
function runner(suffix: string, options: PodOptions = {}): Raw {
  return pod("ci", `runner-29123400-${suffix}`, {
    owner: { kind: "Job", name: "runner-29123400" },
    cpu: "1500m",
    memory: "1Gi",
    ...options,
  });
}

/** Adds requests of other resources to the pod's app container. */
function requesting(raw: Raw, extra: Record<string, string>): Raw {
  const container = ((raw.spec as Raw).containers as Raw[])[0] as Raw;
  const resources = container.resources as Raw;
  resources.requests = { ...(resources.requests as Raw), ...extra };
  return raw;
}

describe("plan acceptance (scale-up): pods asking for ephemeral storage", () => {
  // 30 GiB each: a worker's 54.6 GiB holds one, not two. The three workers have cpu and memory
  // to spare and no disk taken, so three pods go there, one each, and the other two need a new
  // node each, though their cpu and memory would fit one.
  const objects = () => [
    ...cluster(),
    ...["dsk1x", "dsk2x", "dsk3x", "dsk4x", "dsk5x"].map((suffix) =>
      requesting(runner(suffix, { cpu: "100m", memory: "128Mi" }), {
        "ephemeral-storage": "30Gi",
      }),
    ),
  ];

  it("adds a node for each pod the disk of a node holds alone, and says it is the disk", async () => {
    const output = await plan(objects());
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 5 });
    const text = reasons(output);
    expect(text).toContain(
      "new node: 3800m cpu, 15.2 GiB memory, 110 pods, 54.6 GiB ephemeral storage (learned,",
    );
    expect(text).toContain("trigger: 2 pending pod(s) need 2 new node(s)");
    expect(text).toContain(
      "pending pods: 5 considered, 3 fit free room on existing nodes, 2 go on 2 new node(s)",
    );
    expect(text).toMatch(
      /ci\/runner-29123400-dsk1x \(cpu 100m, memory 128 MiB, ephemeral-storage 30 GiB\) fits on talos-worker-\d/,
    );
    expect(text).toContain(
      "ci/runner-29123400-dsk5x (cpu 100m, memory 128 MiB, ephemeral-storage 30 GiB) → new-2",
    );
    const pending = output.proposals[0]?.decision?.pending as {
      onNew: { pod: string; ephemeralStorage?: number; node: string }[];
    };
    expect(pending.onNew).toEqual([
      expect.objectContaining({
        pod: "ci/runner-29123400-dsk4x",
        ephemeralStorage: 30 * 2 ** 30,
        node: "new-1",
      }),
      expect.objectContaining({
        pod: "ci/runner-29123400-dsk5x",
        ephemeralStorage: 30 * 2 ** 30,
        node: "new-2",
      }),
    ]);
  });

  it("gives no ephemeral storage, on the pods or the new node, when no pod asks for it", async () => {
    const output = await plan([...cluster(), ...fillers(), runner("cpu01")]);
    const text = reasons(output);
    expect(text).toContain("new node: 3800m cpu, 15.2 GiB memory, 110 pods (learned,");
    expect(text).toContain("ci/runner-29123400-cpu01 (cpu 1500m, memory 1 GiB) → new-1");
    expect(text).not.toContain("ephemeral");
    const pending = output.proposals[0]?.decision?.pending as { onNew: Raw[] } | undefined;
    expect(pending?.onNew).toHaveLength(1);
    expect(pending?.onNew[0]).not.toHaveProperty("ephemeralStorage");
  });
});

describe("plan acceptance (scale-up): cpu held above its threshold, read from Prometheus", () => {
  // An hour of each worker's cAdvisor root cgroup at 3.5 cores and 4 GiB, ending on a minute
  // boundary a minute ago; the plans are for that last sample's time. 3 × 3500m over 3 × 3800m
  // is 92 %. Below 60 % takes more than 10500m / 0.6 = 17500m of allocatable: 5 workers
  // (19000m), not 4 (15200m), so two are added.
  const end = Math.floor(Date.now() / 60_000) * 60 - 60;
  const now = new Date(end * 1000).toISOString();
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    const series = WORKERS.flatMap((node, index) =>
      rootCgroup({ node, ip: `192.168.50.2${index}`, cores: 3.5, bytes: 4 * 2 ** 30 }, end - 3600),
    );
    prometheus = await startPrometheus(openMetricsOf(series, end - 3600, end));
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
  });

  const hot = (window: string) => ({
    config: config({
      "    removal:": `    scaleUp:\n      cpu: 60\n      window: ${window}\n    removal:`,
    }),
  });

  async function planWith(window: string, args: string[] = []): Promise<PlanJson> {
    const served = await serveForTest(cluster());
    const run = await served.run(
      ["--json", "--prometheus", prometheus.url, "--now", now, ...args],
      hot(window),
    );
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout) as PlanJson;
  }

  it("adds the two nodes that bring the pool's cpu below 60 %", async () => {
    const output = await planWith("5m");
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 5 });
    expect(output.proposals[0]?.triggers).toEqual([
      expect.objectContaining({ kind: "utilisation", resource: "cpu", newNodes: 2 }),
    ]);
    expect(reasons(output)).toContain(
      "trigger: cpu 92 % ≥ 60 % for 5m (usage-window): 2 new node(s)",
    );
  });

  it("says Prometheus was asked for less than a 30m window, and adds the nodes once asked for it", async () => {
    const short = await planWith("30m");
    expect(short.proposals).toEqual([]);
    const note = short.notes.find((entry) => entry.subject === "pool/workers")?.message ?? "";
    expect(note).toContain(
      "scale-up check: cpu ≥ 60 % for 30m: no evidence over the window (usage covers 10m, no history, now 92 %; Prometheus was asked for 10m of usage, less than the window: ask for 30m with plan's --prometheus-window, or the app's PROMETHEUS_WINDOW)",
    );
    const whole = await planWith("30m", ["--prometheus-window", "30m"]);
    expect(whole.proposals[0]).toMatchObject({ from: 3, to: 5 });
    expect(reasons(whole)).toContain(
      "trigger: cpu 92 % ≥ 60 % for 30m (usage-window): 2 new node(s)",
    );
  });
});
