import { describe, expect, it } from "@jest/globals";
import { scheduleStates } from "../../src/planning/schedules.ts";
import { ScheduleConfig } from "../../src/policy/repo-config.ts";
import { buildSnapshot, nodes } from "../support/snapshot-builder.ts";
import { planOne } from "./plan-helpers.ts";

function schedule(cron: string, timezone: string, duration: string, min = 4) {
  return ScheduleConfig.parse({ name: "window", cron, timezone, duration, min });
}

function stateAt(config: ReturnType<typeof schedule>, at: string) {
  const [state] = scheduleStates([config], new Date(at));
  if (!state) throw new Error("no state");
  return state;
}

describe("scheduleStates", () => {
  const fridayBerlin = schedule("0 18 * * 5", "Europe/Berlin", "6h");

  it("reads cron times in the schedule's time zone, summer time", () => {
    // 2025-06-06 is a Friday; 18:00 in Berlin (CEST) is 16:00 UTC.
    expect(stateAt(fridayBerlin, "2025-06-06T15:59:00Z")).toMatchObject({
      active: false,
      nextStart: "2025-06-06T16:00:00.000Z",
    });
    expect(stateAt(fridayBerlin, "2025-06-06T17:00:00Z")).toMatchObject({
      active: true,
      startedAt: "2025-06-06T16:00:00.000Z",
      endsAt: "2025-06-06T22:00:00.000Z",
      min: 4,
    });
    expect(stateAt(fridayBerlin, "2025-06-06T22:00:00Z").active).toBe(false);
  });

  it("follows the wall clock into winter time", () => {
    // 2025-01-10 is a Friday; 18:00 in Berlin (CET) is 17:00 UTC.
    expect(stateAt(fridayBerlin, "2025-01-10T16:30:00Z").active).toBe(false);
    expect(stateAt(fridayBerlin, "2025-01-10T17:00:00Z")).toMatchObject({
      active: true,
      startedAt: "2025-01-10T17:00:00.000Z",
    });
  });

  it("reads another zone on its own clock, across UTC midnight", () => {
    const fridayNewYork = schedule("0 18 * * 5", "America/New_York", "6h");
    // 18:00 EDT is 22:00 UTC; the window runs into Saturday in UTC.
    expect(stateAt(fridayNewYork, "2025-06-07T01:00:00Z")).toMatchObject({
      active: true,
      startedAt: "2025-06-06T22:00:00.000Z",
      endsAt: "2025-06-07T04:00:00.000Z",
    });
    expect(stateAt(fridayNewYork, "2025-06-06T17:00:00Z").active).toBe(false);
  });

  it("runs a start that falls in the skipped hour at the first time after it", () => {
    // 2025-03-30 02:30 does not exist in Berlin: clocks go from 02:00 to 03:00 CEST (01:00 UTC).
    const sunday = schedule("30 2 * * 0", "Europe/Berlin", "1h");
    expect(stateAt(sunday, "2025-03-30T00:59:00Z").active).toBe(false);
    expect(stateAt(sunday, "2025-03-30T01:30:00Z")).toMatchObject({
      active: true,
      startedAt: "2025-03-30T01:00:00.000Z",
      endsAt: "2025-03-30T02:00:00.000Z",
    });
  });

  it("starts once when the start time occurs twice", () => {
    // 2025-10-26 02:30 happens at 00:30 UTC (CEST) and again at 01:30 UTC (CET).
    const sunday = schedule("30 2 * * 0", "Europe/Berlin", "30m");
    expect(stateAt(sunday, "2025-10-26T00:45:00Z").active).toBe(true);
    expect(stateAt(sunday, "2025-10-26T01:45:00Z").active).toBe(false);
  });

  it("treats fixed hours given as a list like a single hour across DST, as classic cron does", () => {
    // 2027-03-28: 02:00 does not exist in Berlin; the 02:00 start happens at 03:00 CEST (01:00 UTC).
    const twice = schedule("0 2,14 * * *", "Europe/Berlin", "1h");
    expect(stateAt(twice, "2027-03-28T01:10:00Z")).toMatchObject({
      active: true,
      startedAt: "2027-03-28T01:00:00.000Z",
      endsAt: "2027-03-28T02:00:00.000Z",
    });
    // 2026-10-25: 02:30 happens twice; the window opens at the first only.
    const halves = schedule("0,30 2 * * *", "Europe/Berlin", "10m");
    expect(stateAt(halves, "2026-10-25T00:35:00Z").active).toBe(true);
    expect(stateAt(halves, "2026-10-25T01:35:00Z").active).toBe(false);
  });

  it("lets a pattern with a step follow the clock: no start in the skipped hour", () => {
    const stepped = schedule("*/30 2 * * *", "Europe/Berlin", "10m");
    expect(stateAt(stepped, "2027-03-28T01:05:00Z").active).toBe(false);
    expect(stateAt(stepped, "2027-03-27T01:05:00Z").active).toBe(true);
  });

  it("ends a window chained over many starts a duration after the latest one", () => {
    const everyMinute = schedule("* * * * *", "Europe/Berlin", "30d");
    expect(stateAt(everyMinute, "2026-11-27T17:30:00Z")).toMatchObject({
      active: true,
      endsAt: "2026-12-27T17:30:00.000Z",
      nextStart: "2026-11-27T17:31:00.000Z",
    });
  });

  it("counts the duration in elapsed time across a DST change", () => {
    // Saturday 23:00 CET = 22:00 UTC; six hours later is 04:00 UTC, 06:00 CEST on the wall clock.
    const overnight = schedule("0 23 * * 6", "Europe/Berlin", "6h");
    expect(stateAt(overnight, "2025-03-30T03:59:00Z").active).toBe(true);
    expect(stateAt(overnight, "2025-03-30T04:00:00Z").active).toBe(false);
  });

  it("keeps a window open while starts follow each other within the duration", () => {
    const hourly = schedule("0 * * * *", "UTC", "2h");
    expect(stateAt(hourly, "2025-06-06T12:30:00Z")).toMatchObject({
      active: true,
      startedAt: "2025-06-06T11:00:00.000Z",
      endsAt: "2025-06-06T14:00:00.000Z",
    });
  });
});

