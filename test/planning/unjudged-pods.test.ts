import { describe, expect, it } from "@jest/globals";
import type { PodInfo } from "../../src/planning/snapshot.ts";
import { schedulerFailedNote, unjudgedPendingNote } from "../../src/planning/unjudged-pods.ts";
import { buildSnapshot, nodes, pendingPod, pod } from "../support/snapshot-builder.ts";

// The builder's pods are created at 11:00; the snapshot is taken at 12:00.
const at = (time: string) => new Date(time);

function unjudged(key: string, extra: Partial<PodInfo> = {}): PodInfo {
  return { ...pod(key), ...extra };
}

/** When the builder's pods are made. */
const CREATED = "2025-06-06T11:00:00.000Z";

/** The note's message at `time` on one node and `pods`. */
function messageAt(time: string, ...pods: PodInfo[]): string | undefined {
  return unjudgedPendingNote(buildSnapshot({ nodes: nodes(1), pods }), at(time))?.message;
}

/** A pod the scheduler placed with no node set yet, and one whose condition gives no verdict. */
const placedPod = () => unjudged("web/placed", { podScheduled: "True" });
const unknownPod = () => unjudged("web/unknown", { podScheduled: "Unknown" });

describe("unjudgedPendingNote", () => {
  it("says nothing when every Pending pod has the scheduler's verdict", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(1),
      pods: [pod("web/a", { node: "worker-1" }), pendingPod("web/b", { cpu: "64" })],
    });
    expect(unjudgedPendingNote(snapshot, at("2025-06-06T12:00:00.000Z"))).toBeUndefined();
  });

  it("says nothing of a pod the scheduler has not tried yet while it is new: it is counted", () => {
    const snapshot = buildSnapshot({ nodes: nodes(1), pods: [unjudged("web/new")] });
    // Exactly 5 minutes is not yet more than 5 minutes.
    expect(unjudgedPendingNote(snapshot, at("2025-06-06T11:05:00.000Z"))).toBeUndefined();
  });

  it("warns once a counted pod not yet tried has waited more than 5 minutes, and counts those it does not list", () => {
    const pods = Array.from({ length: 7 }, (_, i) => unjudged(`batch/job-${i}`));
    const note = unjudgedPendingNote(
      buildSnapshot({ nodes: nodes(1), pods }),
      at("2025-06-06T11:06:00.000Z"),
    );
    expect(note).toEqual({
      level: "warning",
      subject: "unjudged-pods",
      message: `7 Pending pods not yet tried by the scheduler (no PodScheduled condition) are counted as pending, placed by the plan's own fit check: batch/job-0, batch/job-1, batch/job-2, batch/job-3, batch/job-4 and 2 more; the oldest was created 2025-06-06 11:00 UTC, more than 5m: check that the scheduler runs, as nodes added for them do not help until it does`,
      pods: pods.map((one) => ({
        pod: `${one.namespace}/${one.name}`,
        why: "untried",
        created: CREATED,
      })),
    });
  });

  it("names a pod left to another scheduler as adding no node, a warning once it is old", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(1),
      pods: [unjudged("batch/gang", { schedulerName: "volcano" })],
    });
    expect(unjudgedPendingNote(snapshot, at("2025-06-06T11:02:00.000Z"))).toEqual({
      level: "info",
      subject: "unjudged-pods",
      message: `1 Pending pod not marked unschedulable by the scheduler (left to another scheduler) adds no node: batch/gang (scheduler volcano); the oldest was created 2025-06-06 11:00 UTC`,
      pods: [
        { pod: "batch/gang", why: "other-scheduler", schedulerName: "volcano", created: CREATED },
      ],
    });
    expect(unjudgedPendingNote(snapshot, at("2025-06-06T11:06:00.000Z"))).toEqual({
      level: "warning",
      subject: "unjudged-pods",
      message: `1 Pending pod not marked unschedulable by the scheduler (left to another scheduler) adds no node: batch/gang (scheduler volcano); the oldest was created 2025-06-06 11:00 UTC, more than 5m: check that the scheduler runs and that their schedulerName is one a scheduler serves`,
      pods: [
        { pod: "batch/gang", why: "other-scheduler", schedulerName: "volcano", created: CREATED },
      ],
    });
  });

  it("keeps a pod held by scheduling gates information however long it waits", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(1),
      pods: [unjudged("batch/queued", { schedulingGates: ["kueue.x-k8s.io/admission"] })],
    });
    expect(unjudgedPendingNote(snapshot, at("2025-06-07T11:00:00.000Z"))).toEqual({
      level: "info",
      subject: "unjudged-pods",
      message: `1 Pending pod not marked unschedulable by the scheduler (held by scheduling gates) adds no node: batch/queued (scheduling gate kueue.x-k8s.io/admission); the oldest was created 2025-06-06 11:00 UTC`,
      pods: [
        {
          pod: "batch/queued",
          why: "gated",
          gates: ["kueue.x-k8s.io/admission"],
          created: CREATED,
        },
      ],
    });
  });

  it("warns of the pods no gate holds by their own age, beside an older gated one", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(1),
      pods: [
        unjudged("batch/queued", { schedulingGates: ["kueue.x-k8s.io/admission"] }),
        unjudged("batch/gang", { schedulerName: "volcano", createdAt: "2025-06-06T11:50:00.000Z" }),
      ],
    });
    // Ten minutes after the gated pod was made, the other one is new: information.
    expect(unjudgedPendingNote(snapshot, at("2025-06-06T11:52:00.000Z"))?.level).toBe("info");
    const late = unjudgedPendingNote(snapshot, at("2025-06-06T11:56:00.000Z"));
    expect(late?.level).toBe("warning");
    expect(late?.message).toBe(
      `2 Pending pods not marked unschedulable by the scheduler (held by scheduling gates or left to another scheduler) add no node: batch/queued (scheduling gate kueue.x-k8s.io/admission), batch/gang (scheduler volcano); the oldest was created 2025-06-06 11:00 UTC; the oldest not held by scheduling gates was created 2025-06-06 11:50 UTC, more than 5m: check that the scheduler runs and that their schedulerName is one a scheduler serves`,
    );
  });

  it("names the pods that add no node apart from the counted ones, and warns of both", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(1),
      pods: [
        unjudged("batch/one", { schedulingGates: ["example.com/quota"] }),
        unjudged("batch/two", { schedulingGates: ["example.com/quota", "example.com/ready"] }),
        unjudged("web/new"),
      ],
    });
    // The pod not yet tried is counted: while it is new, only the gated ones are named.
    expect(unjudgedPendingNote(snapshot, at("2025-06-06T11:02:00.000Z"))).toEqual({
      level: "info",
      subject: "unjudged-pods",
      message:
        "2 Pending pods not marked unschedulable by the scheduler (held by scheduling gates) add no node: batch/one (scheduling gate example.com/quota), batch/two (scheduling gates example.com/quota, example.com/ready); the oldest was created 2025-06-06 11:00 UTC",
      pods: [
        { pod: "batch/one", why: "gated", gates: ["example.com/quota"], created: CREATED },
        {
          pod: "batch/two",
          why: "gated",
          gates: ["example.com/quota", "example.com/ready"],
          created: CREATED,
        },
      ],
    });
    // Once it is old, the gated pods are still no cause for a warning: the untried one is.
    expect(unjudgedPendingNote(snapshot, at("2025-06-06T11:06:00.000Z"))).toEqual({
      level: "warning",
      subject: "unjudged-pods",
      message:
        "2 Pending pods not marked unschedulable by the scheduler (held by scheduling gates) add no node: batch/one (scheduling gate example.com/quota), batch/two (scheduling gates example.com/quota, example.com/ready); the oldest was created 2025-06-06 11:00 UTC; and 1 Pending pod not yet tried by the scheduler (no PodScheduled condition) is counted as pending, placed by the plan's own fit check: web/new; the oldest was created 2025-06-06 11:00 UTC, more than 5m: check that the scheduler runs, as nodes added for it do not help until it does",
      pods: [
        { pod: "batch/one", why: "gated", gates: ["example.com/quota"], created: CREATED },
        {
          pod: "batch/two",
          why: "gated",
          gates: ["example.com/quota", "example.com/ready"],
          created: CREATED,
        },
        { pod: "web/new", why: "untried", created: CREATED },
      ],
    });
  });

  it("names a pod whose PodScheduled condition gives no reason as adding no node", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(1),
      pods: [unjudged("batch/bare", { notScheduled: { reason: "", message: "" } })],
    });
    expect(unjudgedPendingNote(snapshot, at("2025-06-06T11:02:00.000Z"))?.message).toBe(
      "1 Pending pod not marked unschedulable by the scheduler (with a PodScheduled condition that gives no verdict) adds no node: batch/bare; the oldest was created 2025-06-06 11:00 UTC",
    );
  });

  it("names a pod the scheduler placed with no node set yet, and one whose condition is Unknown", () => {
    const note = (...pods: PodInfo[]) => messageAt("2025-06-06T11:02:00.000Z", ...pods);
    expect(note(placedPod())).toBe(
      "1 Pending pod not marked unschedulable by the scheduler (placed by the scheduler with no node set yet) adds no node: web/placed; the oldest was created 2025-06-06 11:00 UTC",
    );
    expect(note(placedPod(), unknownPod())).toBe(
      "2 Pending pods not marked unschedulable by the scheduler (placed by the scheduler with no node set yet or with a PodScheduled condition that gives no verdict) add no node: web/placed, web/unknown; the oldest was created 2025-06-06 11:00 UTC",
    );
  });

  it("points a pod placed long ago with no node set at its bind, not at the scheduler's running", () => {
    const note = (...pods: PodInfo[]) => messageAt("2025-06-06T11:10:00.000Z", ...pods);
    expect(note(placedPod())).toBe(
      "1 Pending pod not marked unschedulable by the scheduler (placed by the scheduler with no node set yet) adds no node: web/placed; the oldest was created 2025-06-06 11:00 UTC, more than 5m: a pod the scheduler placed but no node is set on: check the scheduler's log for a bind that failed (an admission webhook or the API server refusing it)",
    );
    expect(note(placedPod(), unknownPod())).toBe(
      "2 Pending pods not marked unschedulable by the scheduler (placed by the scheduler with no node set yet or with a PodScheduled condition that gives no verdict) add no node: web/placed, web/unknown; the oldest was created 2025-06-06 11:00 UTC, more than 5m: check that the scheduler runs and that their schedulerName is one a scheduler serves; for the pod the scheduler placed but no node is set on: check the scheduler's log for a bind that failed (an admission webhook or the API server refusing it)",
    );
  });

  it("gives each pod's why as data: placed with no node set yet, or no verdict", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(1),
      pods: [
        unjudged("web/placed", { podScheduled: "True" }),
        unjudged("web/unknown", { podScheduled: "Unknown" }),
        unjudged("batch/bare", { notScheduled: { reason: "", message: "" } }),
      ],
    });
    expect(unjudgedPendingNote(snapshot, at("2025-06-06T11:02:00.000Z"))?.pods).toEqual([
      { pod: "web/placed", why: "placed", created: CREATED },
      { pod: "web/unknown", why: "no-verdict", created: CREATED },
      { pod: "batch/bare", why: "no-verdict", created: CREATED },
    ]);
  });

  it("does not warn of an untried pod whose creation time cannot be read", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(1),
      pods: [unjudged("web/new", { createdAt: "" })],
    });
    expect(unjudgedPendingNote(snapshot, at("2025-06-07T12:00:00.000Z"))).toBeUndefined();
  });

  it("leaves out pods that wait for no room: nominated, being deleted, DaemonSet and mirror pods", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(1),
      pods: [
        unjudged("web/nominated", { nominatedNode: "worker-1" }),
        unjudged("web/going", { deletingSince: "2025-06-06T11:59:00.000Z" }),
        unjudged("kube-system/agent", { daemonSet: true }),
        unjudged("kube-system/static", { mirror: true }),
        unjudged("done/job", { phase: "Succeeded" }),
      ],
    });
    expect(unjudgedPendingNote(snapshot, at("2025-06-06T12:00:00.000Z"))).toBeUndefined();
  });
});

