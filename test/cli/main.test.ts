import { describe, expect, it } from "@jest/globals";
import { runCli } from "../support/cli.ts";

describe("pr-autoscaler CLI", () => {
  it("prints help with exit 0", async () => {
    const run = await runCli(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Usage: pr-autoscaler <command>");
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

  it("prints the package version", async () => {
    const run = await runCli(["--version"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
