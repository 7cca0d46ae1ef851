import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { createProgress } from "../apply/drain-progress.ts";
import { type DrainClock, systemClock } from "../apply/drain-result.ts";
import {
  type StopSignals,
  signalExitCode,
  type WatchSignalsOptions,
  watchSignals,
} from "../apply/drain-signals.ts";
import { waitForNodes } from "../apply/wait-nodes.ts";
import { createWaitNodesApi } from "../apply/wait-nodes-api.ts";
import { formatWaitResult, showWaitEvent } from "../apply/wait-nodes-report.ts";
import { parseSelectorFlag } from "../apply/wait-nodes-selector.ts";
import { loadKubeConfig } from "../cluster/kube-config.ts";
import { type ExitCode, InputError, UsageError } from "../errors.ts";
import type { LabelSelector } from "../planning/snapshot.ts";
import { formatConfigIssues, loadRepoConfig } from "../policy/load-repo-config.ts";
import { REPO_CONFIG_PATH } from "../policy/repo-config.ts";
import { fileReadError } from "../util/read-failure.ts";
import { parseArgsUsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { durationFlag, resultFileFlag, writeResultFile } from "./drain-command.ts";
import type { CliIo } from "./io.ts";
import { userTime } from "./now-option.ts";

const defaultTimeout = "15m";

/** The most nodes a pool may be waited for: Kubernetes supports clusters of up to 5000 nodes. */
const MAX_COUNT = 5000;

const usage = `Usage: pr-autoscaler wait-nodes --pool P --count N [--selector k=v,... | --config F]
                                [--timeout 15m] [--interval 10s] [--since TIME [--added K]]
                                [--gone NODE]... [--delete-gone] [--ignore NODE]...
                                [--kubeconfig F] [--context C]
                                [--json] [--result-file F]

Waits until the pool has N nodes, every one Ready except those not Ready since before the
apply, with --added K at least K of them Ready since the apply began and not cordoned, and
the nodes named with --gone have no Node object any more, or until the timeout. The pool's
nodes are those its label selector matches, never control plane nodes, --gone nodes nor
--ignore nodes; a Ready node counts, cordoned or not, and a node NotReady and cordoned is judged as
any other: name the nodes whose VMs the apply destroyed with --gone. See docs/drain.md.

Options:
  --pool NAME           the pool (its selector and provisionTimeout come from the config)
  --count N             Ready nodes wanted (at most ${MAX_COUNT})
  --selector SELECTOR   the pool's nodes, in kubectl's syntax (pool=workers,tier!=gpu)
  --config FILE         repo config with the pool's selector (default: ${REPO_CONFIG_PATH}
                        when it exists and --selector is not given; without either, every
                        node that is not control plane is the pool's)
  --timeout DURATION    how long to wait, at most 7d (default: the pool's provisionTimeout,
                        else ${defaultTimeout})
  --interval DURATION   between two looks at the nodes (default 10s)
  --since TIME          when the apply began (RFC 3339, 2026-11-22T18:01:05Z): a pool node
                        not Ready since before then (created and gone not Ready before it)
                        is reported and not waited for (default: the wait's start less the
                        timeout)
  --added K             the apply created K VMs in this pool: at least K pool nodes must be
                        Ready, not cordoned, and have become Ready at or after --since
                        (created then, or their Ready condition changed then), so that a node
                        left from an earlier VM cannot stand in for one (needs --since; at
                        most N)
  --gone NODE           a node whose VM was destroyed: not one of the pool's, wait until
                        its Node object is gone (repeatable)
  --ignore NODE         a node that is not one of the pool's, though the selector matches
                        it, and is not waited for either: a destroyed VM's Node object that
                        could not be deleted (repeatable)
  --delete-gone         delete the Node object of a --gone node once it is cordoned and
                        NotReady (its kubelet stopped); needs the drain identity
  --kubeconfig FILE     kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)
  --context NAME        context to use instead of the current one
  --json                print the result as JSON (progress goes to stderr)
  --result-file FILE    also write the result as JSON to FILE, whole or not at all; stdout
                        keeps the readable result (pr-autoscaler report apply --wait-result
                        reads it)
  -h, --help            show this help

SIGINT or SIGTERM cancels the wait: it stops at once, abandoning the request in flight, and
prints (and with --result-file writes) its result, outcome cancelled, with what the last look
saw; a second signal exits at once.

Exit codes: 0 the pool is ready; 1 timed out or the API refused (what was seen is printed);
2 bad flags, config or kubeconfig; 130 or 143 cancelled by SIGINT or SIGTERM.
`;

const options = {
  pool: { type: "string" },
  count: { type: "string" },
  selector: { type: "string" },
  config: { type: "string" },
  timeout: { type: "string" },
  interval: { type: "string" },
  since: { type: "string" },
  added: { type: "string" },
  gone: { type: "string", multiple: true },
  ignore: { type: "string", multiple: true },
  "delete-gone": { type: "boolean" },
  kubeconfig: { type: "string" },
  context: { type: "string" },
  json: { type: "boolean" },
  "result-file": { type: "string" },
} as const;

export interface WaitNodesCommandDeps {
  clock?: DrainClock;
  /** The least real time a look at the deadline waits for its answer (default 1 s). */
  lateReadMs?: number;
  /**
   * Watches for the signals that cancel the wait, for the length of one wait. Without it
   * SIGINT and SIGTERM keep their default action (the process ends where it is).
   */
  signals?: (options: WatchSignalsOptions) => StopSignals;
}

/**
 * Builds the `wait-nodes` command; {@link waitNodesCommand} is the one with the real clock and
 * the process's signals.
 */
export function createWaitNodesCommand(deps: WaitNodesCommandDeps = {}): Command {
  return {
    name: "wait-nodes",
    usage,
    run: (args, io) => runWaitNodes(args, io, deps),
  };
}

/** `pr-autoscaler wait-nodes`. */
export const waitNodesCommand: Command = createWaitNodesCommand({
  signals: (options) => watchSignals(options),
});

type Values = ReturnType<typeof parse>["values"];

async function runWaitNodes(
  args: string[],
  io: CliIo,
  deps: WaitNodesCommandDeps,
): Promise<ExitCode> {
  const { values, positionals } = parse(args);
  if (positionals.length > 0) {
    throw new UsageError(`wait-nodes takes no arguments, got ${JSON.stringify(positionals[0])}`);
  }
  if (values.pool === undefined || values.pool === "")
    throw new UsageError("--pool NAME is required");
  const count = countFlag(values.count);
  const pool = await poolSettings(values, values.pool, io);
  const timeoutMs =
    values.timeout !== undefined
      ? durationFlag(values.timeout, "--timeout")
      : (pool.timeoutMs ?? durationFlag(defaultTimeout, "--timeout"));
  const intervalMs = durationFlag(values.interval ?? "10s", "--interval");
  const since = sinceFlag(values.since, (deps.clock ?? systemClock).now());
  const added = addedFlag(values.added, count, since);
  const gone = values.gone ?? [];
  const ignored = values.ignore ?? [];
  if (ignored.some((name) => name === "")) throw new UsageError("--ignore expects a node name");
  if (values["delete-gone"] === true && gone.length === 0) {
    throw new UsageError("--delete-gone needs the nodes to delete: --gone NODE");
  }
  const loaded = loadKubeConfig({
    ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
    ...(values.context !== undefined ? { context: values.context } : {}),
    env: io.env,
    cwd: io.cwd,
  });
  const json = values.json === true;
  const resultFile = resultFileFlag(values["result-file"], io.cwd);
  const progress = json ? createProgress(io.stderr, false) : createProgress(io.stdout, io.isTty);
  const api = createWaitNodesApi(loaded);
  const stop = deps.signals?.({
    command: "wait-nodes",
    forcedExitNote: "exiting now, without writing the result",
  });
  try {
    const result = await waitForNodes(api, {
      pool: values.pool,
      target: {
        selector: pool.selector,
        count,
        gone,
        ...(added !== undefined ? { added } : {}),
        ...(ignored.length > 0 ? { ignored } : {}),
      },
      timeoutMs,
      ...(since !== undefined ? { since } : {}),
      intervalMs,
      deleteGone: values["delete-gone"] === true,
      ...(deps.clock ? { clock: deps.clock } : {}),
      ...(deps.lateReadMs !== undefined ? { lateReadMs: deps.lateReadMs } : {}),
      ...(stop ? { signal: stop.signal } : {}),
      onEvent: (event) => showWaitEvent(progress, event),
    });
    progress.end();
    // Before anything else: a cancel exits right after the result is out.
    if (resultFile !== undefined) await writeResultFile(resultFile, result, io, "wait-nodes");
    io.stdout(json ? `${JSON.stringify(result, null, 2)}\n` : formatWaitResult(result));
    const signal = stop?.received();
    // The status a shell gives a command a signal ended, once the result is out; the exit
    // also ends the request the cancel abandoned, which would hold the process open.
    if (result.outcome === "cancelled" && signal !== undefined) stop?.exit(signalExitCode(signal));
    return result.outcome === "ready" ? 0 : 1;
  } finally {
    stop?.dispose();
    api.close();
  }
}

function parse(args: string[]) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw parseArgsUsageError(error, options, false);
  }
}

