import { describe, expect, it } from "@jest/globals";
import { capResetsAt, type MergeRecord, mergesToday } from "../../src/merge/daily-cap.ts";
import {
  firstOpenMoment,
  windowContains,
  windowEnd,
  windowNextStart,
} from "../../src/merge/policy-windows.ts";
import { formatLocal, instantAt, startOfNextDay } from "../../src/merge/zoned-time.ts";
import type { PolicyWindow } from "../../src/policy/automerge-policy.ts";

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function weekly(days: number[], start: string, end: string, timezone: string): PolicyWindow {
  const minutes = (hhmm: string) => {
    const [h, m] = hhmm.split(":").map(Number);
    return (h ?? 0) * 60 + (m ?? 0);
  };
  return {
    type: "weekly",
    name: undefined,
    days,
    start: minutes(start),
    end: minutes(end),
    timezone,
  };
}

const MON_FRI = [1, 2, 3, 4, 5];

describe("instantAt: wall-clock times in a time zone", () => {
  it("maps a time the clocks skip (Europe/Berlin, 30 March 2025, 02:00 → 03:00) to the jump", () => {
    const day = { year: 2025, month: 3, day: 30 };
    expect(iso(instantAt(day, 2 * 60 + 30, "Europe/Berlin"))).toBe("2025-03-30T01:00:00.000Z");
    expect(iso(instantAt(day, 3 * 60, "Europe/Berlin"))).toBe("2025-03-30T01:00:00.000Z");
    expect(iso(instantAt(day, 60 + 59, "Europe/Berlin"))).toBe("2025-03-30T00:59:00.000Z");
  });

  it("maps a time that happens twice (America/New_York, 2 November 2025) to the first", () => {
    const day = { year: 2025, month: 11, day: 2 };
    expect(iso(instantAt(day, 90, "America/New_York"))).toBe("2025-11-02T05:30:00.000Z");
    expect(iso(instantAt(day, 0, "America/New_York"))).toBe("2025-11-02T04:00:00.000Z");
    expect(iso(instantAt(day, 120, "America/New_York"))).toBe("2025-11-02T07:00:00.000Z");
    expect(iso(instantAt(day, 24 * 60, "America/New_York"))).toBe("2025-11-03T05:00:00.000Z");
  });

  it("finds the next local midnight across a 25-hour day", () => {
    expect(iso(startOfNextDay(t("2025-11-02T04:30:00Z"), "America/New_York"))).toBe(
      "2025-11-03T05:00:00.000Z",
    );
    expect(iso(startOfNextDay(t("2025-03-29T23:30:00Z"), "Europe/Berlin"))).toBe(
      "2025-03-30T22:00:00.000Z",
    );
  });

  it("formats times for people in the policy's zone", () => {
    expect(formatLocal(t("2025-03-28T18:00:00Z"), "Europe/Berlin")).toBe(
      "Fri 2025-03-28 19:00 GMT+1",
    );
    expect(formatLocal(t("2025-11-02T06:30:00Z"), "America/New_York")).toBe(
      "Sun 2025-11-02 01:30 EST",
    );
  });
});

describe("weekly windows", () => {
  const office = weekly(MON_FRI, "09:00", "17:00", "Europe/Berlin");

  it("follows the wall clock across the spring-forward weekend in Europe/Berlin", () => {
    // Friday before the change: 09:00 CET is 08:00 UTC.
    expect(windowContains(office, t("2025-03-28T07:30:00Z"))).toBe(false);
    expect(iso(windowNextStart(office, t("2025-03-28T07:30:00Z")))).toBe(
      "2025-03-28T08:00:00.000Z",
    );
    expect(windowContains(office, t("2025-03-28T15:59:00Z"))).toBe(true);
    expect(iso(windowEnd(office, t("2025-03-28T15:59:00Z")))).toBe("2025-03-28T16:00:00.000Z");
    // Monday after: 09:00 CEST is 07:00 UTC.
    expect(windowContains(office, t("2025-03-31T06:30:00Z"))).toBe(false);
    expect(windowContains(office, t("2025-03-31T07:00:00Z"))).toBe(true);
    // Saturday: the next opening is Monday, after the change.
    expect(iso(windowNextStart(office, t("2025-03-29T10:00:00Z")))).toBe(
      "2025-03-31T07:00:00.000Z",
    );
  });

  it("is two real hours long when 01:00-04:00 spans the skipped hour", () => {
    const night = weekly([0, 1, 2, 3, 4, 5, 6], "01:00", "04:00", "Europe/Berlin");
    expect(windowContains(night, t("2025-03-29T23:59:00Z"))).toBe(false);
    expect(windowContains(night, t("2025-03-30T00:00:00Z"))).toBe(true);
    expect(iso(windowEnd(night, t("2025-03-30T01:30:00Z")))).toBe("2025-03-30T02:00:00.000Z");
    expect(windowContains(night, t("2025-03-30T02:00:00Z"))).toBe(false);
  });

  it("is empty on the day its hours fall inside the skipped hour, and opens the next week", () => {
    const skipped = weekly([0], "02:15", "02:45", "Europe/Berlin");
    expect(windowContains(skipped, t("2025-03-30T01:00:00Z"))).toBe(false);
    expect(iso(firstOpenMoment([skipped], [], t("2025-03-29T12:00:00Z")))).toBe(
      "2025-04-06T00:15:00.000Z",
    );
  });

  it("covers the repeated hour when the clocks go back (America/New_York)", () => {
    const early = weekly([0], "00:00", "02:00", "America/New_York");
    // 01:30 EST, the second 01:30 of the night.
    expect(windowContains(early, t("2025-11-02T06:30:00Z"))).toBe(true);
    expect(iso(windowEnd(early, t("2025-11-02T06:30:00Z")))).toBe("2025-11-02T07:00:00.000Z");
    expect(windowContains(early, t("2025-11-02T07:00:00Z"))).toBe(false);
  });

  it("runs hours past midnight into the next day, belonging to the day they start", () => {
    const late = weekly([5], "22:00", "06:00", "UTC");
    expect(windowContains(late, t("2025-03-28T23:00:00Z"))).toBe(true);
    expect(windowContains(late, t("2025-03-29T05:59:00Z"))).toBe(true);
    expect(windowContains(late, t("2025-03-29T06:00:00Z"))).toBe(false);
    // Thursday night is not Friday night.
    expect(windowContains(late, t("2025-03-28T03:00:00Z"))).toBe(false);
  });
});

