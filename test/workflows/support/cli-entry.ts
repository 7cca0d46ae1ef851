/**
 * `pr-autoscaler` as the workflow tests run it: the real `guard` and `report` commands (with
 * `report plan|apply` in --dry-run, since these tests reach no GitHub), and stand-ins for
 * `drain` and `wait-nodes`, whose exit codes the test chooses (and their --json results:
 * STUB_DRAIN_JSON and STUB_WAIT_JSON, written to --result-file, none when unset, as from a
 * command killed before it could write it; a wait's result names the pool of its --pool, and
 * the wait for the pool STUB_WAIT_KILLED exits 143 with no result, as one killed by a cancel).
 * Every
 * call is recorded. The two real commands are loaded alone, not through main.ts, which loads
 * every command.
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import type { Command } from "../../../src/cli/command.ts";
import { guardCommand } from "../../../src/cli/guard-command.ts";
import { processIo } from "../../../src/cli/io.ts";
import { reportCommand } from "../../../src/cli/report-command.ts";
import { formatLocated, InputError } from "../../../src/errors.ts";

const args = process.argv.slice(2);
const calls = process.env.STUB_CALLS;
if (calls) {
  const record = { tool: "pr-autoscaler", args, cwd: process.cwd(), env: {} };
  appendFileSync(calls, `${JSON.stringify(record)}\n`);
}

async function run(): Promise<number> {
  const [command, mode, ...rest] = args;
  if (command === "drain" || command === "wait-nodes") {
    const pool = command === "wait-nodes" ? args[args.indexOf("--pool") + 1] : undefined;
    const killed = pool !== undefined && pool === process.env.STUB_WAIT_KILLED;
    const exit = killed
      ? "143"
      : (process.env[command === "drain" ? "STUB_DRAIN_EXIT" : "STUB_WAIT_EXIT"] ?? "0");
    // As the real drain: with --json the result is stdout's only content, progress is stderr's;
    // --result-file FILE gets the JSON result and stdout a readable one.
    const json = args.includes("--json");
    const progress = json ? process.stderr : process.stdout;
    progress.write(`${command} (stand-in): exit ${exit}\n`);
    let result = process.env[command === "drain" ? "STUB_DRAIN_JSON" : "STUB_WAIT_JSON"];
    if (killed) result = undefined;
    else if (result !== undefined && pool !== undefined) {
      result = JSON.stringify({ ...(JSON.parse(result) as object), pool });
    }
    if (json) process.stdout.write(result ?? "");
    const file = args[args.indexOf("--result-file") + 1];
    if (args.includes("--result-file") && file !== undefined && result !== undefined) {
      writeFileSync(file, result);
      process.stdout.write(`${command} (stand-in): readable result\n`);
    }
    return Number(exit);
  }
  if (command === "--version") {
    const json = readFileSync(new URL("../../../package.json", import.meta.url), "utf8");
    process.stdout.write(`${(JSON.parse(json) as { version: string }).version}\n`);
    return 0;
  }
  if (command === "report" && mode !== undefined) {
    const dryRun = mode === "plan" || mode === "apply" ? ["--dry-run"] : [];
    return runCommand(reportCommand, [mode, ...rest, ...dryRun]);
  }
  if (command === "guard") return runCommand(guardCommand, args.slice(1));
  process.stderr.write(`pr-autoscaler (test entry): no command ${JSON.stringify(command)}\n`);
  return 2;
}

/** Runs a command as main.ts does: a user's mistake becomes its message and exit code. */
async function runCommand(command: Command, commandArgs: string[]): Promise<number> {
  const io = processIo();
  try {
    return await command.run(commandArgs, io);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    io.stderr(`pr-autoscaler ${command.name}: ${formatLocated(error.message, error.location)}\n`);
    return error.exitCode;
  }
}

process.exitCode = await run();
