import { describe, expect, it } from "@jest/globals";
import { explainNodeDecision } from "../../src/planning/explain-node-decision.ts";
import type { NodeDecision } from "../../src/planning/node-decision.ts";
import { type NodeProposal, nodeProposals } from "../../src/planning/proposal.ts";
import type { PoolConfigInput } from "../../src/policy/repo-config.ts";
import { nodePullRequestBody } from "../../src/reconcile/node-pull-request-body.ts";
import { NOW, planOne } from "../planning/plan-helpers.ts";
import {
  buildSnapshot,
  type NodeSpec,
  node,
  nodes,
  pendingPod,
  pod,
} from "../support/snapshot-builder.ts";

const TFVARS = "terraform/terraform.tfvars";

/** The pool's proposal, as the app makes it into a pull request. */
function proposalOf(decision: NodeDecision): NodeProposal {
  const files = new Map([[TFVARS, `worker_count = ${decision.current}\n`]]);
  const [proposal] = nodeProposals([decision], files).proposals;
  if (!proposal) throw new Error(`no proposal: ${explainNodeDecision(decision).join("\n")}`);
  return proposal;
}

function body(
  snapshotNodes: ReturnType<typeof nodes>,
  pool: Partial<PoolConfigInput>,
  pods = [pod("web/a", { node: snapshotNodes.at(-1)?.name ?? "", cpu: "100m" })],
): string {
  const decision = planOne(buildSnapshot({ nodes: snapshotNodes, pods }), pool);
  return nodePullRequestBody(proposalOf(decision));
}

/** Usage from one metrics-server sample: no evidence over any window. */
const SAMPLED: NodeSpec = { usage: { cpu: "400m", memory: "2Gi", source: "metrics-server" } };

describe("the pull request of a pool above its bounds", () => {
  it("says the pool is above its max and that the bounds decide, not usage", () => {
    const text = body(nodes(4, SAMPLED), { max: 3 });
    expect(text).toContain(
      "Pool **workers** is above its max of 3 with 4 nodes: the bounds decide, not usage; the change removes **worker-4**.",
    );
    expect(text).not.toContain("more room than it needs");
    expect(text).toContain(
      "Above its max the bounds decide, not usage: the node goes when nothing blocks it and its pods fit elsewhere.\n\n- the decrease removes worker-4\n- worker-4 has no blockers: met\n- 1 pod of worker-4 fits on the other nodes: met",
    );
    // Usage that has no evidence is folded away under what it decides, not listed as a condition.
    const folded = text.indexOf(
      "<summary>Usage and requests: they decide only whether more than one empty node goes at once</summary>",
    );
    expect(folded).toBeGreaterThan(0);
    expect(text.indexOf("cpu < 30 % for 10m: no evidence")).toBeGreaterThan(folded);
  });

  it("says which nodes a decrease down to the max takes, each judged after the ones before it", () => {
    const text = body(
      nodes(6, SAMPLED),
      { max: 4 },
      ["worker-6", "worker-5"].map((name) => pod(`web/${name}`, { node: name, cpu: "100m" })),
    );
    expect(text).toContain(
      "Pool **workers** is above its max of 4 with 6 nodes: the bounds decide, not usage; the change removes **worker-6**, **worker-5**.",
    );
    expect(text).toContain(
      "Above its max the bounds decide, not usage: the nodes down to it go in one decrease, each when nothing blocks it and its pods fit elsewhere with those of the nodes before it.\n\n- the decrease removes worker-6 and worker-5\n- worker-6 has no blockers: met\n- 1 pod of worker-6 fits on the other nodes: met\n- 2 nodes go together to come down to the max of 4: worker-6, worker-5; no more: the count is down to the max of 4",
    );
  });

  it("lists a cordoned node to remove with what decides, not with usage", () => {
    const text = body(
      [...nodes(3, SAMPLED), node("worker-4", { ...SAMPLED, unschedulable: true })],
      {
        max: 3,
      },
    );
    expect(text).toContain(
      "- the decrease removes worker-4\n- worker-4 is cordoned, and goes all the same: the count must come down to a bound\n- worker-4 has no blockers: met",
    );
  });

  it("names the host cap when it is the bound", () => {
    const text = body(nodes(4, SAMPLED), { host: { maxNodes: 3 } });
    expect(text).toContain("Pool **workers** is above its host cap of 3 with 4 nodes");
  });

  it("lists what asks for more nodes as overruled by the max, not as the reason", () => {
    const workers = nodes(4, SAMPLED);
    const pods = [
      ...workers.map((w) => pod(`web/${w.name}`, { node: w.name, cpu: "300m" })),
      pendingPod("big/a", { cpu: "3800m" }),
    ];
    const text = body(workers, { max: 3 }, pods);
    expect(text).toMatch(/^Pool \*\*workers\*\* is above its max of 3 with 4 nodes/);
    expect(text).toContain(
      "### Why\n\n- count 4 is above the max of 3\n- overruled by the max: 1 pending pod needs 1 new node\n",
    );
    expect(text).not.toContain("held back: wanted");
    expect(text).toContain("| big/a | 3800m | 0 B | stays pending: beyond the pool's max of 3 |");
  });
});

