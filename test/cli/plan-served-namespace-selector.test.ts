/**
 * Required pod anti-affinity whose `namespaceSelector` picks namespaces by a label of their own
 * (`team: a`), as kube-scheduler's InterPodAffinity resolves it: a term with a namespaceSelector
 * looks in the namespaces whose labels it matches (and those it lists), not in its own unless
 * that matches too. Each plan worked out by hand on the Talos workers of served-cluster.ts
 * (3800m cpu, Cilium's 100m on each); the replicas are 100m, so room decides nothing.
 */
import { describe, expect, it } from "@jest/globals";
import { type PlanJson, pod, type Raw, unschedulable } from "./served-cluster.ts";
import {
  cluster,
  FOUR,
  fillers,
  OVER_MAX,
  plan,
  planFull,
  poolNote,
  serveForTest,
  WORKERS,
} from "./served-plan.ts";

const BLOCKY = { "app.kubernetes.io/name": "blocky" };

/** Apart, on the hostname, from Blocky replicas in the namespaces labelled team: a. */
const apartFromTeamA = {
  podAntiAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: [
      {
        labelSelector: { matchLabels: BLOCKY },
        namespaceSelector: { matchLabels: { team: "a" } },
        topologyKey: "kubernetes.io/hostname",
      },
    ],
  },
};

/** A namespace with the label the API server gives each, and `labels`. */
function namespace(name: string, labels: Record<string, string> = {}): Raw {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, labels: { "kubernetes.io/metadata.name": name, ...labels } },
  };
}

const NAMESPACES = [
  namespace("dns"),
  namespace("blocky-a", { team: "a" }),
  namespace("blocky-b", { team: "b" }),
];

/** A Blocky replica (100m) in `ns` on `node`, without rules of its own. */
function replica(ns: string, suffix: string, node: string): Raw {
  return pod(ns, `blocky-6d7e8f9a0-${suffix}`, {
    node,
    cpu: "100m",
    memory: "128Mi",
    labels: BLOCKY,
  });
}

/** The Blocky replica of namespace dns that must stay apart from team a's, on `node` or Pending. */
function guarded(suffix: string, node?: string): Raw {
  return pod("dns", `blocky-5c8d7f6b9-${suffix}`, {
    node,
    cpu: "100m",
    memory: "128Mi",
    labels: BLOCKY,
    affinity: apartFromTeamA,
    ...(node ? {} : { scheduled: unschedulable("node(s) didn't match pod anti-affinity rules") }),
  });
}

/** Team a's replicas on talos-worker-1 and -2, team b's on talos-worker-3. */
const TEAM_A_ON_TWO = [
  replica("blocky-a", "a01", "talos-worker-1"),
  replica("blocky-a", "a02", "talos-worker-2"),
  replica("blocky-b", "b03", "talos-worker-3"),
];

/**
 * A DaemonSet just installed in namespace dns (its controller has made no pod yet) whose pods
 * must stay apart from team a's Blocky replicas: a new node runs one from the start.
 */
function guardDaemonSet(): Raw {
  const labels = { "app.kubernetes.io/name": "blocky-guard" };
  const template = pod("dns", "blocky-guard", {
    owner: null,
    cpu: "10m",
    memory: "16Mi",
    tolerations: [{ operator: "Exists" }],
    affinity: apartFromTeamA,
  });
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "blocky-guard", namespace: "dns", generation: 1, labels },
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: template.spec },
    },
    status: { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberReady: 0 },
  };
}

/** A pending Blocky replica of 1 cpu in `ns`, which full workers cannot take. */
function pendingReplica(ns: string, suffix: string): Raw {
  return pod(ns, `blocky-6d7e8f9a0-${suffix}`, {
    cpu: "1",
    memory: "128Mi",
    labels: BLOCKY,
    scheduled: unschedulable("Insufficient cpu"),
  });
}

function counts(output: PlanJson): [number | undefined, number | undefined][] {
  return output.proposals.map((entry) => [entry.from, entry.to]);
}

