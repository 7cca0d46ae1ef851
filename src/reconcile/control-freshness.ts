import { readControlBlock, readControlMarker } from "../control/control-state.ts";
import { dataEqual } from "../editors/verify.ts";
import { DASHBOARD_KEY } from "./dashboard.ts";
import type { ReconcileTarget } from "./reconcile-types.ts";

/**
 * Thrown before a write when the dashboard on GitHub holds a command state another process wrote
 * since this one last read or wrote it (the state was adopted), or one that cannot be read (this
 * process's own is kept, and the comments since its last one are due again): the reconcile
 * starts over, nothing having been written yet.
 */
export class StaleControlState extends Error {
  constructor() {
    super("the dashboard's command state was written by another process since this one read it");
    this.name = "StaleControlState";
  }
}

/**
 * Looks, once per reconcile and only before its first write, at the dashboard's state on GitHub,
 * so every write rests on the state the last writer left (replicas without leader election
 * converge) while a reconcile that writes nothing costs no request for it.
 */
export interface ControlFreshness {
  /** Resolves when the state in memory is GitHub's; throws StaleControlState after adopting it. */
  beforeWrite(): Promise<void>;
  /** The dashboard was just read in this reconcile (a new process reads it first thing). */
  markRead(): void;
  /** Whether GitHub's state was adopted in this reconcile. */
  readonly adopted: boolean;
  /**
   * Why GitHub's state could not be read, when this process kept its own instead and takes the
   * comments since its last one again (another process may have taken some).
   */
  readonly kept: string | undefined;
}

export function controlFreshness(target: ReconcileTarget): ControlFreshness {
  let read = false;
  let adopted = false;
  let kept: string | undefined;
  return {
    async beforeWrite() {
      const github = target.github;
      if (read || !github) return;
      read = true;
      const issue = await github.commands.findIssue(
        DASHBOARD_KEY,
        target.issueLabel ?? "pr-autoscaler",
      );
      // A deleted dashboard is no other writer's state: this process's own is the best there is.
      if (!issue) return;
      const memory = target.memory;
      const last = readControlMarker(memory.dashboard?.body);
      memory.dashboard = { number: issue.number, body: issue.body };
      const found = readControlBlock(issue.body);
      if (!("state" in found)) {
        // People removed or broke the block, or a process that found it so wrote it back as it
        // was: that is no state. One held for it has nothing better; any other keeps its own,
        // which the dashboard written in this run puts back. Another process may have taken
        // comments since this one's last: the run starts over taking them again (commands are
        // idempotent), so a pause taken there is not lost here.
        const own = memory.control?.state;
        if (!own || own.unreadable) return;
        memory.commandsPolledAt = undefined;
        kept = found.problem;
        throw new StaleControlState();
      }
      const theirs = found.state;
      if (dataEqual(theirs, last ?? memory.control?.state)) return;
      memory.control = { state: theirs };
      adopted = true;
      throw new StaleControlState();
    },
    markRead() {
      read = true;
    },
    get adopted() {
      return adopted;
    },
    get kept() {
      return kept;
    },
  };
}