describe("the pull request of a decrease whose drain deletes emptyDir data", () => {
  it("names the pods whose scratch goes with the node, as scaleDown.deleteEmptyDirData allows", () => {
    const quiet = nodes(4, { usage: { cpu: "400m", memory: "2Gi" } });
    const scratch = pod("media/sonarr-0", {
      node: "worker-4",
      cpu: "100m",
      volumes: [{ name: "tmp", type: "emptyDir" }],
    });
    const text = body(quiet, { scaleDown: { deleteEmptyDirData: true } }, [scratch]);
    expect(text).toContain(
      "- worker-4 has no blockers: met (the emptyDir data of media/sonarr-0 (tmp) is deleted with it, as scaleDown.deleteEmptyDirData allows)",
    );
    // Above the max, the conditions that decide are listed first, the same text among them.
    const above = body(quiet, { max: 3, scaleDown: { deleteEmptyDirData: true } }, [scratch]);
    expect(above).toContain(
      "- worker-4 has no blockers: met (the emptyDir data of media/sonarr-0 (tmp) is deleted with it, as scaleDown.deleteEmptyDirData allows)",
    );
  });
});

describe("the pull request of a decrease while kube-system pods hold other nodes", () => {
  it("lists the system-pod blocker of each node in its blocker table", () => {
    const quiet = nodes(4, { usage: { cpu: "400m", memory: "2Gi" } });
    const pods = [
      pod("web/a", { node: "worker-4", cpu: "100m" }),
      pod("kube-system/coredns-5d78c9869d-x2k9p", { node: "worker-2", cpu: "100m" }),
    ];
    const text = body(quiet, { scaleDown: { skipNodesWithSystemPods: true } }, pods);
    expect(text).toContain("### Blockers");
    expect(text).toContain(
      '| worker-2 | kube-system/coredns-5d78c9869d-x2k9p: a kube-system pod no PDB selects, kept on its node by scaleDown.skipNodesWithSystemPods (give it a PDB, or annotate it safe-to-evict: "true", if it may move) |',
    );
  });
});

describe("the pull request removing a node not Ready for scaleDown.unreadyTime", () => {
  it("says its readiness decides, with usage above the thresholds folded away", () => {
    const busy: NodeSpec = { usage: { cpu: "3", memory: "12Gi" } };
    const dead = node("worker-4", {
      ...busy,
      ready: false,
      readySince: "2025-06-06T11:00:00.000Z",
    });
    const text = body([...nodes(3, busy), dead], {});
    // How long it has been down, beside since when.
    expect(text).toContain(
      "Pool **workers**: worker-4 has not been Ready for 1h (since 2025-06-06 11:00 UTC), longer than 20m: it goes whatever the usage; the change removes **worker-4**.",
    );
    expect(text).toContain(
      "worker-4 has not been Ready for longer than 20m (scaleDown.unreadyTime), so its readiness decides, not usage: the node goes when nothing blocks it and its pods fit elsewhere.\n\n- count 4 above the min of 1: met\n- the decrease removes worker-4\n- worker-4 has no blockers: met\n- 1 pod of worker-4 fits on the other nodes: met",
    );
    const folded = text.indexOf(
      "<summary>Usage and requests: they decide only whether more than one empty node goes at once</summary>",
    );
    expect(folded).toBeGreaterThan(0);
    expect(text.indexOf("cpu after removal 75 % < 70 %: not met")).toBeGreaterThan(folded);
  });
});

