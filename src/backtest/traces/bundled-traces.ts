import { readFile } from "node:fs/promises";
import { alibabaDayTrace, parseAlibabaCsv } from "./alibaba-day.ts";
import { batchWavesTrace } from "./batch-waves.ts";
import { homelabDayTrace } from "./homelab-day.ts";

/** Where the bundled traces, their configs and the Alibaba data live. */
export const BUNDLED_DIRECTORY = new URL("../../../examples/backtest/", import.meta.url);

export const ALIBABA_CSV = "data/alibaba2018-day1-machine-usage-300s.csv";

/** The bundled traces by file name (relative to examples/backtest/), each with its config. */
export const BUNDLED_TRACES = [
  "homelab-day.jsonl",
  "batch-waves.jsonl",
  "alibaba-day.jsonl",
] as const;

/** The text of every bundled trace as its generator makes it. */
export async function generateBundledTraces(): Promise<
  Record<(typeof BUNDLED_TRACES)[number], string>
> {
  const csv = await readFile(new URL(ALIBABA_CSV, BUNDLED_DIRECTORY), "utf8");
  return {
    "homelab-day.jsonl": homelabDayTrace(),
    "batch-waves.jsonl": batchWavesTrace(),
    "alibaba-day.jsonl": alibabaDayTrace(parseAlibabaCsv(csv)),
  };
}
