import { describe, expect, it } from "@jest/globals";
import { runCli } from "../support/cli.ts";

describe("pr-autoscaler CLI", () => {
  it("prints help with exit 0", async () => {
    const run = await runCli(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Usage: pr-autoscaler <command>");
    // The exit codes every command shares, and the two a signal gives, as the README says.
    expect(run.stdout).toContain(
      "Exit codes: 0 ok, 1 refused or failed, 2 usage or bad input; drain and wait-nodes cancelled\n" +
        "by SIGINT or SIGTERM, and serve stopped by a second one, exit 130 or 143.\n",
    );
  });

  it("rejects an unknown command with exit 2", async () => {
    const run = await runCli(["frobnicate"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown command "frobnicate"');
  });

  it("refuses an empty flag value, as a script's unset variable gives, rather than a default", async () => {
    // Without the check, `--repo ""` planned the current directory and `--snapshot ""` failed to
    // read a directory named nothing.
    for (const [argv, flag] of [
      [["plan", "--repo", "", "--snapshot", "snapshot.json"], "--repo"],
      [["plan", "--snapshot=", "--repo", "."], "--snapshot"],
      [["plan", "--config", "", "--snapshot", "snapshot.json"], "--config"],
      [["plan", "--kubeconfig", ""], "--kubeconfig"],
      [["get", "--format", "", "terraform.tfvars", "worker_count"], "--format"],
    ] as const) {
      const run = await runCli([...argv]);
      expect({ argv, code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({
        argv,
        code: 2,
        stdout: "",
        stderr: expect.stringContaining(`: ${flag} expects a value, got an empty one\n`),
      });
    }
  });

  it("names the option likely meant for an unknown one, and says how to pass a value starting with '-' only where arguments are taken", async () => {
    // node's parseArgs told every command to put "a positional argument starting with a '-'"
    // after `--`, also plan and snapshot, which take none, and never which option was meant.
    for (const [argv, message] of [
      [
        ["plan", "--snapshots", "cluster.json"],
        "Unknown option '--snapshots'; did you mean --snapshot?",
      ],
      [["plan", "--bogus"], "Unknown option '--bogus' (--help lists the options)"],
      [
        ["snapshot", "--kubeconfg", "k"],
        "Unknown option '--kubeconfg'; did you mean --kubeconfig?",
      ],
      [
        ["backtest", "--merge-dealy", "1h"],
        "Unknown option '--merge-dealy'; did you mean --merge-delay?",
      ],
      [
        ["wait-nodes", "--selecter", "a=b"],
        "Unknown option '--selecter'; did you mean --selector?",
      ],
      [["validate", "--jsn"], "Unknown option '--jsn'; did you mean --json?"],
      [
        ["edit", "terraform.tfvars", "offset", "-1"],
        "Unknown option '-1' (--help lists the options); an argument that starts with '-' goes after --, as in: -- -1",
      ],
    ] as const) {
      const run = await runCli([...argv]);
      expect({ argv, code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({
        argv,
        code: 2,
        stdout: "",
        stderr: `pr-autoscaler ${argv[0]}: ${message}\n`,
      });
    }
  });

  it("prints the package version", async () => {
    const run = await runCli(["--version"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
