import { resolve } from "node:path";
import { runDemo } from "../app/demo.ts";
import { formatDemo } from "../app/demo-report.ts";
import { terminalStyle } from "../app/terminal-style.ts";
import { parseCommandArgs } from "./args.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";
import { parseNowOption } from "./now-option.ts";

const usage = `Usage: pr-autoscaler demo [--example DIR] [--now ISO] [--body] [--dashboard]

Runs pr-autoscaler once against the example infra repo (examples/talos-proxmox: Talos on
Proxmox, apps by Flux) and the cluster recorded with it, exactly as the GitHub App reconciles a
repository, but with a dry run: it prints the pull requests it would open (title, labels,
auto-merge verdict, why, diff) and writes nothing anywhere.

Options:
  --example DIR   another infra repo with a recorded cluster in DIR/cluster/snapshot.json
  --now ISO       decide as if it were this time, with its offset (Z or +01:00)
                  (default: when the cluster was recorded); usage recorded more than 300 s
                  from it is unknown, as for plan --snapshot
  --body          also print each pull request's description (the Markdown GitHub shows)
  --dashboard     also print the dashboard issue's text

Colour is used when stdout is a terminal and NO_COLOR is not set.
`;

/** `pr-autoscaler demo`: the newcomer's first look at what the app does. */
export const demoCommand: Command = {
  name: "demo",
  usage,
  async run(args, io) {
    const { values } = parseCommandArgs(
      args,
      {
        example: { type: "string" },
        now: { type: "string" },
        body: { type: "boolean" },
        dashboard: { type: "boolean" },
      },
      { min: 0, max: 0, names: "no arguments" },
    );
    return showDemo(io, {
      ...(values.example === undefined ? {} : { exampleDir: resolve(io.cwd, values.example) }),
      ...(values.now === undefined ? {} : { now: parseNowOption(values.now) }),
      bodies: values.body ?? false,
      dashboard: values.dashboard ?? false,
    });
  },
};

/** Runs the demo and prints it; also what `npm start` does without a GitHub App. */
export async function showDemo(
  io: CliIo,
  options: { exampleDir?: string; now?: Date; bodies?: boolean; dashboard?: boolean } = {},
): Promise<0> {
  const run = await runDemo({
    ...(options.exampleDir ? { exampleDir: options.exampleDir } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  io.stdout(
    formatDemo(run, {
      style: terminalStyle(io.isTty, io.env),
      width: 100,
      bodies: options.bodies ?? false,
      dashboard: options.dashboard ?? false,
      cwd: io.cwd,
    }),
  );
  return 0;
}
