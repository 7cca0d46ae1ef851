/**
 * `plan` against a Kubernetes API server on 127.0.0.1, run (`--now`) shortly before a schedule
 * window opens, or just after, while the nodes of an earlier change are joining: what the window
 * holds back, what goes all the same, and what the explanation names.
 */
import { describe, expect, it } from "@jest/globals";
import { nodeMetrics } from "../support/kube-fixtures.ts";
import {
  ciliumAgent,
  controlPlane,
  type PlanJson,
  pod,
  type Raw,
  unschedulable,
  worker,
} from "./served-cluster.ts";
import {
  apps,
  changedAt,
  cluster,
  config,
  FOUR,
  fillers,
  plan,
  poolDecision,
  poolNote,
  serveForTest,
  tfvars,
  WORKERS,
} from "./served-plan.ts";

/** The pool's config with `lines` before `removal:` and a window of `min` opening at `cron` (UTC). */
function withWindow(min: number, cron: string, lines = ""): string {
  return config({
    "    removal:": `${lines}    schedules:
      - name: evening
        cron: "${cron}"
        duration: 6h
        min: ${min}
    removal:`,
  });
}

/**
 * The control plane and `names` as workers with Cilium on each, `dead` not Ready since
 * 2026-11-20 (served-cluster.ts), and the others with metrics-server samples taken at `sampledAt`
 * (150m cpu, 1 GiB): an idle pool whose usage is known when the run is placed just after.
 */
function idle(names: readonly string[], dead: string, sampledAt: string): Raw[] {
  return [
    controlPlane("talos-cp-1"),
    ...names.flatMap((name, index) => [
      worker(name, name === dead ? { ready: false } : {}),
      ciliumAgent(name, index),
      ...(name === dead ? [] : [nodeMetrics(name, { cpu: "150m", memory: "1Gi" }, sampledAt)]),
    ]),
  ];
}

/** The reasons of the plan's first proposal, one per line. */
function reasons(output: PlanJson): string {
  return output.proposals[0]?.reasons.join("\n") ?? "";
}

describe("plan against a served cluster: a node long not Ready before a window opens", () => {
  // talos-worker-4 stopped posting its status on 2026-11-20 (served-cluster.ts): at 16:50 on
  // Friday 2026-11-27 it has not been Ready for days. The window opens at 17:00 with min 4.
  const objects = () => [
    ...cluster(FOUR, { "talos-worker-4": { ready: false } }),
    ...apps(WORKERS),
  ];
  const files = { tfvars: tfvars(4), config: withWindow(4, "0 17 * * 5") };

  it("removes it all the same, so that the window's min brings a working node in its place", async () => {
    const output = await plan(objects(), files, "2026-11-27T16:50:00Z");
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(output.proposals[0]?.holds).toContainEqual({
      kind: "schedule-soon",
      schedule: "evening",
      opensAt: "2026-11-27T17:00:00.000Z",
      min: 4,
      horizonMs: 20 * 60_000,
      unready: ["talos-worker-4"],
    });
    expect(reasons(output)).toContain("scale down 4 → 3, removing talos-worker-4\n");
    expect(reasons(output)).toContain(
      "  hold: schedule evening opens at 2026-11-27 17:00 UTC with min 4, sooner than a node removed now could be back (cooldown + provisionTimeout): the count stays at 4 or more, but for talos-worker-4, not Ready for scaleDown.unreadyTime, which goes now: kept, it would count toward the window's min with no room to give, and once it opens its min brings a new node in its place",
    );
  });

  it("still keeps a Ready node the window needs", async () => {
    // Five workers, talos-worker-5 long not Ready and talos-worker-4 empty, both free to go
    // together (maxEmptyBulk 2, unneededTime 0, usage sampled at 16:49:45): without the window
    // both go; with it only the node not Ready does, and the window's min keeps talos-worker-4.
    const names = [...FOUR, "talos-worker-5"];
    const bulk = "    scaleDown:\n      unneededTime: 0s\n      maxEmptyBulk: 2\n";
    const served = await serveForTest([
      ...idle(names, "talos-worker-5", "2026-11-27T16:49:45Z"),
      ...apps(WORKERS),
    ]);
    const at = "2026-11-27T16:50:00Z";
    const alone = await served.plan(
      { tfvars: tfvars(5), config: config({ "    removal:": `${bulk}    removal:` }) },
      at,
    );
    expect(alone.proposals[0]).toMatchObject({ from: 5, to: 3 });
    const output = await served.plan(
      { tfvars: tfvars(5), config: withWindow(5, "0 17 * * 5", bulk) },
      at,
    );
    expect(output.proposals[0]).toMatchObject({ from: 5, to: 4 });
    expect(reasons(output)).toContain("scale down 5 → 4, removing talos-worker-5\n");
    expect(reasons(output)).toContain(
      "  scale-down: talos-worker-5 goes alone; no more: schedule evening opens soon with min 5",
    );
  });

  it("says the empty nodes the window keeps would go, not that they go, when it keeps them all", async () => {
    // Five Ready workers, talos-worker-5 and 4 empty (maxEmptyBulk 2, unneededTime 0, usage
    // sampled at 16:49:45): the window's min of 5 keeps every node, so no decrease is made.
    const names = [...FOUR, "talos-worker-5"];
    const bulk = "    scaleDown:\n      unneededTime: 0s\n      maxEmptyBulk: 2\n";
    const output = await plan(
      [...idle(names, "", "2026-11-27T16:49:45Z"), ...apps(WORKERS)],
      { tfvars: tfvars(5), config: withWindow(5, "0 17 * * 5", bulk) },
      "2026-11-27T16:50:00Z",
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "  scale-down: 2 empty nodes would go together (at most 2): talos-worker-5, talos-worker-4, but schedule evening opens soon with min 5 and keeps them\n",
    );
    expect(poolNote(output)).not.toContain("no more at once");
  });

  it("leaves it to a person once the window is open, and says so: the count is at the window's min", async () => {
    const output = await plan(objects(), files, "2026-11-27T17:10:00Z");
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "  scale-down: count 4 above the min of 4 set by schedule evening: not met (talos-worker-4 has not been Ready for scaleDown.unreadyTime but counts toward the min, with no room to give: it stays until it is Ready again, a person replaces its VM, or the min is lowered)",
    );
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    expect(note?.level).toBe("warning");
    const scaleDown = note?.decision?.scaleDown as { conditions: Raw[] } | undefined;
    const conditions = scaleDown?.conditions ?? [];
    expect(conditions.find((condition) => condition.kind === "above-min")).toEqual({
      kind: "above-min",
      met: false,
      current: 4,
      min: 4,
      schedule: "evening",
      unready: "talos-worker-4",
    });
  });
});

