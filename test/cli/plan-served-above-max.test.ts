/**
 * A count above the max (or the host cap) comes down to it in one decrease, as far as its nodes
 * can go: each node Terraform `count` destroys next is judged as a decrease by one would judge
 * it on the pool the nodes before it leave (their pods take the room first, their evictions
 * spend the PodDisruptionBudgets first), and the first one that cannot go stops the run there.
 * Expectations written from docs/configuration.md ("Scale down") and the eviction API's rule
 * that a budget's `disruptionsAllowed` is spent by every eviction it covers.
 */
import { describe, expect, it } from "@jest/globals";
import { pdb, pod, type Raw } from "./served-cluster.ts";
import { apps, cluster, config, filler, plan, poolDecision, tfvars } from "./served-plan.ts";

function workers(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `talos-worker-${index + 1}`);
}

const SEVEN_MAX_FIVE = { tfvars: tfvars(7), config: config({ "max: 6": "max: 5" }) };

/** An app pod on `node`, of 1.5 cpu unless `cpu` says. */
function transcoder(
  node: string,
  suffix: string,
  labels: Record<string, string> = {},
  cpu = "1500m",
): Raw {
  return pod("media", `tdarr-node-6d8c7f5b49-${suffix}`, {
    node,
    owner: { kind: "ReplicaSet", name: "tdarr-node-6d8c7f5b49" },
    cpu,
    memory: "1Gi",
    labels,
  });
}

