import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { ClusterReadError, readSnapshot } from "../cluster/read-snapshot.ts";
import { usageAt } from "../cluster/snapshot-age.ts";
import { loadSnapshot } from "../cluster/snapshot-file.ts";
import type { UsageSource } from "../cluster/usage-source.ts";
import { decodeUtf8 } from "../editors/text.ts";
import { type ExitCode, InputError, UsageError } from "../errors.ts";
import { unifiedDiff } from "../forge/dry-run/unified-diff.ts";
import type { PlanNote, Proposal } from "../planning/proposal.ts";
import type { Snapshot } from "../planning/snapshot.ts";
import { usageWarningsOutsidePools } from "../planning/unread-usage.ts";
import { type ConfigIssue, formatConfigIssues } from "../policy/load-repo-config.ts";
import type { PolicyFileReader } from "../policy/policy-resolve.ts";
import { validateRepoConfiguration } from "../policy/policy-validate.ts";
import { REPO_CONFIG_PATH } from "../policy/repo-config.ts";
import type { RightsizingConfig } from "../policy/rightsizing-config.ts";
import { widestCheckSeconds } from "../policy/usage-window.ts";
import { limitNewPullRequests } from "../reconcile/limits.ts";
import { planChanges, readRepoConfig } from "../reconcile/plan-repo.ts";
import { type LocalRepo, localRepo } from "../repo/local-repo.ts";
import { HistoryUnavailableError, workingTreeDeletion } from "../repo/repo-reader.ts";
import { counted } from "../util/plural.ts";
import { fileReadError } from "../util/read-failure.ts";
import { parseCommandArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { directoryReader } from "./directory-reader.ts";
import type { CliIo } from "./io.ts";
import { misnamedConfig } from "./misnamed-config.ts";
import { parseNowOption } from "./now-option.ts";
import { PROMETHEUS_HELP, prometheusOptions, usageSourceFromFlags } from "./prometheus-flags.ts";
import { noteRetries, reportSnapshotWarnings } from "./snapshot-warnings.ts";

const usage = `Usage: pr-autoscaler plan [--repo DIR] [--kubeconfig F [--context C] | --snapshot F]
                          [--config F] [--now ISO] [--json] [--prometheus URL]

Decides what the infra repo in DIR should change for the cluster, and explains why (or why
not). Nothing is written: proposals are printed with the diff the pull request would carry.

Options:
  --repo DIR         the infra repo checkout (default: the current directory), read as it is
                     checked out; while git cannot read its history no node is removed
  --snapshot F       plan from a saved snapshot (pr-autoscaler snapshot --out F), as of the
                     time it was taken unless --now is given
  --kubeconfig F     read the cluster with this kubeconfig (default: $KUBECONFIG, ~/.kube/config,
                     in-cluster); --context C picks a context
  --config F         the repo config to use instead of DIR/${REPO_CONFIG_PATH}
  --now ISO          plan as if it were this time (cooldowns, schedules), e.g. 2026-11-20T18:00:00Z;
                     the offset (Z or +01:00) is required; usage measured more than 300 s from it
                     is unknown
  --json             print {"proposals":[…],"notes":[…]}
${PROMETHEUS_HELP}
Exit codes: 0 planned (with or without proposals), 1 the cluster could not be read (or git
answered with output that cannot be read), 2 bad flags, snapshot or config, or a DIR that is a
bare repository.
`;

export const planCommand: Command = {
  name: "plan",
  usage,
  async run(args, io) {
    const { values } = parseCommandArgs(
      args,
      {
        repo: { type: "string" },
        snapshot: { type: "string" },
        kubeconfig: { type: "string" },
        context: { type: "string" },
        config: { type: "string" },
        now: { type: "string" },
        json: { type: "boolean" },
        ...prometheusOptions,
      },
      { min: 0, max: 0, names: "no arguments" },
    );
    if (values.snapshot !== undefined && (values.kubeconfig ?? values.context) !== undefined) {
      throw new UsageError("give either --snapshot or --kubeconfig/--context, not both");
    }
    const usageSource = usageSourceFromFlags(values, io.env);
    if (values.snapshot !== undefined && usageSource !== undefined) {
      throw new UsageError(
        "--prometheus reads usage while reading the cluster; a saved snapshot already holds its usage (take it with snapshot --prometheus)",
      );
    }
    const dir = resolve(io.cwd, values.repo ?? ".");
    await mustBeDirectory(dir, values.repo ?? ".");
    const repo = localRepo(dir);
    const notACheckout = await repo.notACheckout();
    if (notACheckout !== undefined)
      throw new UsageError(`--repo ${values.repo ?? "."}: ${notACheckout}`);
    // A saved snapshot is read first: a bad file is an error even where nothing is planned.
    const file =
      values.snapshot === undefined ? undefined : await loadSnapshotFile(io, values.snapshot);
    // A saved snapshot is planned as of when it was taken, unless --now says otherwise.
    const now =
      values.now !== undefined ? parseNowOption(values.now) : file ? takenAt(file) : new Date();
    const saved = file ? usageAt(file, now) : undefined;
    const override =
      values.config === undefined ? undefined : await readConfigFile(io, values.config);
    const configState = await readRepoConfig(repo, override);
    if (configState.status === "absent") {
      // The app reads the branch: a configuration deleted here only still scales its pools.
      const deleted = await workingTreeDeletion(repo, REPO_CONFIG_PATH);
      if (deleted !== undefined)
        return report(
          io,
          values.json,
          emptyResult(
            `${deleted}, or plan from a clean checkout; nothing is planned from this checkout`,
            "warning",
          ),
        );
      const misnamed = await misnamedConfig(dir);
      const absent = `no ${REPO_CONFIG_PATH} in ${dir}: the repo is left alone`;
      return report(
        io,
        values.json,
        misnamed === undefined
          ? emptyResult(absent)
          : emptyResult(`${absent}; ${misnamed}`, "warning"),
      );
    }
    if (configState.status === "invalid")
      throw new InputError(formatConfigIssues(configState.issues));
    const policy = await policyIssues(dir, repo, override);
    if (policy.length > 0)
      throw new InputError(
        `${formatConfigIssues(policy)}\n${counted(policy.length, "problem")}: until ${policy.length === 1 ? "it is" : "they are"} fixed, the app changes nothing in this repository, so nothing is planned`,
      );
    // Said once whatever is planned: it holds any scale-down, and no cooldown is known.
    const historyProblem = await repo.historyProblem();
    if (historyProblem !== undefined)
      io.stderr(
        `warning: ${historyProblem}: the time of the last change is unknown, so no node is removed; nodes may still be added\n`,
      );
    // Prometheus is asked for a window as long as the longest check judges, at least.
    const windowed = usageSourceFromFlags(values, io.env, widestCheckSeconds(configState.config));
    const snapshot =
      saved ??
      (await readClusterSnapshot(io, values, {
        ...(values.now === undefined ? {} : { planningTime: now }),
        ...(windowed ? { usageSource: windowed } : {}),
      }));
    // The usage of a node in no pool, and of pods while right-sizing is off, is read by no
    // decision: said in a note (the pods' in one line on stderr), not a warning.
    const outside = usageWarningsOutsidePools(
      snapshot,
      configState.config.pools,
      configState.config.rightsizing,
    );
    // A saved file holds the warnings not printed; a live read keeps none (`snapshot` would).
    reportSnapshotWarnings({ ...snapshot, warnings: outside.warnings }, io, values.snapshot);
    if (outside.podUsage) io.stderr(`note: pods: ${outside.podUsage}\n`);
    const result = await planChanges({
      repo,
      config: configState.config,
      configSource: configState.source,
      snapshot,
      now,
    });
    const waiting = waitingNote(result.proposals, configState.config.rightsizing);
    const history = await historyNote(repo, dir);
    const noPools =
      configState.config.pools.length === 0 ? [noPoolsNote(configState.source.file)] : [];
    // A file given with --config is meant to differ from the branch's.
    const uncommitted =
      override === undefined
        ? await uncommittedConfigNote(repo, configState.source.text)
        : undefined;
    return report(io, values.json, {
      proposals: result.proposals,
      notes: [
        ...(uncommitted ? [uncommitted] : []),
        ...noPools,
        ...result.notes,
        ...(waiting ? [waiting] : []),
        ...(history ? [history] : []),
        ...outside.notes,
      ],
    });
  },
};

/**
 * A config without pools (`pools: []`, or right-sizing alone) plans no node count: said, as a
 * repo without a config is, rather than left to an empty plan.
 */
function noPoolsNote(file: string): PlanNote {
  return {
    level: "info",
    subject: "config",
    message: `${file} has no pools: no node count is planned`,
  };
}

/**
 * When the configuration planned with, DIR's, is not the branch's: changed and not committed, or
 * in no commit of the branch. The app reads the branch, so it plans with the committed one (or,
 * with none, leaves the repo alone) until the change is committed. Undefined when it is the
 * branch's, in a plain folder, and when git cannot read the history (a warning says so).
 */
async function uncommittedConfigNote(repo: LocalRepo, text: string): Promise<PlanNote | undefined> {
  if (!(await repo.isRepository())) return undefined;
  const note = (message: string): PlanNote => ({ level: "info", subject: "config", message });
  let committed: string | undefined;
  try {
    if (await repo.uncommitted?.(REPO_CONFIG_PATH))
      return note(
        `${REPO_CONFIG_PATH} is not committed (no commit of the branch has it): this plan uses the working tree's configuration; the app leaves the repo alone until it is committed`,
      );
    committed = await repo.readFileAt(REPO_CONFIG_PATH, "HEAD");
  } catch (error) {
    if (error instanceof HistoryUnavailableError) return undefined;
    throw error;
  }
  // Line ends a checkout converts (core.autocrlf) change no setting.
  const lines = (of: string) => of.replaceAll("\r\n", "\n");
  if (committed === undefined || lines(committed) === lines(text)) return undefined;
  return note(
    `${REPO_CONFIG_PATH} is changed in the working tree but not committed: this plan uses the working tree's configuration, not the branch's; the app uses the branch's until the change is committed`,
  );
}

/** What the checkout's history leaves out, when it is not all there. */
async function historyNote(repo: LocalRepo, dir: string): Promise<PlanNote | undefined> {
  if (!(await repo.isRepository())) return plainFolderNote(dir);
  return (await repo.isShallow()) ? shallowNote(dir) : undefined;
}

/** What planning from a folder without git history leaves out. */
function plainFolderNote(dir: string): PlanNote {
  return {
    level: "info",
    subject: "repo",
    message: `${dir} is not a git repository: no change of its counts has a time, so no cooldown or delay after a scale-up is waited for`,
  };
}

/** What planning from a shallow clone dates later than the change. */
function shallowNote(dir: string): PlanNote {
  return {
    level: "info",
    subject: "repo",
    message: `${dir} is a shallow clone: a count that last changed before the oldest commit it holds is dated at that commit, the latest the change can have been, so the cooldown, the delay after a scale-up and the wait for joining nodes may run from later than the change; fetch the whole history (git fetch --unshallow) to date it`,
  };
}

/**
 * The right-sizing proposals the app would hold back under `rightsizing.maxOpenPullRequests`,
 * decided by the app's own limit with no pull request open yet. They stay in the proposals:
 * the app keeps them as waiting, and opens them in this order as others close.
 */
function waitingNote(
  proposals: readonly Proposal[],
  rightsizing: RightsizingConfig | undefined,
): PlanNote | undefined {
  if (!rightsizing?.enabled) return undefined;
  const limit = rightsizing.maxOpenPullRequests;
  const { deferred } = limitNewPullRequests(proposals, {
    maxOpen: Number.POSITIVE_INFINITY,
    maxPerHour: Number.POSITIVE_INFINITY,
    maxOpenResources: limit,
    open: [],
    recentlyClosed: [],
    now: new Date(0),
  });
  if (deferred.length === 0) return undefined;
  const keys = deferred.map((waiting) => waiting.proposal.key).join(", ");
  const open =
    limit === 1 ? "1 right-sizing pull request is" : `${limit} right-sizing pull requests are`;
  return {
    level: "info",
    subject: "rightsizing",
    message: `at most ${open} open at once (rightsizing.maxOpenPullRequests): ${keys} would wait, in this order, until fewer are open (counted with none open now; the app also counts those already open)`,
  };
}

function takenAt(snapshot: Snapshot): Date {
  const at = Date.parse(snapshot.takenAt);
  return Number.isNaN(at) ? new Date() : new Date(at);
}

/**
 * The problems `validate` finds in the files the configuration's `automerge.extends` names (one
 * that does not exist, a rule or time zone not valid in one, a cycle), read from DIR with
 * `override` as the configuration: the configuration's own are refused before. With any, the
 * app changes nothing in the repository, not only what merges itself: no pull request is
 * opened, so none is planned. Other repositories are not read, as in `validate`. A file it
 * extends that the working tree lacks but the branch holds is read from the branch, as the app
 * reads it.
 */
async function policyIssues(
  dir: string,
  checkout: LocalRepo,
  override: { text: string; file: string } | undefined,
): Promise<ConfigIssue[]> {
  const files = directoryReader(dir);
  const read: PolicyFileReader = async (repo, path) => {
    if (override && repo === undefined && path === REPO_CONFIG_PATH) return override.text;
    const text = await files(repo, path);
    if (text !== undefined || repo !== undefined) return text;
    // Deleted in the working tree only, it is still the branch's, which the app reads.
    const deleted = await workingTreeDeletion(checkout, path);
    return deleted === undefined ? undefined : checkout.readFileAt(path, "HEAD");
  };
  const { issues } = await validateRepoConfiguration({ read, otherRepos: "skip" });
  return override === undefined
    ? issues
    : issues.map((issue) =>
        issue.file === REPO_CONFIG_PATH ? { ...issue, file: override.file } : issue,
      );
}

async function readConfigFile(io: CliIo, file: string): Promise<{ text: string; file: string }> {
  try {
    return { text: decodeUtf8(await readFile(resolve(io.cwd, file)), file), file };
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw fileReadError(file, error);
  }
}

async function loadSnapshotFile(io: CliIo, file: string): Promise<Snapshot> {
  const { text } = await readConfigFile(io, file);
  return loadSnapshot(text, file);
}

async function mustBeDirectory(dir: string, given: string): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(dir)).isDirectory();
  } catch {
    throw new UsageError(`--repo ${given}: no such directory`);
  }
  if (!isDirectory)
    throw new UsageError(
      `--repo ${given}: a file, not a directory: give the infra repo's checkout`,
    );
}

