/**
 * Pending pods left pending beyond the pool's max, and expendable ones, against a served
 * cluster: they add no node, and the plan's notes name them whether or not their pool has a
 * change proposed, as they name the pods that never fit.
 */
import { describe, expect, it } from "@jest/globals";
import { type PlanJson, pod, type Raw } from "./served-cluster.ts";
import {
  cluster,
  config,
  FOUR,
  fillers,
  OVER_MAX,
  plan,
  planFull,
  poolNote,
  serveForTest,
  transcodeJob,
} from "./served-plan.ts";

/** A placeholder pod of an overprovisioning Deployment, below the default cutoff of -10. */
const BALLOON = (() => {
  const raw = pod("default", "balloon-7d6c5b4a3-exp01", { cpu: "1", memory: "1Gi" });
  const spec = raw.spec as Raw;
  spec.priority = -100;
  spec.priorityClassName = "overprovisioning";
  return raw;
})();

/** Pending transcode Job pods of 3 cpu and 1 GiB: one fills a new worker (3700m free). */
const JOBS = [
  transcodeJob("aaaaa", { cpu: "3" }),
  transcodeJob("bbbbb", { cpu: "3" }),
  transcodeJob("ccccc", { cpu: "3" }),
];

/** Three workers nearly full, and a max of 4: one new node is allowed for three pods. */
const AT_FOUR = { config: config({ "max: 6": "max: 4" }) };

const BEYOND =
  "beyond max: 3 new nodes needed, 1 allowed (the max is 4); left pending: batch/transcode-29123400-bbbbb, batch/transcode-29123400-ccccc";
const EXPENDABLE =
  "expendable: default/balloon-7d6c5b4a3-exp01 (cpu 1, memory 1 GiB): priority -100 is below the pool's expendablePriority of -10, so it waits for room and adds no node";

/** The notes that name `pod`. */
function notesNaming(output: PlanJson, name: string): PlanJson["notes"] {
  return output.notes.filter((note) => note.message.includes(name));
}

