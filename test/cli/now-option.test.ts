import { describe, expect, it } from "@jest/globals";
import { parseNowOption, userTime } from "../../src/cli/now-option.ts";
import { time } from "../../src/cluster/raw.ts";
import { UsageError } from "../../src/errors.ts";

describe("--now", () => {
  it("reads times with Z or an offset as the same instant", () => {
    for (const text of [
      "2026-11-29T21:30:00Z",
      "2026-11-29T22:30:00+01:00",
      "2026-11-29T16:30:00-05:00",
      "2026-11-29T21:30Z",
      "2026-11-29T21:30:00.000z",
    ])
      expect(parseNowOption(text).toISOString()).toBe("2026-11-29T21:30:00.000Z");
  });

  it("refuses a time without an offset, which would be read in the machine's own zone", () => {
    expect(() => parseNowOption("2026-11-29T21:30:00")).toThrow(UsageError);
    expect(() => parseNowOption("2026-11-29T21:30:00")).toThrow(/with its offset/);
  });

  it("refuses dates alone, words and impossible times", () => {
    for (const text of ["2026-11-29", "friday", "2026-13-40T25:00:00Z", ""])
      expect(() => parseNowOption(text)).toThrow(/--now expects an ISO 8601 time/);
  });

  it("refuses a day the month does not have, which would be read as a day of the next month", () => {
    for (const text of [
      "2026-02-29T10:00:00Z",
      "2026-02-30T10:00:00Z",
      "2026-04-31T10:00:00+02:00",
      "2026-11-00T10:00:00Z",
    ])
      expect(() => parseNowOption(text)).toThrow(/--now expects an ISO 8601 time/);
    // Leap years have a 29th of February: every fourth year, but not centuries not divisible by 400.
    expect(parseNowOption("2028-02-29T10:00:00Z").toISOString()).toBe("2028-02-29T10:00:00.000Z");
    expect(parseNowOption("2000-02-29T10:00:00Z").toISOString()).toBe("2000-02-29T10:00:00.000Z");
    expect(() => parseNowOption("2100-02-29T10:00:00Z")).toThrow(/--now expects/);
    expect(parseNowOption("2026-12-31T23:59:59Z").toISOString()).toBe("2026-12-31T23:59:59.000Z");
  });

  it("refuses hour 24, which would be read as midnight of the next day", () => {
    for (const text of [
      "2026-11-20T24:00:00Z",
      "2026-12-31T24:00:00.000+01:00",
      "2026-11-20 24:00:00Z",
    ])
      expect(() => parseNowOption(text)).toThrow(/--now expects an ISO 8601 time/);
    // The API's times are read by the same rule: hour 24 is unknown there too.
    expect(time("2026-11-20T24:00:00Z")).toBeUndefined();
    expect(time("2026-11-20T23:00:00Z")).toBe("2026-11-20T23:00:00Z");
    expect(parseNowOption("2026-11-21T00:00:00Z").toISOString()).toBe("2026-11-21T00:00:00.000Z");
  });
});

describe("--now with a space between the date and the time", () => {
  it("reads a single space as the T, as RFC 3339 and Python's str(datetime) write it", () => {
    for (const text of [
      "2026-11-29 21:30:00Z",
      "2026-11-29 21:30:00+00:00",
      "2026-11-29 22:30:00+01:00",
      "2026-11-29 21:30:00.000000+00:00",
    ])
      expect(parseNowOption(text).toISOString()).toBe("2026-11-29T21:30:00.000Z");
  });

  it("still refuses it without an offset, with two spaces, or on a day the month does not have", () => {
    for (const text of [
      "2026-11-29 21:30:00",
      "2026-11-29  21:30:00Z",
      " 2026-11-29 21:30:00Z",
      "2026-02-30 10:00:00Z",
    ])
      expect(() => parseNowOption(text)).toThrow(/--now expects an ISO 8601 time/);
  });

  it("leaves the API's times strict: the server always writes the T", () => {
    expect(userTime("2026-11-29 21:30:00Z")).toBe("2026-11-29T21:30:00Z");
    expect(time("2026-11-29 21:30:00Z")).toBeUndefined();
    expect(time("2026-11-29T21:30:00Z")).toBe("2026-11-29T21:30:00Z");
  });
});