async function readClusterSnapshot(
  io: CliIo,
  values: { kubeconfig?: string; context?: string },
  reading: { planningTime?: Date; usageSource?: UsageSource },
): Promise<Snapshot> {
  try {
    return await readSnapshot({
      env: io.env,
      cwd: io.cwd,
      ...(values.kubeconfig === undefined
        ? {}
        : { kubeconfig: resolve(io.cwd, values.kubeconfig) }),
      ...(values.context === undefined ? {} : { context: values.context }),
      ...reading,
      onRetry: noteRetries(io),
    });
  } catch (error) {
    if (error instanceof ClusterReadError) throw new InputError(error.message, undefined, 1);
    throw error;
  }
}

interface PlanResult {
  proposals: Proposal[];
  notes: PlanNote[];
}

/** Nothing planned, for what the repo says: a note on the repo, as the others on it are. */
function emptyResult(message: string, level: PlanNote["level"] = "info"): PlanResult {
  return { proposals: [], notes: [{ level, subject: "repo", message }] };
}

function report(io: CliIo, json: boolean | undefined, result: PlanResult): ExitCode {
  io.stdout(json ? `${JSON.stringify(planJson(result), null, 2)}\n` : planText(result));
  return 0;
}

/** The JSON form: proposals with their changes and reasons, and the notes. */
export function planJson(result: PlanResult): unknown {
  return { proposals: result.proposals.map(proposalJson), notes: result.notes };
}

