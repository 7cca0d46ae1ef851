/**
 * A drain cancelled at a chosen moment (the fake API server sees a given request), in
 * process: the signals come from an emitter standing in for the process, through the same
 * watcher the CLI uses; the clock is virtual.
 */
import { EventEmitter } from "node:events";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import type { DrainResult } from "../../src/apply/drain-result.ts";
import {
  type SignalOutput,
  type SignalProcess,
  signalExitCode,
  watchSignals,
} from "../../src/apply/drain-signals.ts";
import { createDrainCommand } from "../../src/cli/drain-command.ts";
import type { CliIo } from "../../src/cli/io.ts";
import type { RecordedRequest } from "../support/fake-kube-apiserver.ts";
import { budget, node, pod, type Raw, useDrainCluster, virtualClock } from "./drain-support.ts";

const cluster = useDrainCluster("drain-cancel");
const { unschedulable } = cluster;

/** An output whose writes complete when the test says, or at once. */
class FakeOutput implements SignalOutput {
  text = "";
  errorListeners = 0;
  held: (() => void)[] = [];
  hold = false;

  write(text: string, done: () => void): boolean {
    this.text += text;
    if (this.hold) this.held.push(done);
    else queueMicrotask(done);
    return true;
  }

  on(_event: "error", _listener: (error: Error) => void): this {
    this.errorListeners += 1;
    return this;
  }
}

class FakeProcess extends EventEmitter implements SignalProcess {
  readonly exits: number[] = [];
  readonly stdout = new FakeOutput();
  readonly stderr = new FakeOutput();

  exit(code: number): void {
    this.exits.push(code);
  }
}

interface CancelledRun {
  code: number;
  stdout: string;
  stderr: string;
  exits: number[];
}

/**
 * The real time a cancel may spend when a test does not shorten it: the uncordons must be
 * answered within it, and on a loaded machine the fake API server, in this process, can take
 * seconds to answer (the drain's default of 2 s could run out on them).
 */
const ampleGraceMs = 60_000;

/**
 * Runs `drain`; `cancelOn` says at which request the process gets `signal` (once).
 * `cancelGraceMs` shortens the time the cancel may spend.
 */
async function drain(
  args: string[],
  cancelOn: (request: RecordedRequest) => boolean,
  options: { signal?: "SIGINT" | "SIGTERM"; cancelGraceMs?: number } = {},
): Promise<CancelledRun> {
  const proc = new FakeProcess();
  let sent = false;
  cluster.fake.onRequest = (request) => {
    if (sent || !cancelOn(request)) return;
    sent = true;
    proc.emit(options.signal ?? "SIGINT");
  };
  const command = createDrainCommand({
    clock: virtualClock(),
    signals: (watch) => watchSignals(watch, proc),
    cancelGraceMs: options.cancelGraceMs ?? ampleGraceMs,
  });
  const run = { code: -1, stdout: "", stderr: "", exits: proc.exits };
  const io: CliIo = {
    stdout: (text) => {
      run.stdout += text;
    },
    stderr: (text) => {
      run.stderr += text;
    },
    cwd: cluster.dir,
    env: {},
    isTty: false,
  };
  run.code = await command.run([...args, "--kubeconfig", cluster.kubeconfig], io);
  // The exit waits for the process's own streams to flush.
  await new Promise((resolve) => setImmediate(resolve));
  return run;
}

/** `spec.unschedulable` of each change the fake applies to a node, in the order applied. */
function recordNodeChanges(): boolean[] {
  const applied: boolean[] = [];
  const put = cluster.fake.put.bind(cluster.fake);
  cluster.fake.put = (resource, object) => {
    if (resource === "nodes") applied.push((object.spec as Raw).unschedulable === true);
    return put(resource, object);
  };
  return applied;
}

const isEviction = (request: RecordedRequest) =>
  request.method === "POST" && request.path.endsWith("/eviction");

function writes(): string[] {
  return cluster.fake.requests
    .filter((r) => r.method !== "GET")
    .map((r) => `${r.method} ${r.path.replace("/api/v1/", "")}`);
}

