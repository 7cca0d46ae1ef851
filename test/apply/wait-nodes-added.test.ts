/**
 * `wait-nodes --added K`: the VMs an apply created must be among the Ready nodes, whatever Node
 * objects earlier VMs left behind. The nodes are served as `kubectl get node -o yaml` shows them
 * on Talos in Proxmox VMs, changing between the wait's looks.
 */
import { describe, expect, it } from "@jest/globals";
import { expectReport, waitJson as json, useWaitCluster } from "./wait-nodes-support.ts";

type Raw = Record<string, unknown>;

const start = Date.parse("2025-06-14T18:00:00Z");
/** terraform apply began 6 minutes before the wait. */
const applyStarted = "2025-06-14T17:54:00Z";
const day = 24 * 60;

const cluster = useWaitCluster("wait-added", start);
const { wait, onList, expectUsageErrors } = cluster;

const ago = (minutes: number) =>
  new Date(start - minutes * 60_000).toISOString().replace(".000", "");

interface TalosNode {
  /** True; False (booting: no CNI yet); Unknown (the kubelet stopped posting status). */
  ready?: "True" | "False" | "Unknown";
  ageMinutes?: number;
  /** When the Ready condition last changed (default: at creation). */
  readyChangedMinutes?: number;
  unschedulable?: boolean;
  uid?: string;
}

