import { describe, expect, it } from "@jest/globals";
import { parsePrometheusFloat } from "../../src/cluster/prometheus-client.ts";

describe("parsePrometheusFloat", () => {
  it.each([
    ["1", 1],
    ["0.25", 0.25],
    ["-3", -3],
    ["1e3", 1000],
    ["1.5E-3", 0.0015],
    [".5", 0.5],
    ["+Inf", Number.POSITIVE_INFINITY],
    ["-Inf", Number.NEGATIVE_INFINITY],
  ])("reads %j as %d", (raw, value) => {
    expect(parsePrometheusFloat(raw)).toBe(value);
  });

  it.each(["NaN", "0x0", "0x10", "", " 1", "1 ", "0b1", "1_000", "Infinity", "abc"])(
    "reads %j as NaN, so the value is unknown rather than a number",
    (raw) => {
      expect(parsePrometheusFloat(raw)).toBeNaN();
    },
  );
});
