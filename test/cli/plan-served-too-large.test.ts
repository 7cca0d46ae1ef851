/**
 * A pending pod larger than any node of the pool could be, against a served cluster of Talos
 * workers (4 cores, 16 GiB VMs): the explanation names every resource a new node lacks for it,
 * with what a new node has free of each, so a node of more cores is not taken for the answer
 * when memory is short too.
 */
import { describe, expect, it } from "@jest/globals";
import { pod, type Raw, unschedulable } from "./served-cluster.ts";
import { type plan, planFull, poolNote } from "./served-plan.ts";

/** An Ollama pod asking for `cpu` and `memory`, Pending for both on every worker. */
function ollama(suffix: string, cpu: string, memory: string): Raw {
  return pod("ai", `ollama-5b8c7d9f6c-${suffix}`, {
    cpu,
    memory,
    scheduled: unschedulable("Insufficient cpu, 3 Insufficient memory"),
  });
}

function neverFit(output: Awaited<ReturnType<typeof plan>>): unknown {
  const decision = output.notes.find((note) => note.subject === "pool/workers")?.decision as
    | { pending: { neverFit: unknown[] } }
    | undefined;
  return decision?.pending.neverFit;
}

describe("plan against a served cluster: a pod no new node holds", () => {
  it("names both cpu and memory when a new node has too little of each", async () => {
    const output = await planFull([ollama("big01", "6", "24Gi")]);
    expect(output.proposals).toEqual([]);
    // A new worker: 3800m − 100m (cilium) and 15.2 GiB − 128 MiB.
    expect(poolNote(output)).toContain(
      "never fits: ai/ollama-5b8c7d9f6c-big01 (cpu 6, memory 24 GiB): needs more cpu and memory than a new node has free once its DaemonSets run (cpu 3700m of 3800m, memory 15.1 GiB of 15.2 GiB)",
    );
    expect(neverFit(output)).toEqual([
      expect.objectContaining({
        pod: "ai/ollama-5b8c7d9f6c-big01",
        reason: "too-large",
        resource: "cpu",
        resources: ["cpu", "memory"],
      }),
    ]);
  });

  it("names the one resource alone when the other fits", async () => {
    const output = await planFull([ollama("mem01", "2", "24Gi")]);
    expect(poolNote(output)).toContain(
      "never fits: ai/ollama-5b8c7d9f6c-mem01 (cpu 2, memory 24 GiB): needs more memory than a new node has free once its DaemonSets run (15.1 GiB of 15.2 GiB)",
    );
    expect(neverFit(output)).toEqual([
      expect.not.objectContaining({ resources: expect.anything() }),
    ]);
  });

  it("tells the request and the room apart when one decimal prints them alike", async () => {
    // A new worker has 15986572Ki − 128Mi = 15855500Ki free: 1Ki more reads 15.1 GiB as well.
    const output = await planFull([ollama("kib01", "1", "15855501Ki")]);
    expect(poolNote(output)).toContain(
      "never fits: ai/ollama-5b8c7d9f6c-kib01 (cpu 1, memory 15.1 GiB): needs more memory than a new node has free once its DaemonSets run (15.120983 GiB of 15.2 GiB against its request of 15.120984 GiB)",
    );
  });

  it("gives the figures of hugepages beside memory", async () => {
    const big = ollama("hug01", "1", "24Gi");
    const [container] = (big.spec as { containers: { resources: { requests: Raw } }[] }).containers;
    if (container) container.resources.requests["hugepages-2Mi"] = "64Mi";
    const output = await planFull([big]);
    // The workers list hugepages-2Mi as 0: a new node has none for the pod's 64 MiB.
    expect(poolNote(output)).toContain(
      "never fits: ai/ollama-5b8c7d9f6c-hug01 (cpu 1, memory 24 GiB, hugepages-2Mi 64 MiB): needs more memory and hugepages-2Mi than a new node has free once its DaemonSets run (memory 15.1 GiB of 15.2 GiB, hugepages-2Mi 0 B of 0 B)",
    );
  });
});
