import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { formatCompared, formatExtended, percentBeside } from "../../src/planning/format.ts";

/** The number a formatted percent shows. */
function shown(text: string): number {
  return Number(text.replace(/ %$/, ""));
}

describe("formatCompared", () => {
  it("prints as formatPercent does when that is on the right side", () => {
    expect(formatCompared(7.94, 30, "<")).toBe("7.9 %");
    expect(formatCompared(86.8, 90, "≥")).toBe("87 %");
    expect(formatCompared(80, 80, "≥")).toBe("80 %");
  });

  it("adds the decimals that keep the value on its side of the threshold", () => {
    expect(formatCompared(49.7, 50, "<")).toBe("49.7 %");
    expect(formatCompared(79.6, 80, "≥")).toBe("79.6 %");
    expect(formatCompared(80.3, 80, "≥")).toBe("80.3 %");
    expect(formatCompared(45.04, 45, ">")).toBe("45.04 %");
    expect(formatCompared(49.99999999, 50, "<")).toBe("49.999999 %");
  });

  it("never prints a value on the other side of the threshold, nor on it unless it is", () => {
    const relations = fc.constantFrom("≥" as const, "<" as const, ">" as const);
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 200, noNaN: true }),
        fc.integer({ min: 1, max: 100 }),
        relations,
        (percent, threshold, relation) => {
          const value = shown(formatCompared(percent, threshold, relation));
          const holds = (v: number) =>
            relation === "≥" ? v >= threshold : relation === ">" ? v > threshold : v < threshold;
          expect(holds(value)).toBe(holds(percent));
          if (percent !== threshold) expect(value).not.toBe(threshold);
        },
      ),
    );
  });
});

describe("percentBeside", () => {
  it("keeps one decimal where that stands on the given side, and adds what it takes elsewhere", () => {
    expect(percentBeside(23.44, 20, 1)).toBe(23.4);
    expect(percentBeside(20.04, 20, 1)).toBe(20.04);
    expect(percentBeside(19.96, 20, -1)).toBe(19.96);
    expect(percentBeside(100.0004, 100, 1)).toBe(100.0004);
    expect(percentBeside(20.000000000000004, 20, 0)).toBe(20);
  });
});

describe("formatExtended", () => {
  it("writes hugepages as the memory they are, and a device as a count", () => {
    expect(formatExtended("hugepages-2Mi", 536870912)).toBe("512 MiB");
    expect(formatExtended("hugepages-1Gi", 2 * 2 ** 30)).toBe("2 GiB");
    expect(formatExtended("nvidia.com/gpu", 2)).toBe("2");
    expect(formatExtended("gpu.intel.com/i915", 1)).toBe("1");
  });
});
