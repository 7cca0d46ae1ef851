/**
 * Leader election against the fake API server (a real HTTP server on 127.0.0.1): electors
 * with short durations, and conditions waited for, never times measured.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { parseAllDocuments } from "yaml";
import {
  type Clock,
  createLeaderElector,
  type ElectionLog,
  type LeaderElectionTiming,
  type LeaderElector,
  microTime,
} from "../../src/app/leader-election.ts";
import { kubeLeaseStore, type LeaseStore } from "../../src/app/lease-store.ts";
import { loadKubeConfig } from "../../src/cluster/kube-config.ts";
import { allows, type PolicyRule, resourceRequest } from "../deploy/rbac-requests.ts";
import { FakeKubeApiserver } from "../support/fake-kube-apiserver.ts";

const namespace = "pr-autoscaler";
const leaseName = "pr-autoscaler";
const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${leaseName}`;
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
/**
 * For the tests of expiry and of the renew deadline: short enough to wait for, long enough that
 * a leader on a loaded machine (a full test run on two cores stalls the event loop for more than
 * half a second) does not step down unasked.
 */
const fast = { leaseDurationSeconds: 3, renewDeadlineMs: 2_000, retryPeriodMs: 50 };
/**
 * For every other test: client-go's lease and deadline, which no stall of a loaded machine comes
 * near (one of seconds would make a `fast` leader step down, or its follower take over, mid-test),
 * renewed as often as `fast`.
 */
const steady = { leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 50 };

interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

function recordingLog(lines: LogLine[]): ElectionLog {
  const at = (level: string) => (fields: object, message: string) => {
    lines.push({ level, message, fields: fields as Record<string, unknown> });
  };
  return { info: at("info"), warn: at("warn"), error: at("error"), debug: at("debug") };
}

