/**
 * Scale-down and its safety stops as an operator would check them against `plan --kubeconfig`,
 * each expectation written from cluster-autoscaler's scale-down rules, what `kubectl drain` (the
 * eviction API) allows and docs/configuration.md ("Scale down", "What holds a change back")
 * before the plan was read: the node Terraform `count` destroys is the one judged, however idle
 * another is; annotations count only with the value that means something; a blocker that a list
 * not read would show is unknown, not none; requests at the threshold keep the node; a cooldown
 * read from the infra repo's history holds the next decrease until it ends.
 */
import { describe, expect, it } from "@jest/globals";
import { formatDuration } from "../../src/planning/format.ts";
import { utcTime } from "../../src/util/utc-time.ts";
import { type PlanJson, pdb, pod, type Raw } from "./served-cluster.ts";
import {
  apps,
  changedAt,
  cluster,
  FOUR,
  judgedNow,
  manyPods,
  onWorker4,
  plan,
  planWhileFailing,
  poolNote,
  serveForTest,
  tfvars,
} from "./served-plan.ts";

/** Four workers counted by the repo, judged on metrics-server's sample (unneededTime 0). */
const NOW_FOUR = judgedNow(4);

/** The echo-server pod of each of the first three workers: talos-worker-4 holds only `extra`. */
function withOnWorker4(...extra: Raw[]): Raw[] {
  return [...cluster(FOUR), ...apps(FOUR.slice(0, 3)), ...extra];
}

/** Plans FOUR workers, talos-worker-4 holding only `extra`, in the NOW_FOUR repo. */
function planOnWorker4(...extra: Raw[]): Promise<PlanJson> {
  return plan(withOnWorker4(...extra), NOW_FOUR);
}

/** The pool's decision in the note `plan --json` gives a pool with no proposal. */
function noteDecision(output: PlanJson): Raw {
  const note = output.notes.find((entry) => entry.subject === "pool/workers");
  return (note?.decision ?? {}) as Raw;
}

/** The scale-down condition of `kind` in the pool's note. */
function condition(output: PlanJson, kind: string): Raw | undefined {
  const scaleDown = noteDecision(output).scaleDown as { conditions: Raw[] } | undefined;
  return scaleDown?.conditions.find((entry) => entry.kind === kind);
}

describe("plan acceptance, scale-down: the node Terraform count destroys is the one judged", () => {
  it("keeps the pool at 4 when talos-worker-4's broker has a budget allowing 0, though talos-worker-2 is empty", async () => {
    // talos-worker-2 runs only Cilium, but lowering worker_count to 3 destroys talos-worker-4,
    // whose mosquitto-0 the eviction API would refuse to evict: no decrease is proposed.
    const objects = [
      ...cluster(FOUR),
      ...apps(["talos-worker-1", "talos-worker-3"]),
      pod("home", "mosquitto-0", {
        ...onWorker4,
        owner: { kind: "StatefulSet", name: "mosquitto" },
        labels: { "app.kubernetes.io/name": "mosquitto" },
      }),
      pdb("home", "mosquitto", { "app.kubernetes.io/name": "mosquitto" }, 0),
    ];
    const output = await plan(objects, NOW_FOUR);
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toContain("trigger: usage and requests stayed below the scale-down thresholds");
    expect(note).toContain("scale-down: a decrease would remove talos-worker-4");
    expect(note).toContain("not removed: talos-worker-4 has 1 blocker");
    expect(note).toContain(
      "blockers on talos-worker-4: home/mosquitto-0: PDB home/mosquitto allows 0 disruptions, 1 of its pods is here",
    );
    expect(note).not.toContain("removing talos-worker-2");
    expect(condition(output, "no-blockers")).toEqual({
      kind: "no-blockers",
      met: false,
      node: "talos-worker-4",
      blockers: [
        {
          kind: "pdb",
          pod: "home/mosquitto-0",
          pdb: { name: "home/mosquitto", disruptionsAllowed: 0, podsOnNode: 1 },
        },
      ],
    });
  });
});

