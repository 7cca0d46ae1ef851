/**
 * `pr-autoscaler drain` as a process, cancelled by a real signal while a PodDisruptionBudget
 * that allows no disruption holds it: what a CI runner does to a cancelled job's step (SIGINT,
 * then SIGTERM, then a kill) and what Ctrl-C does in a terminal.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { beforeEach, describe, expect, it } from "@jest/globals";
import type { DrainResult } from "../../src/apply/drain-result.ts";
import { budget, node, pod, useDrainCluster } from "./drain-support.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const NODE = "talos-worker-4";
const BLOCKED = `${NODE}: 1 pod left, waiting: apps/web-1 blocked by PDB web-pdb`;

const cluster = useDrainCluster("drain-signals");
const { unschedulable } = cluster;

beforeEach(() => {
  cluster.fake.add(
    node("talos-worker-3"),
    node(NODE),
    pod("web-1", NODE, { labels: { app: "web" } }),
    budget("web-pdb", "web", 0),
  );
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The CLI as the apply workflow runs it, its output collected. */
class DrainProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  stdout = "";
  stderr = "";
  readonly exited: Promise<Exit>;
  #waiters: (() => void)[] = [];

  constructor(args: string[]) {
    this.child = spawn(
      join(repoRoot, "node_modules/.bin/node"),
      [
        join(repoRoot, "bin/pr-autoscaler.js"),
        "drain",
        ...args,
        "--kubeconfig",
        cluster.kubeconfig,
        "--timeout",
        "5m",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child.stdout.on("data", (chunk: Buffer) => this.#read("stdout", chunk));
    this.child.stderr.on("data", (chunk: Buffer) => this.#read("stderr", chunk));
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code, signal) => resolve({ code, signal })),
    );
  }

  #read(stream: "stdout" | "stderr", chunk: Buffer): void {
    this[stream] += chunk.toString("utf8");
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves once `text` has been written to `stream`; fails if the process ends first. */
  async waitFor(stream: "stdout" | "stderr", text: string): Promise<void> {
    let ended = false;
    void this.exited.then(() => {
      ended = true;
      for (const wake of this.#waiters.splice(0)) wake();
    });
    while (!this[stream].includes(text)) {
      if (ended) throw new Error(`the drain exited before writing ${JSON.stringify(text)}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }
}

describe("drain cancelled by a signal", () => {
  it("SIGINT while a budget blocks it: no more evictions, the node uncordoned, exit 130", async () => {
    const drain = new DrainProcess([NODE, "--json"]);
    await drain.waitFor("stderr", BLOCKED);
    expect(unschedulable(NODE)).toBe(true);
    drain.child.kill("SIGINT");
    expect(await drain.exited).toEqual({ code: 130, signal: null });
    expect(unschedulable(NODE)).toBe(false);
    expect(drain.stderr).toContain(
      `received SIGINT: stopping the drain, uncordoning ${NODE} (a second SIGINT or SIGTERM exits at once)\nnode/${NODE} uncordoned\n`,
    );
    const result = JSON.parse(drain.stdout) as DrainResult;
    expect(result).toMatchObject({
      outcome: "cancelled",
      message: "received SIGINT",
      leftCordoned: [],
      uncordonErrors: [],
    });
    expect(result.nodes).toEqual([
      expect.objectContaining({
        name: NODE,
        state: "cancelled",
        wasCordoned: false,
        cordoned: true,
        uncordoned: true,
        evicted: [],
        stuck: [expect.objectContaining({ pod: "apps/web-1", budget: "web-pdb" })],
      }),
    ]);
    // The last write is the uncordon: no eviction went out after the signal.
    const writes = cluster.fake.requests.filter((r) => r.method !== "GET");
    expect(writes.at(-1)).toMatchObject({ method: "PATCH", path: `/api/v1/nodes/${NODE}` });
    expect(cluster.fake.get("pods", "web-1", "apps")).toBeDefined();
  });

  it("SIGTERM: the same, exit 143, and the text result says what happened", async () => {
    const drain = new DrainProcess([NODE]);
    await drain.waitFor("stdout", BLOCKED);
    drain.child.kill("SIGTERM");
    expect(await drain.exited).toEqual({ code: 143, signal: null });
    expect(unschedulable(NODE)).toBe(false);
    expect(drain.stdout).toContain(`node ${NODE}: cancelled, 0 pods evicted\n`);
    expect(drain.stdout).toContain(
      "  apps/web-1: blocked by PodDisruptionBudget web-pdb: The disruption budget web-pdb",
    );
    expect(drain.stdout).toContain(`Drain cancelled: received SIGTERM. Uncordoned ${NODE}.\n`);
  });

  it("leaves a node cordoned before the drain cordoned", async () => {
    cluster.fake.add(node("talos-worker-3", { unschedulable: true }));
    const drain = new DrainProcess([NODE, "talos-worker-3", "--json"]);
    await drain.waitFor("stderr", BLOCKED);
    drain.child.kill("SIGINT");
    expect((await drain.exited).code).toBe(130);
    expect(unschedulable(NODE)).toBe(false);
    expect(unschedulable("talos-worker-3")).toBe(true);
    const result = JSON.parse(drain.stdout) as DrainResult;
    expect(result.nodes.map((n) => [n.name, n.state, n.wasCordoned, n.uncordoned])).toEqual([
      [NODE, "cancelled", false, true],
      ["talos-worker-3", "checked", true, false],
    ]);
  });

  it("with --keep-cordoned leaves the node cordoned and says so", async () => {
    const drain = new DrainProcess([NODE, "--keep-cordoned"]);
    await drain.waitFor("stdout", BLOCKED);
    drain.child.kill("SIGINT");
    expect((await drain.exited).code).toBe(130);
    expect(unschedulable(NODE)).toBe(true);
    expect(drain.stdout).toContain(
      "received SIGINT: stopping the drain, leaving the nodes it cordoned cordoned (--keep-cordoned)",
    );
    expect(drain.stdout).toContain(`Drain cancelled: received SIGINT. Left cordoned: ${NODE}.\n`);
  });

  it("uncordons even when the reader of its output went away with the signal (| tee)", async () => {
    const drain = new DrainProcess([NODE]);
    await drain.waitFor("stdout", BLOCKED);
    // Ctrl-C reaches every process of the pipeline: the reader is gone before the drain
    // writes another line, and each write fails with EPIPE.
    drain.child.stdout.destroy();
    drain.child.kill("SIGINT");
    expect((await drain.exited).code).toBe(130);
    expect(unschedulable(NODE)).toBe(false);
  });
});
