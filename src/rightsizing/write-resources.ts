import { formatPath, type PathSegment, parsePath } from "../editors/path.ts";
import type { ScalarValue } from "../editors/value.ts";
import { editYaml } from "../editors/yaml/yaml-editor.ts";
import type { FileEdit } from "../planning/proposal.ts";
import { formatCpu, formatMemory } from "../planning/quantity.ts";
import { readFileResources } from "./file-resources.ts";
import type { RepoIndex } from "./repo-index.ts";
import type { ResourceChange, ResourceName, WorkloadRightsizing } from "./resources-proposal.ts";

/**
 * The values a workload's decisions write: `requests.<resource>` and, when it changes,
 * `limits.<resource>` under each container's `resources`. Quantities are written canonically
 * (`450m`, `2`, `1344Mi`); whole cores stay a number where the file holds a number.
 */
export function resourceChanges(workload: WorkloadRightsizing, index: RepoIndex): ResourceChange[] {
  const changes: ResourceChange[] = [];
  for (const container of workload.containers) {
    const { location } = container;
    const file = readFileResources(index, location);
    const base = parsePath(location.path);
    for (const decision of container.resources) {
      if (decision.action !== "change" || decision.proposed === undefined) continue;
      const { resource } = decision;
      const request = file.requests[resource];
      changes.push(change(location, base, "requests", resource, request.raw, decision.proposed));
      if (decision.proposedLimit !== undefined) {
        const limit = file.limits[resource];
        changes.push(change(location, base, "limits", resource, limit.raw, decision.proposedLimit));
      }
    }
  }
  return changes;
}

function change(
  location: { file: string; document: number },
  base: PathSegment[],
  section: ResourceSection,
  resource: ResourceName,
  before: unknown,
  amount: number,
): ResourceChange {
  return {
    file: location.file,
    document: location.document,
    path: resourcePath(base, section, resource),
    before,
    after: quantityValue(resource, amount, before),
  };
}

/** Where a container's resources are written: requests and limits. */
export type ResourceSection = "requests" | "limits";

/** PATH of a container's request or limit of `resource`, under its `resources` mapping `base`. */
export function resourcePath(
  base: readonly PathSegment[],
  section: ResourceSection,
  resource: ResourceName,
): string {
  return formatPath([...base, { kind: "key", key: section }, { kind: "key", key: resource }]);
}

/** The value to write: canonical text, or a number where the file already holds a number. */
export function quantityValue(
  resource: ResourceName,
  amount: number,
  before: unknown,
): ScalarValue {
  if (resource === "cpu") {
    // `cpu: 2` stays a number when the new value is whole cores too; `450m` needs the text form.
    if (typeof before === "number" && amount % 1000 === 0) return amount / 1000;
    return formatCpu(amount);
  }
  if (typeof before === "number") return amount;
  return formatMemory(amount);
}

/**
 * Applies CHANGES to the files' texts, one verified edit after another (the editors refuse
 * anything that would disturb other bytes). Throws InputError when an edit is refused;
 * nothing is returned half-done.
 */
export function applyChanges(
  texts: Pick<ReadonlyMap<string, string>, "get">,
  changes: readonly ResourceChange[],
): FileEdit[] {
  const current = new Map<string, string>();
  for (const change of changes) {
    const before = current.get(change.file) ?? texts.get(change.file);
    if (before === undefined) throw new Error(`${change.file} was not read`);
    const edited = editYaml(before, parsePath(change.path), change.after, change.file, {
      document: change.document,
    });
    current.set(change.file, edited);
  }
  return [...current.entries()].map(([file, after]) => ({
    file,
    before: texts.get(file) as string,
    after,
  }));
}
