/**
 * Cluster objects and a command runner for the `drain` tests: nodes and pods shaped as the API
 * server serves them, and the command run in-process with a clock that moves only when the
 * drain sleeps.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "@jest/globals";
import type { DrainClock, DrainResult } from "../../src/apply/drain-result.ts";
import type { Command } from "../../src/cli/command.ts";
import { createDrainCommand } from "../../src/cli/drain-command.ts";
import type { CliIo } from "../../src/cli/io.ts";
import { InputError } from "../../src/errors.ts";
import {
  FakeKubeApiserver,
  type FakeKubeApiserverOptions,
} from "../support/fake-kube-apiserver.ts";

export type Raw = Record<string, unknown>;

/** Where the virtual clock starts. */
export const START = Date.parse("2025-01-12T00:00:00Z");

export interface NodeOptions {
  unschedulable?: boolean;
  /** False: the kubelet stopped posting status (Ready Unknown, as the node controller sets it). */
  ready?: boolean;
}

export function node(name: string, options: NodeOptions = {}): Raw {
  const ready =
    options.ready === false
      ? {
          type: "Ready",
          status: "Unknown",
          reason: "NodeStatusUnknown",
          message: "Kubelet stopped posting node status.",
          lastHeartbeatTime: "2025-01-11T23:40:12Z",
          lastTransitionTime: "2025-01-11T23:40:53Z",
        }
      : { type: "Ready", status: "True", reason: "KubeletReady" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name } },
    spec: options.unschedulable ? { unschedulable: true } : {},
    status: { conditions: [ready] },
  };
}

export interface PodOptions {
  namespace?: string;
  owner?: [kind: string, name: string] | null;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  volumes?: Raw[];
  phase?: string;
  terminationGracePeriodSeconds?: number;
  /** Being deleted: the deletion time and grace period the API server set. */
  deleted?: { at: string; grace?: number };
  finalizers?: string[];
}

export function pod(name: string, nodeName: string, options: PodOptions = {}): Raw {
  const owner = options.owner === undefined ? ["ReplicaSet", `${name}-7d9c6`] : options.owner;
  const metadata: Raw = {
    name,
    namespace: options.namespace ?? "apps",
    labels: options.labels ?? { app: name },
  };
  if (options.annotations) metadata.annotations = options.annotations;
  if (options.finalizers) metadata.finalizers = options.finalizers;
  if (options.deleted) {
    metadata.deletionTimestamp = options.deleted.at;
    if (options.deleted.grace !== undefined) {
      metadata.deletionGracePeriodSeconds = options.deleted.grace;
    }
  }
  if (owner) {
    metadata.ownerReferences = [
      {
        apiVersion: owner[0] === "Node" ? "v1" : "apps/v1",
        kind: owner[0],
        name: owner[1],
        uid: `uid-${owner[1]}`,
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
  }
  const spec: Raw = {
    nodeName,
    containers: [{ name: "main", image: "registry.example/app:1" }],
    volumes: options.volumes ?? [],
  };
  if (options.terminationGracePeriodSeconds !== undefined) {
    spec.terminationGracePeriodSeconds = options.terminationGracePeriodSeconds;
  }
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata,
    spec,
    status: { phase: options.phase ?? "Running" },
  };
}

export function daemonPod(name: string, nodeName: string): Raw {
  return pod(name, nodeName, { namespace: "kube-system", owner: ["DaemonSet", "cilium"] });
}

export function mirrorPod(name: string, nodeName: string): Raw {
  return pod(name, nodeName, {
    namespace: "kube-system",
    owner: ["Node", nodeName],
    annotations: {
      "kubernetes.io/config.mirror": "0f1e2d3c4b5a",
      "kubernetes.io/config.source": "file",
    },
  });
}

export function budget(name: string, app: string, disruptionsAllowed: number): Raw {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name, namespace: "apps" },
    spec: { minAvailable: 2, selector: { matchLabels: { app } } },
    status: { disruptionsAllowed, currentHealthy: 2, desiredHealthy: 2, expectedPods: 2 },
  };
}

/** A clock that moves only when the drain sleeps, so waits take no real time. */
export function virtualClock(start = START) {
  return movableClock(start).clock;
}

/**
 * {@link virtualClock}, which the test may also move with `advance`: an answer that took
 * long, without waiting for one.
 */
