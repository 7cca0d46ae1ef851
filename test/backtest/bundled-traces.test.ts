import { readFile } from "node:fs/promises";
import { describe, expect, it } from "@jest/globals";
import { runBacktest } from "../../src/backtest/backtest.ts";
import { backtestJson } from "../../src/backtest/format-backtest.ts";
import { loadBacktestInputs } from "../../src/backtest/load-backtest.ts";
import {
  BUNDLED_DIRECTORY,
  BUNDLED_TRACES,
  generateBundledTraces,
} from "../../src/backtest/traces/bundled-traces.ts";

describe("bundled traces", () => {
  it("are what their generators make (run src/backtest/traces/write-bundled-traces.ts)", async () => {
    const generated = await generateBundledTraces();
    for (const name of BUNDLED_TRACES) {
      const committed = await readFile(new URL(name, BUNDLED_DIRECTORY), "utf8");
      expect({ name, same: committed === generated[name] }).toEqual({ name, same: true });
    }
  });

  it("each load with their config, which fits their pools", async () => {
    for (const name of BUNDLED_TRACES) {
      const inputs = await loadBacktestInputs(
        `examples/backtest/${name}`,
        undefined,
        process.cwd(),
      );
      expect(inputs.configFile).toBe(`examples/backtest/${name.replace(".jsonl", ".yml")}`);
      expect(inputs.config.pools.map((pool) => pool.name)).toEqual(
        inputs.trace.pools.map((pool) => pool.name),
      );
    }
  });

  it("replay the same way every time", async () => {
    const inputs = await loadBacktestInputs(
      "examples/backtest/batch-waves.jsonl",
      undefined,
      process.cwd(),
    );
    const first = backtestJson(runBacktest(inputs.trace, inputs.config), inputs.configFile);
    const second = backtestJson(runBacktest(inputs.trace, inputs.config), inputs.configFile);
    expect(second).toEqual(first);
  });
});
