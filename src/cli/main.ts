import { type ExitCode, formatLocated, InputError } from "../errors.ts";
import type { Command } from "./command.ts";
import { type CliIo, processIo } from "./io.ts";

interface CommandEntry {
  name: string;
  summary: string;
  /** Loaded only when the command runs: each command's dependencies stay off the others' path. */
  load(): Promise<Command>;
}

const commands: CommandEntry[] = [
  {
    name: "start",
    summary: "what npm start runs: the GitHub App when APP_ID is set, else the demo",
    load: async () => (await import("./serve-command.ts")).startCommand,
  },
  {
    name: "serve",
    summary: "run the GitHub App: the reconcile loop and the webhook endpoint",
    load: async () => (await import("./serve-command.ts")).serveCommand,
  },
  {
    name: "demo",
    summary: "show the pull requests pr-autoscaler would open for the example repo (dry run)",
    load: async () => (await import("./demo-command.ts")).demoCommand,
  },
  {
    name: "register",
    summary: "register pr-autoscaler as a GitHub App from app.yml (GitHub's manifest flow)",
    load: async () => (await import("./serve-command.ts")).registerCommand,
  },
  {
    name: "get",
    summary: "print the value at PATH in a tfvars or YAML file",
    load: async () => (await import("./edit-commands.ts")).getCommand,
  },
  {
    name: "edit",
    summary: "set the value at PATH, changing no other byte of the file",
    load: async () => (await import("./edit-commands.ts")).editCommand,
  },
  {
    name: "snapshot",
    summary: "read the cluster (nodes, pods, PDBs, DaemonSets, volumes, VPAs, HPAs, usage) as JSON",
    load: async () => (await import("./snapshot-command.ts")).snapshotCommand,
  },
  {
    name: "plan",
    summary: "decide the changes the cluster needs and print them (writes nothing)",
    load: async () => (await import("./plan-command.ts")).planCommand,
  },
  {
    name: "validate",
    summary: "check .github/pr-autoscaler.yml and the auto-merge policies it extends",
    load: async () => (await import("./validate-command.ts")).validateCommand,
  },
  {
    name: "backtest",
    summary: "replay a workload trace against the planner, the seed baseline and an oracle",
    load: async () => (await import("./backtest-command.ts")).backtestCommand,
  },
  {
    name: "guard",
    summary: "check a terraform plan changes only the expected worker VMs (before apply)",
    load: async () => (await import("./guard-command.ts")).guardCommand,
  },
  {
    name: "report",
    summary: "report the plan guard's and the apply's results on the pull request (for CI)",
    load: async () => (await import("./report-command.ts")).reportCommand,
  },
  {
    name: "drain",
    summary: "cordon nodes and evict their pods, honouring PodDisruptionBudgets",
    load: async () => (await import("./drain-command.ts")).drainCommand,
  },
  {
    name: "wait-nodes",
    summary: "wait until a pool has N Ready nodes and removed nodes are gone",
    load: async () => (await import("./wait-nodes-command.ts")).waitNodesCommand,
  },
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
    "Exit codes: 0 ok, 1 refused or failed, 2 usage or bad input; drain and wait-nodes cancelled",
    "by SIGINT or SIGTERM, and serve stopped by a second one, exit 130 or 143.",
    "",
  ].join("\n");
}

/** Runs one command line and returns its exit code; never throws for the user's mistakes. */
export async function main(argv: string[], io: CliIo): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? commands.find((c) => c.name === rest[0]) : undefined;
    io.stdout(topic ? (await topic.load()).usage : overview());
    return 0;
  }
  if (name === "--version" || name === "-V") {
    io.stdout(`${await packageVersion()}\n`);
    return 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    io.stderr(`pr-autoscaler: unknown command ${JSON.stringify(name)}\n\n${overview()}`);
    return 2;
  }
  const command = await entry.load();
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
