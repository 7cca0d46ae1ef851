import { statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { drainNodes } from "../apply/drain.ts";
import { createDrainApi } from "../apply/drain-api.ts";
import { createProgress } from "../apply/drain-progress.ts";
import { formatDrainResult, showDrainEvent } from "../apply/drain-report.ts";
import type { DrainClock } from "../apply/drain-result.ts";
import {
  type StopSignals,
  signalExitCode,
  type WatchSignalsOptions,
  watchSignals,
} from "../apply/drain-signals.ts";
import { loadKubeConfig } from "../cluster/kube-config.ts";
import { type ExitCode, UsageError } from "../errors.ts";
import { parseDuration } from "../policy/parse-duration.ts";
import { writeFileAtomic } from "../util/atomic-write.ts";
import { parseArgsUsageError } from "./args.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";

const usage = `Usage: pr-autoscaler drain NODE... [--kubeconfig F] [--context C] [--timeout 10m]
                           [--grace-period S] [--skip-wait-for-delete-timeout S]
                           [--delete-emptydir-data | --delete-emptydir-data-on NODE,...]
                           [--force-bare-pods] [--keep-cordoned]
                           [--dry-run] [--json] [--result-file F]

Empties the nodes whose VMs are about to be destroyed: checks every node first, cordons them
all, then evicts their pods node by node through the Eviction API, which honours
PodDisruptionBudgets (a refused eviction is tried again until the timeout). Pods are never
deleted. DaemonSet and static (mirror) pods are left alone. On a node that is not Ready (its
kubelet stopped), pods being deleted are not waited for once their grace period has passed:
no kubelet will confirm their deletion. See docs/drain.md.

Refused unless a flag allows it (nothing is cordoned then):
  pods with emptyDir volumes, or generic ephemeral volumes     --delete-emptydir-data
  on node-local volumes                                         (on some nodes only:
                                                                 --delete-emptydir-data-on)
  pods no controller recreates (bare pods)                      --force-bare-pods
  pods annotated cluster-autoscaler.kubernetes.io/safe-to-evict: "false" or
  karpenter.sh/do-not-disrupt: "true" (or a duration still      (no flag: they asked to stay)
  running since the pod started)
  pods several PodDisruptionBudgets select                      (no flag: the Eviction API
                                                                 never evicts them; fix the
                                                                 budgets)

Options:
  --kubeconfig FILE     kubeconfig of the drain identity (default: $KUBECONFIG, ~/.kube/config,
                        in-cluster)
  --context NAME        context to use instead of the current one
  --timeout DURATION    for the whole drain, all nodes together (default 10m, at most 7d); no
                        eviction is sent after it, none waits for its answer past it
  --grace-period SECS   termination grace period for evicted pods, at least 1 (default: each
                        pod's own)
  --skip-wait-for-delete-timeout SECS
                        do not wait for pods whose deletionTimestamp is more than SECS seconds
                        old, on any node (default 0: wait, except on a node that is not Ready)
  --delete-emptydir-data  evict pods with emptyDir volumes, or generic ephemeral volumes on
                        node-local volumes (their data is lost)
  --delete-emptydir-data-on NODE,...
                        do so on these nodes only, each one of the NODEs (repeatable): the
                        apply workflow names the nodes of pools that set
                        scaleDown.deleteEmptyDirData
  --force-bare-pods     evict pods without a controller (they are not recreated)
  --keep-cordoned       when the drain fails or is cancelled, leave the nodes it cordoned
                        cordoned
  --dry-run             check and print what would happen; cordon and evict nothing
  --json                print the result as JSON (progress goes to stderr)
  --result-file FILE    also write the result as JSON to FILE, whole or not at all, however
                        the drain ends (a first signal included); stdout keeps the readable
                        result
  -h, --help            show this help

SIGINT or SIGTERM cancels the drain: it sends no more evictions and uncordons the nodes it
cordoned, giving that 2 s at most; a second signal exits at once.

Exit codes: 0 drained (the nodes stay cordoned) or, with --dry-run, would drain;
1 refused, timed out or failed (the nodes it cordoned are uncordoned); 2 bad flags or
kubeconfig; 130 or 143 cancelled by SIGINT or SIGTERM (the nodes it cordoned are uncordoned
unless the result says otherwise).
`;

const options = {
  kubeconfig: { type: "string" },
  context: { type: "string" },
  timeout: { type: "string" },
  "grace-period": { type: "string" },
  "skip-wait-for-delete-timeout": { type: "string" },
  "delete-emptydir-data": { type: "boolean" },
  "delete-emptydir-data-on": { type: "string", multiple: true },
  "force-bare-pods": { type: "boolean" },
  "keep-cordoned": { type: "boolean" },
  "dry-run": { type: "boolean" },
  json: { type: "boolean" },
  "result-file": { type: "string" },
} as const;

/** What the command takes from its surroundings besides the CLI streams; tests pass a clock. */
export interface DrainCommandDeps {
  clock?: DrainClock;
  retryDelayMs?: number;
  pollMs?: number;
  /**
   * Watches for the signals that cancel the drain, for the length of one drain. Without it
   * SIGINT and SIGTERM keep their default action (the process ends where it is).
   */
  signals?: (options: WatchSignalsOptions) => StopSignals;
  /** Real time a cancelled drain may spend uncordoning (default 2 s). */
  cancelGraceMs?: number;
  /** The least real time a read at or past the deadline waits for its answer (default 1 s). */
  lateReadMs?: number;
}

/**
 * Builds the `drain` command; {@link drainCommand} is the one with the real clock and the
 * process's signals.
 */
export function createDrainCommand(deps: DrainCommandDeps = {}): Command {
  return {
    name: "drain",
    usage,
    run: (args, io) => runDrain(args, io, deps),
  };
}

/** `pr-autoscaler drain`. */
export const drainCommand: Command = createDrainCommand({
  signals: (options) => watchSignals(options),
});

async function runDrain(args: string[], io: CliIo, deps: DrainCommandDeps): Promise<ExitCode> {
  const { values, positionals } = parse(args);
  if (positionals.length === 0) throw new UsageError("name at least one NODE to drain");
  for (const node of positionals) checkNodeName(node);
  const emptyDirOn = emptyDirNodes(values["delete-emptydir-data-on"], positionals);
  // They are alternatives: with both, the flag for every node would make the list meaningless.
  if (values["delete-emptydir-data"] === true && values["delete-emptydir-data-on"] !== undefined)
    throw new UsageError(
      "--delete-emptydir-data and --delete-emptydir-data-on are alternatives: the first deletes emptyDir data on every node drained, the second on the nodes it names; give one",
    );
  const timeoutMs = durationFlag(values.timeout ?? "10m", "--timeout");
  const grace = gracePeriod(values["grace-period"]);
  const skipWait = skipWaitFlag(values["skip-wait-for-delete-timeout"]);
  const loaded = loadKubeConfig({
    ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
    ...(values.context !== undefined ? { context: values.context } : {}),
    env: io.env,
    cwd: io.cwd,
  });
  const json = values.json === true;
  const resultFile = resultFileFlag(values["result-file"], io.cwd);
  const progress = json ? createProgress(io.stderr, false) : createProgress(io.stdout, io.isTty);
  const api = createDrainApi(loaded);
  const keepCordoned = values["keep-cordoned"] === true;
  const stop = deps.signals?.({ forcedExitNote: forcedExitNote(positionals, keepCordoned) });
  try {
    const result = await drainNodes(api, {
      nodes: positionals,
      flags: {
        deleteEmptyDirData: values["delete-emptydir-data"] === true,
        ...(emptyDirOn.length > 0 ? { deleteEmptyDirDataOn: emptyDirOn } : {}),
        forceBarePods: values["force-bare-pods"] === true,
      },
      timeoutMs,
      ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}),
      skipWaitForDeleteTimeoutSeconds: skipWait,
      keepCordoned,
      dryRun: values["dry-run"] === true,
      ...(deps.clock ? { clock: deps.clock } : {}),
      ...(deps.retryDelayMs !== undefined ? { retryDelayMs: deps.retryDelayMs } : {}),
      ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}),
      ...(stop ? { signal: stop.signal } : {}),
      ...(deps.cancelGraceMs !== undefined ? { cancelGraceMs: deps.cancelGraceMs } : {}),
      ...(deps.lateReadMs !== undefined ? { lateReadMs: deps.lateReadMs } : {}),
      onEvent: (event) => showDrainEvent(progress, event),
    });
    progress.end();
    // Before anything else: a cancel exits right after the result is out.
    if (resultFile !== undefined) await writeResultFile(resultFile, result, io);
    io.stdout(json ? `${JSON.stringify(result, null, 2)}\n` : formatDrainResult(result));
    const signal = stop?.received();
    // The status a shell gives a command a signal ended, once the result is out; the exit
    // also ends the requests the cancel abandoned, which would hold the process open.
    if (result.outcome === "cancelled" && signal !== undefined) stop?.exit(signalExitCode(signal));
    return result.outcome === "drained" || result.outcome === "would-drain" ? 0 : 1;
  } finally {
    stop?.dispose();
    api.close();
  }
}