function proposalJson(proposal: Proposal): unknown {
  if (proposal.kind === "resources") {
    return {
      kind: proposal.kind,
      key: proposal.key,
      ...(proposal.namespace === undefined ? {} : { namespace: proposal.namespace }),
      workloads: proposal.workloads,
      changes: proposal.changes,
      reasons: proposal.reasons,
    };
  }
  return {
    kind: proposal.kind,
    key: proposal.key,
    pool: proposal.pool,
    from: proposal.from,
    to: proposal.to,
    direction: proposal.direction,
    changes: proposal.changes,
    reasons: proposal.reasons,
    triggers: proposal.decision.triggers,
    holds: proposal.decision.holds,
    decision: proposal.decision,
  };
}

function planText(result: PlanResult): string {
  const sections = [...result.proposals.map(proposalText), ...result.notes.map(noteText)];
  if (result.proposals.length === 0) sections.push("No changes proposed.\n");
  return sections.join("\n");
}

/**
 * A note as text: a warning (a person is needed) starts with `warning: `, as the command's
 * warnings on stderr do, so it stands out from the info notes; a pool's note starts with the
 * pool's name already, another with its subject.
 */
function noteText(note: PlanNote): string {
  const level = note.level === "warning" ? "warning: " : "";
  const subject = note.subject && note.pool === undefined ? `${note.subject}: ` : "";
  return `${level}${subject}${note.message}\n`;
}

function proposalText(proposal: Proposal): string {
  const lines = [proposalHeading(proposal)];
  lines.push(...proposal.reasons.map((reason) => `  ${reason}`));
  // Only the final newline goes: a line's trailing spaces are part of what changed.
  for (const edit of proposal.edits)
    lines.push("", unifiedDiff(edit.file, edit.before, edit.after).replace(/\n$/, ""));
  return `${lines.join("\n")}\n`;
}

function proposalHeading(proposal: Proposal): string {
  if (proposal.kind === "resources") return `${proposal.key}: right-size container requests`;
  const arrow = proposal.direction === "up" ? "scale up" : "scale down";
  return `pool/${proposal.pool}: ${arrow} ${proposal.from} → ${proposal.to} node${proposal.to === 1 ? "" : "s"}`;
}