describe("plan against a served cluster: the min an open window raises", () => {
  it("names the window whose min keeps an idle pool's nodes", async () => {
    // Four idle Ready workers (metrics-server at 17:59:45, unneededTime 0) at 18:00, inside the
    // window opened at 17:00 with min 4: without it one would go; with it, none, and the reason
    // is the window's min, not the pool's own min of 1.
    const quick = "    scaleDown:\n      unneededTime: 0s\n";
    const output = await plan(
      [...idle(FOUR, "", "2026-11-27T17:59:45Z"), ...apps(WORKERS)],
      { tfvars: tfvars(4), config: withWindow(4, "0 17 * * 5", quick) },
      "2026-11-27T18:00:00Z",
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "  not removed: count 4 is not above the min of 4 set by schedule evening\n",
    );
    expect(poolNote(output)).toContain(
      "  scale-down: count 4 above the min of 4 set by schedule evening: not met\n",
    );
  });
});

describe("plan against a served cluster: the bulk removal a window stops", () => {
  // Six workers, talos-worker-6 long not Ready and talos-worker-5 and 4 empty; metrics-server
  // samples of 08:00:45 with the run at 08:01. A transcode pod Unschedulable since 08:00, of
  // scaleUp.pendingFor 10m, that no node of the pool may take (its affinity excludes them all)
  // needs a new node: no node goes for low usage while it waits. The window opens at 08:10.
  const SIX = [...FOUR, "talos-worker-5", "talos-worker-6"];
  const objects = (): Raw[] => [
    ...idle(SIX, "talos-worker-6", "2026-11-20T08:00:45Z"),
    ...fillers(WORKERS, "1"),
    pod("batch", "transcode-29123400-aaaaa", {
      owner: { kind: "Job", name: "transcode-29123400" },
      cpu: "1",
      memory: "1Gi",
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: "kubernetes.io/hostname", operator: "NotIn", values: SIX },
                ],
              },
            ],
          },
        },
      },
      scheduled: unschedulable("node(s) didn't match Pod's node affinity/selector"),
    }),
  ];
  const lines =
    "    scaleUp:\n      pendingFor: 10m\n    scaleDown:\n      unneededTime: 0s\n      maxEmptyBulk: 10\n";
  const files = {
    tfvars: tfvars(6),
    config: withWindow(6, "10 8 * * *", lines).replace("max: 6", "max: 8"),
  };

  it("names the window as what stops it, when pending pods stop it at the same node", async () => {
    const output = await plan(objects(), files, "2026-11-20T08:01:00Z");
    expect(output.proposals[0]).toMatchObject({ from: 6, to: 5 });
    expect(output.proposals[0]?.holds?.map((hold) => hold.kind)).toEqual(
      expect.arrayContaining(["pending-wait", "schedule-soon"]),
    );
    expect(reasons(output)).toContain(
      "  scale-down: talos-worker-6 goes alone; no more: schedule evening opens soon with min 6",
    );
    expect(reasons(output)).not.toContain("no more: no node goes for low usage");
  });
});