describe("drain cancelled", () => {
  it("abandons the eviction in flight, sends no other, and uncordons only what it cordoned", async () => {
    cluster.fake.add(
      node("worker-1", { unschedulable: true }),
      node("worker-2"),
      pod("web-1", "worker-1", { labels: { app: "web" } }),
      budget("web-pdb", "web", 0),
    );
    let evictions = 0;
    const run = await drain(
      ["worker-1", "worker-2", "--json"],
      (request) => isEviction(request) && ++evictions === 2,
    );
    expect(run.code).toBe(1);
    expect(run.exits).toEqual([130]);
    expect(writes()).toEqual([
      "PATCH nodes/worker-2",
      "POST namespaces/apps/pods/web-1/eviction",
      "POST namespaces/apps/pods/web-1/eviction",
      "PATCH nodes/worker-2",
    ]);
    expect(unschedulable("worker-1")).toBe(true);
    expect(unschedulable("worker-2")).toBe(false);
    const result = JSON.parse(run.stdout) as DrainResult;
    expect(result).toMatchObject({
      outcome: "cancelled",
      message: "received SIGINT",
      leftCordoned: [],
      uncordonErrors: [],
    });
    expect(result.nodes[0]).toMatchObject({
      name: "worker-1",
      state: "cancelled",
      wasCordoned: true,
      cordoned: false,
      uncordoned: false,
      stuck: [
        {
          pod: "apps/web-1",
          reason:
            "its eviction was sent and the drain stopped before the answer: it may be evicted (the eviction before was refused: The disruption budget web-pdb allows no more disruptions right now)",
        },
      ],
    });
    expect(result.nodes[1]).toMatchObject({
      name: "worker-2",
      state: "checked",
      cordoned: true,
      uncordoned: true,
    });
    expect(run.stderr).toContain(
      "received SIGINT: stopping the drain, uncordoning worker-2 (a second SIGINT or SIGTERM exits at once)\nnode/worker-2 uncordoned\n",
    );
  });

  it("before anything was cordoned: changes nothing and says so", async () => {
    cluster.fake.add(node("worker-1"), pod("api-1", "worker-1"));
    const run = await drain(
      ["worker-1"],
      (request) => request.method === "GET" && request.path === "/api/v1/pods",
      { signal: "SIGTERM" },
    );
    expect(run.exits).toEqual([143]);
    expect(writes()).toEqual([]);
    expect(run.stdout).toContain("node worker-1: not drained (the drain stopped before it)\n");
    expect(run.stdout).toContain("Drain cancelled: received SIGTERM. Nothing was cordoned.\n");
  });

  it("waits for a cordon in flight before it uncordons, so the uncordon comes last", async () => {
    cluster.fake.add(node("worker-1"), pod("api-1", "worker-1"));
    // The cordon is applied only after the cancel began.
    cluster.fake.injectFault({ method: "PATCH", path: "/api/v1/nodes/worker-1", delayMs: 300 });
    const applied = recordNodeChanges();
    const run = await drain(["worker-1", "--json"], (request) => request.method === "PATCH");
    expect(run.exits).toEqual([130]);
    expect(writes()).toEqual(["PATCH nodes/worker-1", "PATCH nodes/worker-1"]);
    // Both applied by the time the drain ends, the uncordon last.
    expect(applied).toEqual([true, false]);
    expect(unschedulable("worker-1")).toBe(false);
    const result = JSON.parse(run.stdout) as DrainResult;
    expect(result.nodes[0]).toMatchObject({ cordoned: true, uncordoned: true });
    expect(result.leftCordoned).toEqual([]);
    expect(cluster.fake.requestCount({ method: "POST" })).toBe(0);
  });

  it("uncordons a node whose cordon in flight was applied and whose answer was lost", async () => {
    cluster.fake.add(node("worker-1"), pod("api-1", "worker-1"));
    // The API server cordons the node, and the connection drops halfway through its answer.
    cluster.fake.injectFault({ method: "PATCH", path: "/api/v1/nodes/worker-1", truncate: true });
    const run = await drain(["worker-1", "--json"], (request) => request.method === "PATCH");
    expect(run.exits).toEqual([130]);
    expect(writes()).toEqual(["PATCH nodes/worker-1", "PATCH nodes/worker-1"]);
    expect(unschedulable("worker-1")).toBe(false);
    const result = JSON.parse(run.stdout) as DrainResult;
    expect(result.nodes[0]).toMatchObject({ cordoned: true, uncordoned: true });
    expect(result.leftCordoned).toEqual([]);
  });

  it("reports a node it could not uncordon in time as left cordoned, with what to check", async () => {
    cluster.fake.add(
      node("worker-1"),
      pod("web-1", "worker-1", { labels: { app: "web" } }),
      budget("web-pdb", "web", 0),
    );
    // The cordon goes through; the uncordon gets no answer within the cancel's grace.
    cluster.fake.injectFault({
      method: "PATCH",
      path: "/api/v1/nodes/worker-1",
      after: 1,
      delayMs: 1_000,
    });
    const run = await drain(["worker-1"], isEviction, { cancelGraceMs: 100 });
    expect(run.exits).toEqual([130]);
    expect(run.stdout).toContain(
      "Drain cancelled: received SIGINT. Left cordoned: worker-1.\ncould not uncordon worker-1: no answer to the uncordon within 100ms of the cancel: it may still be cordoned; check `kubectl get node worker-1`\n",
    );
  });

  it("sends no uncordon after a cordon that got no answer in time, and says it may be cordoned", async () => {
    cluster.fake.add(node("worker-1"), pod("api-1", "worker-1"));
    cluster.fake.injectFault({ method: "PATCH", path: "/api/v1/nodes/worker-1", delayMs: 1_000 });
    const run = await drain(["worker-1", "--json"], (request) => request.method === "PATCH", {
      cancelGraceMs: 100,
    });
    expect(run.exits).toEqual([130]);
    expect(writes()).toEqual(["PATCH nodes/worker-1"]);
    const result = JSON.parse(run.stdout) as DrainResult;
    expect(result.leftCordoned).toEqual(["worker-1"]);
    expect(result.uncordonErrors).toEqual([
      "worker-1: its cordon had no answer within 100ms of the cancel: it may be cordoned; check `kubectl get node worker-1`",
    ]);
  });

  it("writes its result to --result-file before it exits, and prints the readable one", async () => {
    cluster.fake.add(node("worker-1"), pod("web-1", "worker-1", { labels: { app: "web" } }));
    cluster.fake.add(budget("web-pdb", "web", 0));
    const file = join(cluster.dir, "drain.json");
    const run = await drain(["worker-1", "--result-file", "drain.json"], isEviction, {
      signal: "SIGTERM",
    });
    expect(run.exits).toEqual([143]);
    const result = JSON.parse(await readFile(file, "utf8")) as DrainResult;
    expect(result).toMatchObject({ outcome: "cancelled", message: "received SIGTERM" });
    expect(result.leftCordoned).toEqual([]);
    expect(run.stdout).toContain("Drain cancelled: received SIGTERM. Uncordoned worker-1.");
    expect(run.stdout).not.toContain('"outcome"');
  });

  it("a drain that ends before a signal comes exits as usual", async () => {
    cluster.fake.add(node("worker-1"), pod("api-1", "worker-1"));
    const run = await drain(["worker-1"], () => false);
    expect(run.code).toBe(0);
    expect(run.exits).toEqual([]);
    expect(unschedulable("worker-1")).toBe(true);
  });
});