/** Resolves once `condition` holds; fails after a generous timeout. */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000) {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

let dir: string;
let fake: FakeKubeApiserver | undefined;
let kubeconfig: string;
let electors: LeaderElector[] = [];
/** Who leads, kept by the callbacks; two at once is recorded as a violation. */
let leaders: Set<string>;
let violations: string[];
let logs: LogLine[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-lease-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function startFake(): Promise<FakeKubeApiserver> {
  const started = await FakeKubeApiserver.start();
  fake = started;
  kubeconfig = await started.writeKubeconfig(join(dir, `kubeconfig-${started.port}`));
  leaders = new Set();
  violations = [];
  logs = [];
  return started;
}

/** The running fake (every test that uses it starts one first). */
function api(): FakeKubeApiserver {
  if (!fake) throw new Error("no fake API server is running");
  return fake;
}

afterEach(async () => {
  await Promise.all(electors.map((elector) => elector.stop({ release: false })));
  electors = [];
  await fake?.close();
  fake = undefined;
});

function store(): LeaseStore {
  const loaded = loadKubeConfig({ kubeconfig, env: {} });
  return kubeLeaseStore({ loaded, namespace, name: leaseName, timeoutMs: 10_000 });
}

/**
 * Real time and real timers, except that once `hold()` is called a timer of more than a second
 * (the renew deadline's: the retries' are far shorter) waits for `release()`, which starts it
 * with the time it has left. A step down on the deadline then cannot come before what the test
 * waits for, however long the process stalls.
 */
function deadlineOnCue(): { clock: Clock; hold(): void; held(): number; release(): void } {
  let holding = false;
  /** Timers held, and those started since by `release` (cleared by the handle given out). */
  const parked = new Map<symbol, { callback: () => void; at: number }>();
  const started = new Map<symbol, NodeJS.Timeout>();
  const clock: Clock = {
    now: () => Date.now(),
    monotonic: () => performance.now(),
    setTimeout(callback, ms) {
      if (!holding || ms <= 1_000) return setTimeout(callback, ms).unref();
      const handle = Symbol("deadline");
      parked.set(handle, { callback, at: performance.now() + ms });
      return handle;
    },
    clearTimeout(handle) {
      if (typeof handle !== "symbol") return clearTimeout(handle as NodeJS.Timeout);
      parked.delete(handle);
      clearTimeout(started.get(handle));
      started.delete(handle);
    },
  };
  return {
    clock,
    hold: () => {
      holding = true;
    },
    held: () => parked.size,
    release() {
      holding = false;
      for (const [handle, { callback, at }] of parked) {
        parked.delete(handle);
        const timer = setTimeout(
          () => {
            started.delete(handle);
            callback();
          },
          Math.max(0, at - performance.now()),
        );
        started.set(handle, timer.unref());
      }
    },
  };
}

function elector(
  identity: string,
  timing: LeaderElectionTiming = steady,
  leaseStore: LeaseStore = store(),
  clock?: Clock,
): LeaderElector {
  const created = createLeaderElector({
    ...timing,
    ...(clock ? { clock } : {}),
    store: leaseStore,
    identity,
    log: recordingLog(logs),
    onStartedLeading: () => {
      if (leaders.size > 0) violations.push(`${identity} leads beside ${[...leaders].join(", ")}`);
      leaders.add(identity);
    },
    onStoppedLeading: () => {
      leaders.delete(identity);
    },
  });
  electors.push(created);
  created.start();
  return created;
}

function lease(): { holderIdentity?: string } & Record<string, unknown> {
  const stored = api().get("leases", leaseName, namespace);
  return (stored?.spec ?? {}) as { holderIdentity?: string } & Record<string, unknown>;
}

async function roleRules(): Promise<PolicyRule[]> {
  const text = await readFile(new URL("../../deploy/base/role.yaml", import.meta.url), "utf8");
  const role = parseAllDocuments(text)
    .map((document) => document.toJS() as { kind?: string; rules?: PolicyRule[] })
    .find((object) => object.kind === "Role");
  return role?.rules ?? [];
}

describe("two replicas against the Kubernetes API", () => {
  beforeEach(startFake);

  it("elect exactly one, named in a Lease the Role lets them read and write", async () => {
    const a = elector("replica-a");
    const b = elector("replica-b");
    await waitFor(() => leaders.size === 1, "one replica leads");
    const [leader] = [...leaders];
    const follower = leader === "replica-a" ? b : a;
    await waitFor(() => follower.holder() === leader, "the follower sees the leader");
    expect([a.isLeader(), b.isLeader()].sort()).toEqual([false, true]);
    const first = lease();
    expect(first).toEqual({
      holderIdentity: leader,
      leaseDurationSeconds: 15,
      acquireTime: expect.stringMatching(MICRO_TIME),
      renewTime: expect.stringMatching(MICRO_TIME),
      leaseTransitions: 0,
    });
    await waitFor(() => lease().renewTime !== first.renewTime, "the leader renews");
    expect(lease()).toMatchObject({ holderIdentity: leader, acquireTime: first.acquireTime });
    expect(follower.isLeader()).toBe(false);
    expect(violations).toEqual([]);

    const rules = await roleRules();
    const needed = api().requests.map(resourceRequest);
    expect(new Set(needed.map((request) => request?.verb))).toEqual(
      new Set(["get", "create", "update"]),
    );
    for (const request of needed)
      expect([request, request !== undefined && allows(rules, request)]).toEqual([request, true]);
  });

  it("when the leader stops renewing, the other takes over once the Lease expired", async () => {
    const a = elector("replica-a", fast);
    await waitFor(() => a.isLeader(), "replica-a leads");
    const b = elector("replica-b", fast);
    await waitFor(() => b.holder() === "replica-a", "replica-b sees replica-a");
    const before = lease();
    // As if the process were killed: no release.
    await a.stop({ release: false });
    expect(lease().holderIdentity).toBe("replica-a");
    await waitFor(() => b.isLeader(), "replica-b takes over");
    expect(lease()).toMatchObject({ holderIdentity: "replica-b", leaseTransitions: 1 });
    expect(lease().acquireTime).not.toBe(before.acquireTime);
    expect(violations).toEqual([]);
    expect(logs).toContainEqual({
      level: "info",
      message: "became the leader: this replica runs the reconcile loop",
      fields: { lease: `${namespace}/${leaseName}`, identity: "replica-b" },
    });
  });

  it("a released Lease is taken over at the next attempt, long before it would expire", async () => {
    // A lease of a minute: within the wait below, only the release lets replica-b lead. The renew
    // deadline is long too, so that the warn lines checked below can only come from stopping.
    const slow = { leaseDurationSeconds: 60, renewDeadlineMs: 30_000, retryPeriodMs: 50 };
    const a = elector("replica-a", slow);
    await waitFor(() => a.isLeader(), "replica-a leads");
    const b = elector("replica-b", slow);
    await waitFor(() => b.holder() === "replica-a", "replica-b sees replica-a");
    await a.stop();
    expect(a.isLeader()).toBe(false);
    // Well within the lease's minute, however slowly a loaded machine gets there.
    await waitFor(() => b.isLeader(), "replica-b takes over", 30_000);
    expect(lease()).toMatchObject({
      holderIdentity: "replica-b",
      leaseDurationSeconds: 60,
      leaseTransitions: 1,
    });
    expect(violations).toEqual([]);
    expect(logs).toContainEqual(
      expect.objectContaining({ message: "released the Lease", fields: expect.anything() }),
    );
    // Stopping is no warning: alerts on warn lines do not fire at every rollout.
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: "info",
        message: "stopped leading: this replica is stopping and releases the Lease",
      }),
    );
    expect(logs.filter((line) => line.level === "warn")).toEqual([]);
  });
});

