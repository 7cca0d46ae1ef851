import { describe, expect, it } from "@jest/globals";
import { utcTime, utcTimeOf } from "../../src/util/utc-time.ts";

describe("utcTime", () => {
  it("writes a time to the minute, in UTC, when its seconds are :00", () => {
    expect(utcTime("2026-11-22T10:03:00.000Z")).toBe("2026-11-22 10:03 UTC");
    expect(utcTime("2026-11-20T18:02Z")).toBe("2026-11-20 18:02 UTC");
  });

  it("keeps seconds that are not :00, and leaves out fractions of a second", () => {
    expect(utcTime("2026-11-20T18:02:07Z")).toBe("2026-11-20 18:02:07 UTC");
    expect(utcTime("2026-11-22T10:00:30.250Z")).toBe("2026-11-22 10:00:30 UTC");
  });

  it("returns what is not an ISO time in UTC as it is, and names a missing time", () => {
    expect(utcTime("2026-11-20T18:02:07+01:00")).toBe("2026-11-20T18:02:07+01:00");
    expect(utcTime("soon")).toBe("soon");
    expect(utcTime(undefined)).toBe("an unknown time");
  });

  it("writes a time given in ms since the epoch the same way", () => {
    expect(utcTimeOf(Date.parse("2025-06-06T11:50:00Z"))).toBe("2025-06-06 11:50 UTC");
  });
});
