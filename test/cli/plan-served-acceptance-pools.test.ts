/**
 * Two pools, as an operator who knows cluster-autoscaler would check `plan --kubeconfig` against
 * them, each case worked out by hand before reading the plan: a general pool of the 4-core Talos
 * workers and a highmem pool of 4-core VMs with 62 GiB, both counted in one terraform.tfvars.
 *
 * Every worker of both pools is full but for 700m (a 3-core pod and Cilium on 3800m), so a
 * pending pod of 1500m needs a new node. A new node of either pool holds it: which pool adds one
 * is the file's order, the choice the configuration documents (where cluster-autoscaler's
 * expander would pick), and the pod is counted once. A pool that takes no action (its count
 * cannot be read, too many of its nodes are not Ready) adds no node, so the pod goes to the next
 * pool, as cluster-autoscaler passes over a node group it cannot scale up.
 */
import { describe, expect, it } from "@jest/globals";
import {
  ciliumAgent,
  controlPlane,
  freshNodeMetrics,
  type NodeOptions,
  type PlanJson,
  type PodOptions,
  pod,
  type Raw,
  worker,
} from "./served-cluster.ts";
import { commitFiles, emptyRepo, plan, poolNote, serveForTest } from "./served-plan.ts";

const GENERAL = ["talos-worker-1", "talos-worker-2", "talos-worker-3"];

/** A VM of 4 cores and 62 GiB as kubelet reports it. */
const HIGHMEM = { cpu: "3800m", memory: "65000000Ki", pods: "110" };

/** A pool node with Cilium, fresh metrics and a 3-core pod: 700m left. */
function full(name: string, index: number, pool: string, options: NodeOptions = {}): Raw[] {
  return [
    worker(name, { ...options, labels: { "node.kubernetes.io/pool": pool } }),
    ciliumAgent(name, index),
    freshNodeMetrics(name, "600m", "2Gi"),
    pod("media", `plex-7d9c65958-fil${index}x`, { node: name, cpu: "3", memory: "4Gi" }),
  ];
}

/** The control plane, the three general workers (`notReady` among them) and one highmem VM. */
function cluster(notReady: string[] = []): Raw[] {
  return [
    controlPlane("talos-cp-1"),
    freshNodeMetrics("talos-cp-1", "400m", "2Gi"),
    ...GENERAL.flatMap((name, index) =>
      full(name, index, "general", { ready: !notReady.includes(name) }),
    ),
    ...full("talos-highmem-1", 7, "highmem", { allocatable: HIGHMEM }),
  ];
}

/** A Pending tdarr node pod: 1500m and 2 GiB unless `options` say otherwise. */
function tdarr(suffix: string, options: PodOptions = {}): Raw {
  return pod("media", `tdarr-node-6d8c7f5b49-${suffix}`, {
    cpu: "1500m",
    memory: "2Gi",
    ...options,
  });
}

const TFVARS = `# Proxmox VMs, one count per pool.
worker_count  = 3
highmem_count = 1
`;

function general(extra = "", path = "worker_count"): string {
  return `  - name: general
    target:
      file: terraform/terraform.tfvars
      path: ${path}
    selector:
      matchLabels:
        node.kubernetes.io/pool: general
    max: 6
${extra}`;
}

const HIGHMEM_POOL = `  - name: highmem
    target:
      file: terraform/terraform.tfvars
      path: highmem_count
    selector:
      matchLabels:
        node.kubernetes.io/pool: highmem
    max: 3
`;

/** The two pools, general first unless told otherwise. */
function pools(first = general(), second = HIGHMEM_POOL): string {
  return `pools:\n${first}${second}`;
}

function changes(output: PlanJson): unknown[] {
  return output.proposals.map((entry) => [entry.pool, entry.from, entry.to]);
}

function noteOf(output: PlanJson, pool: string) {
  return output.notes.find((entry) => entry.subject === `pool/${pool}`);
}

describe("plan acceptance (pools): a pending pod that new nodes of both pools hold", () => {
  it("goes to the pool first in the file, counted once: the other neither adds a node nor lists it", async () => {
    const output = await plan([...cluster(), tdarr("both1")], {
      tfvars: TFVARS,
      config: pools(),
    });
    expect(changes(output)).toEqual([["general", 3, 4]]);
    expect(output.proposals[0]?.reasons.join("\n")).toContain(
      "pending: media/tdarr-node-6d8c7f5b49-both1 (cpu 1500m, memory 2 GiB) → new-1",
    );
    expect(poolNote(output, "highmem")).not.toContain("tdarr-node");
  });

  it("goes to the highmem pool when it comes first in the file", async () => {
    const output = await plan([...cluster(), tdarr("both1")], {
      tfvars: TFVARS,
      config: pools(HIGHMEM_POOL, general()),
    });
    expect(changes(output)).toEqual([["highmem", 1, 2]]);
    expect(poolNote(output, "general")).not.toContain("tdarr-node");
  });

  it("goes to the next pool when the first does not add nodes for pending pods", async () => {
    const output = await plan([...cluster(), tdarr("both1")], {
      tfvars: TFVARS,
      config: pools(general("    scaleUp:\n      pendingPods: false\n")),
    });
    expect(changes(output)).toEqual([["highmem", 1, 2]]);
    expect(poolNote(output, "general")).toContain(
      "pending pods: not considered (scaleUp.pendingPods is false)",
    );
  });
});