describe("plan acceptance, scale-down: annotations as cluster-autoscaler and Karpenter read them", () => {
  it('still keeps the node for a budget allowing 0 when the pod says safe-to-evict: "true"', async () => {
    // safe-to-evict lifts local storage, no controller and custom controllers; the eviction
    // API still applies the budget.
    const output = await planOnWorker4(
      pod("home", "mosquitto-0", {
        ...onWorker4,
        owner: { kind: "StatefulSet", name: "mosquitto" },
        labels: { "app.kubernetes.io/name": "mosquitto" },
        annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "true" },
      }),
      pdb("home", "mosquitto", { "app.kubernetes.io/name": "mosquitto" }, 0),
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "blockers on talos-worker-4: home/mosquitto-0: PDB home/mosquitto allows 0 disruptions",
    );
  });

  it('removes talos-worker-4 when karpenter.sh/do-not-disrupt is "false" on its pod and on the node', async () => {
    // Karpenter honours the annotation only when it is "true".
    const output = await plan(
      [
        ...cluster(FOUR, {
          "talos-worker-4": { annotations: { "karpenter.sh/do-not-disrupt": "false" } },
        }),
        ...apps(FOUR.slice(0, 3)),
        pod("ml", "trainer-6f7c8d9b5-dnd01", {
          ...onWorker4,
          annotations: { "karpenter.sh/do-not-disrupt": "false" },
        }),
      ],
      NOW_FOUR,
    );
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(output.proposals[0]?.reasons).toContain(
      "  scale-down: talos-worker-4 has no blockers: met",
    );
  });

  it("keeps the node for a hostPath that safe-to-evict-local-volumes leaves out, and not once it names it", async () => {
    const zigbee = (volumes: string) =>
      pod("home", "zigbee2mqtt-6f7c8d9b5-usb01", {
        ...onWorker4,
        annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes": volumes },
        volumes: [
          { name: "cache", emptyDir: {} },
          { name: "serial", hostPath: { path: "/dev/ttyUSB0", type: "CharDevice" } },
        ],
      });
    const kept = await planOnWorker4(zigbee("cache"));
    expect(kept.proposals).toEqual([]);
    expect(poolNote(kept)).toContain(
      "blockers on talos-worker-4: home/zigbee2mqtt-6f7c8d9b5-usb01: local storage serial (hostPath)",
    );
    const removed = await planOnWorker4(zigbee("cache,serial"));
    expect(removed.proposals[0]).toMatchObject({ from: 4, to: 3 });
  });
});

describe("plan acceptance, scale-down: what the eviction API and a drain see", () => {
  it("keeps talos-worker-4 for a pod whose owner reference is not its controller", async () => {
    // An owner reference without `controller: true` ties the pod to its owner for garbage
    // collection only: no controller makes it again elsewhere, as kubectl drain and
    // cluster-autoscaler read it (metav1.GetControllerOf).
    const output = await planOnWorker4(
      pod("home", "backup-agent-1", {
        ...onWorker4,
        ownerReferences: [
          { apiVersion: "apps/v1", kind: "ReplicaSet", name: "backup-agent", uid: "9f1e" },
        ],
      }),
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "blockers on talos-worker-4: home/backup-agent-1: no controller would recreate it",
    );
    expect(condition(output, "no-blockers")).toMatchObject({
      met: false,
      blockers: [{ kind: "bare-pod", pod: "home/backup-agent-1" }],
    });
  });

  it("keeps talos-worker-4 for a budget the disruption controller has not given a status yet", async () => {
    // Until status.disruptionsAllowed is written, the eviction API refuses every eviction the
    // budget covers: it allows none, however generous its spec.
    const budget = pdb("home", "mosquitto", { "app.kubernetes.io/name": "mosquitto" }, 1);
    delete budget.status;
    const served = await serveForTest(
      withOnWorker4(
        pod("home", "mosquitto-0", {
          ...onWorker4,
          owner: { kind: "StatefulSet", name: "mosquitto" },
          labels: { "app.kubernetes.io/name": "mosquitto" },
        }),
        budget,
      ),
    );
    const run = await served.run(["--json"], NOW_FOUR);
    expect(run.code).toBe(0);
    const output = JSON.parse(run.stdout) as PlanJson;
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "blockers on talos-worker-4: home/mosquitto-0: PDB home/mosquitto allows 0 disruptions, 1 of its pods is here",
    );
    expect(run.stderr).toContain(
      "warning: pdb/home/mosquitto: status.disruptionsAllowed is not set yet; counted as 0 (no eviction allowed) [pdb-status-missing]",
    );
  });
});

describe("plan acceptance, scale-down: the min", () => {
  it("keeps an idle pool at its min of 4, as information, with the count and the min as data", async () => {
    const output = await plan(withOnWorker4(), {
      ...NOW_FOUR,
      config: NOW_FOUR.config.replace("min: 1", "min: 4"),
    });
    expect(output.proposals).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    expect(note?.level).toBe("info");
    expect(note?.message).toContain("not removed: count 4 is not above the min of 4");
    expect(note?.message).toContain("scale-down: cpu < 30 % for 0s: met (current, 16 %)");
    expect(condition(output, "above-min")).toEqual({
      kind: "above-min",
      met: false,
      current: 4,
      min: 4,
    });
  });
});

