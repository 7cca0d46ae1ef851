import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  ClusterReadError,
  defaultMetricsMaxAgeSeconds,
  readSnapshot,
} from "../cluster/read-snapshot.ts";
import { writeSnapshotJson } from "../cluster/snapshot-json.ts";
import type { UsageSource } from "../cluster/usage-source.ts";
import { type ExitCode, InputError, UsageError } from "../errors.ts";
import type { Snapshot } from "../planning/snapshot.ts";
import { parseArgsUsageError } from "./args.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";
import { PROMETHEUS_HELP, prometheusOptions, usageSourceFromFlags } from "./prometheus-flags.ts";
import { noteRetries, reportSnapshotWarnings } from "./snapshot-warnings.ts";

const usage = `Usage: pr-autoscaler snapshot [options]

Reads nodes, pods, PodDisruptionBudgets, DaemonSets and RuntimeClasses, PersistentVolumes, their
claims, StorageClasses and CSINodes, namespaces, VPAs, HPAs and usage (metrics-server, or
Prometheus with --prometheus) from the cluster and prints the snapshot as JSON (see
docs/snapshot.md).

Options:
  --kubeconfig FILE       kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, in-cluster)
  --context NAME          context to use instead of the current one
  --out FILE              write the snapshot to FILE (atomically) instead of stdout
  --metrics-max-age SECS  metrics older than this are treated as unknown (default ${defaultMetricsMaxAgeSeconds})
  --page-size N           items per list request (default 500)
${PROMETHEUS_HELP}  -h, --help              show this help

Exit codes: 0 snapshot written (warnings go to stderr), 1 the cluster could not be read,
2 bad flags or kubeconfig.
`;

interface SnapshotFlags {
  usageSource?: UsageSource;
  kubeconfig?: string;
  context?: string;
  out?: string;
  metricsMaxAge?: number;
  pageSize?: number;
}

function parseFlags(args: string[], env: CliIo["env"]): SnapshotFlags {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    throw parseArgsUsageError(error, SNAPSHOT_OPTIONS, false);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 0) {
    throw new UsageError(`snapshot takes no arguments, got ${JSON.stringify(positionals[0])}`);
  }
  const flags: SnapshotFlags = {};
  const usageSource = usageSourceFromFlags(values, env);
  if (usageSource) flags.usageSource = usageSource;
  if (values.kubeconfig !== undefined)
    flags.kubeconfig = nonEmpty(values.kubeconfig, "--kubeconfig");
  if (values.context !== undefined) flags.context = nonEmpty(values.context, "--context");
  if (values.out !== undefined) flags.out = nonEmpty(values.out, "--out");
  if (values["metrics-max-age"] !== undefined) {
    flags.metricsMaxAge = wholeNumber(values["metrics-max-age"], "--metrics-max-age", 1);
  }
  if (values["page-size"] !== undefined) {
    flags.pageSize = wholeNumber(values["page-size"], "--page-size", 1);
  }
  return flags;
}

const SNAPSHOT_OPTIONS = {
  kubeconfig: { type: "string" },
  context: { type: "string" },
  out: { type: "string" },
  "metrics-max-age": { type: "string" },
  "page-size": { type: "string" },
  ...prometheusOptions,
} as const;

function parse(args: string[]) {
  return parseArgs({ args, allowPositionals: true, strict: true, options: SNAPSHOT_OPTIONS });
}

function nonEmpty(value: string, flag: string): string {
  if (value === "") throw new UsageError(`${flag} needs a value`);
  return value;
}

function wholeNumber(value: string, flag: string, min: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw new UsageError(
      `${flag} expects a whole number of at least ${min}, got ${JSON.stringify(value)}`,
    );
  }
  return Number(value);
}

/**
 * Writes `file` so that readers see the old content or the complete new one: the snapshot
 * is streamed into a temporary file beside it, flushed to disk, then renamed over it.
 */
export function writeSnapshotFile(file: string, snapshot: Snapshot): void {
  const temporary = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  let descriptor: number | undefined;
  try {
    descriptor = openSync(temporary, "wx", 0o644);
    const fd = descriptor;
    writeSnapshotJson(snapshot, (chunk) => {
      writeSync(fd, chunk);
    });
    fsyncSync(fd);
    closeSync(fd);
    descriptor = undefined;
    renameSync(temporary, file);
  } catch (error) {
    if (descriptor !== undefined) closeSync(descriptor);
    try {
      unlinkSync(temporary);
    } catch {
      // The temporary file was never created or is already renamed.
    }
    throw new InputError(`cannot write the snapshot: ${(error as Error).message}`, { file }, 1);
  }
}

function reportWarnings(snapshot: Snapshot, io: CliIo, kept: string): void {
  reportSnapshotWarnings(snapshot, io, kept);
  if (!snapshot.complete) {
    io.stderr(
      "warning: the snapshot is incomplete (complete: false); the planner will not act on it\n",
    );
  }
}

/**
 * Refuses an --out that could not be written before the cluster is read (up to two minutes):
 * a folder that does not exist, or a folder where the file should be.
 */
function mustBeWritablePlace(file: string, given: string): void {
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(`--out ${given}: a directory, not a file: name the file to write`);
  if (!statSync(dirname(file), { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(`--out ${given}: its directory ${dirname(file)} does not exist`);
}

async function run(args: string[], io: CliIo): Promise<ExitCode> {
  const flags = parseFlags(args, io.env);
  if (flags.out !== undefined) mustBeWritablePlace(resolve(io.cwd, flags.out), flags.out);
  let snapshot: Snapshot;
  try {
    snapshot = await readSnapshot({
      kubeconfig: flags.kubeconfig,
      context: flags.context,
      env: io.env,
      cwd: io.cwd,
      metricsMaxAgeSeconds: flags.metricsMaxAge,
      pageSize: flags.pageSize,
      usageSource: flags.usageSource,
      onRetry: noteRetries(io),
    });
  } catch (error) {
    if (!(error instanceof ClusterReadError)) throw error;
    io.stderr(`pr-autoscaler snapshot: ${error.message}\n`);
    return 1;
  }
  if (flags.out !== undefined) writeSnapshotFile(resolve(io.cwd, flags.out), snapshot);
  else writeSnapshotJson(snapshot, io.stdout);
  reportWarnings(snapshot, io, flags.out ?? "the snapshot on stdout");
  return 0;
}

/** `pr-autoscaler snapshot`: reads the cluster and prints or saves the Snapshot. */
export const snapshotCommand: Command = {
  name: "snapshot",
  usage,
  run,
};
