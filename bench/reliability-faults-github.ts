/**
 * GitHub faults at each step of the bot's pull request work. A step is one request of a
 * reconcile, as recorded from a run without faults, so a new request in the sequence is covered
 * without naming it here. For each phase (opening the pull requests, updating one, closing one)
 * and each step, each kind of fault is injected at that request alone; the reconcile runs on
 * (or the process dies there), then one more reconcile runs without faults (after a death, in a
 * new process with nothing carried over). The repository is then judged against the same story
 * told without faults.
 */
import { reconcile } from "../src/reconcile/reconcile.ts";
import type { RequestFault } from "../test/reconcile/support/fake-github.ts";
import { CONFIG, cluster, infraFiles } from "../test/reconcile/support/infra.ts";
import {
  type AppProcess,
  type GitHubWorld,
  gitHubWorld,
  judge,
  picture,
  REQUEST_TIMEOUT_MS,
  type RepoPicture,
} from "./reliability-faults-world.ts";

/** One row of the figures: a fault, where it was injected, and what it left behind. */
export interface FaultRow {
  fault: string;
  step: string;
  runs: number;
  duplicatePRs: number;
  halfMadeLeft: number;
  /** Scale-down proposals made while data was missing; null where the cluster was whole. */
  scaleDownOnMissingData: number | null;
  /** Runs after which the next reconcile (without the fault) reached the expected state. */
  recovered: number;
  /** What went wrong, when something did. */
  notes: string[];
  /** What is worth knowing but is not wrong. */
  remarks?: string[];
}

export interface FaultKind {
  name: string;
  /** How the request goes wrong at GitHub, or "killed": the process dies before sending it. */
  fault: RequestFault | "killed";
}

const SECONDARY =
  "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";

/** The faults injected at every step. */
export const gitHubFaultKinds: FaultKind[] = [
  {
    name: "GitHub 500 (nothing done)",
    fault: { acts: false, answer: { status: 500, message: "Server Error" } },
  },
  {
    name: "GitHub 502 after GitHub acted",
    fault: { acts: true, answer: { status: 502, message: "Server Error" } },
  },
  {
    name: "GitHub 403 secondary rate limit, retry-after 60",
    fault: {
      acts: false,
      answer: { status: 403, message: SECONDARY, headers: { "retry-after": "60" } },
    },
  },
  {
    name: "GitHub 429, retry-after 60",
    fault: {
      acts: false,
      answer: { status: 429, message: SECONDARY, headers: { "retry-after": "60" } },
    },
  },
  {
    name: `GitHub timeout after GitHub acted (no answer; the client gives up after ${REQUEST_TIMEOUT_MS} ms)`,
    fault: { acts: true, answer: "none" },
  },
  { name: "process killed before the request", fault: "killed" },
];

/** A story told to the repository: what happens before the reconcile the faults hit. */
export interface Phase {
  name: string;
  /** Runs the reconciles before the faulted one, and changes the world for it. */
  setup(world: GitHubWorld, app: AppProcess, cluster: { pending: number }): Promise<void>;
}

async function settle(world: GitHubWorld, app: AppProcess, cluster: { pending: number }) {
  cluster.pending = 1;
  await reconcile(app.target);
  world.github.advance(60_000);
  await reconcile(app.target);
  world.github.advance(60_000);
}

/** Opening the pull requests (nodes and resources), updating one, closing one. */
export const phases: Phase[] = [
  {
    name: "open",
    async setup(_, __, cluster) {
      cluster.pending = 1;
    },
  },
  {
    name: "update",
    async setup(world, app, cluster) {
      await settle(world, app, cluster);
      cluster.pending = 2;
    },
  },
  {
    name: "close",
    async setup(world, app, cluster) {
      await settle(world, app, cluster);
      cluster.pending = 0;
    },
  },
];

interface Told {
  world: GitHubWorld;
  app: AppProcess;
}

async function tell(phase: Phase): Promise<Told> {
  const state = { pending: 0 };
  const world = gitHubWorld(infraFiles({ config: CONFIG }), async () =>
    cluster({ pending: state.pending }),
  );
  const app = world.start();
  await phase.setup(world, app, state);
  world.github.reset();
  return { world, app };
}