export function movableClock(start = START) {
  let now = start;
  const sleeps: number[] = [];
  const clock = {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
  return {
    clock,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** What a command run in-process printed, its exit code, and the sleeps of its clock. */
export interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
  sleeps: number[];
}

export interface DrainRunOptions {
  kubeconfig: string | undefined;
  cwd: string;
  tty?: boolean;
  /** The virtual clock by default; any clock that records its sleeps. */
  clock?: DrainClock & { sleeps: number[] };
  /**
   * Reads at or past the deadline get the command's own least time (1 s), as for users, rather
   * than {@link ampleLateReadMs}: for the tests of a read the deadline cuts short.
   */
  ownLateRead?: boolean;
}

/**
 * The real time a read at or past the deadline gets unless a test says otherwise. The virtual
 * clock reaches the deadline at once, and the reads there must be answered: on a loaded machine
 * the fake API server, in this process, can take a second or more (the command's 1 s could run
 * out on them).
 */
export const ampleLateReadMs = 30_000;

export interface CommandRunOptions {
  /** The kubeconfig `--kubeconfig` names; undefined: the arguments name their own. */
  kubeconfig: string | undefined;
  cwd: string;
  tty?: boolean;
  /** The sleeps of the command's clock, as they are made. */
  sleeps: number[];
}

/** Runs `command` as main() does, turning a user's mistake into its exit code and message. */
export async function runCommand(
  command: Command,
  args: string[],
  options: CommandRunOptions,
): Promise<CommandRun> {
  const run: CommandRun = { code: -1, stdout: "", stderr: "", sleeps: options.sleeps };
  const io: CliIo = {
    stdout: (text) => {
      run.stdout += text;
    },
    stderr: (text) => {
      run.stderr += text;
    },
    cwd: options.cwd,
    env: {},
    isTty: options.tty ?? false,
  };
  const extra = options.kubeconfig === undefined ? [] : ["--kubeconfig", options.kubeconfig];
  try {
    run.code = await command.run([...args, ...extra], io);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    run.stderr += `${error.message}\n`;
    run.code = error.exitCode;
  }
  return run;
}

/** Runs `drain` as main() does, on the virtual clock unless `options` gives another. */
export async function runDrain(args: string[], options: DrainRunOptions): Promise<CommandRun> {
  const clock = options.clock ?? virtualClock();
  const command = createDrainCommand({
    clock,
    ...(options.ownLateRead ? {} : { lateReadMs: ampleLateReadMs }),
  });
  return runCommand(command, args, { ...options, sleeps: clock.sleeps });
}

export function jsonResult(run: CommandRun): DrainResult {
  return JSON.parse(run.stdout) as DrainResult;
}

/** A served cluster for one test: the fake API server and a kubeconfig for it in a temp dir. */
export interface DrainCluster {
  fake: FakeKubeApiserver;
  dir: string;
  kubeconfig: string;
}

/** Starts a {@link DrainCluster}; `name` names its temp dir. */
async function startDrainCluster(
  name: string,
  options?: FakeKubeApiserverOptions,
): Promise<DrainCluster> {
  const fake = await FakeKubeApiserver.start(options);
  const dir = await mkdtemp(join(tmpdir(), `pr-autoscaler-${name}-`));
  return { fake, dir, kubeconfig: await fake.writeKubeconfig(join(dir, "kubeconfig")) };
}

async function stopDrainCluster(cluster: DrainCluster): Promise<void> {
  await cluster.fake.close();
  await rm(cluster.dir, { recursive: true, force: true });
}

/** The cluster {@link useDrainCluster} serves each test, and the readings the tests make of it. */
export interface DrainTestCluster extends DrainCluster {
  /** Runs `drain` against this cluster; `options` replaces the kubeconfig, clock or terminal. */
  drain(args: string[], options?: Partial<DrainRunOptions>): Promise<CommandRun>;
  /** Whether the served node `name` is cordoned. */
  unschedulable(name: string): boolean;
  /** The requests that changed something, as `METHOD path`, in the order served. */
  writes(): string[];
}

/**
 * Serves a fresh {@link DrainCluster} to each test of the calling file: started before each
 * test, stopped after it. The returned object reads the current test's cluster, so a file
 * holds it once at the top; a test may replace `fake` (one it restarted), which is then the
 * one stopped.
 */
export function useDrainCluster(
  name: string,
  options?: FakeKubeApiserverOptions,
): DrainTestCluster {
  let current: DrainCluster | undefined;
  // Read outside a test, the cluster does not exist yet: say so rather than hand out undefined.
  const started = (): DrainCluster => {
    if (!current) throw new Error(`the ${name} cluster is read outside a test`);
    return current;
  };
  beforeEach(async () => {
    current = await startDrainCluster(name, options);
  });
  afterEach(async () => {
    const cluster = current;
    current = undefined;
    if (cluster) await stopDrainCluster(cluster);
  });
  return {
    get fake() {
      return started().fake;
    },
    set fake(fake: FakeKubeApiserver) {
      started().fake = fake;
    },
    get dir() {
      return started().dir;
    },
    get kubeconfig() {
      return started().kubeconfig;
    },
    drain: (args, runOptions = {}) => {
      const { kubeconfig, dir } = started();
      return runDrain(args, { kubeconfig, cwd: dir, ...runOptions });
    },
    unschedulable: (node) =>
      (started().fake.get("nodes", node)?.spec as Raw | undefined)?.unschedulable === true,
    writes: () =>
      started()
        .fake.requests.filter((r) => r.method !== "GET")
        .map((r) => `${r.method} ${r.path}`),
  };
}