describe("when the API fails", () => {
  beforeEach(startFake);

  it("the leader steps down after the renew deadline when the API is unreachable", async () => {
    // The renewal that fails must come while replica-a still leads: were the process stalled
    // for the renew deadline (2 s) after the API closed, the deadline's timer would fire first,
    // and the failure be that of a follower. The deadline set at the last renewal before the
    // API closes therefore starts only once that failure is logged.
    const deadline = deadlineOnCue();
    const a = elector("replica-a", fast, store(), deadline.clock);
    await waitFor(() => a.isLeader(), "replica-a leads");
    deadline.hold();
    await waitFor(() => deadline.held() > 0, "replica-a renews once more");
    await api().close();
    fake = undefined;
    await waitFor(
      () => logs.some((line) => line.level === "error"),
      "the renewal fails while replica-a leads",
    );
    deadline.release();
    await waitFor(() => !a.isLeader(), "replica-a steps down");
    expect(leaders.size).toBe(0);
    expect(logs).toContainEqual({
      level: "error",
      message: "could not renew the Lease; still leading until the renew deadline",
      fields: expect.objectContaining({
        err: expect.stringMatching(
          /^GET \/apis\/coordination.k8s.io\/v1\/.*: (connect ECONNREFUSED|read ECONNRESET|ECONNRESET)/,
        ),
      }),
    });
    expect(logs).toContainEqual({
      level: "warn",
      message: "stopped leading: this replica stops its reconcile loop and keeps serving webhooks",
      fields: expect.objectContaining({ reason: "the Lease was not renewed within 2s" }),
    });
    // The elector keeps trying, quietly, without throwing.
    const tries = logs.length;
    await waitFor(() => logs.length > tries + 2, "it keeps trying");
    expect(logs.slice(tries).map((line) => line.level)).toEqual(
      logs.slice(tries).map(() => "debug"),
    );
  });

  it("says what is missing when the Role does not allow it, and leads once it does", async () => {
    api().injectFault({
      path: leasePath,
      status: 403,
      times: Number.POSITIVE_INFINITY,
      message: `leases.coordination.k8s.io "${leaseName}" is forbidden: User "system:serviceaccount:${namespace}:pr-autoscaler" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "${namespace}"`,
    });
    const a = elector("replica-a");
    await waitFor(() => logs.some((line) => line.level === "error"), "a failure is logged");
    expect(logs.find((line) => line.level === "error")).toEqual({
      level: "error",
      message: "could not read or acquire the Lease; trying again",
      fields: {
        lease: `${namespace}/${leaseName}`,
        identity: "replica-a",
        leader: false,
        err: `GET ${leasePath}: HTTP 403 Forbidden: leases.coordination.k8s.io "${leaseName}" is forbidden: User "system:serviceaccount:${namespace}:pr-autoscaler" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "${namespace}" (the ServiceAccount needs get, create and update on this Lease: deploy/base/role.yaml)`,
      },
    });
    expect(a.isLeader()).toBe(false);
    api().clearFaults();
    await waitFor(() => a.isLeader(), "replica-a leads");
    expect(logs).toContainEqual(
      expect.objectContaining({ message: "the Lease can be read and written again" }),
    );
  });
});

