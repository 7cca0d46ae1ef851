import { describe, expect, it } from "@jest/globals";
import { parseNowOption } from "../../src/cli/now-option.ts";
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
});
