/**
 * `plan` against a Kubernetes API server on 127.0.0.1 where a pool node is cordoned
 * (`kubectl cordon`: `spec.unschedulable` and the `node.kubernetes.io/unschedulable` taint): its
 * room takes no new pod, so the pool's utilisation, and what it is projected to be once a node
 * goes, is measured over the Ready nodes that are not cordoned.
 */
import { describe, expect, it } from "@jest/globals";
import { ciliumAgent, freshNodeMetrics, pod, type Raw, worker } from "./served-cluster.ts";
import {
  apps,
  cluster,
  config,
  FOUR,
  fillers,
  plan,
  poolNote,
  serveForTest,
  tdarr,
  tfvars,
  WORKERS,
} from "./served-plan.ts";

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

  it("says a pending pod is kept off a cordoned node with room as the scheduler does: unschedulable", async () => {
    // kube-scheduler's NodeUnschedulable filter runs before TaintToleration: `kubectl describe
    // pod` says `1 node(s) were unschedulable` for the cordoned worker, not an untolerated taint.
    // A pod that tolerates node.kubernetes.io/unschedulable goes there all the same.
    const output = await plan(
      [
        ...withCordoned(WORKERS, "talos-worker-3", "600m"),
        ...fillers(["talos-worker-1", "talos-worker-2"]),
        tdarr("c0r7n"),
        tdarr("t0l3r", {
          tolerations: [
            { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
          ],
        }),
      ],
      { config: tuned("    scaleUp:\n      pendingFor: 0s\n") },
    );
    const reasons = output.proposals[0]?.reasons ?? [];
    expect(reasons).toContain(
      "  pending: media/tdarr-node-6d8c7f5b49-c0r7n (cpu 1500m, memory 2 GiB) → new-1 (existing nodes: talos-worker-1 and 1 more have too little cpu free; talos-worker-3 has room but is cordoned (unschedulable))",
    );
    expect(reasons).toContain(
      "  pending: media/tdarr-node-6d8c7f5b49-t0l3r (cpu 1500m, memory 2 GiB) fits on talos-worker-3",
    );
    const pending = output.proposals[0]?.decision?.pending as { onNew: Raw[] };
    expect(pending.onNew[0]?.keptOff).toMatchObject({
      rules: [{ cause: "unschedulable", node: "talos-worker-3", nodes: 1 }],
    });
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

describe("plan against a served cluster: a cordoned node is a person's", () => {
  // `kubectl cordon talos-worker-3`, then the VM shut down in Proxmox for maintenance: Ready has
  // been Unknown since 2026-11-20, far longer than scaleDown.unreadyTime.
  const maintenance = { unschedulable: true, ready: false };
  const quick = "    scaleDown:\n      unneededTime: 0\n";
  /** Empty nodes may go together: the runs below stop where a condition says. */
  const bulk = "    scaleDown:\n      unneededTime: 0\n      maxEmptyBulk: 10\n";

  it("does not remove a cordoned node that is not Ready, as it would one whose VM died", async () => {
    const served = await serveForTest([
      ...cluster(WORKERS, { "talos-worker-3": maintenance }),
      ...apps(["talos-worker-1", "talos-worker-2"]),
    ]);
    const output = await served.plan({ config: tuned(quick) });
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).not.toContain("it goes whatever the usage");
    expect(note).toContain(
      "not removed: talos-worker-3 is cordoned (someone took it out of service: it goes when the count must come down to the max or the host cap, not on low usage nor for not being Ready; uncordon talos-worker-3 to let those remove it, or lower the count by hand)",
    );
    // Not cordoned, the same dead VM goes.
    served.fake.remove("nodes", "talos-worker-3");
    served.fake.add(worker("talos-worker-3", { ready: false }));
    const died = await served.plan({ config: tuned(quick) });
    expect(died.proposals[0]).toMatchObject({ from: 3, to: 2 });
    expect(died.proposals[0]?.reasons.join("\n")).toContain("it goes whatever the usage");
  });

  it("does not remove a cordoned Ready node on low usage", async () => {
    const output = await plan(
      [...cluster(WORKERS, { "talos-worker-3": { unschedulable: true } })],
      {
        config: tuned(quick),
      },
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain("scale-down: talos-worker-3 is cordoned: not met");
  });

  it("removes no node whose room the pods of a cordoned node will need once it is drained", async () => {
    // talos-worker-2 is cordoned with two 2000m pods still on it: once drained they need room,
    // and with talos-worker-3 gone only talos-worker-1 (3600m free) would be left for them.
    const sonarr = (suffix: string, cpu: string) =>
      pod("media", `sonarr-5f6d7c8b9-crd${suffix}`, {
        node: "talos-worker-2",
        cpu,
        memory: "1Gi",
      });
    const nodes = cluster(WORKERS, { "talos-worker-2": { unschedulable: true } });
    const served = await serveForTest([...nodes, sonarr("a1", "2000m"), sonarr("a2", "2000m")]);
    const output = await served.plan({ config: tuned(quick) });
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "not removed: not every pod of talos-worker-3, with the 2 pods of cordoned talos-worker-2 (a drain would move them) fits on the other nodes (no room for media/sonarr-5f6d7c8b9-crda2",
    );
    // Pods that fit beside each other on talos-worker-1 let talos-worker-3 go.
    const small = await plan([...nodes, sonarr("b1", "1000m"), sonarr("b2", "1000m")], {
      config: tuned(quick),
    });
    expect(small.proposals[0]).toMatchObject({ from: 3, to: 2 });
    expect(small.proposals[0]?.reasons).toContain(
      "  scale-down: 0 pods of talos-worker-3, with the 2 pods of cordoned talos-worker-2 (a drain would move them) fit on the other nodes: met",
    );
  });

  it("stops a run of empty nodes where the pods of a cordoned node would have no room left", async () => {
    // Two 2000m pods on cordoned talos-worker-1 find room with talos-worker-4 gone (one on each
    // of talos-worker-2 and 3), not with talos-worker-3 gone too.
    const output = await plan(
      [
        ...cluster(FOUR, { "talos-worker-1": { unschedulable: true } }),
        ...apps(["talos-worker-2"]),
        ...["a1", "a2"].map((suffix) =>
          pod("media", `sonarr-5f6d7c8b9-crd${suffix}`, {
            node: "talos-worker-1",
            cpu: "2000m",
            memory: "1Gi",
          }),
        ),
      ],
      { tfvars: tfvars(4), config: tuned(bulk) },
    );
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(output.proposals[0]?.reasons.join("\n")).toContain(
      "talos-worker-4 goes alone; not talos-worker-3 too: no room would be left for media/sonarr-5f6d7c8b9-crda2",
    );
  });

  it("stops a run of empty nodes at a cordoned one", async () => {
    const five = [...FOUR, "talos-worker-5"];
    const output = await plan(
      [
        ...cluster(five, { "talos-worker-4": { unschedulable: true } }),
        ...apps(["talos-worker-1", "talos-worker-2"]),
      ],
      { tfvars: tfvars(5), config: tuned(bulk) },
    );
    expect(output.proposals[0]).toMatchObject({ from: 5, to: 4 });
    expect(output.proposals[0]?.reasons.join("\n")).toContain(
      "talos-worker-5 goes alone; not talos-worker-4 too: it is cordoned",
    );
  });

  it("removes a cordoned node above the max, saying the cordon does not keep it", async () => {
    const output = await plan(cluster(FOUR, { "talos-worker-4": { unschedulable: true } }), {
      tfvars: tfvars(4),
      config: config({ "max: 6": "max: 3" }),
    });
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(output.proposals[0]?.reasons).toContain(
      "  scale-down: talos-worker-4 is cordoned, and goes all the same: the count must come down to a bound",
    );
  });

  it("counts a cordoned node that is not Ready toward maxUnready", async () => {
    const output = await plan(
      cluster(["talos-worker-1", "talos-worker-2"], { "talos-worker-2": maintenance }),
      { tfvars: tfvars(2), config: tuned(quick) },
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "hold: 1 of 2 nodes not Ready (50 % > 45 %): talos-worker-2",
    );
  });
});