describe("plan acceptance, scale-down: requests at the threshold", () => {
  it("keeps a node while memory requests are at 50 %, however low the usage, and gives the figures as data", async () => {
    // 15986572Ki allocatable per worker; 7.5 GiB and Cilium's 128 MiB on each is 50.01 %.
    const requesting = FOUR.map((node, index) =>
      pod("default", `cache-5d8f7c9b6-rq${index}xx`, { node, cpu: "100m", memory: "7.5Gi" }),
    );
    const output = await plan([...cluster(FOUR), ...requesting], NOW_FOUR);
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toContain("scale-down: cpu < 30 % for 0s: met (current, 16 %)");
    expect(note).toContain("scale-down: memory requests 50.01 % < 50 %: not met");
    expect(note).not.toContain("not removed:");
    const scaleDown = noteDecision(output).scaleDown as { conditions: Raw[] };
    expect(scaleDown.conditions).toContainEqual({
      kind: "requests",
      met: false,
      resource: "memory",
      percent: expect.closeTo(50.01, 2),
      threshold: 50,
      basis: "current",
    });
  });
});

describe("plan acceptance, scale-down: lists a removal rests on", () => {
  it("says the blockers are unknown, not none, while the budgets cannot be listed (403)", async () => {
    const output = await planWhileFailing(
      withOnWorker4(pod("home", "mosquitto-0", onWorker4)),
      { path: "/apis/policy/v1/poddisruptionbudgets", status: 403 },
      NOW_FOUR,
    );
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toMatch(/hold: the cluster snapshot is incomplete \(poddisruptionbudgets: /);
    expect(note).toContain(
      "not removed: talos-worker-4's blockers are unknown (the list of poddisruptionbudgets was not read in full: a blocker it would show is unknown, not none)",
    );
    expect(note).toContain("scale-down: talos-worker-4's blockers are unknown: not met (");
    expect(note).not.toContain("talos-worker-4 has no blockers");
    expect(condition(output, "no-blockers")).toEqual({
      kind: "no-blockers",
      met: false,
      node: "talos-worker-4",
      blockers: [],
      unread: ["poddisruptionbudgets"],
    });
  });

  it("says so while the volumes of a pod's claim cannot be listed, and names the blockers it did find", async () => {
    const claimed = pod("home", "zigbee2mqtt-0", {
      ...onWorker4,
      owner: { kind: "StatefulSet", name: "zigbee2mqtt" },
      annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "false" },
      volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data-zigbee2mqtt-0" } }],
    });
    const output = await planWhileFailing(
      withOnWorker4(claimed),
      { path: "/api/v1/persistentvolumes", status: 500 },
      NOW_FOUR,
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "scale-down: talos-worker-4 has 1 blocker, and may have more: not met (the list of persistentvolumes was not read in full: a blocker it would show is unknown, not none)",
    );
    expect(condition(output, "no-blockers")).toMatchObject({
      met: false,
      unread: ["persistentvolumes"],
    });
  });

  it("says the requests and where talos-worker-4's pods go are unknown while the pod list stops after its first page", async () => {
    // 600 batch pods make the pod list two pages of 500; the second fails, so mosquitto-0 on
    // talos-worker-4 (namespace home, listed after batch) and the pods beside it are not read.
    const roomy = { allocatable: { cpu: "3800m", memory: "15986572Ki", pods: "300" } };
    const output = await planWhileFailing(
      [
        ...cluster(FOUR, Object.fromEntries(FOUR.map((name) => [name, roomy]))),
        ...apps(FOUR.slice(0, 3)),
        ...manyPods(600),
        pod("home", "mosquitto-0", onWorker4),
      ],
      { path: "/api/v1/pods", continued: true, status: 500 },
      NOW_FOUR,
    );
    expect(output.proposals).toEqual([]);
    const note = poolNote(output);
    expect(note).toMatch(/hold: the cluster snapshot is incomplete \(pods: /);
    expect(note).toContain("requests unknown; memory");
    expect(note).toContain(
      "scale-down: cpu requests < 50 %: unknown, so not met (the list of pods was not read in full: the requests of pods it would show are unknown, not none)",
    );
    expect(note).toContain(
      "scale-down: the pods of talos-worker-4 fit on the other nodes: unknown, so not met (the list of pods was not read in full: pods it would show, on talos-worker-4 or in the room of the other nodes, are unknown, not none)",
    );
    expect(note).not.toMatch(/requests \d/);
    expect(note).not.toContain("fit on the other nodes: met");
    expect(condition(output, "requests")).toEqual({
      kind: "requests",
      met: false,
      resource: "cpu",
      threshold: 50,
      unread: ["pods"],
    });
    expect(condition(output, "pods-fit")).toMatchObject({
      met: false,
      node: "talos-worker-4",
      unplaced: [],
      unread: ["pods"],
    });
  });

  it("removes no node with the metrics API forbidden, and names the permission it needs", async () => {
    const served = await serveForTest(withOnWorker4());
    served.fake.injectFault({
      path: /^\/apis\/metrics\.k8s\.io\//,
      status: 403,
      times: Number.POSITIVE_INFINITY,
    });
    const run = await served.run(["--json"], NOW_FOUR);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('the account needs "list" on nodes.metrics.k8s.io');
    const output = JSON.parse(run.stdout) as PlanJson;
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "hold: cpu and memory usage unknown on talos-worker-1, talos-worker-2, talos-worker-3, talos-worker-4; no decision is taken on the pool's usage (unknown is not zero)",
    );
    // No figure is compared with the threshold: the projection is unknown.
    expect(poolNote(output)).toContain("scale-down: cpu after removal < 70 %: unknown, so not met");
    expect(noteDecision(output).scaleDown).toMatchObject({
      conditions: expect.arrayContaining([
        { kind: "projection", met: false, resource: "memory", limit: 75 },
      ]),
    });
  });
});

