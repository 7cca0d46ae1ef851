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

  it("prints the package version", async () => {
    const run = await runCli(["--version"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