describe("plan acceptance, constraints: a namespaceSelector on a namespace label", () => {
  it("puts the pending replica beside team b's replica, away from team a's, and adds no node", async () => {
    const output = await plan([...cluster(), ...NAMESPACES, ...TEAM_A_ON_TWO, guarded("pen01")]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(/blocky-5c8d7f6b9-pen01 [^\n]* fits on talos-worker-3/);
  });

  it("adds a node when team a runs a replica on every worker", async () => {
    const output = await plan([
      ...cluster(),
      ...NAMESPACES,
      ...WORKERS.map((node, at) => replica("blocky-a", `a0${at}`, node)),
      guarded("pen01"),
    ]);
    expect(counts(output)).toEqual([[3, 4]]);
  });

  it("removes talos-worker-4 when its replica may go beside team b's, keeps it when only team a's are left", async () => {
    const withTeamB = await plan(
      [...cluster(FOUR), ...NAMESPACES, ...TEAM_A_ON_TWO, guarded("run04", "talos-worker-4")],
      OVER_MAX,
    );
    expect(counts(withTeamB)).toEqual([[4, 3]]);
    const teamAOnly = await plan(
      [
        ...cluster(FOUR),
        ...NAMESPACES,
        ...WORKERS.map((node, at) => replica("blocky-a", `a0${at}`, node)),
        guarded("run04", "talos-worker-4"),
      ],
      OVER_MAX,
    );
    expect(teamAOnly.proposals).toEqual([]);
    expect(poolNote(teamAOnly)).toContain(
      "dns/blocky-5c8d7f6b9-run04: required pod anti-affinity keeps it off the nodes with room",
    );
  });

  it("keeps team a's replica off a new node whose DaemonSet pod's namespaceSelector avoids it, not team b's", async () => {
    const output = await planFull([
      ...NAMESPACES,
      guardDaemonSet(),
      pendingReplica("blocky-a", "pa1"),
      pendingReplica("blocky-b", "pb1"),
    ]);
    expect(counts(output)).toEqual([[3, 4]]);
    const text = output.proposals[0]?.reasons.join("\n") ?? "";
    expect(text).toMatch(/blocky-b\/blocky-6d7e8f9a0-pb1 [^\n]*→ new-1/);
    expect(text).toMatch(
      /never fits: blocky-a\/blocky-6d7e8f9a0-pa1 [^\n]*DaemonSet or static pods a new node of this pool runs from the start/,
    );
    // Without the namespaces, whether the DaemonSet's term reaches either replica is unknown.
    const served = await serveForTest([
      ...cluster(),
      ...fillers(),
      ...NAMESPACES,
      guardDaemonSet(),
      pendingReplica("blocky-b", "pb1"),
    ]);
    served.fake.injectFault({
      path: "/api/v1/namespaces",
      status: 403,
      times: Number.POSITIVE_INFINITY,
    });
    const run = await served.run(["--json"]);
    expect(run.code).toBe(0);
    const unread = JSON.parse(run.stdout) as PlanJson;
    expect(unread.proposals).toEqual([]);
    expect(poolNote(unread)).toMatch(/fit unknown: blocky-b\/blocky-6d7e8f9a0-pb1 /);
  });

  it("holds the pending replica as of unknown fit when namespaces may not be listed (403)", async () => {
    const served = await serveForTest([
      ...cluster(),
      ...NAMESPACES,
      ...TEAM_A_ON_TWO,
      guarded("pen01"),
    ]);
    served.fake.injectFault({
      path: "/api/v1/namespaces",
      status: 403,
      message: 'namespaces is forbidden: User "pr-autoscaler" cannot list resource "namespaces"',
      times: Number.POSITIVE_INFINITY,
    });
    const run = await served.run([]);
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).toContain(
      'the account needs "list" on namespaces; check with kubectl auth can-i list namespaces',
    );
    expect(run.stdout).toContain(
      "fit unknown: dns/blocky-5c8d7f6b9-pen01 (cpu 100m, memory 128 MiB): a required pod (anti-)affinity term that concerns it picks namespaces by their labels",
    );
    expect(run.stdout).not.toMatch(/→ new-1/);
  });

  it("keeps talos-worker-4 when its replica's namespaces may not be listed (403): where it fits is unknown", async () => {
    const served = await serveForTest([
      ...cluster(FOUR),
      ...NAMESPACES,
      ...WORKERS.map((node, at) => replica("blocky-b", `b0${at}`, node)),
      guarded("run04", "talos-worker-4"),
    ]);
    served.fake.injectFault({
      path: "/api/v1/namespaces",
      status: 403,
      times: Number.POSITIVE_INFINITY,
    });
    const run = await served.run(["--json"], OVER_MAX);
    expect(run.code).toBe(0);
    const output = JSON.parse(run.stdout) as PlanJson;
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "not removed: not every pod of talos-worker-4 fits on the other nodes (dns/blocky-5c8d7f6b9-run04: a required pod (anti-)affinity term that concerns it picks namespaces by their labels, which were not read, so where it fits is unknown)",
    );
  });
});
