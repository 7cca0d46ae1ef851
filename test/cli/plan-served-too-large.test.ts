/**
 * A pending pod larger than any node of the pool could be, against a served cluster of Talos
 * workers (4 cores, 16 GiB VMs): the explanation names every resource a new node lacks for it,
 * with what a new node has free of each, so a node of more cores is not taken for the answer
 * when memory is short too.
 */
import { describe, expect, it } from "@jest/globals";
import { pod, type Raw, unschedulable } from "./served-cluster.ts";
import { cluster, fillers, plan, poolNote } from "./served-plan.ts";

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
    const output = await plan([...cluster(), ...fillers(), ollama("big01", "6", "24Gi")]);
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
    const output = await plan([...cluster(), ...fillers(), ollama("mem01", "2", "24Gi")]);
    expect(poolNote(output)).toContain(
      "never fits: ai/ollama-5b8c7d9f6c-mem01 (cpu 2, memory 24 GiB): needs more memory than a new node has free once its DaemonSets run (15.1 GiB of 15.2 GiB)",
    );
    expect(neverFit(output)).toEqual([
      expect.not.objectContaining({ resources: expect.anything() }),
    ]);
  });
});