describe("replicas that write at the same moment", () => {
  beforeEach(startFake);

  /**
   * Stores whose first reads wait for each other, so that both replicas write having read the
   * same Lease (or no Lease), and record what their writes got.
   */
  function racingStores(count: number) {
    const outcomes: string[] = [];
    let waiting: (() => void)[] = [];
    let raced = false;
    const stores = Array.from({ length: count }, (_, index) => {
      const real = store();
      const racing: LeaseStore = {
        description: real.description,
        async get() {
          const found = await real.get();
          if (raced) return found;
          await new Promise<void>((resolve) => {
            waiting.push(resolve);
            if (waiting.length === count) {
              raced = true;
              for (const release of waiting) release();
              waiting = [];
            }
          });
          return found;
        },
        async create(record) {
          const created = await real.create(record);
          outcomes.push(`${index}: create ${created ? "won" : "lost"}`);
          return created;
        },
        async update(current, record) {
          const updated = await real.update(current, record);
          outcomes.push(`${index}: update ${updated ? "won" : "lost"}`);
          return updated;
        },
        close: () => real.close(),
      };
      return racing;
    });
    return { stores, outcomes };
  }

  it("creating the Lease: one wins, the other gets AlreadyExists and follows", async () => {
    const { stores, outcomes } = racingStores(2);
    const [one, two] = stores as [LeaseStore, LeaseStore];
    const a = elector("replica-a", steady, one);
    const b = elector("replica-b", steady, two);
    await waitFor(() => outcomes.length >= 2, "both wrote");
    const creates = outcomes.filter((o) => o.includes("create"));
    expect(creates.map((o) => o.slice(3)).sort()).toEqual(["create lost", "create won"]);
    await waitFor(() => leaders.size === 1, "one leads");
    const winner = creates.find((o) => o.endsWith("won"))?.startsWith("0") ? a : b;
    expect(winner.isLeader()).toBe(true);
    expect(violations).toEqual([]);
  });

  it("taking over a released Lease: one update wins, the other gets 409 Conflict", async () => {
    api().put("leases", {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: leaseName, namespace },
      spec: {
        holderIdentity: "",
        leaseDurationSeconds: 1,
        acquireTime: microTime(Date.now()),
        renewTime: microTime(Date.now()),
        leaseTransitions: 4,
      },
    });
    const { stores, outcomes } = racingStores(2);
    const [one, two] = stores as [LeaseStore, LeaseStore];
    const a = elector("replica-a", steady, one);
    const b = elector("replica-b", steady, two);
    await waitFor(() => outcomes.length >= 2, "both wrote");
    expect(
      outcomes
        .slice(0, 2)
        .map((o) => o.slice(3))
        .sort(),
    ).toEqual(["update lost", "update won"]);
    await waitFor(() => leaders.size === 1, "one leads");
    const winner = outcomes.find((o) => o.endsWith("won"))?.startsWith("0") ? a : b;
    expect(winner.isLeader()).toBe(true);
    expect(lease()).toMatchObject({ holderIdentity: [...leaders][0], leaseTransitions: 5 });
    expect(violations).toEqual([]);
  });
});

describe("the fake API server's Leases", () => {
  beforeEach(startFake);

  it("create once, then update only at the resourceVersion read", async () => {
    const leases = store();
    expect(await leases.get()).toBeUndefined();
    const record = {
      holderIdentity: "x",
      leaseDurationSeconds: 15,
      acquireTime: microTime(0),
      renewTime: microTime(0),
      leaseTransitions: 0,
    };
    const created = await leases.create(record);
    expect(created?.record).toEqual(record);
    expect(await leases.create(record)).toBeUndefined();
    const read = (await leases.get()) as NonNullable<typeof created>;
    const renewed = await leases.update(read, { ...record, renewTime: microTime(1) });
    expect(renewed?.record.renewTime).toBe("1970-01-01T00:00:00.001000Z");
    expect(Number(renewed?.resourceVersion)).toBeGreaterThan(Number(read.resourceVersion));
    expect(await leases.update(read, record)).toBeUndefined();
    leases.close();
  });
});

describe("createLeaderElector", () => {
  it("refuses a renew deadline that is not shorter than the lease", () => {
    const options = { store: {} as LeaseStore, identity: "a", log: recordingLog([]) };
    expect(() =>
      createLeaderElector({ ...options, leaseDurationSeconds: 1, renewDeadlineMs: 1000 }),
    ).toThrow("the renew deadline must be shorter than the lease duration");
    expect(() =>
      createLeaderElector({ ...options, renewDeadlineMs: 1000, retryPeriodMs: 1000 }),
    ).toThrow("the retry period must be shorter than the renew deadline");
  });

  it("writes MicroTime with microseconds", () => {
    expect(microTime(Date.UTC(2025, 0, 12, 8, 30, 15, 42))).toBe("2025-01-12T08:30:15.042000Z");
  });
});