describe("the pull request of a scale-up", () => {
  const full = (count: number, spec: NodeSpec, pending: number) => {
    const workers = nodes(count, spec);
    return {
      workers,
      pods: [
        ...workers.map((w) => pod(`fill/${w.name}`, { node: w.name, cpu: "3500m" })),
        ...Array.from({ length: pending }, (_, i) => pendingPod(`web/p${i}`, { cpu: "3" })),
      ],
    };
  };

  it("does not call unknown usage on a node 'held back'", () => {
    const { pods } = full(2, {}, 1);
    const workers = [...nodes(1, { usage: { cpu: "1", memory: "4Gi" } }), node("worker-2")];
    const text = body(workers, {}, pods);
    expect(text).toMatch(/^Pool \*\*workers\*\* needs more room: 1 pending pod needs 1 new node\./);
    expect(text).not.toContain("held back");
    expect(text).not.toContain("usage unknown on");
  });

  it("says a pod counted on a GPU on its way waits for it there", () => {
    const { workers, pods } = full(2, { usage: { cpu: "1", memory: "4Gi" } }, 1);
    // gpu-1 rebooted three minutes ago: labelled as having a GPU its device plugin has not
    // registered again yet.
    const readySince = new Date(NOW.getTime() - 3 * 60_000).toISOString();
    const gpu = node("gpu-1", {
      labels: { "nvidia.com/gpu.present": "true" },
      readySince,
      usage: { cpu: "1", memory: "4Gi" },
    });
    const plex = pendingPod("media/plex", { cpu: "100m", extended: { "nvidia.com/gpu": 1 } });
    const text = body([...workers, gpu], {}, [
      ...pods,
      pod("fill/gpu-1", { node: "gpu-1", cpu: "3500m" }),
      plex,
    ]);
    expect(text).toContain(
      "| media/plex | 100m | 0 B | nvidia.com/gpu 1 | free room on gpu-1 once its nvidia.com/gpu is advertised |",
    );
    expect(text).toMatch(/\| web\/p0 \| 3 \| 0 B \| none \| new node 1 /);
  });

  it("says of a pod the scheduler has not tried yet that it is not marked unschedulable", () => {
    const { workers, pods } = full(2, { usage: { cpu: "1", memory: "4Gi" } }, 1);
    // No PodScheduled condition: the scheduler has not got to it.
    const { unschedulable: _marked, ...fresh } = pendingPod("web/fresh", { cpu: "3" });
    const text = body(workers, {}, [...pods, fresh]);
    expect(text).toMatch(
      /\| web\/fresh \(not yet marked unschedulable by the scheduler\) \| 3 \| 0 B \| new node \d /,
    );
    expect(text).toMatch(/\| web\/p0 \| 3 \| 0 B \| new node \d /);
  });

  it("names the host cap for pods left pending beyond it", () => {
    const { workers, pods } = full(2, { usage: { cpu: "1", memory: "4Gi" } }, 2);
    const text = body(workers, { host: { maxNodes: 3 } }, pods);
    expect(text).toContain("| web/p1 | 3 | 0 B | stays pending: beyond the pool's host cap of 3 |");
    expect(text).toContain("- held back: wanted 4 nodes, the host cap allows 3");
  });

  it("lists the extended resources pending pods ask for only when one does", () => {
    const { workers, pods } = full(2, { usage: { cpu: "1", memory: "4Gi" } }, 1);
    const gpu = pendingPod("ai/ollama", { cpu: "2", extended: { "nvidia.com/gpu": 1 } });
    const newNode = { extendedResources: { "nvidia.com/gpu": 1 } };
    const text = body(workers, { newNode }, [...pods, gpu]);
    expect(text).toContain(
      "| Pod | CPU | Memory | Extended resources | Goes to |\n| --- | --- | --- | --- | --- |",
    );
    expect(text).toMatch(
      /\| ai\/ollama \| 2 \| 0 B \| nvidia\.com\/gpu 1 \| new node \d \(existing nodes: worker-1 and 1 more have too little cpu and nvidia\.com\/gpu free\) \|/,
    );
    expect(text).toMatch(
      /\| web\/p0 \| 3 \| 0 B \| none \| new node \d \(existing nodes: worker-1 and 1 more have too little cpu free\) \|/,
    );
    const plain = body(workers, {}, pods);
    expect(plain).toContain("| Pod | CPU | Memory | Goes to |");
    expect(plain).not.toContain("Extended resources");
  });

  it("lists the ephemeral storage pending pods ask for only when one does", () => {
    const { workers, pods } = full(2, { usage: { cpu: "1", memory: "4Gi" } }, 1);
    const disk = pendingPod("ci/runner", { cpu: "100m", ephemeralStorage: "30Gi" });
    const text = body(workers, {}, [...pods, disk]);
    expect(text).toContain(
      "| Pod | CPU | Memory | Ephemeral storage | Goes to |\n| --- | --- | --- | --- | --- |",
    );
    expect(text).toContain("| ci/runner | 100m | 0 B | 30 GiB | free room on worker-1 |");
    expect(text).toMatch(
      /\| web\/p0 \| 3 \| 0 B \| 0 B \| new node \d \(existing nodes: worker-1 and 1 more have too little cpu free\) \|/,
    );
    expect(body(workers, {}, pods)).not.toContain("Ephemeral storage");
  });

  it("says room on an existing node is so as far as the pods read show, when some were not read", () => {
    // The pod list stopped after a page: pods not read may hold the room counted as free.
    const { workers, pods } = full(2, { usage: { cpu: "1", memory: "4Gi" } }, 1);
    const small = pendingPod("ci/runner", { cpu: "100m" });
    const decision = planOne(
      buildSnapshot({
        nodes: workers,
        pods: [...pods, small],
        warnings: [
          { code: "list-partial", subject: "pods", message: "pods list stopped after 2 pages" },
        ],
      }),
      {},
    );
    const text = nodePullRequestBody(proposalOf(decision));
    expect(text).toContain(
      "| ci/runner | 100m | 0 B | free room on worker-1 as far as the pods read show |",
    );
    expect(text).toMatch(/\| web\/p0 \| 3 \| 0 B \| new node 1 /);
  });

  it("lists pods whose fit is unknown, and no empty table when no pod is placed", () => {
    const busy = { usage: { cpu: "3800m", memory: "15Gi" } };
    // A zone per Proxmox host: which one a new node joins is not known.
    const workers = [
      node("worker-1", { ...busy, labels: { zone: "pve1" } }),
      node("worker-2", { ...busy, labels: { zone: "pve2" } }),
    ];
    const pods = [
      ...workers.map((w) => pod(`fill/${w.name}`, { node: w.name, cpu: "3500m" })),
      pendingPod("web/zoned", { cpu: "1", nodeSelector: { zone: "pve1" } }),
      pendingPod("web/huge", { cpu: "64" }),
    ];
    const text = body(workers, {}, pods);
    expect(text).toMatch(/^Pool \*\*workers\*\* needs more room: cpu/);
    expect(text).toContain(
      "### Pending pods\n\nNever fit this pool, so they add no node:\n\n- web/huge (cpu 64, memory 0 B): needs more cpu than a new node has (asks for 64 cpu, a new node has 4)\n\nWhether they fit a new node of this pool is not known, so they add no node:\n\n- web/zoned (cpu 1, memory 0 B): its nodeSelector or required node affinity (or a volume's) depends on the label zone,",
    );
    expect(text).not.toContain("| Pod |");
  });

  it("shows the window's lowest point beside its average and percentile", () => {
    // Cpu averaged 3.6 of 4 cores per node, fell no lower than 3.4 and peaked at 3.9.
    const hot = {
      usage: { cpu: "3600m", memory: "4Gi", low: { cpu: "3400m" }, peak: { cpu: "3900m" } },
    };
    const text = body(nodes(2, hot), {});
    expect(text).toMatch(/^Pool \*\*workers\*\* needs more room: cpu/);
    expect(text).toContain("| 90 % (lowest 85 %, p95 98 %) | 25 % (lowest 25 %, p95 25 %) |");
  });

  it("says the lowest point is unknown when Prometheus gave none, never 0", () => {
    const { workers, pods } = full(2, { usage: { cpu: "1", memory: "4Gi", low: false } }, 1);
    const text = body(workers, {}, pods);
    expect(text).toMatch(/^Pool \*\*workers\*\* needs more room: 1 pending pod/);
    expect(text).toContain("| 25 % (lowest unknown, p95 25 %) | 25 % (lowest unknown, p95 25 %) |");
  });

  it("gives no lowest point for metrics-server's one sample", () => {
    const { workers, pods } = full(2, SAMPLED, 1);
    const text = body(workers, {}, pods);
    expect(text).toContain("| 10 % | 13 % |");
    expect(text).not.toContain("lowest");
  });

  it("says a min raised the count", () => {
    const text = body(nodes(1, { usage: { cpu: "1", memory: "4Gi" } }), { min: 2 }, []);
    expect(text).toMatch(/^Pool \*\*workers\*\* is below its min of 2: it has 1 node\./);
  });
});

describe("the pull request of a decrease asked for by hand", () => {
  it("says what would have kept the node without the request", () => {
    const workers = nodes(3, { usage: { cpu: "400m", memory: "2Gi" } });
    const pods = [pod("tools/debug", { node: "worker-3", owner: null })];
    const decision = planOne(buildSnapshot({ nodes: workers, pods }));
    expect(decision.action).toBe("none");
    const proposal: NodeProposal = {
      kind: "nodes",
      key: "nodes-workers",
      pool: "workers",
      from: 3,
      to: 2,
      direction: "down",
      changes: [{ ...decision.target, before: 3, after: 2 }],
      edits: [],
      reasons: explainNodeDecision(decision),
      decision: { ...decision, action: "scale-down", desired: 2 },
    };
    const text = nodePullRequestBody(proposal, { manual: { by: "alice", count: 2 } });
    expect(text).toContain("- without the request, no node would go: worker-3 has 1 blocker");
  });
});