describe("plan acceptance (pools): both counts of one tfvars file change", () => {
  // 30 GiB fits no general worker, new or not; the small pod fits a new worker, the first pool.
  const objects = () => [...cluster(), tdarr("mem30", { memory: "30Gi" }), tdarr("small")];

  it("proposes each change against the file as it is, the other pool's line left alone", async () => {
    const served = await serveForTest(objects());
    const files = { tfvars: TFVARS, config: pools() };
    const output = JSON.parse((await served.run(["--json"], files)).stdout) as PlanJson;
    expect(output.proposals.map((entry) => entry.changes)).toEqual([
      [{ file: "terraform/terraform.tfvars", path: "worker_count", before: 3, after: 4 }],
      [{ file: "terraform/terraform.tfvars", path: "highmem_count", before: 1, after: 2 }],
    ]);
    const text = (await served.run([], files)).stdout;
    expect(text).toContain(
      "@@ -1,3 +1,3 @@\n # Proxmox VMs, one count per pool.\n-worker_count  = 3\n+worker_count  = 4\n highmem_count = 1\n",
    );
    expect(text).toContain(
      "@@ -1,3 +1,3 @@\n # Proxmox VMs, one count per pool.\n worker_count  = 3\n-highmem_count = 1\n+highmem_count = 2\n",
    );
  });
});

describe("plan acceptance (pools): a pool that takes no action leaves its pods to the next", () => {
  it("gives the pod to highmem while general's count cannot be read, and says where it goes", async () => {
    const output = await plan([...cluster(), tdarr("both1")], {
      tfvars: TFVARS,
      config: pools(general("", "general_count")),
    });
    expect(changes(output)).toEqual([["highmem", 1, 2]]);
    const note = noteOf(output, "general");
    expect(note?.level).toBe("warning");
    expect(note?.holds).toContainEqual(expect.objectContaining({ kind: "target-unknown" }));
    expect(note?.triggers).toEqual([]);
    expect(note?.decision?.pending).toMatchObject({
      onNew: [],
      newNodes: 0,
      elsewhere: [{ pod: "media/tdarr-node-6d8c7f5b49-both1", pool: "highmem", held: true }],
    });
    expect(note?.message).toContain(
      "pending: media/tdarr-node-6d8c7f5b49-both1 (cpu 1500m, memory 2 GiB) → pool highmem (this pool takes no action)",
    );
  });

  it("gives the pod to highmem while 2 of general's 3 workers are not Ready", async () => {
    const output = await plan([...cluster(["talos-worker-1", "talos-worker-2"]), tdarr("both1")], {
      tfvars: TFVARS,
      config: pools(),
    });
    expect(changes(output)).toEqual([["highmem", 1, 2]]);
    const note = noteOf(output, "general");
    expect(note?.holds).toContainEqual(expect.objectContaining({ kind: "too-many-unready" }));
    expect(note?.message).toContain("→ pool highmem (this pool takes no action)");
  });

  it("leaves general the pods only its nodes take: highmem lists them with general, not as never fitting", async () => {
    const output = await plan(
      [
        ...cluster(),
        tdarr("both1"),
        tdarr("gen01", { nodeSelector: { "node.kubernetes.io/pool": "general" } }),
      ],
      { tfvars: TFVARS, config: pools(general("", "general_count")) },
    );
    expect(changes(output)).toEqual([["highmem", 1, 2]]);
    const reasons = output.proposals[0]?.reasons.join("\n") ?? "";
    expect(reasons).toContain(
      "pending: media/tdarr-node-6d8c7f5b49-gen01 (cpu 1500m, memory 2 GiB) → pool general\n",
    );
    expect(reasons).not.toContain("never fits");
    expect(output.notes.find((entry) => entry.subject === "pods")).toBeUndefined();
    expect(poolNote(output, "general")).toContain(
      "pending: media/tdarr-node-6d8c7f5b49-gen01 (cpu 1500m, memory 2 GiB) → new-1",
    );
  });

  it("hands nothing to a pool held too: with both pools' selectors matching the highmem VM, each names its own new node", async () => {
    // general without a selector takes every node that is not control plane: talos-highmem-1 too.
    const unselected = general().replace(
      "    selector:\n      matchLabels:\n        node.kubernetes.io/pool: general\n",
      "",
    );
    const output = await plan([...cluster(), tdarr("both1")], {
      tfvars: TFVARS,
      config: pools(unselected),
    });
    expect(output.proposals).toEqual([]);
    for (const pool of ["general", "highmem"]) {
      const note = noteOf(output, pool);
      expect(note?.holds).toContainEqual(expect.objectContaining({ kind: "pools-overlap" }));
      expect(note?.message).toContain(
        "pending: media/tdarr-node-6d8c7f5b49-both1 (cpu 1500m, memory 2 GiB) → new-1",
      );
      expect(note?.message).not.toContain("→ pool");
    }
  });

  it("still lists the pod on general's new node when no other pool takes it", async () => {
    // Only a node labelled general takes it: held, general says where the pod would go.
    const output = await plan(
      [
        ...cluster(["talos-worker-1", "talos-worker-2"]),
        tdarr("gen01", { nodeSelector: { "node.kubernetes.io/pool": "general" } }),
      ],
      { tfvars: TFVARS, config: pools() },
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output, "general")).toContain(
      "pending: media/tdarr-node-6d8c7f5b49-gen01 (cpu 1500m, memory 2 GiB) → new-1",
    );
  });
});