describe("plan against a served cluster: a window opening while nodes join", () => {
  // A change raised the count from 3 to 4 at 17:00; the window (min 5) opened at 17:00 too. The
  // node it adds has not joined yet: the window's raise counts it, and is not added on top.
  const files = withWindow(5, "0 17 * * 5");

  it("counts the nodes an earlier change is adding toward the window's min", async () => {
    const served = await serveForTest(cluster());
    const joining = await served.planRepo(
      changedAt(3, 4, "2026-11-27T17:00:00Z", files),
      "2026-11-27T17:07:00Z",
    );
    expect(joining.proposals).toEqual([]);
    expect(poolNote(joining)).toContain(
      "trigger: count 4 is below the min of 5 set by schedule evening",
    );
    expect(poolNote(joining)).toContain("hold: the repo asks for 4 nodes, 3 are Ready");
  });

  it("raises to the window's min from the count the change made once its node joined", async () => {
    const served = await serveForTest(cluster(FOUR));
    const joined = await served.planRepo(
      changedAt(3, 4, "2026-11-27T17:00:00Z", files),
      "2026-11-27T17:07:00Z",
    );
    expect(joined.proposals[0]).toMatchObject({ from: 4, to: 5 });
  });
});

describe("plan against a served cluster: a window whose min the host cap lowers", () => {
  // The host holds four workers; the evening window asks for five. Valid (the host may grow),
  // but the window brings one node fewer than it names, and the plan says so before it opens.
  const files = {
    tfvars: tfvars(4),
    config: withWindow(5, "0 17 * * 5", "    host:\n      maxNodes: 4\n"),
  };
  const note = {
    level: "info",
    subject: "config",
    message:
      "pool workers: schedule evening asks for a min of 5, above the host cap of 4: while it is open, the pool's min is 4",
  };

  it("notes it on Monday, days before the window opens", async () => {
    const output = await plan([...cluster(FOUR), ...apps(FOUR)], files, "2026-11-23T10:00:00Z");
    expect(output.notes).toContainEqual(note);
  });

  it("notes it while the window is open, where the bounds show the min the cap leaves", async () => {
    const output = await plan([...cluster(FOUR), ...apps(FOUR)], files, "2026-11-27T18:00:00Z");
    expect(output.notes).toContainEqual(note);
    expect(poolNote(output)).toContain("schedule evening active until");
    expect(poolNote(output)).toContain("in effect 4..4");
  });

  it("names the window's min and the host cap that holds it lower when it raises the count", async () => {
    const output = await plan(cluster(), { ...files, tfvars: tfvars(3) }, "2026-11-27T18:00:00Z");
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(output.proposals[0]?.reasons).toContain(
      "  trigger: count 3 is below the min of 4 (schedule evening asks for 5; host cap 4)",
    );
    expect(output.proposals[0]?.triggers).toEqual([
      { kind: "below-min", current: 3, min: 4, schedule: "evening", asked: 5 },
    ]);
  });

  it("names them too when the min keeps the pool's nodes", async () => {
    const output = await plan([...cluster(FOUR), ...apps(FOUR)], files, "2026-11-27T18:00:00Z");
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "\n  scale-down: count 4 above the min of 4 (schedule evening asks for 5; host cap 4): not met\n",
    );
    expect(poolDecision(output).scaleDown).toMatchObject({
      conditions: expect.arrayContaining([
        { kind: "above-min", met: false, current: 4, min: 4, schedule: "evening", asked: 5 },
      ]),
    });
  });
});
