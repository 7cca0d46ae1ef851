import { describe, expect, it } from "@jest/globals";
import { runDemo } from "../../src/app/demo.ts";
import { formatDemo } from "../../src/app/demo-report.ts";
import { terminalStyle } from "../../src/app/terminal-style.ts";
import { demoCommand } from "../../src/cli/demo-command.ts";
import type { CliIo } from "../../src/cli/io.ts";
import { serveCommand, startCommand } from "../../src/cli/serve-command.ts";
import { InputError, UsageError } from "../../src/errors.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function io(
  options: { tty?: boolean; env?: Record<string, string> } = {},
): CliIo & { out: () => string } {
  let out = "";
  return {
    stdout: (text) => {
      out += text;
    },
    stderr: () => {},
    cwd: ROOT,
    env: options.env ?? {},
    isTty: options.tty ?? false,
    out: () => out,
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for ANSI escapes.
const ANSI = /\u001b\[/;

describe("pr-autoscaler demo (what npm start shows without a GitHub App)", () => {
  it("shows the pull requests the app would open for the example, with verdicts and diffs", async () => {
    const terminal = io();
    expect(await demoCommand.run([], terminal)).toBe(0);
    const text = terminal.out();
    const prose = text.replace(/\s+/g, " ");
    expect(prose).toContain(
      "The example infra repo examples/talos-proxmox and the cluster recorded with it",
    );
    expect(prose).toContain("with a dry run: nothing is written, nothing is opened.");
    expect(text).toContain(
      "  pool workers  3 nodes, 3 in terraform/terraform.tfvars worker_count; min 2, max 5, host cap 4",
    );
    expect(text).toContain("         decision: add 1 (3 → 4)");
    expect(text).toMatch(/Pull requests it would open: \d+/);
    expect(text).toContain(
      " 1  Scale workers from 3 to 4 nodes\n    pr-autoscaler/nodes-workers · autoscaling, scale-up\n",
    );
    expect(text).toContain(
      "    auto-merge: merges itself under rule add-one-node (preset:homelab)",
    );
    expect(text).toContain("    why: 2 pending pods need 1 new node");
    expect(text).toContain("    -worker_count      = 3\n    +worker_count      = 4\n");
    expect(text).toMatch(
      /Right-size media\/\w+: cpu .* → .*, memory .* → .*\n {4}pr-autoscaler\/resources-media-\w+ · autoscaling, rightsizing/,
    );
    expect(text).toContain("waits for review under rule review-the-rest (preset:homelab)");
    expect(text).toContain("Left alone\n");
    expect(prose).toContain(
      "media/prowlarr: cpu request 500m kept: not enough history: the VPA has recorded for 3d, less than minHistory 7d",
    );
    expect(prose).toContain(
      "default/echo-server: cpu request 10m kept: HPA echo-server scales this workload on cpu",
    );
    expect(prose).toContain(
      'Install pr-autoscaler as a GitHub App on your infra repo: README.md, "Installing the GitHub App"',
    );
  });

  it("takes the recorded usage as unknown at a --now far from the recording, as plan --snapshot does", async () => {
    // The demo showed the recording's 23 % as the usage of a week later, and decided on it.
    const later = io();
    expect(await demoCommand.run(["--now", "2026-12-04T14:30:00Z"], later)).toBe(0);
    expect(later.out()).toContain(
      "         cpu usage unknown, 65 % requested; memory usage unknown, 41 % requested\n",
    );
    const recorded = io();
    expect(await demoCommand.run([], recorded)).toBe(0);
    expect(recorded.out()).toContain(
      "         cpu 23 % used, 65 % requested; memory 36 % used, 41 % requested\n",
    );
  });

  it("is plain text off a terminal, coloured on one unless NO_COLOR is set, and fits 100 columns", async () => {
    const plain = io();
    await demoCommand.run([], plain);
    expect(plain.out()).not.toMatch(ANSI);
    const tty = io({ tty: true });
    await demoCommand.run([], tty);
    expect(tty.out()).toMatch(ANSI);
    const noColor = io({ tty: true, env: { NO_COLOR: "1" } });
    await demoCommand.run([], noColor);
    expect(noColor.out()).toBe(plain.out());
    const wide = plain
      .out()
      .split("\n")
      .filter((line) => [...line].length > 100);
    expect(wide).toEqual([]);
  });

  it("prints the pull requests' descriptions and the dashboard when asked", async () => {
    const terminal = io();
    await demoCommand.run(["--body", "--dashboard"], terminal);
    const text = terminal.out();
    expect(text).toContain("    | workers | 3 (3 Ready) | 3 → **4** |");
    expect(text).toContain("    ### Auto-merge");
    expect(text).toContain("    ## Pools");
  });

  it("gives a warning without a subject as its message alone", async () => {
    const run = await runDemo();
    run.result.notes.push(
      { level: "warning", subject: "pool/workers", message: "the pool's nodes disagree" },
      { level: "warning", message: "the cluster was read without its PodDisruptionBudgets" },
    );
    const text = formatDemo(run, {
      style: terminalStyle(false, {}),
      width: 100,
      bodies: false,
      dashboard: false,
      cwd: ROOT,
    });
    expect(text).toContain("  - pool/workers: the pool's nodes disagree\n");
    expect(text).toContain("  - the cluster was read without its PodDisruptionBudgets\n");
  });

  it("says where the recorded cluster is missing", async () => {
    await expect(demoCommand.run(["--example", "docs"], io())).rejects.toThrow(InputError);
    await expect(demoCommand.run(["--example", "docs"], io())).rejects.toThrow(
      "no recorded cluster at",
    );
  });
});

describe("pr-autoscaler start and serve", () => {
  it("start without APP_ID says so and shows the demo", async () => {
    const terminal = io();
    expect(await startCommand.run([], terminal)).toBe(0);
    expect(terminal.out()).toMatch(
      /^No GitHub App is configured \(APP_ID is not set\), so this is the demo\./,
    );
    expect(terminal.out()).toContain("Scale workers from 3 to 4 nodes");
  });

  it("serve without a GitHub App refuses with what to set", async () => {
    await expect(serveCommand.run([], io())).rejects.toThrow(UsageError);
    await expect(serveCommand.run([], io())).rejects.toThrow(
      "no GitHub App configured: set APP_ID and PRIVATE_KEY",
    );
  });

  it("serve with a broken setting names it before starting anything", async () => {
    await expect(
      serveCommand.run([], io({ env: { APP_ID: "42", PRIVATE_KEY_PATH: "missing.pem" } })),
    ).rejects.toThrow("PRIVATE_KEY_PATH: cannot read missing.pem: no such file");
  });
});