/** What a second signal leaves behind, for the person who sent it. */
function forcedExitNote(nodes: string[], keepCordoned: boolean): string {
  if (keepCordoned) {
    return "exiting now (--keep-cordoned: the nodes this drain cordoned stay cordoned)";
  }
  return `exiting now, without uncordoning: those of ${nodes.join(", ")} that this drain cordoned may still be cordoned. Check \`kubectl get nodes\` for SchedulingDisabled and \`kubectl uncordon\` the ones that were schedulable before the drain`;
}

/**
 * kubectl drain's flags that have no flag of that name here, and what to use instead: a
 * person used to `kubectl drain --ignore-daemonsets --delete-emptydir-data --force` is told
 * the equivalent, not to put the flag after `--`.
 */
const kubectlFlags: Record<string, string> = {
  "--ignore-daemonsets": "DaemonSet pods are always left alone here: drop it",
  "--force": "here --force-bare-pods evicts pods that no controller recreates",
  "--delete-local-data": "here --delete-emptydir-data evicts pods with emptyDir volumes",
  "--disable-eviction":
    "pods are only ever evicted here, so that their PodDisruptionBudgets hold; there is no way to delete them instead",
};

function parse(args: string[]) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const flag = args.find((arg) => Object.hasOwn(kubectlFlags, arg.split("=")[0] ?? ""));
    if (flag !== undefined) {
      const name = flag.split("=")[0] ?? flag;
      throw new UsageError(`${name} is kubectl drain's flag: ${kubectlFlags[name]}`);
    }
    throw parseArgsUsageError(error, options, false);
  }
}