describe("plan against a served cluster: pending pods left pending beyond max or expendable", () => {
  it("names them in a note when their pool has a change proposed", async () => {
    const output = await planFull([...JOBS, BALLOON], AT_FOUR);
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["workers", 3, 4],
    ]);
    expect(output.proposals[0]?.reasons).toEqual(
      expect.arrayContaining([`  ${EXPENDABLE}`, `  ${BEYOND}`]),
    );
    // The two pods beyond the max still wait once the change is made: a person must raise it.
    expect(output.notes.filter((note) => note.subject === "pods")).toEqual([
      {
        level: "warning",
        subject: "pods",
        message: `pending pods that add no node:\n  pool workers: ${EXPENDABLE}\n  pool workers: ${BEYOND}`,
      },
    ]);
    // The pod that goes on the new node is named by no note.
    expect(notesNaming(output, "transcode-29123400-aaaaa")).toEqual([]);
  });

  it("gives the pods the scheduler has not judged a note of their own subject", async () => {
    // A gated pod: the scheduler writes no PodScheduled condition for it.
    const gated = pod("batch", "import-7f6e5d4c3-gat01", {
      cpu: "1",
      memory: "1Gi",
      schedulingGates: [{ name: "example.com/quota" }],
      scheduled: null,
    });
    const output = await planFull([...JOBS, BALLOON, gated], AT_FOUR);
    expect(output.proposals.map((entry) => entry.pool)).toEqual(["workers"]);
    const about = (subject: string) =>
      output.notes.filter((note) => note.subject === subject).map((note) => note.message);
    expect(about("pods")).toEqual([
      `pending pods that add no node:\n  pool workers: ${EXPENDABLE}\n  pool workers: ${BEYOND}`,
    ]);
    expect(about("unjudged-pods")).toEqual([
      expect.stringContaining("1 Pending pod not marked unschedulable by the scheduler"),
    ]);
    expect(about("unjudged-pods")[0]).toContain("batch/import-7f6e5d4c3-gat01");
  });

  it("warns of a pod the scheduler failed on apart from the pods not judged, with its reason", async () => {
    // The scheduler writes SchedulerError when a plugin or the bind fails, and retries the pod:
    // it tried it, so it is no pod waiting to be judged, and whether it lacks room is unknown.
    const failed = pod("batch", "import-7f6e5d4c3-err01", {
      cpu: "1",
      memory: "1Gi",
      scheduled: {
        reason: "SchedulerError",
        message:
          'running PreBind plugin "VolumeBinding": binding volumes: context deadline exceeded',
      },
    });
    const output = await planFull([...JOBS, BALLOON, failed], AT_FOUR);
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["workers", 3, 4],
    ]);
    expect(output.notes.filter((note) => note.subject === "scheduler-failed")).toEqual([
      {
        level: "warning",
        subject: "scheduler-failed",
        message:
          'Pending pod batch/import-7f6e5d4c3-err01 adds no node: the scheduler failed on it (SchedulerError: running PreBind plugin "VolumeBinding": binding volumes: context deadline exceeded), so whether it lacks room is not known; failing since 2026-11-20 08:00 UTC, more than 5m: check the scheduler\'s log',
        pods: [
          {
            pod: "batch/import-7f6e5d4c3-err01",
            why: "failed",
            reason: "SchedulerError",
            message:
              'running PreBind plugin "VolumeBinding": binding volumes: context deadline exceeded',
            since: "2026-11-20T08:00:00.000Z",
            created: "2026-11-20T08:00:00.000Z",
          },
        ],
      },
    ]);
    expect(output.notes.filter((note) => note.subject === "unjudged-pods")).toEqual([]);
    // The pod is not counted for a new node either.
    expect(output.proposals[0]?.reasons.join("\n")).not.toContain("import-7f6e5d4c3-err01");
  });

  it("says of a failure newer than 5 minutes that the scheduler tries the pod again", async () => {
    // The scheduler retries a pod it failed on: an API server slow to answer a bind, for one.
    const failed = pod("batch", "import-7f6e5d4c3-err01", {
      cpu: "1",
      memory: "1Gi",
      scheduled: {
        reason: "SchedulerError",
        message: "binding rejected: etcdserver: request timed out",
        since: "2026-11-20T08:01:30Z",
      },
    });
    const served = await serveForTest([...cluster(), ...fillers(), ...JOBS, BALLOON, failed]);
    const about = (output: PlanJson) =>
      output.notes.filter((note) => note.subject === "scheduler-failed");
    // The same pod as data, failing since its condition's time, beside its creation.
    const failing = {
      pod: "batch/import-7f6e5d4c3-err01",
      why: "failed",
      reason: "SchedulerError",
      message: "binding rejected: etcdserver: request timed out",
      since: "2026-11-20T08:01:30.000Z",
      created: "2026-11-20T08:00:00.000Z",
    };
    const pod1 =
      "Pending pod batch/import-7f6e5d4c3-err01 adds no node: the scheduler failed on it (SchedulerError: binding rejected: etcdserver: request timed out), so whether it lacks room is not known; failing since 2026-11-20 08:01:30 UTC";
    expect(about(await served.plan(AT_FOUR, "2026-11-20T08:02:00Z"))).toEqual([
      {
        level: "info",
        subject: "scheduler-failed",
        message: `${pod1}: the scheduler tries it again`,
        pods: [failing],
      },
    ]);
    expect(about(await served.plan(AT_FOUR, "2026-11-20T08:07:00Z"))).toEqual([
      {
        level: "warning",
        subject: "scheduler-failed",
        message: `${pod1}, more than 5m: check the scheduler's log`,
        pods: [failing],
      },
    ]);
  });

  it("says so in the text form too, after the proposal, as a warning", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), ...JOBS, BALLOON]);
    const run = await served.run([], AT_FOUR);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `\nwarning: pods: pending pods that add no node:\n  pool workers: ${EXPENDABLE}\n  pool workers: ${BEYOND}\n`,
    );
    expect(run.stdout.indexOf("pods: pending pods")).toBeGreaterThan(
      run.stdout.indexOf("scale up 3 → 4"),
    );
    // Only the expendable pod left waiting: information, with no level printed.
    const expendable = await serveForTest([
      ...cluster(),
      ...fillers(),
      transcodeJob("aaaaa", { cpu: "3" }),
      BALLOON,
    ]);
    const quiet = await expendable.run([], AT_FOUR);
    expect(quiet.stdout).toContain(
      `\npods: pending pods that add no node:\n  pool workers: ${EXPENDABLE}\n`,
    );
    expect(quiet.stdout).not.toContain("warning");
  });

  it("prints a warning pool's note in the text form with its level first", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), ...JOBS, BALLOON]);
    const run = await served.run([], { config: config({ "max: 6": "max: 3" }) });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^warning: pool workers \(terraform\/terraform\.tfvars worker_count\): no change at 3\n/m,
    );
    expect(run.stdout).toContain("\n  hold: wanted 6 nodes, the max allows 3\n");
  });

  it("leaves them to the pool's note when it has no change, with no second note", async () => {
    const output = await planFull([...JOBS, BALLOON], {
      config: config({ "max: 6": "max: 3" }),
    });
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(`  ${EXPENDABLE}`);
    expect(poolNote(output)).toContain("left pending: batch/transcode-29123400-aaaaa");
    expect(output.notes.filter((note) => note.subject === "pods")).toEqual([]);
  });

  it("warns in the pool's note when pods a new node would take are left pending at the max", async () => {
    const atMax = await planFull([...JOBS, BALLOON], {
      config: config({ "max: 6": "max: 3" }),
    });
    const held = atMax.notes.find((note) => note.subject === "pool/workers");
    expect(held?.holds).toContainEqual({ kind: "at-max", wanted: 6, allowed: 3, bound: "max" });
    expect(held?.level).toBe("warning");
    // An expendable pod left waiting for room is what it is for: no warning.
    const expendable = await planFull([BALLOON], {
      config: config({ "max: 6": "max: 3" }),
    });
    const quiet = expendable.notes.find((note) => note.subject === "pool/workers");
    expect(quiet?.message).toContain(EXPENDABLE);
    expect(quiet?.level).toBe("info");
    // Nor one that has not waited scaleUp.pendingFor yet (a minute of ten).
    const waiting = config({ "max: 6": "max: 3" }).replace(
      "    max: 3\n",
      "    max: 3\n    scaleUp:\n      pendingFor: 10m\n",
    );
    const early = await planFull(
      [transcodeJob("aaaaa", { cpu: "3" })],
      { config: waiting },
      "2026-11-20T08:01:00Z",
    );
    const young = early.notes.find((note) => note.subject === "pool/workers");
    expect(young?.holds).toContainEqual(expect.objectContaining({ kind: "pending-wait", max: 3 }));
    expect(young?.level).toBe("info");
  });
});

