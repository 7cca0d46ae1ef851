/**
 * Replays the bundled traces (examples/backtest/) against the planner with their configs, the
 * seed baseline and the oracle, at the default timing (10 s steps, planner every 60 s, 120 s
 * merge+apply, 180 s boot). Prints each comparison table, the planner's goals, where its
 * node-hours differ from the oracle's, and how long each replay took on this machine.
 * Run: node bench/backtest.ts (npm run bench:backtest)
 */
import { cpus, platform, release } from "node:os";
import { DEFAULT_BACKTEST, runBacktest } from "../src/backtest/backtest.ts";
import { alignRows, formatBacktest, formatExcess } from "../src/backtest/format-backtest.ts";
import { loadBacktestInputs } from "../src/backtest/load-backtest.ts";
import { nodeTimeline } from "../src/backtest/node-timeline.ts";
import { BUNDLED_TRACES } from "../src/backtest/traces/bundled-traces.ts";

const root = new URL("../", import.meta.url).pathname;
const machine = `${cpus()[0]?.model ?? "unknown cpu"} × ${cpus().length}, ${platform()} ${release()}, Node ${process.versions.node}`;
process.stdout.write(`${new Date().toISOString().slice(0, 10)} on ${machine}\n\n`);

const summary: string[][] = [["trace", "replay (s)", "goals met"]];
for (const name of BUNDLED_TRACES) {
  const started = performance.now();
  const inputs = await loadBacktestInputs(`examples/backtest/${name}`, undefined, root);
  const report = runBacktest(inputs.trace, inputs.config, DEFAULT_BACKTEST);
  const seconds = (performance.now() - started) / 1000;
  const { excess } = nodeTimeline(
    report.planner.series,
    report.oracle.series,
    report.trace.durationMs,
  );
  process.stdout.write(`${formatBacktest(report, inputs.configFile)}\n`);
  process.stdout.write(`${formatExcess(excess).join("\n")}\n\n`);
  const met = report.goals.filter((goal) => goal.met).length;
  summary.push([report.trace.name, seconds.toFixed(2), `${met} of ${report.goals.length}`]);
}
process.stdout.write(`${alignRows(summary).join("\n")}\n`);
process.stdout.write(
  "\nreplay: reading both files, then three full-day runs (planner, baseline, oracle).\n",
);