describe("watchSignals", () => {
  const note = { forcedExitNote: "exiting now, the nodes may still be cordoned" };

  it("aborts at the first signal, naming it, and stops output errors from ending the process", () => {
    const proc = new FakeProcess();
    const signals = watchSignals(note, proc);
    expect(signals.received()).toBeUndefined();
    proc.emit("SIGTERM");
    expect(signals.signal.aborted).toBe(true);
    expect(signals.signal.reason).toBe("received SIGTERM");
    expect(signals.received()).toBe("SIGTERM");
    expect([proc.stdout.errorListeners, proc.stderr.errorListeners]).toEqual([1, 1]);
    expect(proc.exits).toEqual([]);
  });

  it("exits at the second signal with that signal's status, after the note", () => {
    const proc = new FakeProcess();
    watchSignals(note, proc);
    proc.emit("SIGINT");
    proc.emit("SIGINT");
    expect(proc.exits).toEqual([130]);
    expect(proc.stderr.text).toBe(
      "pr-autoscaler drain: received SIGINT again: exiting now, the nodes may still be cordoned\n",
    );
  });

  it("exits only once both outputs have flushed", async () => {
    const proc = new FakeProcess();
    proc.stdout.hold = true;
    proc.stderr.hold = true;
    watchSignals(note, proc).exit(143);
    expect(proc.exits).toEqual([]);
    proc.stdout.held.shift()?.();
    expect(proc.exits).toEqual([]);
    proc.stderr.held.shift()?.();
    expect(proc.exits).toEqual([143]);
  });

  it("gives the signals back when disposed", () => {
    const proc = new FakeProcess();
    const signals = watchSignals(note, proc);
    expect(proc.listenerCount("SIGINT") + proc.listenerCount("SIGTERM")).toBe(2);
    signals.dispose();
    expect(proc.listenerCount("SIGINT") + proc.listenerCount("SIGTERM")).toBe(0);
  });

  it("exit statuses are a shell's: 128 plus the signal's number", () => {
    expect([signalExitCode("SIGINT"), signalExitCode("SIGTERM")]).toEqual([130, 143]);
  });
});
