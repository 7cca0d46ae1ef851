import { afterEach, describe, expect, it, jest } from "@jest/globals";
import { createScheduler } from "../../src/app/scheduler.ts";
import type { TriggerReason } from "../../src/reconcile/reconcile-types.ts";

function deferred() {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** A scheduler whose runs wait until the test releases them. */
function harness() {
  const runs: { repository: string; reasons: TriggerReason[]; release: () => void }[] = [];
  const scheduler = createScheduler({
    repositories: () => ["a/one", "a/two"],
    intervalMs: 60_000,
    run: async (repository, reasons) => {
      const gate = deferred();
      runs.push({ repository, reasons, release: gate.resolve });
      await gate.promise;
    },
  });
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { scheduler, runs, settle };
}

describe("createScheduler", () => {
  it("runs one reconcile per repository at a time and merges what arrives meanwhile into one", async () => {
    const { scheduler, runs, settle } = harness();
    scheduler.trigger("a/one", "push");
    scheduler.trigger("a/one", "comment");
    scheduler.trigger("a/one", "checks");
    scheduler.trigger("a/one", "comment");
    expect(runs.map((run) => run.reasons)).toEqual([["push"]]);
    runs[0]?.release();
    await settle();
    expect(runs.map((run) => run.reasons)).toEqual([["push"], ["comment", "checks"]]);
    runs[1]?.release();
    await scheduler.idle();
    expect(runs).toHaveLength(2);
  });

  it("runs different repositories side by side", () => {
    const { scheduler, runs } = harness();
    scheduler.trigger("a/one", "push");
    scheduler.trigger("a/two", "push");
    expect(runs.map((run) => run.repository)).toEqual(["a/one", "a/two"]);
    for (const run of runs) run.release();
  });

  it("starts with every repository, and after stop takes no more triggers", async () => {
    const { scheduler, runs } = harness();
    scheduler.start();
    expect(runs.map((run) => [run.repository, run.reasons])).toEqual([
      ["a/one", ["start"]],
      ["a/two", ["start"]],
    ]);
    const stopped = scheduler.stop();
    for (const run of runs) run.release();
    await stopped;
    scheduler.trigger("a/one", "push");
    expect(runs).toHaveLength(2);
  });

  describe("pausing the timer (a replica that stopped leading)", () => {
    afterEach(() => {
      jest.useRealTimers();
    });

    /** Releases every run so far and lets their follow-ups start. */
    async function releaseAll(runs: { release: () => void }[]) {
      for (const run of runs) run.release();
      await Promise.resolve();
      await Promise.resolve();
    }

    it("stops the timer without stopping triggers, and starts afresh on start", async () => {
      jest.useFakeTimers();
      const runs: { repository: string; reasons: TriggerReason[]; release: () => void }[] = [];
      const scheduler = createScheduler({
        repositories: () => ["a/one"],
        intervalMs: 60_000,
        jitter: 0,
        run: async (repository, reasons) => {
          const gate = deferred();
          runs.push({ repository, reasons, release: gate.resolve });
          await gate.promise;
        },
      });
      const reasons = () => runs.map((run) => run.reasons.join(","));
      scheduler.start();
      scheduler.start();
      expect(reasons()).toEqual(["start"]);
      expect(scheduler.timerRunning()).toBe(true);
      await releaseAll(runs);
      jest.advanceTimersByTime(60_000);
      expect(reasons()).toEqual(["start", "timer"]);
      await releaseAll(runs);

      scheduler.pause();
      expect(scheduler.timerRunning()).toBe(false);
      jest.advanceTimersByTime(10 * 60_000);
      expect(reasons()).toEqual(["start", "timer"]);
      scheduler.trigger("a/one", "push");
      expect(reasons()).toEqual(["start", "timer", "push"]);
      await releaseAll(runs);

      scheduler.start();
      expect(reasons()).toEqual(["start", "timer", "push", "start"]);
      await releaseAll(runs);
      jest.advanceTimersByTime(60_000);
      expect(reasons()).toEqual(["start", "timer", "push", "start", "timer"]);
      await releaseAll(runs);
      await scheduler.stop();
      expect(scheduler.timerRunning()).toBe(false);
      scheduler.start();
      jest.advanceTimersByTime(10 * 60_000);
      expect(reasons()).toHaveLength(5);
    });
  });

  describe("a repository GitHub asked to leave alone until a time (notBefore)", () => {
    afterEach(() => {
      jest.useRealTimers();
    });

    function held(until: { at: number | undefined }) {
      const runs: TriggerReason[][] = [];
      const deferred: [string, number, readonly TriggerReason[]][] = [];
      const scheduler = createScheduler({
        repositories: () => ["a/one"],
        intervalMs: 60_000,
        jitter: 0,
        now: () => Date.now(),
        notBefore: (repository) => (repository === "a/one" ? until.at : undefined),
        onDeferred: (repository, at, reasons) => deferred.push([repository, at, reasons]),
        run: async (_repository, reasons) => {
          runs.push(reasons);
        },
      });
      return { scheduler, runs, deferred };
    }

    it("puts triggers off until then, merged into one run, and idle() does not wait for it", async () => {
      jest.useFakeTimers({ now: Date.parse("2025-03-01T12:00:00Z") });
      const until = { at: Date.now() + 60_000 };
      const { scheduler, runs, deferred } = held(until);
      scheduler.trigger("a/one", "push");
      scheduler.trigger("a/one", "comment");
      scheduler.trigger("a/one", "push");
      await scheduler.idle();
      expect(runs).toEqual([]);
      expect(deferred).toEqual([["a/one", until.at, ["push"]]]);
      jest.advanceTimersByTime(59_999);
      expect(runs).toEqual([]);
      jest.advanceTimersByTime(1);
      await scheduler.idle();
      expect(runs).toEqual([["push", "comment"]]);
    });

    it("looks again when the time comes: a later time puts the run off again", async () => {
      jest.useFakeTimers({ now: Date.parse("2025-03-01T12:00:00Z") });
      const until: { at: number | undefined } = { at: Date.now() + 60_000 };
      const { scheduler, runs } = held(until);
      scheduler.trigger("a/one", "checks");
      until.at = Date.now() + 5 * 60_000;
      jest.advanceTimersByTime(60_000);
      expect(runs).toEqual([]);
      jest.advanceTimersByTime(4 * 60_000);
      await scheduler.idle();
      expect(runs).toEqual([["checks"]]);
      until.at = undefined;
      scheduler.trigger("a/one", "push");
      await scheduler.idle();
      expect(runs).toEqual([["checks"], ["push"]]);
    });

    it("puts off the follow-up of a run that ended under a new hold, and the timer's runs", async () => {
      jest.useFakeTimers({ now: Date.parse("2025-03-01T12:00:00Z") });
      const until: { at: number | undefined } = { at: undefined };
      const runs: TriggerReason[][] = [];
      const scheduler = createScheduler({
        repositories: () => ["a/one"],
        intervalMs: 90_000,
        jitter: 0,
        notBefore: () => until.at,
        run: async (_repository, reasons) => {
          runs.push(reasons);
          // The run met a rate limit: quiet for ten minutes.
          until.at ??= Date.now() + 10 * 60_000;
        },
      });
      scheduler.start();
      scheduler.trigger("a/one", "push");
      await scheduler.idle();
      expect(runs).toEqual([["start"]]);
      jest.advanceTimersByTime(9 * 60_000);
      await scheduler.idle();
      expect(runs).toEqual([["start"]]);
      jest.advanceTimersByTime(60_000);
      await scheduler.idle();
      expect(runs).toEqual([["start"], ["push", "timer"]]);
      await scheduler.stop();
    });

    it("drops a put-off run on stop", async () => {
      jest.useFakeTimers({ now: Date.parse("2025-03-01T12:00:00Z") });
      const { scheduler, runs } = held({ at: Date.now() + 60_000 });
      scheduler.trigger("a/one", "push");
      await scheduler.stop();
      jest.advanceTimersByTime(10 * 60_000);
      expect(runs).toEqual([]);
      expect(jest.getTimerCount()).toBe(0);
    });
  });

  it("keeps going after a run fails", async () => {
    let calls = 0;
    const scheduler = createScheduler({
      repositories: () => [],
      intervalMs: 60_000,
      run: async () => {
        calls++;
        throw new Error("GitHub is down");
      },
    });
    scheduler.trigger("a/one", "push");
    await scheduler.idle();
    scheduler.trigger("a/one", "push");
    await scheduler.idle();
    expect(calls).toBe(2);
  });
});
