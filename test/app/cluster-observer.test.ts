/**
 * The cluster read every reconcile of one process shares: usage is read over the longest window
 * any reconcile has asked for, and a reconcile asking for more than the shared read was made
 * over gets a read over its window rather than a shorter one.
 */
import { describe, expect, it } from "@jest/globals";
import { createClusterObserver } from "../../src/app/cluster-observer.ts";
import type { Snapshot } from "../../src/planning/snapshot.ts";
import { cluster } from "../reconcile/support/infra.ts";

/** An observer whose reads are recorded by the window they were asked for. */
function observer() {
  const windows: number[] = [];
  let release: (() => void) | undefined;
  let hold = false;
  const observe = createClusterObserver({
    maxAgeMs: 20_000,
    now: () => 0,
    read: async (usageWindowSeconds): Promise<Snapshot> => {
      windows.push(usageWindowSeconds);
      if (hold) await new Promise<void>((resolve) => (release = resolve));
      return cluster();
    },
  });
  return {
    observe,
    windows,
    holdReads: () => (hold = true),
    release: () => {
      hold = false;
      release?.();
    },
  };
}

describe("createClusterObserver: the usage window asked for", () => {
  it("shares a read while fresh with reconciles asking for no longer a window", async () => {
    const { observe, windows } = observer();
    const first = await observe({ usageWindowSeconds: 1800 });
    expect(await observe({ usageWindowSeconds: 600 })).toBe(first);
    expect(await observe()).toBe(first);
    expect(windows).toEqual([1800]);
  });

  it("reads again over a longer window asked for, and keeps asking for the longest", async () => {
    const { observe, windows } = observer();
    const short = await observe({ usageWindowSeconds: 600 });
    const long = await observe({ usageWindowSeconds: 1800 });
    expect(long).not.toBe(short);
    expect(await observe({ usageWindowSeconds: 600 })).toBe(long);
    expect(windows).toEqual([600, 1800]);
  });

  it("waits for a read under way over a shorter window, then reads over the longer one", async () => {
    const { observe, windows, holdReads, release } = observer();
    holdReads();
    const short = observe({ usageWindowSeconds: 600 });
    const sharing = observe({ usageWindowSeconds: 300 });
    const long = observe({ usageWindowSeconds: 1800 });
    release();
    const [a, b, c] = await Promise.all([short, sharing, long]);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(windows).toEqual([600, 1800]);
  });
});