describe("plan against a served cluster: pods waiting for scaleUp.pendingFor above the max", () => {
  it("hold no decrease down to the max: no node is added for them however long they wait", async () => {
    // Four workers where the max is three; talos-worker-4's pod fits on the others, and a
    // transcode pod Unschedulable for a minute (of pendingFor 10m) fits on no node.
    const objects = [
      ...cluster(FOUR),
      ...fillers(FOUR.slice(0, 3), "2"),
      pod("media", "plex-7d9c65958-w4xxx", {
        node: "talos-worker-4",
        owner: { kind: "ReplicaSet", name: "plex-7d9c65958" },
        cpu: "1500m",
        memory: "1Gi",
      }),
      transcodeJob("aaaaa", { cpu: "3" }),
    ];
    const waiting = OVER_MAX.config.replace(
      "    max: 3\n",
      "    max: 3\n    scaleUp:\n      pendingFor: 10m\n",
    );
    const output = await plan(
      objects,
      { tfvars: OVER_MAX.tfvars, config: waiting },
      "2026-11-20T08:01:00Z",
    );
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["workers", 4, 3],
    ]);
    expect(output.proposals[0]?.holds).toEqual([
      {
        kind: "pending-wait",
        pods: 1,
        pendingForMs: 600_000,
        until: "2026-11-20T08:10:00.000Z",
        max: 3,
        bound: "max",
        above: true,
      },
    ]);
    expect(output.proposals[0]?.reasons).toContain(
      "  hold: 1 pending pod needs new nodes but has waited less than 10m (scaleUp.pendingFor); above the max of 3, no node is added for it, and the count comes down to it, and no further for low usage, while it waits",
    );
  });
});