describe("plan: a count above the max comes down to it in one decrease", () => {
  it("lowers 7 workers under a max of 5 to 5 when the pods of both nodes fit on the rest", async () => {
    const output = await plan(
      [...cluster(workers(7), {}, { cpu: "3000m", memory: "12Gi" }), ...apps(workers(7))],
      SEVEN_MAX_FIVE,
    );
    expect(output.proposals[0]).toMatchObject({ from: 7, to: 5, direction: "down" });
    const reasons = output.proposals[0]?.reasons ?? [];
    expect(reasons).toContain("  trigger: count 7 is above the max of 5");
    expect(reasons).toContain(
      "  scale-down: the decrease removes talos-worker-7 and talos-worker-6",
    );
    expect(reasons).toContain(
      "  scale-down: 2 nodes go together to come down to the max of 5: talos-worker-7, talos-worker-6; no more: the count is down to the max of 5",
    );
    const scaleDown = poolDecision(output).scaleDown as Raw;
    expect(scaleDown.conditions).toContainEqual({
      kind: "candidate",
      met: true,
      node: "talos-worker-7",
      nodes: ["talos-worker-7", "talos-worker-6"],
    });
    const bulk = scaleDown.bulk as Raw;
    expect(bulk).toMatchObject({
      nodes: ["talos-worker-7", "talos-worker-6"],
      downTo: { max: 5, bound: "max" },
      stop: { kind: "max", max: 5, bound: "max" },
    });
  });

  it("stops at 6 when talos-worker-6's pod finds no room once talos-worker-7's took it", async () => {
    // Only talos-worker-1 (2.2 cpu free) has room for either pod besides the two nodes that go:
    // talos-worker-7's larger one, placed first, takes it.
    const busy = workers(5).map((node, index) => filler(node, index, index === 0 ? "1500m" : "3"));
    const output = await plan(
      [
        ...cluster(workers(7)),
        ...busy,
        transcoder("talos-worker-7", "tw7aa", {}, "1600m"),
        transcoder("talos-worker-6", "tw6aa"),
      ],
      SEVEN_MAX_FIVE,
    );
    expect(output.proposals[0]).toMatchObject({ from: 7, to: 6 });
    const run = output.proposals[0]?.reasons.find((line) => line.includes("goes alone"));
    expect(run).toBe(
      "  scale-down: talos-worker-7 goes alone; not talos-worker-6 too: no room would be left for media/tdarr-node-6d8c7f5b49-tw6aa: once the pods placed before it take their room, it needs more cpu than any other node of the pool has free",
    );
  });

  it("names talos-worker-6's pod when two equal pods cannot both have the one node with room", async () => {
    // talos-worker-1 (2.2 cpu free) has room for one of the two 1.5 cpu pods, not both: the one
    // of talos-worker-7, which goes first, takes it, and talos-worker-6's is left without.
    const busy = workers(5).map((node, index) => filler(node, index, index === 0 ? "1500m" : "3"));
    const output = await plan(
      [
        ...cluster(workers(7)),
        ...busy,
        transcoder("talos-worker-7", "tw7aa"),
        transcoder("talos-worker-6", "tw6aa"),
      ],
      SEVEN_MAX_FIVE,
    );
    expect(output.proposals[0]).toMatchObject({ from: 7, to: 6 });
    const run = output.proposals[0]?.reasons.find((line) => line.includes("goes alone"));
    expect(run).toBe(
      "  scale-down: talos-worker-7 goes alone; not talos-worker-6 too: no room would be left for media/tdarr-node-6d8c7f5b49-tw6aa: once the pods placed before it take their room, it needs more cpu than any other node of the pool has free",
    );
    const bulk = (poolDecision(output).scaleDown as Raw).bulk as Raw;
    expect(bulk.stop).toMatchObject({
      kind: "pods-fit",
      node: "talos-worker-6",
      unplaced: ["media/tdarr-node-6d8c7f5b49-tw6aa"],
    });
  });

  it("stops at 6 when one budget allows one disruption and each node holds one of its pods", async () => {
    const web = { app: "web" };
    const output = await plan(
      [
        ...cluster(workers(7)),
        transcoder("talos-worker-7", "tw7aa", web),
        transcoder("talos-worker-6", "tw6aa", web),
        pdb("media", "tdarr", web, 1),
      ],
      SEVEN_MAX_FIVE,
    );
    expect(output.proposals[0]).toMatchObject({ from: 7, to: 6 });
    expect(output.proposals[0]?.reasons).toContain(
      "  scale-down: talos-worker-7 goes alone; not talos-worker-6 too: PDB media/tdarr allows 1 disruption, and draining talos-worker-7 and talos-worker-6 would evict 2 of its pods",
    );
    const bulk = (poolDecision(output).scaleDown as Raw).bulk as Raw;
    expect(bulk.stop).toEqual({
      kind: "budget",
      node: "talos-worker-6",
      pdb: "media/tdarr",
      disruptionsAllowed: 1,
      pods: 2,
      nodes: ["talos-worker-7", "talos-worker-6"],
    });
  });

  it("takes a cordoned talos-worker-6 too: the count must come down", async () => {
    const output = await plan(
      [...cluster(workers(7), { "talos-worker-6": { unschedulable: true } }), ...apps(workers(7))],
      SEVEN_MAX_FIVE,
    );
    expect(output.proposals[0]).toMatchObject({ from: 7, to: 5 });
  });

  it("stops at 6 when a blocker holds talos-worker-6, and says so", async () => {
    const output = await plan(
      [
        ...cluster(workers(7)),
        ...apps(workers(5)),
        pod("default", "debug-shell", {
          node: "talos-worker-6",
          cpu: "100m",
          memory: "128Mi",
          owner: null,
        }),
      ],
      SEVEN_MAX_FIVE,
    );
    expect(output.proposals[0]).toMatchObject({ from: 7, to: 6 });
    expect(output.proposals[0]?.reasons).toContain(
      "  scale-down: the decrease removes talos-worker-7",
    );
    const run = output.proposals[0]?.reasons.find((line) => line.includes("goes alone"));
    expect(run).toBe(
      "  scale-down: talos-worker-7 goes alone; not talos-worker-6 too: it has 1 blocker",
    );
  });

  /** Four workers, max 2, and an idle pool: unneededTime 0, so a run of empty nodes qualifies. */
  const idleAtFourMaxTwo = () => ({
    tfvars: tfvars(4),
    config: config({
      "max: 6": "max: 2",
      "    removal:": "    scaleDown:\n      unneededTime: 0\n    removal:",
    }),
  });

  it("says what keeps talos-worker-3 when the pool is idle too, not that only empty nodes go together", async () => {
    // An idle pool (unneededTime 0, metrics-server's sample far below the thresholds) also
    // qualifies for a run of empty nodes; it stops at the same node, for a reason that is no
    // limit above the max. CoreDNS runs on talos-worker-4 and -3, under a budget allowing one.
    const dns = { "k8s-app": "kube-dns" };
    const coredns = (node: string, suffix: string) =>
      pod("kube-system", `coredns-5d78c9869d-${suffix}`, {
        node,
        cpu: "100m",
        memory: "70Mi",
        labels: dns,
      });
    const output = await plan(
      [
        ...cluster(workers(4), {}, { cpu: "300m", memory: "1500Mi" }),
        ...apps(workers(1)),
        coredns("talos-worker-4", "r7m4z"),
        coredns("talos-worker-3", "x2k9p"),
        pdb("kube-system", "coredns", dns, 1),
      ],
      idleAtFourMaxTwo(),
    );
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(output.proposals[0]?.reasons).toContain(
      "  scale-down: talos-worker-4 goes alone; not talos-worker-3 too: PDB kube-system/coredns allows 1 disruption, and draining talos-worker-4 and talos-worker-3 would evict 2 of its pods",
    );
    const bulk = (poolDecision(output).scaleDown as Raw).bulk as Raw;
    expect(bulk).toMatchObject({
      nodes: ["talos-worker-4"],
      downTo: { max: 2, bound: "max" },
      stop: { kind: "budget", node: "talos-worker-3", pdb: "kube-system/coredns" },
    });
  });

  it("names talos-worker-3's blocker when the pool is idle too, not scaleDown.maxEmptyBulk", async () => {
    const output = await plan(
      [
        ...cluster(workers(4), {}, { cpu: "300m", memory: "1500Mi" }),
        ...apps(workers(1)),
        pod("home", "home-assistant-0", {
          node: "talos-worker-3",
          cpu: "100m",
          memory: "512Mi",
          owner: { kind: "StatefulSet", name: "home-assistant" },
          annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "false" },
        }),
      ],
      idleAtFourMaxTwo(),
    );
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(output.proposals[0]?.reasons).toContain(
      "  scale-down: talos-worker-4 goes alone; not talos-worker-3 too: it has 1 blocker",
    );
    expect((poolDecision(output).scaleDown as Raw).bulk).toMatchObject({
      downTo: { max: 2, bound: "max" },
      stop: { kind: "blockers", node: "talos-worker-3" },
    });
  });

  it("lowers 6 workers on a host that holds 4 to 4", async () => {
    const output = await plan([...cluster(workers(6)), ...apps(workers(6))], {
      tfvars: tfvars(6),
      config: config({ "    removal:": "    host:\n      maxNodes: 4\n    removal:" }),
    });
    expect(output.proposals[0]).toMatchObject({ from: 6, to: 4 });
    const reasons = output.proposals[0]?.reasons ?? [];
    expect(reasons).toContain("  trigger: count 6 is above the host cap of 4");
    expect(reasons).toContain(
      "  scale-down: 2 nodes go together to come down to the host cap of 4: talos-worker-6, talos-worker-5; no more: the count is down to the host cap of 4",
    );
  });
});