const readyConditions = {
  True: { reason: "KubeletReady", message: "kubelet is posting ready status" },
  False: {
    reason: "KubeletNotReady",
    message:
      "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized",
  },
  Unknown: { reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status." },
};

/** The taints the node lifecycle controller and `kubectl cordon` set for each state. */
function taints(o: TalosNode): Raw[] {
  const list: Raw[] = [];
  if (o.ready === "Unknown") {
    const timeAdded = ago(o.readyChangedMinutes ?? 0);
    list.push(
      { key: "node.kubernetes.io/unreachable", effect: "NoSchedule", timeAdded },
      { key: "node.kubernetes.io/unreachable", effect: "NoExecute", timeAdded },
    );
  }
  if (o.ready === "False") {
    list.push(
      { key: "node.kubernetes.io/not-ready", effect: "NoSchedule" },
      { key: "node.kubernetes.io/not-ready", effect: "NoExecute", timeAdded: ago(0) },
    );
  }
  if (o.unschedulable) {
    list.push({ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule", timeAdded: ago(0) });
  }
  return list;
}

/** A Talos v1.9 worker node in a Proxmox VM. */
function talos(name: string, o: TalosNode = {}): Raw {
  const status = o.ready ?? "True";
  const age = o.ageMinutes ?? 30 * day;
  const changed = ago(o.readyChangedMinutes ?? age);
  const heartbeat = status === "Unknown" ? changed : ago(0);
  const spec: Raw = { podCIDR: "10.244.3.0/24", podCIDRs: ["10.244.3.0/24"] };
  const list = taints(o);
  if (list.length > 0) spec.taints = list;
  if (o.unschedulable) spec.unschedulable = true;
  const metadata: Raw = {
    name,
    labels: {
      "beta.kubernetes.io/arch": "amd64",
      "beta.kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64",
      "kubernetes.io/hostname": name,
      "kubernetes.io/os": "linux",
    },
    annotations: { "talos.dev/owned-labels": "[]" },
    creationTimestamp: ago(age),
  };
  if (o.uid) metadata.uid = o.uid;
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata,
    spec,
    status: {
      conditions: [
        {
          type: "Ready",
          status,
          ...readyConditions[status],
          lastHeartbeatTime: heartbeat,
          lastTransitionTime: changed,
        },
      ],
      nodeInfo: { kubeletVersion: "v1.32.0", osImage: "Talos (v1.9.1)" },
    },
  };
}

/** The same Node object (same UID, same creation time) as the kubelet updates it. */
function update(name: string, o: TalosNode): void {
  const metadata = cluster.fake.get("nodes", name)?.metadata as Raw | undefined;
  if (typeof metadata?.uid !== "string") throw new Error(`no node ${name} to update`);
  cluster.fake.put("nodes", talos(name, { ...o, uid: metadata.uid }));
}

/**
 * The Node object `name`, its UID and creation time kept, turns `first` (NotReady) at the wait's
 * second look and Ready at its third, each change made then; `o` says what else it is.
 */
function turnsReady(name: string, first: "False" | "Unknown", o: TalosNode = {}): void {
  onList((n) => {
    const changedNow = { readyChangedMinutes: 0, ...o };
    if (n === 2) update(name, { ...changedNow, ready: first });
    if (n === 3) update(name, changedNow);
  });
}

/** A wait for a pool of `count` nodes after the apply, without --added. */
const poolOf = (count: number) => [
  "--pool",
  "workers",
  "--count",
  String(count),
  "--since",
  applyStarted,
];

/** The workflow's call after a scale-up of `added` VMs to `count`. */
const scaleUp = (count: number, added: number, timeout = "5m") => [
  "--pool",
  "workers",
  "--count",
  String(count),
  "--added",
  String(added),
  "--since",
  applyStarted,
  "--timeout",
  timeout,
];

const threeWorkers = () => [
  talos("talos-worker-1"),
  talos("talos-worker-2"),
  talos("talos-worker-3"),
];

/** talos-worker-4's VM was destroyed by hand 3 days ago; its Node object stayed, unreachable. */
const staleWorker4 = (o: TalosNode = {}) =>
  talos("talos-worker-4", {
    ready: "Unknown",
    ageMinutes: 40 * day,
    readyChangedMinutes: 3 * day,
    ...o,
  });

describe("wait-nodes --added", () => {
  it("fails when the new VM never registers, though an old Node object has its name", async () => {
    cluster.fake.add(...threeWorkers(), staleWorker4());
    const run = await wait([...scaleUp(4, 1), "--json"]);
    expect(run.code).toBe(1);
    expect(json(run)).toMatchObject({
      outcome: "timed-out",
      added: 1,
      ready: 3,
      notReadyBefore: ["talos-worker-4"],
      newlyReady: [],
      missing: 0,
      missingNew: 1,
      message:
        "0 of 1 new nodes Ready: the apply created 1 VM in this pool and no pool node became Ready since 2025-06-14 17:54 UTC",
    });
    expect(run.sleeps.reduce((a, b) => a + b, 0)).toBe(300_000);
    // The count alone cannot tell: without --added the dead node stands in for the new VM.
    const countOnly = await wait(poolOf(4));
    expect(countOnly.code).toBe(0);
  });

  it("succeeds when the new VM registers into that old Node object and becomes Ready", async () => {
    cluster.fake.add(...threeWorkers(), staleWorker4());
    // The new VM's kubelet takes over the object: same UID, the old creation time.
    turnsReady("talos-worker-4", "False", { ageMinutes: 40 * day });
    const run = await wait([...scaleUp(4, 1), "--interval", "10s"]);
    expect(run.code).toBe(0);
    expect(run.sleeps).toEqual([10_000, 10_000]);
    expect(run.stdout).toContain(
      "Pool workers has 4 Ready nodes (wanted 4), 1 of 1 new nodes Ready (talos-worker-4), after 20s.",
    );
    expect(run.stdout).toContain("talos-worker-4: Ready, age 40d; new since the apply began");
    expect(run.stdout).toContain(
      "pool workers: 4/4 nodes, 3 Ready, 0/1 new; not Ready before the apply (not waited for): talos-worker-4\n",
    );
    expect(run.stdout).toContain("pool workers: 3/4 Ready, 0/1 new; NotReady: talos-worker-4\n");
  });

  it("does not count a new VM that registers into a leftover cordoned Node object as new", async () => {
    // talos-worker-4 was drained and its VM destroyed; its Node object was not deleted (the
    // apply job stopped before that step). The scale-up's new VM registers into it.
    cluster.fake.add(...threeWorkers(), staleWorker4({ unschedulable: true }));
    turnsReady("talos-worker-4", "False", { ageMinutes: 40 * day, unschedulable: true });
    const run = await wait([...scaleUp(4, 1, "1m"), "--json"]);
    expect(run.code).toBe(1);
    expect(json(run)).toMatchObject({
      outcome: "timed-out",
      ready: 4,
      missing: 0,
      newlyReady: [],
      newCordoned: ["talos-worker-4"],
      missingNew: 1,
      message:
        "0 of 1 new nodes Ready and not cordoned: the apply created 1 VM in this pool; talos-worker-4 became Ready since the apply began but is cordoned, so it takes no pods and is not counted as new: a new VM that registers into the Node object an earlier VM of the same name left behind keeps that object's cordon; if nobody cordoned it for a reason, kubectl uncordon talos-worker-4",
    });
    expect(json(run).members?.find((m) => m.name === "talos-worker-4")).toMatchObject({
      state: "cordoned",
      newlyReady: true,
    });
    // The wait never uncordons it.
    expect(cluster.fake.requests.filter((r) => r.method !== "GET")).toEqual([]);
  });

  it("says so for people, and succeeds once the new node is uncordoned", async () => {
    cluster.fake.add(...threeWorkers(), staleWorker4({ unschedulable: true }));
    turnsReady("talos-worker-4", "False", { ageMinutes: 40 * day, unschedulable: true });
    const text = await wait(scaleUp(4, 1, "1m"));
    expectReport(
      text,
      1,
      "  talos-worker-4: Ready, cordoned, age 40d; new since the apply began, but cordoned: it takes no pods until uncordoned\n",
      "  new: 0 of 1 Ready since 2025-06-14 17:54 UTC; cordoned, not counted: talos-worker-4\n",
    );
    // Uncordoned at the wait's fourth look (kubectl uncordon).
    onList((n) => {
      if (n === 4) {
        update("talos-worker-4", { ageMinutes: 40 * day, readyChangedMinutes: 1 });
      }
    });
    const run = await wait([...scaleUp(4, 1, "1m"), "--json"]);
    expect(run.code).toBe(0);
    expect(json(run)).toMatchObject({
      newlyReady: ["talos-worker-4"],
      newCordoned: [],
      missingNew: 0,
    });
  });

  it("counts a VM that joins under another name, and reports the old dead node", async () => {
    cluster.fake.add(
      ...threeWorkers(),
      talos("talos-worker-7", {
        ready: "Unknown",
        ageMinutes: 40 * day,
        readyChangedMinutes: 10 * day,
      }),
    );
    onList((n) => {
      if (n === 2) cluster.fake.add(talos("talos-8kx-2p1", { ready: "False", ageMinutes: 0 }));
      if (n === 4) update("talos-8kx-2p1", { ageMinutes: 0, readyChangedMinutes: 0 });
    });
    const run = await wait([...scaleUp(4, 1), "--json"]);
    expect(run.code).toBe(0);
    expect(run.sleeps).toEqual([10_000, 10_000, 10_000]);
    expect(json(run)).toMatchObject({
      outcome: "ready",
      ready: 4,
      newlyReady: ["talos-8kx-2p1"],
      notReadyBefore: ["talos-worker-7"],
      missingNew: 0,
    });
    expect(json(run).members?.find((m) => m.name === "talos-8kx-2p1")).toMatchObject({
      state: "ready",
      newlyReady: true,
      ageSeconds: 30,
    });
  });

  it("says how many of the new VMs are Ready and which", async () => {
    cluster.fake.add(...threeWorkers());
    onList((n) => {
      if (n === 1) {
        cluster.fake.add(talos("talos-worker-4", { ageMinutes: 2, readyChangedMinutes: 1 }));
        cluster.fake.add(talos("talos-worker-5", { ready: "False", ageMinutes: 2 }));
      }
    });
    const run = await wait(scaleUp(5, 2, "1m"));
    expectReport(
      run,
      1,
      "Timed out after 1m waiting for pool workers: the pool has 4 of 5 nodes Ready (1 missing); 1 of 2 new nodes Ready (talos-worker-4): the apply created 2 VMs in this pool; waiting for talos-worker-5 to be Ready.",
      "  new: 1 of 2 Ready since 2025-06-14 17:54 UTC (talos-worker-4)",
    );
  });

  it("does not take an old node whose Ready condition changed during the wait for a new one", async () => {
    cluster.fake.add(...threeWorkers(), staleWorker4());
    turnsReady("talos-worker-2", "Unknown");
    const run = await wait([...scaleUp(4, 1, "1m"), "--json"]);
    expect(run.code).toBe(1);
    expect(json(run)).toMatchObject({ ready: 3, newlyReady: [], missingNew: 1 });
  });

  it("exits 2 without --since, above --count, or with a count that is not a number", async () => {
    const cases: [string[], string][] = [
      [["--pool", "workers", "--count", "4", "--added", "1"], "--added needs --since TIME"],
      [
        ["--pool", "workers", "--count", "1", "--added", "2", "--since", applyStarted],
        "--added 2 is more than --count 1",
      ],
      [
        ["--pool", "workers", "--count", "4", "--added", "one", "--since", applyStarted],
        '--added expects a whole number, got "one"',
      ],
    ];
    await expectUsageErrors(cases);
    expect(cluster.fake.requests).toEqual([]);
  });
});

describe("wait-nodes and nodes that are NotReady and cordoned", () => {
  /**
   * talos-worker-2 was cordoned (`kubectl cordon`) and its VM shut down for maintenance two
   * days ago: the kubelet stopped posting status and the node lifecycle controller marked it
   * unreachable. Its VM is still one of the pool's, in Terraform's state.
   */
  const inMaintenance = () =>
    talos("talos-worker-2", {
      ready: "Unknown",
      readyChangedMinutes: 2 * day,
      unschedulable: true,
    });

  it("counts a node shut down for maintenance before the apply, and says it is cordoned", async () => {
    cluster.fake.add(talos("talos-worker-1"), inMaintenance(), talos("talos-worker-3"));
    cluster.fake.add(talos("talos-worker-4", { ready: "False", ageMinutes: 3 }));
    turnsReady("talos-worker-4", "False", { ageMinutes: 3 });
    const run = await wait(scaleUp(4, 1));
    expectReport(
      run,
      0,
      "Pool workers has 3 Ready nodes and 1 not Ready before the apply (wanted 4), 1 of 1 new nodes Ready (talos-worker-4)",
      "talos-worker-2: NotReady, cordoned, age 30d (Ready=Unknown: NodeStatusUnknown: Kubelet stopped posting node status.); not Ready before the apply: not waited for",
    );
    const counted = await wait([...poolOf(4), "--json"]);
    expect(json(counted)).toMatchObject({ notReadyBefore: ["talos-worker-2"], missing: 0 });
    expect(json(counted).members?.[1]).toMatchObject({
      name: "talos-worker-2",
      state: "not-ready",
      cordoned: true,
      notReadyBefore: true,
    });
  });

  /** Drained and its VM destroyed during the apply: its Node object is still there. */
  const destroyedWorker4 = () =>
    talos("talos-worker-4", {
      ready: "Unknown",
      readyChangedMinutes: 2,
      unschedulable: true,
    });

  it("after a scale-down run by hand without --gone, waits for the node and says why", async () => {
    cluster.fake.add(...threeWorkers(), destroyedWorker4());
    const run = await wait([...poolOf(3), "--timeout", "1m", "--json"]);
    expect(run.code).toBe(1);
    expect(json(run)).toMatchObject({
      outcome: "timed-out",
      ready: 3,
      waitingFor: ["talos-worker-4"],
      missing: 0,
      message:
        "waiting for talos-worker-4 to be Ready; talos-worker-4 is NotReady and cordoned, as a drained VM that was destroyed leaves its node, but also a VM shut down for maintenance: if the apply destroyed its VM, pass --gone talos-worker-4",
    });
    const text = await wait([...poolOf(3), "--timeout", "1m"]);
    expectReport(
      text,
      1,
      "talos-worker-4: NotReady, cordoned, age 30d (Ready=Unknown: NodeStatusUnknown: Kubelet stopped posting node status.); waited for",
      "  talos-worker-4 is NotReady and cordoned, as a drained VM that was destroyed leaves its node, but also a VM shut down for maintenance: if the apply destroyed its VM, pass --gone talos-worker-4\n",
    );
  });

  it("after a scale-down with --gone, deletes the destroyed node and succeeds", async () => {
    cluster.fake.add(...threeWorkers(), destroyedWorker4());
    const gone = ["--gone", "talos-worker-4", "--delete-gone"];
    const run = await wait([...poolOf(3), ...gone]);
    expectReport(
      run,
      0,
      "Pool workers has 3 Ready nodes (wanted 3) and the removed nodes are gone",
      "talos-worker-4: Node object deleted",
    );
    expect(cluster.fake.get("nodes", "talos-worker-4")).toBeUndefined();
  });
});
