import { describe, expect, it } from "@jest/globals";
import { type DrainPod, toDrainPod } from "../../src/apply/drain-pod.ts";
import {
  graceEnds,
  notWaitedFor,
  type PodNode,
  terminatingReason,
} from "../../src/apply/drain-terminating.ts";

type Raw = Record<string, unknown>;

function deletedPod(metadata: Raw = {}, spec: Raw = {}): DrainPod {
  return toDrainPod({
    metadata: { name: "web-1", namespace: "apps", uid: "u1", ...metadata },
    spec: { nodeName: "talos-worker-4", containers: [{ name: "c" }], ...spec },
    status: { phase: "Running" },
  });
}

const at = (iso: string) => Date.parse(iso);
const dead: PodNode = {
  name: "talos-worker-4",
  ready: false,
  notReadyReason: "Ready=Unknown: NodeStatusUnknown: Kubelet stopped posting node status.",
};
const alive: PodNode = { name: "talos-worker-4", ready: true };

describe("graceEnds", () => {
  it("adds deletionGracePeriodSeconds, else terminationGracePeriodSeconds, else 30 s", () => {
    const deletion = { deletionTimestamp: "2026-11-20T06:18:21Z" };
    expect(graceEnds(deletedPod({ ...deletion, deletionGracePeriodSeconds: 45 }))).toBe(
      at("2026-11-20T06:19:06Z"),
    );
    expect(graceEnds(deletedPod(deletion, { terminationGracePeriodSeconds: 120 }))).toBe(
      at("2026-11-20T06:20:21Z"),
    );
    expect(graceEnds(deletedPod(deletion))).toBe(at("2026-11-20T06:18:51Z"));
  });

  it("is unknown for a pod not being deleted or with a time it cannot read", () => {
    expect(graceEnds(deletedPod())).toBeUndefined();
    expect(graceEnds(deletedPod({ deletionTimestamp: "yesterday" }))).toBeUndefined();
  });

  it("reads a grace period only when it is a whole number of seconds", () => {
    const pod = deletedPod(
      { deletionTimestamp: "2026-11-20T06:18:21Z", deletionGracePeriodSeconds: "30" },
      { terminationGracePeriodSeconds: -5 },
    );
    expect(pod.deletionGracePeriodSeconds).toBeUndefined();
    expect(pod.terminationGracePeriodSeconds).toBeUndefined();
    expect(graceEnds(pod)).toBe(at("2026-11-20T06:18:51Z"));
  });
});

describe("notWaitedFor", () => {
  const pod = deletedPod({
    deletionTimestamp: "2026-11-20T06:18:21Z",
    deletionGracePeriodSeconds: 30,
  });

  it("on a node that is not Ready, once deletionTimestamp plus the grace period has passed", () => {
    expect(notWaitedFor(pod, "apps/web-1", dead, at("2026-11-20T06:18:50Z"), 0)).toBeUndefined();
    expect(notWaitedFor(pod, "apps/web-1", dead, at("2026-11-20T06:18:51Z"), 0)).toEqual({
      pod: "apps/web-1",
      rule: "node-not-ready",
      deletionTimestamp: "2026-11-20T06:18:21Z",
      graceSeconds: 30,
      message:
        "deletionTimestamp 2026-11-20T06:18:21Z plus its 30s grace period has passed and talos-worker-4 is not Ready (Ready=Unknown: NodeStatusUnknown: Kubelet stopped posting node status.): no kubelet will confirm its deletion",
    });
  });

  it("on a Ready node, only with --skip-wait-for-delete-timeout and once it is older than that", () => {
    const later = at("2026-11-22T18:00:00Z");
    expect(notWaitedFor(pod, "apps/web-1", alive, later, 0)).toBeUndefined();
    expect(notWaitedFor(pod, "apps/web-1", alive, at("2026-11-20T06:23:21Z"), 300)).toBeUndefined();
    expect(notWaitedFor(pod, "apps/web-1", alive, at("2026-11-20T06:23:22Z"), 300)).toMatchObject({
      rule: "skip-wait-for-delete-timeout",
      message:
        "deletionTimestamp 2026-11-20T06:18:21Z is more than 5m old (--skip-wait-for-delete-timeout 300)",
    });
  });

  it("waits for a pod that is not being deleted, or whose deletion time it cannot read", () => {
    const later = at("2026-11-22T18:00:00Z");
    expect(notWaitedFor(deletedPod(), "apps/web-1", dead, later, 1)).toBeUndefined();
    const unreadable = deletedPod({ deletionTimestamp: "1 " });
    expect(notWaitedFor(unreadable, "apps/web-1", dead, later, 1)).toBeUndefined();
  });
});

describe("terminatingReason", () => {
  const held = deletedPod({
    deletionTimestamp: "2026-11-20T06:18:21Z",
    deletionGracePeriodSeconds: 30,
    finalizers: ["example.com/backup-done", "foregroundDeletion"],
  });

  it("says a pod this drain did not evict is being deleted otherwise, and what holds it", () => {
    expect(terminatingReason(held, false, alive, 0)).toBe(
      "being deleted (deletionTimestamp 2026-11-20T06:18:21Z), not evicted by this drain, still terminating; finalizers example.com/backup-done, foregroundDeletion keep it until whatever set them removes them; --skip-wait-for-delete-timeout SECS stops waiting for pods whose deletionTimestamp is more than SECS seconds old",
    );
  });

  it("says which rule will end the wait as things stand", () => {
    expect(terminatingReason(held, false, alive, 3600)).toContain(
      "not waited for once deletionTimestamp is more than 1h old (--skip-wait-for-delete-timeout 3600)",
    );
    expect(terminatingReason(held, false, dead, 0)).toContain(
      "talos-worker-4 is not Ready: not waited for once deletionTimestamp plus its 30s grace period has passed",
    );
  });

  it("keeps 'evicted' for the pods this drain evicted, with their finalizers", () => {
    expect(terminatingReason(held, true, alive, 0)).toMatch(
      /^evicted, still terminating; finalizers example\.com\/backup-done, foregroundDeletion keep it/,
    );
    // Never read since its eviction: nothing more is known.
    expect(terminatingReason(deletedPod(), true, alive, 0)).toBe("evicted, still terminating");
  });
});
