/**
 * The apply workflow's wait step cancelled as a CI runner cancels a step: a signal to the
 * step's shell alone. The step's script runs in bash as GitHub runs it, with the real
 * `pr-autoscaler wait-nodes` against a served cluster: the shell passes the signal on, and the
 * wait writes its result, cancelled, for the report, which tells the pool whose wait it kept
 * from starting.
 */
import { spawn } from "node:child_process";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "@jest/globals";
import { parse } from "yaml";
import type { WaitResult } from "../../src/apply/wait-nodes.ts";
import { node, useDrainCluster } from "../apply/drain-support.ts";
import { runReport } from "../apply/report-support.ts";
import { APPLY_WORKFLOW } from "./support/workflow-sandbox.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const cluster = useDrainCluster("wait-step-signal");

interface Step {
  id?: string;
  run?: string;
}

/** The script of the apply job's step `id`. */
async function stepScript(id: string): Promise<string> {
  const workflow = parse(await readFile(APPLY_WORKFLOW, "utf8")) as {
    jobs: Record<string, { steps: Step[] }>;
  };
  const step = Object.values(workflow.jobs)
    .flatMap((job) => job.steps)
    .find((s) => s.id === id);
  if (step?.run === undefined) throw new Error(`no step ${id} with a script`);
  return step.run;
}

/** Runs the wait step for `targets` (POOL_COUNTS), and sends `signal` to its shell once `seen`. */
async function cancelWaitStep(targets: string, signal: NodeJS.Signals, seen: string) {
  const dir = cluster.dir;
  const temp = join(dir, "runner-temp");
  const bin = join(dir, "bin");
  await mkdir(join(temp, "pr-autoscaler"), { recursive: true });
  await mkdir(bin, { recursive: true });
  await mkdir(join(dir, "infra"), { recursive: true });
  await writeFile(join(temp, "pr-autoscaler", "kubeconfig"), await readFile(cluster.kubeconfig));
  const cli = join(bin, "pr-autoscaler");
  await writeFile(
    cli,
    `#!/bin/bash\nexec ${JSON.stringify(join(repoRoot, "node_modules/.bin/node"))} ${JSON.stringify(join(repoRoot, "bin/pr-autoscaler.js"))} "$@"\n`,
  );
  await chmod(cli, 0o755);
  const script = join(dir, "wait-step.sh");
  await writeFile(script, await stepScript("wait"));
  const shell = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], {
    cwd: join(dir, "infra"),
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: `${bin}:/usr/bin:/bin`,
      HOME: dir,
      RUNNER_TEMP: temp,
      POOL: "",
      POOL_COUNTS: targets,
      POOL_ADDED: "",
      WORKER_COUNT: "",
      WORKER_ADDED: "",
      NODES_TIMEOUT: "5m",
      APPLY_STARTED: "2025-01-12T00:00:00Z",
    },
  });
  let stdout = "";
  // Once its output is closed: the shell and its tee (which writes the log) are done.
  const exited = new Promise<number | null>((resolve) => shell.on("close", resolve));
  let sent = false;
  shell.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
    if (!sent && stdout.includes(seen)) {
      sent = true;
      shell.kill(signal);
    }
  });
  const code = await exited;
  const result = async (pool: string) =>
    JSON.parse(
      await readFile(join(temp, "pr-autoscaler", `wait-${pool}.json`), "utf8"),
    ) as WaitResult;
  const log = async () => readFile(join(temp, "pr-autoscaler", "log.txt"), "utf8");
  return { code, stdout: () => stdout, result, log, temp };
}

/** The guard's verdict on workers 1 → 2 and gpu 0 → 1: the wait step's POOL_COUNTS below. */
const TWO_POOLS_UP = {
  verdict: "pass",
  expected: null,
  creates: [
    {
      address: "terraform_data.worker[1]",
      name: "talos-worker-2",
      node: "talos-worker-2",
      pool: "workers",
    },
    { address: "terraform_data.gpu[0]", name: "talos-gpu-1", node: "talos-gpu-1", pool: "gpu" },
  ],
  destroys: [],
  alsoAllowed: [],
  offending: [],
  warnings: [],
  pools: [
    { name: "workers", expected: { from: 1, to: 2 } },
    { name: "gpu", expected: { from: 0, to: 1 } },
  ],
};

describe("the apply workflow's wait step, cancelled", () => {
  it("passes SIGINT on to the wait, which writes its result, and starts no other pool's wait", async () => {
    cluster.fake.add(node("talos-worker-1"));
    const step = await cancelWaitStep("workers=2 gpu=1", "SIGINT", "pool workers: 1/2 Ready");
    expect(step.code).toBe(1);
    expect(await step.result("workers")).toMatchObject({
      outcome: "cancelled",
      nodesRead: true,
      ready: 1,
      missing: 1,
      message: "received SIGINT: the pool has 1 of 2 nodes Ready (1 missing)",
    });
    await expect(readFile(join(step.temp, "pr-autoscaler", "wait-gpu.json"))).rejects.toThrow(
      "ENOENT",
    );
    expect(await step.log()).toMatch(
      /\nCancelled after \d+s waiting for pool workers: received SIGINT: the pool has 1 of 2 nodes Ready \(1 missing\)\.\n/,
    );
    // The report, given the one result written, says gpu's wait was not started, not that it
    // wrote no result.
    const verdict = join(step.temp, "verdict.json");
    await writeFile(verdict, JSON.stringify(TWO_POOLS_UP));
    const wait = join(step.temp, "pr-autoscaler", "wait-workers.json");
    const report = await runReport([
      "apply",
      ...["--sha", "0123456789abcdef0123456789abcdef01234567", "--result", "failed"],
      ...["--failed-step", "nodes", "--cancelled", "--verdict", verdict, "--wait-result", wait],
      "--dry-run",
    ]);
    expect(report.code).toBe(0);
    expect(report.stdout).toContain(
      "Cancelled waiting for nodes: applied; pool workers: cancelled, 1/2 Ready; pool gpu not waited for",
    );
    expect(report.stdout).toContain(
      "The wait for pool `gpu` was not started: the run was cancelled before it.",
    );
    expect(report.stdout).not.toContain("wrote no result");
  });

  it("passes SIGTERM on too", async () => {
    cluster.fake.add(node("talos-worker-1"));
    const step = await cancelWaitStep("workers=2", "SIGTERM", "pool workers: 1/2 Ready");
    expect(step.code).toBe(1);
    expect((await step.result("workers")).message).toBe(
      "received SIGTERM: the pool has 1 of 2 nodes Ready (1 missing)",
    );
  });
});