describe("scheduleStates with the same expression in several zones", () => {
  it("reads each zone on its own clock, however often asked", () => {
    const berlin = schedule("0 18 * * 5", "Europe/Berlin", "1h");
    const utc = schedule("0 18 * * 5", "UTC", "1h");
    for (let round = 0; round < 3; round++) {
      const [inBerlin, inUtc] = scheduleStates([berlin, utc], new Date("2025-06-06T16:30:00Z"));
      expect(inBerlin).toMatchObject({ active: true, startedAt: "2025-06-06T16:00:00.000Z" });
      expect(inUtc).toMatchObject({ active: false, nextStart: "2025-06-06T18:00:00.000Z" });
    }
  });

  it("reads the names of UTC alike", () => {
    const at = new Date("2025-06-06T18:10:00Z");
    for (const zone of ["UTC", "Etc/UTC", "GMT", "Etc/GMT"])
      expect(stateAt(schedule("0 18 * * 5", zone, "1h"), at.toISOString())).toMatchObject({
        active: true,
        startedAt: "2025-06-06T18:00:00.000Z",
        endsAt: "2025-06-06T19:00:00.000Z",
        nextStart: "2025-06-13T18:00:00.000Z",
      });
  });
});

describe("schedules in the plan", () => {
  const friday = [
    {
      name: "friday-evening",
      cron: "0 18 * * 5",
      timezone: "Europe/Berlin",
      duration: "6h",
      min: 4,
    },
  ];
  const snapshot = buildSnapshot({ nodes: nodes(2, { usage: { cpu: "2", memory: "8Gi" } }) });

  it("raises the min while a window is active, before the load comes", () => {
    const decision = planOne(
      snapshot,
      { schedules: friday },
      { now: new Date("2025-06-06T16:05:00Z") },
    );
    expect(decision).toMatchObject({ action: "scale-up", current: 2, desired: 4 });
    expect(decision.triggers).toEqual([
      { kind: "below-min", current: 2, min: 4, schedule: "friday-evening" },
    ]);
    expect(decision.bounds.effectiveMin).toBe(4);
  });

  it("leaves the min alone outside the window", () => {
    const decision = planOne(
      snapshot,
      { schedules: friday },
      { now: new Date("2025-06-06T15:55:00Z") },
    );
    expect(decision.action).toBe("none");
    expect(decision.bounds.schedules[0]).toMatchObject({
      active: false,
      nextStart: "2025-06-06T16:00:00.000Z",
    });
  });

  it("does not scale below the schedule's min while the window lasts", () => {
    const quiet = buildSnapshot({ nodes: nodes(4, { usage: { cpu: "400m", memory: "2Gi" } }) });
    const during = planOne(quiet, { schedules: friday }, { now: new Date("2025-06-06T18:00:00Z") });
    expect(during.action).toBe("none");
    const after = planOne(quiet, { schedules: friday }, { now: new Date("2025-06-06T22:30:00Z") });
    expect(after.action).toBe("scale-down");
  });
});
