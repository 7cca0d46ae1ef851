import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import {
  formatCpu,
  formatMemory,
  parseBytes,
  parseCpu,
  parseQuantity,
  parseResourceQuantity,
  parseUnits,
  QuantityError,
  quantitiesEqual,
  scaleQuantity,
} from "../../src/planning/quantity.ts";

describe("parseQuantity", () => {
  it.each([
    ["1Ki", "1024"],
    ["1k", "1000"],
    ["0.1", "100m"],
    ["1e3", "1k"],
    ["1E3", "1k"],
    ["1E-3", "1m"],
    ["1e-9", "1n"],
    [".5", "500m"],
    ["5.", "5"],
    ["+1", "1"],
    ["0.5Ki", "512"],
    ["1Mi", "1048576"],
    ["1Gi", "1024Mi"],
    ["1Ti", "1024Gi"],
    ["1Pi", "1024Ti"],
    ["1Ei", "1024Pi"],
    ["1u", "1000n"],
    ["1M", "1000k"],
    ["1G", "1000M"],
    ["1T", "1000G"],
    ["1P", "1000T"],
    ["1E", "1000P"],
    ["-0", "0"],
  ])("%s equals %s", (a, b) => {
    expect(quantitiesEqual(parseQuantity(a), parseQuantity(b))).toBe(true);
  });

  it("keeps values exactly", () => {
    expect(parseQuantity("1.5Gi")).toEqual({ coefficient: 15n << 30n, exponent: -1 });
    expect(parseQuantity("-2.25e2")).toEqual({ coefficient: -225n, exponent: 0 });
    expect(quantitiesEqual(parseQuantity("1k"), parseQuantity("1001"))).toBe(false);
  });

  it.each([
    ["", "empty"],
    [" 1", "whitespace"],
    ["1 Gi", "whitespace"],
    ["1KiB", 'unknown suffix "KiB"'],
    ["1ki", 'unknown suffix "ki"'],
    ["1.2.3", "expected a number"],
    ["1e", "unknown suffix"],
    ["Mi", "expected a number"],
    [".", "expected a number"],
    ["--1", "expected a number"],
    ["1e3Mi", "unknown suffix"],
    ["1e5000", "exponent out of range"],
    ["2 cores", "whitespace"],
  ])("rejects %j (%s)", (text, reason) => {
    expect(() => parseQuantity(text)).toThrow(QuantityError);
    expect(() => parseQuantity(text)).toThrow(reason);
    expect(() => parseQuantity(text)).toThrow(`invalid quantity ${JSON.stringify(text)}`);
  });
});

describe("conversion to snapshot units", () => {
  it.each([
    ["100m", 100],
    ["1", 1000],
    ["0.5", 500],
    ["1.5", 1500],
    ["2", 2000],
    ["1n", 1],
    ["487558164n", 488],
    ["9559630n", 10],
    ["1500u", 2],
    ["0.0001", 1],
    ["1e-3", 1],
    ["1Ki", 1024000],
    ["-1n", -1],
    ["-100m", -100],
    ["0", 0],
  ])("cpu %s is %d millicores (rounded up like MilliValue)", (text, millis) => {
    expect(parseCpu(text)).toBe(millis);
  });

  it.each([
    ["1Ki", 1024],
    ["1Mi", 1048576],
    ["1.5Gi", 1610612736],
    ["129e6", 129000000],
    ["129M", 129000000],
    ["128974848", 128974848],
    ["123Mi", 128974848],
    ["262144k", 262144000],
    ["0.5", 1],
    ["1m", 1],
    ["732212Ki", 749785088],
    ["8Ei", undefined],
  ])("memory %s is %s bytes (rounded up like Value)", (text, bytes) => {
    if (bytes === undefined) expect(() => parseBytes(text)).toThrow("too large");
    else expect(parseBytes(text)).toBe(bytes);
  });

  it("converts by resource name", () => {
    expect(parseResourceQuantity("cpu", "250m")).toBe(250);
    expect(parseResourceQuantity("memory", "1Gi")).toBe(1073741824);
    expect(parseResourceQuantity("pods", "110")).toBe(110);
    expect(parseResourceQuantity("nvidia.com/gpu", "1")).toBe(1);
  });

  it("agrees with the exact path on every integer-with-suffix form", () => {
    const suffixes = ["", "n", "u", "m", "k", "M", "G", "Ki", "Mi", "Gi", "Ti"];
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 999_999_999_999_999n }),
        fc.constantFrom(...suffixes),
        (n, suffix) => {
          const text = `${n}${suffix}`;
          const exact = parseQuantity(text);
          const expectUnits = scaleQuantity(exact, 0);
          const expectMillis = scaleQuantity(exact, 3);
          const safe = (value: bigint) => value <= BigInt(Number.MAX_SAFE_INTEGER);
          if (safe(expectUnits)) expect(parseUnits(text)).toBe(Number(expectUnits));
          else expect(() => parseUnits(text)).toThrow(QuantityError);
          if (safe(expectMillis)) expect(parseCpu(text)).toBe(Number(expectMillis));
          else expect(() => parseCpu(text)).toThrow(QuantityError);
        },
      ),
    );
  });

  it("rounds fractions up, never down", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 1, max: 9 }),
        (whole, digit) => {
          // whole.digit bytes is strictly between whole and whole + 1.
          expect(parseBytes(`${whole}.${digit}`)).toBe(whole + 1);
          expect(parseCpu(`${whole}.000${digit}`)).toBe(whole * 1000 + 1);
        },
      ),
    );
  });
});

describe("formatting", () => {
  it.each([
    [250, "250m"],
    [2000, "2"],
    [1500, "1500m"],
    [0, "0"],
  ])("formatCpu(%d) is %s", (millis, text) => {
    expect(formatCpu(millis)).toBe(text);
  });

  it.each([
    [536870912, "512Mi"],
    [1073741824, "1Gi"],
    [1024, "1Ki"],
    [1000, "1k"],
    [1000000000, "1G"],
    [1500, "1500"],
    [0, "0"],
    [262144000, "250Mi"],
  ])("formatMemory(%d) is %s", (bytes, text) => {
    expect(formatMemory(bytes)).toBe(text);
  });

  it("round-trips cpu: parseCpu(formatCpu(x)) === x", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), (millis) => {
        expect(parseCpu(formatCpu(millis))).toBe(millis);
      }),
    );
  });

  it("round-trips memory: parseBytes(formatMemory(x)) === x", () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (bytes) => {
        expect(parseBytes(formatMemory(bytes))).toBe(bytes);
      }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 22 }),
        fc.constantFrom(1, 1024, 1024 ** 2, 1024 ** 3, 1000, 1e6),
        (n, unit) => {
          expect(parseBytes(formatMemory(n * unit))).toBe(n * unit);
        },
      ),
    );
  });

  it("refuses values it cannot write exactly", () => {
    expect(() => formatCpu(0.5)).toThrow(RangeError);
    expect(() => formatMemory(2 ** 60)).toThrow(RangeError);
  });
});
