/**
 * Leader election against a Lease kept in memory, on a clock the test moves by hand: what a
 * step of the wall clock (NTP, a VM resumed after a pause) does to the renew deadline.
 */
import { describe, expect, it } from "@jest/globals";
import { type Clock, createLeaderElector } from "../../src/app/leader-election.ts";
import type { LeaseRecord, LeaseStore, StoredLease } from "../../src/app/lease-store.ts";

/** A clock whose wall time the test can step, and whose monotonic time only `advance` moves. */
class ManualClock implements Clock {
  wall = Date.UTC(2026, 0, 1);
  steady = 0;
  #timers = new Map<number, { at: number; callback: () => void }>();
  #next = 1;

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    return this.steady;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.steady + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Moves both clocks forward by `ms`, firing the timers due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const until = this.steady + ms;
    for (;;) {
      const due = [...this.#timers.entries()]
        .filter(([, timer]) => timer.at <= until)
        .sort(([, a], [, b]) => a.at - b.at)[0];
      if (!due) break;
      const [id, timer] = due;
      this.#timers.delete(id);
      this.wall += timer.at - this.steady;
      this.steady = timer.at;
      timer.callback();
      await settle();
    }
    this.wall += until - this.steady;
    this.steady = until;
    await settle();
  }
}

/** Lets promise chains (the store's answers, the elector's reactions) run to their end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** One Lease in memory; `failing` makes every request throw, `onGet` runs inside each read. */
class MemoryLeaseStore implements LeaseStore {
  readonly description = "test/lease";
  lease: StoredLease | undefined;
  failing = false;
  onGet: (() => void) | undefined;
  #version = 0;

  async get(): Promise<StoredLease | undefined> {
    this.onGet?.();
    if (this.failing) throw new Error("connect ECONNREFUSED 127.0.0.1:6443");
    return this.lease;
  }

  async create(record: LeaseRecord): Promise<StoredLease | undefined> {
    if (this.failing) throw new Error("connect ECONNREFUSED 127.0.0.1:6443");
    if (this.lease) return undefined;
    return this.#write(record);
  }

  async update(current: StoredLease, record: LeaseRecord): Promise<StoredLease | undefined> {
    if (this.failing) throw new Error("connect ECONNREFUSED 127.0.0.1:6443");
    if (this.lease?.resourceVersion !== current.resourceVersion) return undefined;
    return this.#write(record);
  }

  close(): void {}

  #write(record: LeaseRecord): StoredLease {
    this.#version++;
    this.lease = { record, resourceVersion: String(this.#version), object: {} };
    return this.lease;
  }
}

const silent = { info() {}, warn() {}, error() {}, debug() {} };

/** An elector `identity` on a manual clock and an in-memory Lease: 15 s lease, 10 s deadline. */
function electorOn(identity: string) {
  const clock = new ManualClock();
  const store = new MemoryLeaseStore();
  const elector = createLeaderElector({
    store,
    identity,
    log: silent,
    clock,
    random: () => 0,
    leaseDurationSeconds: 15,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
  });
  return { clock, store, elector };
}

describe("leader election and the wall clock", () => {
  it("a wall clock stepped back during a renewal does not stretch the renew deadline", async () => {
    const { clock, store, elector } = electorOn("a");
    elector.start();
    await clock.advance(0);
    expect(elector.isLeader()).toBe(true);

    // The next renewal succeeds, but the wall clock steps back a minute while it is under way;
    // from then on the API is unreachable.
    store.onGet = () => {
      clock.wall -= 60_000;
      store.onGet = undefined;
    };
    await clock.advance(2_000);
    expect(store.lease?.record.holderIdentity).toBe("a");
    store.failing = true;

    // The other replicas may take the Lease 15 s after its last renewal: the leader must have
    // stepped down by its 10 s renew deadline, not 10 s plus the minute the clock went back.
    await clock.advance(10_000);
    expect(elector.isLeader()).toBe(false);
    await elector.stop({ release: false });
  });

  it("a wall clock stepped forward does not make a renewed Lease look expired", async () => {
    const { clock, store, elector: follower } = electorOn("b");
    const time = "2026-01-01T00:00:00.000000Z";
    store.lease = {
      record: {
        holderIdentity: "a",
        leaseDurationSeconds: 15,
        acquireTime: time,
        renewTime: time,
        leaseTransitions: 0,
      },
      resourceVersion: "held-by-a",
      object: {},
    };
    follower.start();
    await clock.advance(0);
    expect(follower.holder()).toBe("a");
    // An hour's step of this node's wall clock, and the holder's last renewal only 2 s ago
    // (still the same record: it renews later than this follower looks).
    clock.wall += 3_600_000;
    await clock.advance(2_000);
    expect(follower.isLeader()).toBe(false);
    expect(store.lease?.record.holderIdentity).toBe("a");
    await follower.stop({ release: false });
  });
});
