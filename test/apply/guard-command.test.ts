/**
 * `pr-autoscaler guard` end to end: files in, verdict and exit code out.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { GuardVerdict } from "../../src/apply/guard.ts";
import { type CliRun, runCli } from "../support/cli.ts";
import { requireTerraform, terraformFixture, terraformWorkdir } from "../support/terraform.ts";

const example = fileURLToPath(new URL("../../examples/talos-proxmox/", import.meta.url));
const plans = terraformFixture("talos-proxmox-plans");
const config = `${example}.github/pr-autoscaler-guard.yml`;

function guard(args: string[], cwd = plans): Promise<CliRun> {
  return runCli(["guard", ...args], cwd);
}

describe("pr-autoscaler guard", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-guard-"));
    const tfvars = await readFile(`${example}terraform/terraform.tfvars`, "utf8");
    await writeFile(join(dir, "base.tfvars"), tfvars);
    await writeFile(
      join(dir, "head.tfvars"),
      tfvars.replace(/^worker_count(\s+)= 3/m, "worker_count$1= 4"),
    );
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("passes an expected scale-up with exit 0 and lists the VM to create", async () => {
    const run = await guard([
      "--plan",
      "scale-up-3-to-4.json",
      "--config",
      config,
      "--expect-from",
      "3",
      "--expect-to",
      "4",
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Plan guard: PASS for pool workers (3 → 4 workers).");
    expect(run.stdout).toContain(
      "+ proxmox_virtual_environment_vm.worker[3]  name: talos-worker-4",
    );
  });

  it("reads the expected change from the tfvars at base and head, and prints JSON", async () => {
    const run = await guard(
      [
        "--plan",
        join(plans, "scale-up-3-to-4.json"),
        "--config",
        config,
        "--tfvars-before",
        "base.tfvars",
        "--tfvars-after",
        "head.tfvars",
        "--json",
      ],
      dir,
    );
    expect(run.code).toBe(0);
    const verdict = JSON.parse(run.stdout) as GuardVerdict;
    expect(verdict).toEqual({
      verdict: "pass",
      expected: { from: 3, to: 4 },
      creates: [{ address: "proxmox_virtual_environment_vm.worker[3]", name: "talos-worker-4" }],
      destroys: [],
      alsoAllowed: [
        { address: "talos_machine_configuration_apply.worker[3]", actions: ["create"] },
      ],
      offending: [],
      warnings: [],
    });
  });

  it("refuses with exit 1 and lists every offending change", async () => {
    const run = await guard([
      "--plan",
      "scale-down-4-to-3.json",
      "--config",
      config,
      "--expect-from",
      "4",
      "--expect-to",
      "2",
      "--json",
    ]);
    expect(run.code).toBe(1);
    const verdict = JSON.parse(run.stdout) as GuardVerdict;
    expect(verdict.verdict).toBe("refuse");
    expect(verdict.offending.map((o) => o.address)).toEqual([
      "proxmox_virtual_environment_vm.worker[2]",
    ]);
    expect(verdict.destroys.map((d) => d.node)).toEqual(["talos-worker-4"]);

    const text = await guard([
      "--plan",
      "scale-down-4-to-3.json",
      "--config",
      config,
      "--expect-from",
      "4",
      "--expect-to",
      "2",
    ]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain("Nothing may be applied until every problem above is resolved.");
    expect(text.stdout).toContain(
      "Plan guard: REFUSED for pool workers (4 → 2 workers): 1 problem.",
    );
    expect(text.stdout).toContain(
      "proxmox_virtual_environment_vm.worker[2]\n      this VM would still exist after the plan, but 4 → 2 keeps only indexes 0..1",
    );
  });

  it("takes the rules from flags when there is no config file", async () => {
    const run = await guard([
      "--plan",
      "scale-down-4-to-3.json",
      "--vm-address",
      "proxmox_virtual_environment_vm.worker[*]",
      "--companion",
      "talos_machine_configuration_apply.worker[*]",
      "--node-template",
      "{name}.home.arpa",
      "--expect-from",
      "4",
      "--expect-to",
      "3",
      "--json",
    ]);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as GuardVerdict).destroys).toEqual([
      {
        address: "proxmox_virtual_environment_vm.worker[3]",
        name: "talos-worker-4",
        node: "talos-worker-4.home.arpa",
      },
    ]);
  });

  it("exits 2 for bad flags and unreadable input, saying what is wrong", async () => {
    const cases: [string[], string][] = [
      [["--config", config], "--plan FILE is required"],
      [["--plan", "scale-up-3-to-4.json"], "give --config FILE or --vm-address PATTERN"],
      [
        ["--plan", "x.json", "--config", config, "--expect-from", "3"],
        "--expect-from and --expect-to go together",
      ],
      [
        ["--plan", "x.json", "--config", config, "--expect-from", "3", "--expect-to", "four"],
        '--expect-to expects a whole number, got "four"',
      ],
      [["--plan", "x.json", "--config", config, "--frobnicate"], "Unknown option '--frobnicate'"],
      [
        ["--plan", "x.json", "--config", config, "--vm-address", "a.b[*]"],
        "--vm-address cannot be combined with --config",
      ],
      [
        [
          "--plan",
          "x.json",
          "--config",
          config,
          "--expect-from",
          "3",
          "--expect-to",
          "4",
          "--tfvars-before",
          "a",
        ],
        "give either --expect-from/--expect-to or --tfvars-before/--tfvars-after",
      ],
      [["--plan", "missing.json", "--config", config], "missing.json: no such file"],
      [
        ["--plan", "scale-up-3-to-4.json", "--vm-address", "a.b[*]", "--drift", "ignore"],
        '--drift expects refuse or warn, got "ignore"',
      ],
    ];
    for (const [args, message] of cases) {
      const run = await guard(args);
      expect([run.code, run.stderr]).toEqual([2, expect.stringContaining(message)]);
      expect(run.stdout).toBe("");
    }
  });

  it("exits 2 for a file that is not a plan, naming the file and line", async () => {
    await writeFile(
      join(dir, "broken.json"),
      '{\n  "format_version": "1.2",\n  "resource_changes": [\n',
    );
    const run = await guard(["--plan", "broken.json", "--config", config], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^pr-autoscaler guard: broken\.json:4:\d+: not valid JSON/);
  });

  it("guards a real terraform plan read from a file", async () => {
    await requireTerraform();
    const workdir = await terraformWorkdir("cluster");
    try {
      await workdir.apply();
      await workdir.write("terraform.tfvars", "worker_count = 2\n");
      await writeFile(join(dir, "real.json"), await workdir.planJson());
      const run = await guard(
        [
          "--plan",
          "real.json",
          "--vm-address",
          "module.workers.terraform_data.worker[*]",
          "--companion",
          "module.workers.terraform_data.machine_config[*]",
          "--expect-from",
          "3",
          "--expect-to",
          "2",
        ],
        dir,
      );
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(
        "- module.workers.terraform_data.worker[2]  name: talos-worker-3  node: talos-worker-3",
      );
    } finally {
      await workdir.remove();
    }
  }, 120_000);
});
