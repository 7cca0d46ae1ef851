/**
 * What the `plan` tests against a served cluster share: the cluster they start from, the infra
 * repo's files, reading the explanation, and closing what a test served once it ends.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect } from "@jest/globals";
import {
  CONFIG,
  ciliumAgent,
  controlPlane,
  freshNodeMetrics,
  type InfraFiles,
  type NodeOptions,
  type PlanJson,
  type PodOptions,
  pod,
  type Raw,
  type Served,
  serve,
  TFVARS,
  worker,
  writeInfraRepo,
} from "./served-cluster.ts";

/** The three workers of the pool that TFVARS counts. */
export const WORKERS = ["talos-worker-1", "talos-worker-2", "talos-worker-3"];

/** Four workers: one more than TFVARS counts. */
export const FOUR = [...WORKERS, "talos-worker-4"];

const cleanups: (() => Promise<void> | void)[] = [];

/** Runs `cleanup` once the current test has ended, whatever its outcome. */
export function afterTest(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

// Every file that imports this module closes what its tests served and wrote, last first.
afterEach(async () => {
  const failures: unknown[] = [];
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, "cleaning up after the test failed");
});

/** A temporary folder removed once the current test has ended. */
export function tempDir(prefix = "pr-autoscaler-served-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterTest(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Serves `objects` on 127.0.0.1 until the current test has ended. */
export async function serveForTest(objects: Raw[]): Promise<Served> {
  const served = await serve(objects);
  afterTest(() => served.close());
  return served;
}

/**
 * Serves `objects` with every request `fault` matches failing (a continued page only, with
 * `continued`), and runs `plan --json` once for an infra repo with these files.
 */
export async function planWhileFailing(
  objects: Raw[],
  fault: { path: string; status: number; continued?: boolean },
  files: InfraFiles = {},
): Promise<PlanJson> {
  const served = await serveForTest(objects);
  served.fake.injectFault({ ...fault, times: Number.POSITIVE_INFINITY });
  return served.plan(files);
}

/** Serves `objects` and runs `plan --json` once for an infra repo with these files. */
export async function plan(
  objects: Raw[],
  files: InfraFiles = {},
  now?: string,
): Promise<PlanJson> {
  const served = await serveForTest(objects);
  return served.plan(files, now);
}

/** Workers with Cilium on each, fresh metrics, and the control plane. */
export function cluster(
  names: readonly string[] = WORKERS,
  options: Record<string, NodeOptions> = {},
  usage = { cpu: "600m", memory: "2Gi" },
): Raw[] {
  return [
    controlPlane("talos-cp-1"),
    freshNodeMetrics("talos-cp-1", "487558164n", "2748180Ki"),
    ...names.flatMap((name, index) => [
      worker(name, options[name]),
      ciliumAgent(name, index),
      freshNodeMetrics(name, usage.cpu, usage.memory),
    ]),
  ];
}

/** The same options for each named worker, for `cluster`. */
export function everyWorker(
  options: NodeOptions,
  names: readonly string[] = WORKERS,
): Record<string, NodeOptions> {
  return Object.fromEntries(names.map((name) => [name, options]));
}

/** A Running app pod on `node` filling most of its cpu, so pending pods need new nodes. */
export function filler(node: string, index: number, cpu = "3"): Raw {
  return pod("media", `plex-7d9c65958-fil${index}x`, {
    node,
    owner: { kind: "ReplicaSet", name: "plex-7d9c65958" },
    cpu,
    memory: "4Gi",
  });
}

/** A filler on each named worker: pending pods of 1500m or more then need new nodes. */
export function fillers(names: readonly string[] = WORKERS, cpu = "3"): Raw[] {
  return names.map((node, index) => filler(node, index, cpu));
}

/** `count` tiny Running pods spread over WORKERS: enough for the pod list to come in pages. */
export function manyPods(count: number): Raw[] {
  return Array.from({ length: count }, (_, index) =>
    pod("batch", `worker-5c6d7e8f9-${index.toString(36).padStart(5, "0")}`, {
      node: WORKERS[index % 3],
      owner: { kind: "ReplicaSet", name: "worker-5c6d7e8f9" },
      cpu: "1m",
      memory: "1Mi",
    }),
  );
}

/** Light app pods, one on each named worker, so each node has something to evict. */
export function apps(names: readonly string[] = FOUR): Raw[] {
  return names.map((node, index) =>
    pod("default", `echo-server-5d8f7c9b6-ap${index}xx`, {
      node,
      owner: { kind: "ReplicaSet", name: "echo-server-5d8f7c9b6" },
      cpu: "100m",
      memory: "128Mi",
    }),
  );
}

/** A tdarr transcode node pod (1500m, 2 GiB), Pending unless `options` place it. */
export function tdarr(suffix: string, options: PodOptions = {}): Raw {
  return pod("media", `tdarr-node-6d8c7f5b49-${suffix}`, {
    owner: { kind: "ReplicaSet", name: "tdarr-node-6d8c7f5b49" },
    cpu: "1500m",
    memory: "2Gi",
    ...options,
  });
}

/** A Pending transcode Job pod (1500m, 1 GiB) unless `options` say otherwise. */
export function transcodeJob(suffix: string, options: PodOptions = {}): Raw {
  return pod("batch", `transcode-29123400-${suffix}`, {
    owner: { kind: "Job", name: "transcode-29123400" },
    cpu: "1500m",
    memory: "1Gi",
    ...options,
  });
}

/** A small pod on talos-worker-4, the node that goes first when FOUR is above max. */
export const onWorker4 = { node: "talos-worker-4", cpu: "100m", memory: "128Mi" };

/** TFVARS with `count` workers. */
export function tfvars(count: number): string {
  return TFVARS.replace("worker_count      = 3", `worker_count      = ${count}`);
}

/** CONFIG with each `from` replaced by its `to`; a `from` it lacks is an error in the test. */
export function config(replace: Record<string, string> = {}): string {
  return replaced(CONFIG, replace);
}

/** `text` with each `from` replaced by its `to`; a `from` it lacks is an error in the test. */
function replaced(text: string, replace: Record<string, string>): string {
  let result = text;
  for (const [from, to] of Object.entries(replace)) {
    if (!result.includes(from)) throw new Error(`config has no ${JSON.stringify(from)}`);
    result = result.replace(from, to);
  }
  return result;
}

/**
 * The repo's files for `count` workers whose usage is judged on metrics-server's sample
 * (`scaleDown.unneededTime: 0`), with CONFIG's other lines replaced as `config` does.
 */
export function judgedNow(
  count: number,
  replace: Record<string, string> = {},
): { tfvars: string; config: string } {
  return {
    tfvars: tfvars(count),
    config: config({
      ...replace,
      "    removal:": "    scaleDown:\n      unneededTime: 0\n    removal:",
    }),
  };
}

/** The pool's decision: its proposal's, or with none its note's. */
export function poolDecision(output: PlanJson, pool = "workers"): Raw {
  const found =
    output.proposals.find((proposal) => proposal.pool === pool)?.decision ??
    output.notes.find((entry) => entry.subject === `pool/${pool}`)?.decision;
  if (!found) throw new Error(`no decision for the pool: ${JSON.stringify(output)}`);
  return found;
}

/** Four workers where the repo allows three: the highest one goes, whatever the usage. */
export const OVER_MAX = { tfvars: tfvars(4), config: config({ "max: 6": "max: 3" }) };

/**
 * Plans for the workers of `cluster()`, each filled so that a pending pod of 1500m or more needs
 * a new node, with `pending` besides, as `plan` does.
 */
export function planFull(pending: Raw[], files?: InfraFiles, now?: string): Promise<PlanJson> {
  return plan([...cluster(), ...fillers(), ...pending], files, now);
}

/** Plans for FOUR workers running apps() and `extra`, in a repo that allows three. */
export function planAboveMax(...extra: Raw[]): Promise<PlanJson> {
  return plan([...cluster(FOUR), ...apps(), ...extra], OVER_MAX);
}

/** `objects` with the control plane's NoSchedule taint gone, as Talos leaves it when told to. */
export function untainted(objects: Raw[]): Raw[] {
  return objects.map((object) => {
    if (object.kind !== "Node" || (object.metadata as Raw).name !== "talos-cp-1") return object;
    const { taints: _taints, ...spec } = object.spec as Raw;
    return { ...object, spec };
  });
}

/**
 * Two pools of 1 to 4 nodes judged on metrics-server's sample (unneededTime 0): apps
 * (worker_count, talos-worker-N) and media (media_count, talos-media-N), each selecting the
 * nodes labelled with its name.
 */
export const APPS_AND_MEDIA = `pools:
${[
  ["apps", "worker_count", "talos-worker"],
  ["media", "media_count", "talos-media"],
]
  .map(
    ([pool, path, prefix]) => `  - name: ${pool}
    target:
      file: terraform/terraform.tfvars
      path: ${path}
    selector:
      matchLabels:
        node.kubernetes.io/pool: ${pool}
    min: 1
    max: 4
    scaleDown:
      unneededTime: 0
    removal:
      nameTemplate: ${prefix}-{index}
      indexBase: 1
`,
  )
  .join("")}`;

/** The repo's files of APPS_AND_MEDIA, each pool counting two nodes. */
export const APPS_AND_MEDIA_FILES = {
  tfvars: "worker_count = 2\nmedia_count  = 2\n",
  config: APPS_AND_MEDIA,
};

/** Two nodes of each pool of APPS_AND_MEDIA. */
export const APPS_AND_MEDIA_NODES = {
  apps: ["talos-worker-1", "talos-worker-2"],
  media: ["talos-media-1", "talos-media-2"],
} as const;

/**
 * The cluster of APPS_AND_MEDIA with its control plane untainted: the apps pool's nodes `apps`
 * and the media pool's two, each labelled with its pool, using `usage` as `cluster` does.
 */
export function appsAndMedia(
  apps: readonly string[] = APPS_AND_MEDIA_NODES.apps,
  usage?: { cpu: string; memory: string },
): Raw[] {
  const pools = { apps, media: APPS_AND_MEDIA_NODES.media };
  const options = Object.fromEntries(
    Object.entries(pools).flatMap(([pool, names]) =>
      names.map((name) => [name, { labels: { "node.kubernetes.io/pool": pool } }]),
    ),
  );
  return untainted(cluster([...pools.apps, ...pools.media], options, usage));
}

/**
 * The workers pool (no pool label) with `max`, then a pool of 8-core VMs, large (large_count,
 * 1 to 3), that takes any pod.
 */
export function workersAndLarge(max: number): string {
  const workers = config({
    "          operator: DoesNotExist\n":
      "          operator: DoesNotExist\n        - key: node.kubernetes.io/pool\n          operator: DoesNotExist\n",
    "    max: 6\n    removal:\n      nameTemplate: talos-worker-{index}\n      indexBase: 1\n": `    max: ${max}\n`,
  });
  return `${workers}  - name: large
    target:
      file: terraform/terraform.tfvars
      path: large_count
    selector:
      matchLabels:
        node.kubernetes.io/pool: large
    min: 1
    max: 3
`;
}

/**
 * The repo's files of `workersAndLarge(max)`, counting one large VM, with the config's lines
 * replaced as `config` does.
 */
export function workersAndLargeFiles(
  max: number,
  replace: Record<string, string> = {},
): InfraFiles {
  return { tfvars: `${TFVARS}large_count = 1\n`, config: replaced(workersAndLarge(max), replace) };
}

/** A worker VM of 8 cores and 32 GiB in the pool `pool` (its node.kubernetes.io/pool label). */
export function eightCoreWorker(name: string, pool: string): Raw {
  return worker(name, {
    labels: { "node.kubernetes.io/pool": pool },
    allocatable: { cpu: "7800m", memory: "32078000Ki", pods: "110" },
  });
}

/** One 8-core VM of the large pool, nearly full: a pod the workers cannot hold needs a new one. */
export const LARGE_VM: Raw[] = [
  eightCoreWorker("talos-large-1", "large"),
  ciliumAgent("talos-large-1", 9),
  freshNodeMetrics("talos-large-1", "900m", "3Gi"),
  pod("media", "jellyfin-7d9c65958-lrg1x", { node: "talos-large-1", cpu: "7", memory: "4Gi" }),
];

/** The reasons of the plan's only proposal, one per line; another count fails the test. */
export function onlyReasons(output: PlanJson): string {
  expect(output.proposals).toHaveLength(1);
  return output.proposals[0]?.reasons.join("\n") ?? "";
}

/** The pool's explanation when it holds no proposal. */
export function poolNote(output: PlanJson, pool = "workers"): string {
  const note = output.notes.find((entry) => entry.subject === `pool/${pool}`);
  if (!note) throw new Error(`no note for the pool: ${JSON.stringify(output)}`);
  return note.message;
}

/** An object's `metadata.name`. */
export function nameOf(object: Raw): unknown {
  return (object.metadata as Raw | undefined)?.name;
}

/** The node `name` among `objects`; its absence is an error in the test. */
export function nodeNamed(objects: Raw[], name: string): Raw {
  const node = objects.find((object) => object.kind === "Node" && nameOf(object) === name);
  if (!node) throw new Error(`no node ${name}`);
  return node;
}

/** A node's Ready condition. */
export function readyOf(node: Raw): Raw | undefined {
  const conditions = (node.status as Raw).conditions as Raw[];
  return conditions.find((condition) => condition.type === "Ready");
}

/** Dates a served node's creation and the last change of its Ready condition. */
export function booted(objects: Raw[], name: string, created: string, readySince: string): void {
  const node = nodeNamed(objects, name);
  (node.metadata as Raw).creationTimestamp = created;
  const ready = readyOf(node);
  if (ready) ready.lastTransitionTime = readySince;
}

/** Runs git in `dir` as the operator; `at` dates the commit it makes. */
export function git(dir: string, args: string[], at?: string): void {
  execFileSync("git", ["-C", dir, ...args], {
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "ops",
      GIT_AUTHOR_EMAIL: "ops@example.invalid",
      GIT_COMMITTER_NAME: "ops",
      GIT_COMMITTER_EMAIL: "ops@example.invalid",
      ...(at ? { GIT_AUTHOR_DATE: at, GIT_COMMITTER_DATE: at } : {}),
    },
    stdio: "pipe",
  });
}