function countFlag(value: string | undefined): number {
  if (value === undefined) throw new UsageError("--count N is required");
  return wholeNumber(value, "--count");
}

/**
 * How many VMs the apply created in the pool. Only with --since: which nodes are new is told
 * against the time the apply began, and the default (one timeout before the wait) is a guess.
 */
function addedFlag(
  value: string | undefined,
  count: number,
  since: number | undefined,
): number | undefined {
  if (value === undefined) return undefined;
  const added = wholeNumber(value, "--added");
  if (since === undefined) {
    throw new UsageError("--added needs --since TIME: the time the apply that created them began");
  }
  if (added > count) {
    throw new UsageError(
      `--added ${added} is more than --count ${count}: the pool cannot hold them`,
    );
  }
  return added;
}

function wholeNumber(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) {
    throw new UsageError(`${flag} expects a whole number, got ${JSON.stringify(value)}`);
  }
  const number = Number(value);
  if (number > MAX_COUNT) {
    throw new UsageError(`${flag} expects at most ${MAX_COUNT} nodes, got ${value}`);
  }
  return number;
}

/**
 * An RFC 3339 time with its offset (a space may stand for the `T`), not in the future: a later
 * time would excuse a node that stopped being Ready after the apply began.
 */
function sinceFlag(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const given = userTime(value);
  if (given === undefined) {
    throw new UsageError(
      `--since expects a time with its offset such as 2026-11-22T18:01:05Z, got ${JSON.stringify(value)}`,
    );
  }
  const since = Date.parse(given);
  if (since > now) {
    throw new UsageError(`--since ${value} is in the future: pass the time the apply began`);
  }
  return since;
}

interface PoolSettings {
  selector: LabelSelector | undefined;
  timeoutMs?: number;
}

/** The selector from --selector, or the pool's entry in the repo config, or none. */
async function poolSettings(values: Values, pool: string, io: CliIo): Promise<PoolSettings> {
  if (values.selector !== undefined) {
    if (values.config !== undefined) {
      throw new UsageError("give either --selector or --config, not both");
    }
    return { selector: parseSelectorFlag(values.selector) };
  }
  const shown = values.config ?? REPO_CONFIG_PATH;
  const file = resolve(io.cwd, shown);
  if (values.config === undefined && !existsSync(file)) return { selector: undefined };
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw fileReadError(shown, error);
  }
  const loaded = loadRepoConfig(text, shown);
  if (!loaded.ok) throw new InputError(formatConfigIssues(loaded.issues));
  const entry = loaded.config.pools.find((p) => p.name === pool);
  if (entry === undefined) {
    const names = loaded.config.pools.map((p) => p.name);
    throw new InputError(
      `pool ${JSON.stringify(pool)} is not in the config (pools: ${names.join(", ") || "none"}); pass --selector to name its nodes`,
      { file: shown },
    );
  }
  return { selector: entry.selector, timeoutMs: entry.provisionTimeout };
}
