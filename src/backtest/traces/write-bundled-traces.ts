/**
 * Regenerates examples/backtest/*.jsonl from their generators (deterministic: the same files
 * on every run). Run: node src/backtest/traces/write-bundled-traces.ts
 */
import { writeFile } from "node:fs/promises";
import { BUNDLED_DIRECTORY, generateBundledTraces } from "./bundled-traces.ts";

const traces = await generateBundledTraces();
for (const [name, text] of Object.entries(traces)) {
  await writeFile(new URL(name, BUNDLED_DIRECTORY), text);
  process.stdout.write(`wrote examples/backtest/${name}\n`);
}