describe("cron windows", () => {
  const movieNight: PolicyWindow = {
    type: "cron",
    name: "movie night",
    cron: "0 19 * * 5",
    durationMs: 4 * 3_600_000,
    timezone: "Europe/Berlin",
  };

  it("starts at 19:00 local time on Fridays before and after the change to summer time", () => {
    expect(windowContains(movieNight, t("2025-03-28T17:59:00Z"))).toBe(false);
    expect(windowContains(movieNight, t("2025-03-28T21:30:00Z"))).toBe(true);
    expect(iso(windowEnd(movieNight, t("2025-03-28T21:30:00Z")))).toBe("2025-03-28T22:00:00.000Z");
    expect(windowContains(movieNight, t("2025-04-04T17:00:00Z"))).toBe(true);
    expect(iso(windowEnd(movieNight, t("2025-04-04T20:30:00Z")))).toBe("2025-04-04T21:00:00.000Z");
    expect(windowContains(movieNight, t("2025-04-04T21:30:00Z"))).toBe(false);
  });

  it("opens at 09:00 local time on the day New York springs forward", () => {
    const morning: PolicyWindow = {
      type: "cron",
      name: undefined,
      cron: "0 9 * * *",
      durationMs: 3_600_000,
      timezone: "America/New_York",
    };
    expect(iso(firstOpenMoment([morning], [], t("2025-03-08T15:00:00Z")))).toBe(
      "2025-03-09T13:00:00.000Z",
    );
  });

  it("keeps a start in the skipped hour for fixed hours given as a list", () => {
    const nightly: PolicyWindow = {
      type: "cron",
      name: undefined,
      cron: "30 2,14 * * *",
      durationMs: 3_600_000,
      timezone: "Europe/Berlin",
    };
    // 2025-03-30 02:30 does not exist in Berlin: the window opens at 03:00 CEST (01:00 UTC).
    expect(windowContains(nightly, t("2025-03-30T01:30:00Z"))).toBe(true);
    expect(iso(windowEnd(nightly, t("2025-03-30T01:30:00Z")))).toBe("2025-03-30T02:00:00.000Z");
  });

  it("combines merge windows with no-merge windows", () => {
    const weekdays = weekly(MON_FRI, "08:00", "20:00", "Europe/Berlin");
    // 18:30 CET on Friday: open.
    expect(iso(firstOpenMoment([weekdays], [movieNight], t("2025-03-28T17:30:00Z")))).toBe(
      "2025-03-28T17:30:00.000Z",
    );
    // 19:30 CET: movie night until 23:00, then the weekend; Monday 08:00 CEST.
    expect(iso(firstOpenMoment([weekdays], [movieNight], t("2025-03-28T18:30:00Z")))).toBe(
      "2025-03-31T06:00:00.000Z",
    );
  });

  it("gives up on a window that never closes", () => {
    const always = weekly([0, 1, 2, 3, 4, 5, 6], "00:00", "24:00", "UTC");
    expect(firstOpenMoment([], [always], t("2025-03-28T12:00:00Z"))).toBeUndefined();
  });
});

describe("daily caps count merges on the policy's calendar day", () => {
  const records: MergeRecord[] = [
    { kind: "nodes", mergedAt: "2025-11-02T03:30:00Z" }, // 1 Nov, 23:30 EDT
    { kind: "nodes", mergedAt: "2025-11-02T05:30:00Z" }, // 2 Nov, 01:30 EDT
    { kind: "nodes", mergedAt: "2025-11-02T06:30:00Z" }, // 2 Nov, 01:30 EST
    { kind: "resources", mergedAt: "2025-11-02T07:00:00Z" },
    { kind: undefined, mergedAt: "2025-11-02T08:00:00Z" },
    { kind: "nodes", mergedAt: "2025-11-02T13:00:00Z" }, // after now
  ];
  const now = new Date("2025-11-02T12:00:00Z");

  it("counts by kind, with merges of unknown kind counting for every kind", () => {
    expect(mergesToday(records, "nodes", now, "America/New_York")).toBe(3);
    expect(mergesToday(records, "resources", now, "America/New_York")).toBe(2);
    // In UTC, 03:30Z is the same day too.
    expect(mergesToday(records, "nodes", now, "UTC")).toBe(4);
  });

  it("starts again at the next local midnight", () => {
    expect(capResetsAt(now, "America/New_York").toISOString()).toBe("2025-11-03T05:00:00.000Z");
  });
});