/** An empty git repository (branch main) in a temporary folder, removed once the test ends. */
export function emptyRepo(prefix = "pr-autoscaler-served-git-"): string {
  const dir = tempDir(prefix);
  git(dir, ["init", "-q", "-b", "main"]);
  return dir;
}

/** Writes `files` into the checkout at `dir` as `writeInfraRepo` does, and commits all at `at`. */
export function commitFiles(dir: string, files: InfraFiles, at: string, message: string): void {
  writeInfraRepo(dir, files);
  git(dir, ["add", "-A"]);
  git(dir, ["commit", "-q", "-m", message], at);
}

/** Writes `text` to `path` in the checkout at `dir` and commits everything at `at`. */
export function commitFile(
  dir: string,
  path: string,
  text: string,
  at: string,
  message: string,
): void {
  commitFiles(dir, { tfvars: null, config: null, other: { [path]: text } }, at, message);
}

/** An infra repo whose tfvars history is real git commits at the given committer times. */
export function gitRepo(commits: { count: number; at: string }[], configText = CONFIG): string {
  const dir = emptyRepo();
  for (const commit of commits) {
    const files = { tfvars: tfvars(commit.count), config: configText };
    commitFiles(dir, files, commit.at, `worker_count ${commit.count}`);
  }
  return dir;
}

/** An infra repo whose count went from `from`, long ago, to `to` at `at`. */
export function changedAt(from: number, to: number, at: string, configText?: string): string {
  return gitRepo(
    [
      { count: from, at: "2026-11-01T10:00:00Z" },
      { count: to, at },
    ],
    configText,
  );
}