describe("plan acceptance (pools): a pending pod counted on the other pool's free room", () => {
  it("keeps the highmem VM whose room the pod is counted on, and says the pod is why", async () => {
    // talos-highmem-2 is empty; general's workers and talos-highmem-1 have 700m free each, so
    // the 1500m pod is counted on talos-highmem-2, which highmem, idle, would otherwise remove.
    const highmem2 = [
      worker("talos-highmem-2", {
        labels: { "node.kubernetes.io/pool": "highmem" },
        allocatable: HIGHMEM,
      }),
      ciliumAgent("talos-highmem-2", 8),
      freshNodeMetrics("talos-highmem-2", "300m", "2Gi"),
    ];
    const output = await plan([...cluster(), ...highmem2, tdarr("room1", { memory: "1Gi" })], {
      tfvars: TFVARS.replace("highmem_count = 1", "highmem_count = 2"),
      config: pools(
        general(),
        HIGHMEM_POOL.replace(
          "    max: 3\n",
          "    max: 3\n    scaleDown:\n      unneededTime: 0s\n",
        ),
      ),
    });
    expect(output.proposals).toEqual([]);
    expect(poolNote(output, "general")).toContain(
      "pending: media/tdarr-node-6d8c7f5b49-room1 (cpu 1500m, memory 1 GiB) fits on talos-highmem-2",
    );
    const note = noteOf(output, "highmem");
    expect(note?.message).toContain(
      "scale-down: 0 pods of talos-highmem-2, with the 1 pending pod the pool's free room holds, fit on the other nodes: not met (no room for media/tdarr-node-6d8c7f5b49-room1: it needs more cpu than any other node of the pool, or any node of pool general offered to it, has free)",
    );
    const scaleDown = note?.decision?.scaleDown as { conditions: Raw[] } | undefined;
    expect(scaleDown?.conditions).toContainEqual(
      expect.objectContaining({ kind: "pods-fit", pods: 0, pending: 1, met: false }),
    );
  });
});

describe("plan acceptance (pools): a pool in its cooldown keeps its pods", () => {
  it("leaves general's pod to general through its cooldown, while highmem adds a node for its own", async () => {
    const repo = emptyRepo("pr-autoscaler-served-pools-");
    const files = (tfvars: string) => ({ tfvars, config: pools() });
    commitFiles(repo, files(TFVARS.replace("= 3", "= 2")), "2026-11-01T10:00:00Z", "two pools");
    commitFiles(repo, files(TFVARS), "2026-11-20T07:58:00Z", "worker_count 3");
    // One pod only highmem holds (30 GiB), one a new node of either holds: general's comes first.
    const served = await serveForTest([
      ...cluster(),
      tdarr("mem30", { memory: "30Gi" }),
      tdarr("both1"),
    ]);
    const output = await served.planRepo(repo, "2026-11-20T08:00:00Z");
    expect(changes(output)).toEqual([["highmem", 1, 2]]);
    expect(noteOf(output, "general")?.holds).toContainEqual(
      expect.objectContaining({ kind: "cooldown", until: "2026-11-20T08:03:00.000Z" }),
    );
    // The cooldown is over in minutes: general keeps the pod its new node takes.
    expect(poolNote(output, "general")).toContain(
      "pending: media/tdarr-node-6d8c7f5b49-both1 (cpu 1500m, memory 2 GiB) → new-1",
    );
    expect(output.proposals[0]?.reasons.join("\n")).not.toContain("both1");
  });
});