/**
 * The file --result-file names, resolved against the working directory. Its folder must exist
 * now: a drain that cordoned and evicted is not the moment to learn the result has nowhere to go.
 */
export function resultFileFlag(value: string | undefined, cwd: string): string | undefined {
  if (value === undefined) return undefined;
  if (value === "") throw new UsageError("--result-file expects a file name");
  const file = resolve(cwd, value);
  const folder = dirname(file);
  if (!statSync(folder, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(`--result-file ${value}: the folder ${folder} does not exist`);
  }
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(`--result-file ${value} is a folder`);
  }
  return file;
}

/**
 * Writes the result of `command` (drain, wait-nodes) whole or not at all. A failure is told on
 * stderr and does not change the exit code: the command did what its result says either way.
 */
export async function writeResultFile(
  file: string,
  result: unknown,
  io: CliIo,
  command = "drain",
): Promise<void> {
  try {
    await writeFileAtomic(file, `${JSON.stringify(result, null, 2)}\n`);
  } catch (error) {
    io.stderr(
      `pr-autoscaler ${command}: could not write the result to ${file}: ${(error as Error).message}\n`,
    );
  }
}

/**
 * The nodes `--delete-emptydir-data-on` names, each given once or several times, comma-separated
 * or not. Each must be one of the nodes to drain: any other is a typo that would leave the node
 * meant refusing its emptyDir pods.
 */
function emptyDirNodes(values: string[] | undefined, nodes: readonly string[]): string[] {
  const named = (values ?? []).flatMap((value) => value.split(","));
  for (const node of named) {
    if (node === "")
      throw new UsageError("--delete-emptydir-data-on expects NODE,... with no empty name");
    if (!nodes.includes(node)) {
      throw new UsageError(
        `--delete-emptydir-data-on names ${node}, which is not one of the nodes to drain (${nodes.join(", ")})`,
      );
    }
  }
  return [...new Set(named)];
}

/** A Kubernetes node name is a DNS subdomain; anything else is a typo or a shell accident. */
function checkNodeName(name: string): void {
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) {
    throw new UsageError(`${JSON.stringify(name)} is not a node name`);
  }
}

/** The longest duration a flag takes: a drain or a wait of more than a week is a typo. */
const MAX_FLAG_DURATION_MS = 7 * 86_400_000;

/** A positive duration such as 90s, 10m or 1h30m, at most 7d. */
export function durationFlag(value: string, flag: string): number {
  const ms = parseDuration(value);
  if (ms === 0) {
    // kubectl drain's --timeout 0 waits for ever; a step of the apply never should.
    throw new UsageError(
      `${flag} expects a duration above 0, such as 90s, 10m or 1h30m (there is no unlimited wait), got ${JSON.stringify(value)}`,
    );
  }
  if (ms === undefined || ms < 0) {
    throw new UsageError(
      `${flag} expects a duration such as 90s, 10m or 1h30m, got ${JSON.stringify(value)}`,
    );
  }
  if (ms > MAX_FLAG_DURATION_MS) {
    throw new UsageError(`${flag} expects a duration of at most 7d, got ${JSON.stringify(value)}`);
  }
  return ms;
}

/** Whole seconds; 0 (the default) never skips, as for kubectl. */
function skipWaitFlag(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(
      `--skip-wait-for-delete-timeout expects whole seconds, got ${JSON.stringify(value)}`,
    );
  }
  return Number(value);
}

/** 0 would delete pods without waiting for the kubelet (a force delete): not allowed. */
function gracePeriod(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new UsageError(
      `--grace-period expects whole seconds, at least 1, got ${JSON.stringify(value)}`,
    );
  }
  return Number(value);
}
