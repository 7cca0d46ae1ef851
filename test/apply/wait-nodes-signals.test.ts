/**
 * `pr-autoscaler wait-nodes` as a process, cancelled by a real signal while the pool lacks a
 * node: what a CI runner does to a cancelled job's step (SIGINT, then SIGTERM, then a kill) and
 * what Ctrl-C does in a terminal. The cancelled wait still writes its result.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "@jest/globals";
import type { WaitResult } from "../../src/apply/wait-nodes.ts";
import { node, useDrainCluster } from "./drain-support.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const SHORT = "pool workers: 1/2 Ready";

const cluster = useDrainCluster("wait-nodes-signals");

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The CLI as the apply workflow runs it, its output collected. */
class WaitProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly resultFile = join(cluster.dir, "wait-workers.json");
  stdout = "";
  stderr = "";
  readonly exited: Promise<Exit>;
  #waiters: (() => void)[] = [];

  constructor(args: string[]) {
    this.child = spawn(
      join(repoRoot, "node_modules/.bin/node"),
      [
        join(repoRoot, "bin/pr-autoscaler.js"),
        "wait-nodes",
        "--pool",
        "workers",
        ...args,
        "--kubeconfig",
        cluster.kubeconfig,
        "--timeout",
        "5m",
        "--interval",
        "1s",
        "--result-file",
        this.resultFile,
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
      if (ended) throw new Error(`the wait exited before writing ${JSON.stringify(text)}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  async result(): Promise<WaitResult> {
    return JSON.parse(await readFile(this.resultFile, "utf8")) as WaitResult;
  }
}

describe("wait-nodes cancelled by a signal", () => {
  it("SIGINT: writes its result, cancelled with what the last look saw, and exits 130", async () => {
    cluster.fake.add(node("talos-worker-1"));
    const wait = new WaitProcess(["--count", "2"]);
    await wait.waitFor("stdout", SHORT);
    wait.child.kill("SIGINT");
    expect(await wait.exited).toEqual({ code: 130, signal: null });
    const result = await wait.result();
    expect(result).toMatchObject({
      outcome: "cancelled",
      pool: "workers",
      nodesRead: true,
      ready: 1,
      missing: 1,
      message: "received SIGINT: the pool has 1 of 2 nodes Ready (1 missing)",
    });
    expect(wait.stdout).toContain(
      "received SIGINT: stopping the wait, its result says what it saw (a second SIGINT or SIGTERM exits at once)\n",
    );
    expect(wait.stdout).toMatch(
      /\nCancelled after \d+s waiting for pool workers: received SIGINT: the pool has 1 of 2 nodes Ready \(1 missing\)\.\n/,
    );
  });

  it("SIGTERM: the same, exit 143", async () => {
    cluster.fake.add(node("talos-worker-1"));
    const wait = new WaitProcess(["--count", "2", "--json"]);
    await wait.waitFor("stderr", SHORT);
    wait.child.kill("SIGTERM");
    expect((await wait.exited).code).toBe(143);
    const printed = JSON.parse(wait.stdout) as WaitResult;
    expect(printed).toEqual(await wait.result());
    expect(printed).toMatchObject({ outcome: "cancelled", ready: 1, missing: 1 });
    expect(printed.message).toMatch(/^received SIGTERM: /);
  });

  it("a delete in flight is abandoned, and whether its node is gone is not known", async () => {
    cluster.fake.add(
      node("talos-worker-1"),
      node("talos-worker-3", { ready: false, unschedulable: true }),
    );
    // The delete gets no answer before the cancel.
    cluster.fake.injectFault({
      method: "DELETE",
      path: "/api/v1/nodes/talos-worker-3",
      delayMs: 60_000,
    });
    let deleting: () => void = () => {};
    const sent = new Promise<void>((resolve) => {
      deleting = resolve;
    });
    cluster.fake.onRequest = (request) => {
      if (request.method === "DELETE") deleting();
    };
    const wait = new WaitProcess(["--count", "1", "--gone", "talos-worker-3", "--delete-gone"]);
    await sent;
    wait.child.kill("SIGINT");
    expect((await wait.exited).code).toBe(130);
    const result = await wait.result();
    expect(result).toMatchObject({ outcome: "cancelled", nodesRead: true, ready: 1, missing: 0 });
    expect(result.gone).toEqual([
      {
        name: "talos-worker-3",
        state: "present",
        ready: false,
        unschedulable: true,
        deleteFailed:
          "DELETE /api/v1/nodes/talos-worker-3: the wait was cancelled (received SIGINT) before its answer came",
        deleteUnanswered: true,
      },
    ]);
    expect(result.message).toBe(
      "received SIGINT: the last look's delete of talos-worker-3 was abandoned before its answer came, so whether its Node object is gone is not known",
    );
    expect(wait.stdout).toContain(
      "talos-worker-3: there at the last look (NotReady, cordoned); the cancel came before its answer, so it may be gone: kubectl get node talos-worker-3, and kubectl delete node talos-worker-3 if it is still there\n",
    );
  });
});
