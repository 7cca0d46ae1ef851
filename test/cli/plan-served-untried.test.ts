/**
 * Pending pods the default scheduler has not tried yet (no PodScheduled condition), against a
 * served cluster with no scheduler running, as a bare API server serves them: they are counted
 * for capacity by the plan's own fit check, as cluster-autoscaler counts the pods of the
 * schedulers named in `--bypassed-scheduler-names` without waiting for a verdict.
 *
 * The workers are the Talos VMs of served-cluster.ts (3800m cpu, Cilium's 100m on each), each
 * with a 3-cpu filler: 700m free on each.
 */
import { describe, expect, it } from "@jest/globals";
import { storageClass, volumeClaim } from "../support/kube-volumes.ts";
import { type PlanJson, pod, type Raw } from "./served-cluster.ts";
import { planFull, poolNote } from "./served-plan.ts";

/** A Pending pod of `cpu` the scheduler has not got to yet: no PodScheduled condition. */
function untried(name: string, cpu: string, extra: Parameters<typeof pod>[2] = {}): Raw {
  return pod("batch", name, { cpu, memory: "512Mi", scheduled: null, ...extra });
}

/** Each proposal's pool, count from and to. */
function changes(output: PlanJson): [string | undefined, number | undefined, number | undefined][] {
  return output.proposals.map((entry) => [entry.pool, entry.from, entry.to]);
}

// The served pods were created on 2026-11-20; the plan is made a minute later.
const SOON = "2026-11-20T08:01:00Z";

/** When the served pods were made, as the notes give it. */
const CREATED = "2026-11-20T08:00:00.000Z";

describe("plan against a served cluster: pods the scheduler has not tried yet", () => {
  it("adds a node for one that fits no existing node, saying it is not marked yet", async () => {
    const output = await planFull([untried("import-7f6e5d4c3-new01", "1500m")], {}, SOON);
    expect(changes(output)).toEqual([["workers", 3, 4]]);
    const reasons = output.proposals[0]?.reasons.join("\n") ?? "";
    expect(reasons).toContain(
      "pending: batch/import-7f6e5d4c3-new01 (cpu 1500m, memory 512 MiB; not yet marked unschedulable by the scheduler) → new-1",
    );
    const pending = output.proposals[0]?.decision?.pending as { onNew: Raw[] } | undefined;
    expect(pending?.onNew).toEqual([
      expect.objectContaining({ pod: "batch/import-7f6e5d4c3-new01", judged: false }),
    ]);
    // New: no note on it, as the scheduler gets to a new pod within seconds.
    expect(output.notes.filter((note) => note.subject === "unjudged-pods")).toEqual([]);
  });

  it("adds no node for one that fits the free room of an existing node", async () => {
    const output = await planFull([untried("report-5b7c9d8e6-new01", "500m")], {}, SOON);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(
      /pending: batch\/report-5b7c9d8e6-new01 \(cpu 500m, memory 512 MiB; not yet marked unschedulable by the scheduler\) fits on talos-worker-\d/,
    );
  });

  it("adds no node for a gated one or one left to another scheduler, and names them", async () => {
    const output = await planFull(
      [
        untried("import-7f6e5d4c3-gat01", "1500m", {
          schedulingGates: [{ name: "example.com/quota" }],
        }),
        untried("import-7f6e5d4c3-vol01", "1500m", { schedulerName: "volcano" }),
      ],
      {},
      SOON,
    );
    expect(output.proposals).toEqual([]);
    expect(output.notes.filter((note) => note.subject === "unjudged-pods")).toEqual([
      {
        level: "info",
        subject: "unjudged-pods",
        message:
          "2 Pending pods not marked unschedulable by the scheduler (held by scheduling gates or left to another scheduler) add no node: batch/import-7f6e5d4c3-gat01 (scheduling gate example.com/quota), batch/import-7f6e5d4c3-vol01 (scheduler volcano); the oldest was created 2026-11-20 08:00 UTC",
        pods: [
          {
            pod: "batch/import-7f6e5d4c3-gat01",
            why: "gated",
            gates: ["example.com/quota"],
            created: CREATED,
          },
          {
            pod: "batch/import-7f6e5d4c3-vol01",
            why: "other-scheduler",
            schedulerName: "volcano",
            created: CREATED,
          },
        ],
      },
    ]);
  });

  it("warns when one has waited more than 5 minutes, and still counts it", async () => {
    const output = await planFull([untried("import-7f6e5d4c3-new01", "1500m")]);
    expect(changes(output)).toEqual([["workers", 3, 4]]);
    expect(output.notes.filter((note) => note.subject === "unjudged-pods")).toEqual([
      expect.objectContaining({
        level: "warning",
        message: expect.stringContaining(
          "1 Pending pod not yet tried by the scheduler (no PodScheduled condition) is counted as pending, placed by the plan's own fit check: batch/import-7f6e5d4c3-new01; the oldest was created 2026-11-20 08:00 UTC, more than 5m: check that the scheduler runs",
        ),
      }),
    ]);
  });

  it("adds no node for one whose claim waits to be bound, saying its volumes keep it", async () => {
    const output = await planFull(
      [
        storageClass("nfs-client", {
          provisioner: "cluster.local/nfs-subdir-external-provisioner",
          volumeBindingMode: "Immediate",
        }),
        volumeClaim("batch", "data-import-0", { storageClassName: "nfs-client" }),
        untried("import-0", "1500m", {
          volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data-import-0" } }],
        }),
      ],
      {},
      SOON,
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "never fits: batch/import-0 (cpu 1500m, memory 512 MiB; not yet marked unschedulable by the scheduler): its volumes keep it pending, which a new node does not change (claim data-import-0: it waits to be bound (StorageClass nfs-client binds at once))",
    );
  });

  it("adds no node for one whose PodScheduled is True or Unknown with no node set", async () => {
    const output = await planFull(
      [
        untried("import-7f6e5d4c3-pla01", "1500m", {
          scheduled: { reason: "", message: "", status: "True" },
        }),
        untried("import-7f6e5d4c3-unk01", "1500m", {
          scheduled: { reason: "", message: "", status: "Unknown" },
        }),
      ],
      {},
      SOON,
    );
    expect(output.proposals).toEqual([]);
    expect(output.notes.filter((note) => note.subject === "unjudged-pods")).toEqual([
      {
        level: "info",
        subject: "unjudged-pods",
        message:
          "2 Pending pods not marked unschedulable by the scheduler (placed by the scheduler with no node set yet or with a PodScheduled condition that gives no verdict) add no node: batch/import-7f6e5d4c3-pla01, batch/import-7f6e5d4c3-unk01; the oldest was created 2026-11-20 08:00 UTC",
        pods: [
          { pod: "batch/import-7f6e5d4c3-pla01", why: "placed", created: CREATED },
          { pod: "batch/import-7f6e5d4c3-unk01", why: "no-verdict", created: CREATED },
        ],
      },
    ]);
  });
});