describe("schedulerFailedNote", () => {
  const failed = (key: string, reason: string, message = "") =>
    unjudged(key, { notScheduled: { reason, message } });

  it("warns of pods the scheduler failed on, with each reason and message, apart from the pods not judged", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(1),
      pods: [
        failed("web/a", "SchedulerError", "binding rejected: etcdserver: request timed out"),
        failed("web/b", "SchedulerError"),
        unjudged("web/gang", { schedulerName: "volcano" }),
      ],
    });
    expect(schedulerFailedNote(snapshot, at("2025-06-06T12:00:00.000Z"))).toEqual({
      level: "warning",
      subject: "scheduler-failed",
      message:
        "2 Pending pods add no node: the scheduler failed on them, so whether they lack room is not known: web/a (SchedulerError: binding rejected: etcdserver: request timed out), web/b (SchedulerError); the earliest created 2025-06-06 11:00 UTC, no time on its PodScheduled condition, more than 5m: check the scheduler's log",
      pods: [
        {
          pod: "web/a",
          why: "failed",
          reason: "SchedulerError",
          message: "binding rejected: etcdserver: request timed out",
          created: CREATED,
        },
        { pod: "web/b", why: "failed", reason: "SchedulerError", message: "", created: CREATED },
      ],
    });
    expect(unjudgedPendingNote(snapshot, at("2025-06-06T11:02:00.000Z"))?.message).toContain(
      "adds no node: web/gang (scheduler volcano);",
    );
  });

  it("is information while the failure is newer than 5 minutes, which the scheduler retries", () => {
    const since = (time: string) =>
      unjudged("web/a", {
        notScheduled: { reason: "SchedulerError", message: "binding rejected", since: time },
      });
    const fresh = buildSnapshot({ nodes: nodes(1), pods: [since("2025-06-06T11:56:00.000Z")] });
    expect(schedulerFailedNote(fresh, at("2025-06-06T12:00:00.000Z"))).toEqual({
      level: "info",
      subject: "scheduler-failed",
      message:
        "Pending pod web/a adds no node: the scheduler failed on it (SchedulerError: binding rejected), so whether it lacks room is not known; failing since 2025-06-06 11:56 UTC: the scheduler tries it again",
      pods: [
        {
          pod: "web/a",
          why: "failed",
          reason: "SchedulerError",
          message: "binding rejected",
          since: "2025-06-06T11:56:00.000Z",
          created: CREATED,
        },
      ],
    });
    // Exactly 5 minutes is not yet more than 5 minutes.
    expect(schedulerFailedNote(fresh, at("2025-06-06T12:01:00.000Z"))?.level).toBe("info");
    expect(schedulerFailedNote(fresh, at("2025-06-06T12:01:01.000Z"))).toEqual({
      level: "warning",
      subject: "scheduler-failed",
      message:
        "Pending pod web/a adds no node: the scheduler failed on it (SchedulerError: binding rejected), so whether it lacks room is not known; failing since 2025-06-06 11:56 UTC, more than 5m: check the scheduler's log",
      pods: [
        {
          pod: "web/a",
          why: "failed",
          reason: "SchedulerError",
          message: "binding rejected",
          since: "2025-06-06T11:56:00.000Z",
          created: CREATED,
        },
      ],
    });
  });

  it("warns at once of a failure whose time cannot be read at all", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(1),
      pods: [
        unjudged("web/a", {
          createdAt: "",
          notScheduled: { reason: "SchedulerError", message: "" },
        }),
      ],
    });
    expect(schedulerFailedNote(snapshot, at("2025-06-06T11:00:00.000Z"))).toEqual({
      level: "warning",
      subject: "scheduler-failed",
      message:
        "Pending pod web/a adds no node: the scheduler failed on it (SchedulerError), so whether it lacks room is not known; when it began to fail is not known (no time on its PodScheduled condition nor its creation): check the scheduler's log",
      pods: [{ pod: "web/a", why: "failed", reason: "SchedulerError", message: "" }],
    });
  });

  it("leaves a gated pod, and one with no reason, to the pods not judged", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(1),
      pods: [
        unjudged("batch/queued", {
          schedulingGates: ["kueue.x-k8s.io/admission"],
          notScheduled: {
            reason: "SchedulingGated",
            message: "Scheduling is blocked due to non-empty scheduling gates",
          },
        }),
        failed("batch/bare", ""),
      ],
    });
    expect(schedulerFailedNote(snapshot, at("2025-06-06T12:00:00.000Z"))).toBeUndefined();
    expect(unjudgedPendingNote(snapshot, at("2025-06-06T11:02:00.000Z"))?.message).toContain(
      "add no node: batch/queued (scheduling gate kueue.x-k8s.io/admission), batch/bare;",
    );
  });
});
