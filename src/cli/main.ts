import { type ExitCode, formatLocated, InputError } from "../errors.ts";
import { backtestCommand } from "./backtest-command.ts";
import type { Command } from "./command.ts";
import { drainCommand } from "./drain-command.ts";
import { editCommand, getCommand } from "./edit-commands.ts";
import { guardCommand } from "./guard-command.ts";
import { type CliIo, processIo } from "./io.ts";
import { planCommand } from "./plan-command.ts";
import { reportCommand } from "./report-command.ts";
import { snapshotCommand } from "./snapshot-command.ts";
import { validateCommand } from "./validate-command.ts";
import { waitNodesCommand } from "./wait-nodes-command.ts";

const commands: Command[] = [
  getCommand,
  editCommand,
  snapshotCommand,
  planCommand,
  validateCommand,
  backtestCommand,
  guardCommand,
  reportCommand,
  drainCommand,
  waitNodesCommand,
];

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "pr-autoscaler: scales a Kubernetes cluster through pull requests.",
    "",
    "Usage: pr-autoscaler <command> [options]",
    "",
    "Commands:",
    ...lines,
    "",
    "Run `pr-autoscaler <command> --help` for a command's options.",
    "Exit codes: 0 ok, 1 refused or failed, 2 usage or bad input.",
    "",
  ].join("\n");
}

/** Runs one command line and returns its exit code; never throws for the user's mistakes. */
export async function main(argv: string[], io: CliIo): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? commands.find((c) => c.name === rest[0]) : undefined;
    io.stdout(topic ? topic.usage : overview());
    return 0;
  }
  if (name === "--version" || name === "-V") {
    io.stdout(`${await packageVersion()}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr(`pr-autoscaler: unknown command ${JSON.stringify(name)}\n\n${overview()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(command.usage);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof InputError) {
      io.stderr(`pr-autoscaler ${name}: ${formatLocated(error.message, error.location)}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

async function packageVersion(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const text = await readFile(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

/** Entry point used by bin/pr-autoscaler.js. */
export async function runCli(argv: string[]): Promise<ExitCode> {
  const io = processIo();
  try {
    return await main(argv, io);
  } catch (error) {
    io.stderr(`pr-autoscaler: internal error: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}
