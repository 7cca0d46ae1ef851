import { InputError } from "../errors.ts";
import type { PlanNote } from "../planning/proposal.ts";
import { shownChange } from "./decide-resource.ts";
import { explainWorkload } from "./explain-rightsizing.ts";
import type { RepoIndex } from "./repo-index.ts";
import type {
  ResourceChange,
  ResourcesProposal,
  RightsizingImportance,
  WorkloadId,
  WorkloadRightsizing,
} from "./resources-proposal.ts";
import { identityOf, workloadKeys } from "./workload-keys.ts";
import { applyChanges } from "./write-resources.ts";

/** A workload's decisions with the changes they write, each already verified alone. */
export interface WorkloadChanges {
  workload: WorkloadRightsizing;
  changes: ResourceChange[];
}

export type Grouping = "workload" | "namespace" | "repo";

/** How urgent the workloads' changes are: any OOM-driven memory raise, then the largest change. */
export function importanceOf(workloads: readonly WorkloadRightsizing[]): RightsizingImportance {
  let oom = false;
  let change = 0;
  for (const decision of workloads.flatMap((w) => w.containers.flatMap((c) => c.resources))) {
    if (decision.action !== "change" || decision.proposed === undefined) continue;
    if (decision.triggers.some((trigger) => trigger.kind === "oom")) oom = true;
    const percent =
      decision.current === undefined || decision.current === 0
        ? Number.POSITIVE_INFINITY
        : shownChange(decision.current, decision.proposed);
    change = Math.max(change, percent);
  }
  return { oom, change };
}

/** Orders by importance, most important first; ties by key so the order is stable. */
export function compareImportance(
  a: { importance: RightsizingImportance; key: string },
  b: { importance: RightsizingImportance; key: string },
): number {
  if (a.importance.oom !== b.importance.oom) return a.importance.oom ? -1 : 1;
  if (a.importance.change !== b.importance.change) return b.importance.change - a.importance.change;
  return a.key.localeCompare(b.key);
}

/**
 * The pull request key of a workload under a grouping: its own key (from `workloadKeys`), its
 * namespace's, or the repo's.
 */
export function groupKey(
  workload: WorkloadId,
  grouping: Grouping,
  keys: ReadonlyMap<string, string>,
): string {
  if (grouping === "repo") return "resources";
  if (grouping === "namespace") return `resources-${workload.namespace}`;
  return keys.get(identityOf(workload)) ?? `resources-${workload.namespace}-${workload.name}`;
}

/**
 * Puts the workloads' changes into proposals (one per workload, namespace or repo), each
 * with the whole-file edits of all its changes, ordered by importance. Workloads are grouped
 * by identity (namespace, kind and name), never by their rendered key: two workloads whose
 * names run together into one text still get a pull request each. KNOWN names every workload
 * that may get a key (see `workloadKeys`). A workload whose changes cannot be combined with
 * the others of its group is left out with a note. HELD: the keys open pull requests hold (see
 * `workloadKeys`).
 */
export function groupProposals(
  changed: readonly WorkloadChanges[],
  index: RepoIndex,
  grouping: Grouping,
  notes: PlanNote[],
  known: readonly WorkloadId[] = [],
  held: ReadonlyMap<string, string> = new Map(),
): ResourcesProposal[] {
  const keys = workloadKeys([...known, ...changed.map((entry) => entry.workload.workload)], held);
  const ordered = [...changed].sort((a, b) => compareWorkloads(a, b, keys));
  const groups = new Map<string, { key: string; members: WorkloadChanges[] }>();
  for (const entry of ordered) {
    const identity = groupIdentity(entry.workload, grouping);
    const group = groups.get(identity) ?? {
      key: groupKey(entry.workload.workload, grouping, keys),
      members: [],
    };
    group.members.push(entry);
    groups.set(identity, group);
  }
  const proposals = [...groups.values()].flatMap(({ key, members }) => {
    const proposal = buildProposal(key, members, index, grouping, notes);
    return proposal ? [proposal] : [];
  });
  return proposals.sort(compareImportance);
}

/** Orders single workloads by importance, ties by their own key. */
export function compareWorkloads(
  a: WorkloadChanges,
  b: WorkloadChanges,
  keys: ReadonlyMap<string, string>,
): number {
  return compareImportance(
    {
      importance: importanceOf([a.workload]),
      key: groupKey(a.workload.workload, "workload", keys),
    },
    {
      importance: importanceOf([b.workload]),
      key: groupKey(b.workload.workload, "workload", keys),
    },
  );
}

/** What a group is: the workload itself, its namespace, or the whole repo. */
function groupIdentity(workload: WorkloadRightsizing, grouping: Grouping): string {
  if (grouping === "repo") return "";
  if (grouping === "namespace") return workload.workload.namespace;
  return identityOf(workload.workload);
}

function buildProposal(
  key: string,
  members: WorkloadChanges[],
  index: RepoIndex,
  grouping: Grouping,
  notes: PlanNote[],
): ResourcesProposal | undefined {
  const included: WorkloadChanges[] = [];
  // The files as the members included so far leave them: each member's changes are applied on
  // top, once (applying every member's again for each would take time growing as its square).
  const edited = new Map<string, string>();
  const current = { get: (file: string) => edited.get(file) ?? index.texts.get(file) };
  for (const member of members) {
    try {
      for (const edit of applyChanges(current, member.changes)) edited.set(edit.file, edit.after);
      included.push(member);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      const { kind, namespace, name } = member.workload.workload;
      notes.push({
        level: "warning",
        subject: `${kind.toLowerCase()}/${namespace}/${name}`,
        message: `its changes cannot be combined with the others of ${key}: ${error.message}`,
      });
    }
  }
  if (included.length === 0) return undefined;
  const edits = [...edited].map(([file, after]) => ({
    file,
    before: index.texts.get(file) as string,
    after,
  }));
  const workloads = included.map((m) => m.workload);
  const proposal: ResourcesProposal = {
    kind: "resources",
    key,
    workloads,
    changes: included.flatMap((m) => m.changes),
    edits,
    reasons: workloads.flatMap(explainWorkload),
    importance: importanceOf(workloads),
  };
  if (grouping !== "repo")
    proposal.namespace = (workloads[0] as WorkloadRightsizing).workload.namespace;
  return proposal;
}