/** The requests of the phase's reconcile, as `METHOD /path?query` (shas shortened). */
export interface PhaseSteps {
  phase: string;
  steps: string[];
  expected: RepoPicture;
}

/** Records the phase's steps, and the repository after it and one more reconcile. */
export async function recordPhase(phase: Phase): Promise<PhaseSteps & { problems: string[] }> {
  const { world, app } = await tell(phase);
  await reconcile(app.target);
  const steps = world.github.log.map((entry) => entry.call.replace(/[0-9a-f]{40}/g, "<sha>"));
  await reconcile(app.target);
  return { phase: phase.name, steps, expected: picture(world.github), problems: world.problems };
}

/**
 * Injects `kind` at step `step` (1-based) of the phase, recovers, and judges. `recover: false`
 * leaves out the reconcile after the fault (to see that the judgement sees what a fault left).
 */
export async function runStepFault(
  phase: Phase,
  recorded: PhaseSteps,
  step: number,
  kind: FaultKind,
  options: { recover?: boolean } = {},
): Promise<{ row: FaultRow; problems: string[] }> {
  const { world, app } = await tell(phase);
  const notes: string[] = [];
  let recovery = app;
  if (kind.fault === "killed") {
    app.line.killAt = app.line.sent + step;
    const run = reconcile(app.target).then(
      () => "finished",
      () => "finished",
    );
    const outcome = await Promise.race([run, app.line.killed.then(() => "killed")]);
    if (outcome !== "killed") notes.push(`the process never reached step ${step}`);
    recovery = world.start();
  } else {
    world.github.failRequest(step, kind.fault);
    // A reconcile that cannot read the repository throws; the scheduler logs it and the next
    // reconcile starts over, as here.
    await reconcile(app.target).catch(() => undefined);
  }
  // The requests up to the step are those of the run without faults; a death sends no more.
  const made = world.github.log.map((entry) => entry.call.replace(/[0-9a-f]{40}/g, "<sha>"));
  const upTo = kind.fault === "killed" ? step - 1 : step;
  if (made.slice(0, upTo).join("\n") !== recorded.steps.slice(0, upTo).join("\n"))
    notes.push(`the requests before step ${step} were not those of the run without faults`);
  if (kind.fault === "killed" && made.length !== step - 1)
    notes.push(`the killed process made ${made.length} requests, not ${step - 1}`);
  const after = options.recover === false ? undefined : await reconcile(recovery.target);
  if (!after) notes.push("no reconcile after the fault");
  else if (after.errors.length > 0) notes.push(...after.errors.map((e) => `next reconcile: ${e}`));
  const judgement = judge(world.github, recorded.expected);
  notes.push(...judgement.differences);
  return {
    row: {
      fault: kind.name,
      step: `${recorded.phase} ${step}: ${recorded.steps[step - 1]}`,
      runs: 1,
      duplicatePRs: judgement.duplicatePRs,
      halfMadeLeft: judgement.halfMade,
      scaleDownOnMissingData: null,
      recovered: judgement.recovered && after?.errors.length === 0 ? 1 : 0,
      notes,
    },
    problems: world.problems,
  };
}

export interface GitHubFaultOptions {
  /** Which kinds go at which steps (1-based) of a phase; default every kind at every step. */
  plan?: (phase: PhaseSteps) => { step: number; kinds: FaultKind[] }[];
  phases?: Phase[];
}

/** Every kind of fault at every step of every phase. */
export async function runGitHubFaults(options: GitHubFaultOptions = {}): Promise<{
  rows: FaultRow[];
  recorded: PhaseSteps[];
  problems: string[];
}> {
  const rows: FaultRow[] = [];
  const recorded: PhaseSteps[] = [];
  const problems: string[] = [];
  for (const phase of options.phases ?? phases) {
    const record = await recordPhase(phase);
    recorded.push(record);
    problems.push(...record.problems);
    const plan =
      options.plan?.(record) ??
      record.steps.map((_, i) => ({ step: i + 1, kinds: gitHubFaultKinds }));
    for (const { step, kinds } of plan) {
      for (const kind of kinds) {
        const { row, problems: found } = await runStepFault(phase, record, step, kind);
        rows.push(row);
        problems.push(...found);
      }
    }
  }
  return { rows, recorded, problems };
}
