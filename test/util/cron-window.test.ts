import { describe, expect, it } from "@jest/globals";
import { cronOccurrenceAt, cronSchedule } from "../../src/util/cron-window.ts";

const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);

describe("cronOccurrenceAt", () => {
  const daily18 = cronSchedule("0 18 * * *", "Europe/Berlin");

  it("covers (start, start + duration]: open at its start, closed at its end", () => {
    const start = at("2026-11-20T17:00:00Z"); // 18:00 in Berlin (UTC+1)
    expect(cronOccurrenceAt(daily18, 6 * HOUR, start - 1)).toBeUndefined();
    expect(cronOccurrenceAt(daily18, 6 * HOUR, start)).toEqual({
      start,
      end: start + 6 * HOUR,
    });
    expect(cronOccurrenceAt(daily18, 6 * HOUR, start + 6 * HOUR - 1)?.start).toBe(start);
    expect(cronOccurrenceAt(daily18, 6 * HOUR, start + 6 * HOUR)).toBeUndefined();
  });

  it("chains overlapping windows into one that ends a duration after the latest start", () => {
    const first = at("2026-11-20T17:00:00Z");
    const t = at("2026-11-21T18:00:00Z"); // the next day's start was an hour ago
    expect(cronOccurrenceAt(daily18, 30 * HOUR, t)).toEqual({
      start: first,
      end: at("2026-11-21T17:00:00Z") + 30 * HOUR,
    });
  });

  it("follows the wall clock of its time zone across a DST change", () => {
    // Berlin leaves summer time on 2026-10-25: 18:00 is 16:00 UTC before and 17:00 UTC after.
    expect(cronOccurrenceAt(daily18, HOUR, at("2026-10-24T16:30:00Z"))?.start).toBe(
      at("2026-10-24T16:00:00Z"),
    );
    expect(cronOccurrenceAt(daily18, HOUR, at("2026-10-25T17:30:00Z"))?.start).toBe(
      at("2026-10-25T17:00:00Z"),
    );
    expect(cronOccurrenceAt(daily18, HOUR, at("2026-10-25T16:30:00Z"))).toBeUndefined();
  });
});

describe("cronSchedule", () => {
  it("gives one parsed schedule per expression and zone", () => {
    expect(cronSchedule("0 18 * * 5", "UTC")).toBe(cronSchedule("0 18 * * 5", "UTC"));
    expect(cronSchedule("0 18 * * 5", "UTC")).not.toBe(cronSchedule("0 18 * * 5", "Etc/GMT-1"));
  });

  it("reads UTC and its aliases alike", () => {
    const t = new Date("2026-11-20T12:00:00Z");
    expect(cronSchedule("30 18 * * *", "Etc/UTC").nextRun(t)?.toISOString()).toBe(
      "2026-11-20T18:30:00.000Z",
    );
  });
});