describe("plan acceptance, scale-down: nodes not Ready in a pool of six", () => {
  const SIX = [...FOUR, "talos-worker-5", "talos-worker-6"];
  const files = { tfvars: tfvars(6), config: NOW_FOUR.config };
  const down = (names: string[]) =>
    Object.fromEntries(names.map((name) => [name, { ready: false }]));

  it("takes no action with 3 of 6 not Ready (50 % > 45 %), even though the decrease would remove them", async () => {
    const output = await plan(
      [...cluster(SIX, down(["talos-worker-4", "talos-worker-5", "talos-worker-6"])), ...apps(SIX)],
      files,
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "hold: 3 of 6 nodes not Ready (50 % > 45 %): talos-worker-4, talos-worker-5, talos-worker-6; no action",
    );
  });

  it("removes the highest, long not Ready, with 2 of 6 down; keeps every Ready node when the two are lower", async () => {
    // Planned at the second of the read, so metrics-server's samples are fresh.
    const now = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
    const highest = await plan(
      [...cluster(SIX, down(["talos-worker-5", "talos-worker-6"])), ...apps(SIX)],
      files,
      now,
    );
    expect(highest.proposals[0]).toMatchObject({ from: 6, to: 5 });
    expect(highest.proposals[0]?.reasons).toContain(
      `  trigger: talos-worker-6 has not been Ready for ${formatDuration(Date.parse(now) - Date.parse("2026-11-20T06:13:21Z"))} (since 2026-11-20 06:13:21 UTC), more than 20m (scaleDown.unreadyTime): it goes whatever the usage`,
    );
    // How long the node has not been Ready, beside the pool's scaleDown.unreadyTime it exceeds.
    expect(highest.proposals[0]?.triggers).toEqual([
      {
        kind: "unready-node",
        node: "talos-worker-6",
        since: "2026-11-20T06:13:21.000Z",
        notReadyForMs: Date.parse(now) - Date.parse("2026-11-20T06:13:21Z"),
        unreadyTimeMs: 1_200_000,
      },
    ]);
    const lower = await plan(
      [...cluster(SIX, down(["talos-worker-2", "talos-worker-3"])), ...apps(SIX)],
      files,
    );
    expect(lower.proposals).toEqual([]);
    const note = lower.notes.find((entry) => entry.subject === "pool/workers");
    expect(note?.level).toBe("warning");
    expect(note?.message).toContain(
      "hold: talos-worker-2, talos-worker-3 are not Ready: no Ready node is removed while their pods may need the room",
    );
    expect(note?.message).not.toContain("nodes not Ready (");
  });
});

describe("plan acceptance, scale-down: the cooldown read from the infra repo's history", () => {
  it("holds the next decrease within 5m of the last one merged, then removes talos-worker-4", async () => {
    // worker_count went 5 → 4 two minutes before the plan; metrics-server's samples are of the
    // read, so the times planned for are near it.
    const at = (offsetMs: number) =>
      new Date(Math.floor(Date.now() / 1000) * 1000 + offsetMs).toISOString();
    const changed = at(-120_000);
    const repo = changedAt(5, 4, changed, NOW_FOUR.config);
    const served = await serveForTest(withOnWorker4());
    const until = new Date(Date.parse(changed) + 300_000).toISOString();
    const held = await served.planRepo(repo, at(0));
    expect(held.proposals).toEqual([]);
    expect(poolNote(held)).toContain(
      `hold: cooldown after the change of ${utcTime(changed)}, until ${utcTime(until)}`,
    );
    expect(noteDecision(held).holds).toEqual([
      { kind: "cooldown", since: new Date(changed).toISOString(), until },
    ]);
    const after = await served.planRepo(repo, at(200_000));
    expect(after.proposals[0]).toMatchObject({ from: 4, to: 3, holds: [] });
    expect(after.proposals[0]?.reasons[0]).toContain("removing talos-worker-4");
  });
});
