import { parseArgs } from "node:util";
import { type BacktestOptions, DEFAULT_BACKTEST, runBacktest } from "../backtest/backtest.ts";
import { SEED_BASELINE } from "../backtest/baseline-autoscaler.ts";
import { backtestJson, formatBacktest, formatTimeline } from "../backtest/format-backtest.ts";
import { loadBacktestInputs } from "../backtest/load-backtest.ts";
import { type ExitCode, UsageError } from "../errors.ts";
import { formatDuration } from "../planning/format.ts";
import { parseDuration } from "../policy/parse-duration.ts";
import { parseArgsUsageError } from "./args.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";

const OPTIONS = {
  trace: { type: "string" },
  config: { type: "string" },
  json: { type: "boolean" },
  timeline: { type: "boolean" },
  step: { type: "string" },
  interval: { type: "string" },
  "boot-delay": { type: "string" },
  "merge-delay": { type: "string" },
} as const;

const USAGE = `Usage: pr-autoscaler backtest --trace TRACE.jsonl [--config FILE] [--json] [--timeline]
                              [--step S] [--interval S] [--boot-delay S] [--merge-delay S]

Replays a workload trace against the node planner with a repo config, the seed baseline
(average cpu > 80 % adds a node, < 30 % removes one) and an oracle with perfect foresight,
and prints node-hours, pending pod-minutes, pull requests, direction changes and disrupted
pods for each. The trace format is in docs/backtest.md.

Options:
  --trace FILE        the workload trace (JSON lines)
  --config FILE       repo config (.github/pr-autoscaler.yml format); default: the trace
                      header's "config", relative to the trace
  --json              print the report as JSON (with every pull request and merged change)
  --timeline          also list every pull request of the planner and the baseline, and the
                      planner's pool nodes against the oracle's over time
  --step S            simulation step (default 10s; at most 60s, and at most --interval)
  --interval S        how often the planner is asked (default 60s)
  --boot-delay S      apply to new node Ready (default 180s)
  --merge-delay S     pull request opened or updated to merged and applied (default 120s;
                      e.g. 4h when a person reviews; 0 merges at the next step)

S is seconds (90) or a duration (90s, 3m, 4h).

Exit codes: 0 ok (goals met or not), 2 usage, or a bad trace or config (file:line).
`;

/** `pr-autoscaler backtest`: how a repo config would have scaled a recorded or made-up day. */
export const backtestCommand: Command = {
  name: "backtest",
  usage: USAGE,
  run: runBacktestCommand,
};

async function runBacktestCommand(args: string[], io: CliIo): Promise<ExitCode> {
  const flags = parseFlags(args);
  if (flags.trace === undefined) throw new UsageError("--trace FILE is required");
  const options = backtestOptions(flags);
  const inputs = await loadBacktestInputs(flags.trace, flags.config, io.cwd);
  const report = runBacktest(inputs.trace, inputs.config, options);
  if (flags.json) {
    io.stdout(`${JSON.stringify(backtestJson(report, inputs.configFile), null, 2)}\n`);
    return 0;
  }
  io.stdout(formatBacktest(report, inputs.configFile));
  if (flags.timeline) io.stdout(formatTimeline(report));
  return 0;
}

function parseFlags(args: string[]) {
  try {
    return parseArgs({ args, options: OPTIONS, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw parseArgsUsageError(error, OPTIONS, false);
  }
}

function backtestOptions(flags: ReturnType<typeof parseFlags>): BacktestOptions {
  const options = {
    stepMs: seconds(flags.step, "--step", 1000) ?? DEFAULT_BACKTEST.stepMs,
    intervalMs: seconds(flags.interval, "--interval", 1000) ?? DEFAULT_BACKTEST.intervalMs,
    bootDelayMs: seconds(flags["boot-delay"], "--boot-delay", 0) ?? DEFAULT_BACKTEST.bootDelayMs,
    mergeDelayMs:
      seconds(flags["merge-delay"], "--merge-delay", 0) ?? DEFAULT_BACKTEST.mergeDelayMs,
  };
  checkStep(options);
  return options;
}

/**
 * Each autoscaler is asked at most once a step: a step longer than its interval would have the
 * report name an interval that the run did not keep.
 */
function checkStep({ stepMs, intervalMs }: BacktestOptions): void {
  const step = formatDuration(stepMs);
  if (stepMs > SEED_BASELINE.intervalMs)
    throw new UsageError(
      `--step ${step} is longer than the ${formatDuration(SEED_BASELINE.intervalMs)} between the baseline's checks, and an autoscaler is asked at most once a step: give --step ${formatDuration(SEED_BASELINE.intervalMs)} or less`,
    );
  if (intervalMs < stepMs)
    throw new UsageError(
      `--interval ${formatDuration(intervalMs)} is shorter than the step (${step}), and the planner is asked at most once a step: give --step ${formatDuration(intervalMs)} or less, or a longer --interval`,
    );
}

/** Seconds (`90`) or a duration (`90s`, `3m`), in ms, at least `minimumMs`. */
function seconds(value: string | undefined, flag: string, minimumMs: number): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : parseDuration(value);
  if (ms === undefined)
    throw new UsageError(
      `${flag} expects seconds or a duration such as 90s or 3m, got ${JSON.stringify(value)}`,
    );
  if (ms < minimumMs) throw new UsageError(`${flag} must be at least ${minimumMs / 1000}s`);
  return ms;
}
