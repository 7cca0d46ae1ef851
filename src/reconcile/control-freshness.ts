import { readControlMarker } from "../control/control-state.ts";
import { dataEqual } from "../editors/verify.ts";
import { DASHBOARD_KEY } from "./dashboard.ts";
import type { ReconcileTarget } from "./reconcile-types.ts";

/**
 * Thrown before a write when the dashboard on GitHub holds a command state another process wrote
 * since this one last read or wrote it: the state was adopted, and the reconcile starts over on
 * it, nothing having been written yet.
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
}

export function controlFreshness(target: ReconcileTarget): ControlFreshness {
  let read = false;
  let adopted = false;
  return {
    async beforeWrite() {
      const github = target.github;
      if (read || !github) return;
      read = true;
      const issue = await github.commands.findIssue(
        DASHBOARD_KEY,
        target.issueLabel ?? "pr-autoscaler",
      );
      const theirs = readControlMarker(issue?.body);
      // A dashboard deleted, or whose block people removed, is no other writer's state: this
      // process's own is the best there is, and its next write puts it back.
      if (!issue || !theirs) return;
      const memory = target.memory;
      const last = readControlMarker(memory.dashboard?.body);
      memory.dashboard = { number: issue.number, body: issue.body };
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
  };
}
