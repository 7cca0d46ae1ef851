/**
 * `plan` against a Kubernetes API server on 127.0.0.1 where a pool node is cordoned
 * (`kubectl cordon`: `spec.unschedulable` and the `node.kubernetes.io/unschedulable` taint): its
 * room takes no new pod, so the pool's utilisation, and what it is projected to be once a node
 * goes, is measured over the Ready nodes that are not cordoned.
 */
import { describe, expect, it } from "@jest/globals";
import { ciliumAgent, freshNodeMetrics, pod, type Raw, worker } from "./served-cluster.ts";
import { config, FOUR, plan, poolNote, tfvars } from "./served-plan.ts";

/**
 * Workers of the pool, `cordoned` among them with nothing on it but Cilium (drained), the others
 * each running an app pod and using `cpu` of their 3800m.
 */
function withCordoned(names: readonly string[], cordoned: string, cpu: string): Raw[] {
  return names.flatMap((name, index) => {
    const drained = name === cordoned;
    return [
      worker(name, drained ? { unschedulable: true } : {}),
      ciliumAgent(name, index),
      freshNodeMetrics(name, drained ? "100m" : cpu, "2Gi"),
      ...(drained
        ? []
        : [
            pod("default", `echo-server-5d8f7c9b6-ap${index}xx`, {
              node: name,
              owner: { kind: "ReplicaSet", name: "echo-server-5d8f7c9b6" },
              cpu: "100m",
              memory: "128Mi",
            }),
          ]),
    ];
  });
}

/** The pool's config with `text` before its `removal:` block. */
function tuned(text: string): string {
  return config({ "    removal:": `${text}    removal:` });
}

describe("plan against a served cluster: a cordoned node's room", () => {
  it("projects a scale-down over the nodes that take pods, not a cordoned node's room", async () => {
    // 1400m on each of three uncordoned nodes: 4200m of 11400m (37 %) now, 4200m of 7600m
    // (55 %) on the two left once talos-worker-4 goes, above 70 − 25. Counting the cordoned
    // node's 3800m, the pool looked 28 % full and 38 % after the removal.
    const output = await plan(withCordoned(FOUR, "talos-worker-2", "1400m"), {
      tfvars: tfvars(4),
      config: tuned(
        "    scaleUp:\n      cpu: 70\n    scaleDown:\n      unneededTime: 0\n      cpu: 40\n      margin: 25\n",
      ),
    });
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toContain(
      "utilisation: cpu 37 % (metrics-server over 20s), requests 5.3 %; memory 13 % (metrics-server over 20s), requests 1.6 % (of the Ready nodes that take pods: cordoned talos-worker-2 left out)",
    );
    expect(note).toContain("scale-down: cpu < 40 % for 0s: met (current, 37 %)");
    expect(note).toContain("scale-down: cpu after removal 55 % < 45 %: not met");
  });

  it("adds a node when the nodes that take pods are busy beside an idle cordoned one", async () => {
    // 3000m on each of two uncordoned nodes is 79 % of their 7600m; with the cordoned node's
    // room it would read 54 %, below the threshold of 70 %.
    const output = await plan(
      withCordoned(
        ["talos-worker-1", "talos-worker-2", "talos-worker-3"],
        "talos-worker-3",
        "3000m",
      ),
      { config: tuned("    scaleUp:\n      cpu: 70\n      window: 0s\n") },
    );
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(output.proposals[0]?.triggers).toEqual([
      expect.objectContaining({ kind: "utilisation", resource: "cpu", newNodes: 1 }),
    ]);
  });
});
