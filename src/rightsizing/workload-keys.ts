import { createHash } from "node:crypto";
import type { WorkloadId } from "./resources-proposal.ts";

/** One text per workload: namespace, kind and name, which together are unique in a cluster. */
export function identityOf(workload: WorkloadId): string {
  return `${workload.namespace}/${workload.kind}/${workload.name}`;
}

/**
 * How much a key says beyond `resources-<namespace>-<name>`: nothing (0), the kind (1), or a
 * hash of the identity, 8 hex digits long at 2 and 8 more at each level up to all 64.
 */
const MAX_LEVEL = 9;

/**
 * The pull request key of each workload when it is grouped alone, by identity (`identityOf`).
 * A key is a branch name and lives in an open pull request's marker, so it stays
 * `resources-<namespace>-<name>` unless another workload renders the same text
 * (`home-auto/zigbee` and `home/auto-zigbee`, or a Deployment and a StatefulSet both named
 * `redis`): those then add their kind, and when that still collides a short hash of their
 * identity (longer should even that meet another key). The workloads given should be every
 * one that may get a key (all VPA targets), not only those changed now, so a key does not move
 * with what happens to change. HELD gives, by identity, the key of an open pull request that
 * carries that workload alone: when another workload comes to render the same text, the one
 * holding it keeps it (its pull request stays as it is) and the other gains the detail; nor does
 * a held key lose its detail when the workload it was told apart from is gone.
 */
export function workloadKeys(
  workloads: readonly WorkloadId[],
  held: ReadonlyMap<string, string> = new Map(),
): Map<string, string> {
  const unique = new Map(workloads.map((workload) => [identityOf(workload), workload]));
  const levels = new Map<string, number>(
    [...unique].map(([id, workload]) => [id, heldLevel(workload, held.get(id))]),
  );
  const keyOf = (id: string) => keyAt(unique.get(id) as WorkloadId, levels.get(id) ?? 0);
  for (;;) {
    const raised = raiseClashes(levels, keyOf, held);
    if (!raised) break;
  }
  return new Map([...unique.keys()].map((id) => [id, keyOf(id)]));
}

/**
 * Gives more detail to the workloads that share a key, and says whether any did. When one of
 * them holds the key by an open pull request, or else is at a lower level than the rest, it
 * keeps its key: the others already differ from the plain form, and the plain key may be an
 * open pull request's.
 */
function raiseClashes(
  levels: Map<string, number>,
  keyOf: (id: string) => string,
  held: ReadonlyMap<string, string>,
): boolean {
  const byKey = new Map<string, string[]>();
  for (const id of levels.keys()) byKey.set(keyOf(id), [...(byKey.get(keyOf(id)) ?? []), id]);
  let raised = false;
  for (const [key, ids] of byKey) {
    if (ids.length < 2) continue;
    const lowest = Math.min(...ids.map((id) => levels.get(id) ?? 0));
    const atLowest = ids.filter((id) => levels.get(id) === lowest);
    const holders = ids.filter((id) => held.get(id) === key);
    const [holder] = holders;
    const keeps = holders.length === 1 ? holder : atLowest.length === 1 ? atLowest[0] : undefined;
    for (const id of ids) {
      const level = levels.get(id) ?? 0;
      if (id === keeps || level === MAX_LEVEL) continue;
      levels.set(id, level + 1);
      raised = true;
    }
  }
  return raised;
}

/** The level at which the workload's key is HELD, 0 when it is at none. */
function heldLevel(workload: WorkloadId, held: string | undefined): number {
  if (held === undefined) return 0;
  for (let level = 0; level <= MAX_LEVEL; level++)
    if (keyAt(workload, level) === held) return level;
  return 0;
}

function keyAt(workload: WorkloadId, level: number): string {
  const plain = `resources-${workload.namespace}-${workload.name}`;
  if (level === 0) return plain;
  if (level === 1) return `${plain}-${workload.kind.toLowerCase()}`;
  const hash = createHash("sha256").update(identityOf(workload)).digest("hex");
  return `${plain}-${hash.slice(0, 8 * (level - 1))}`;
}
