/** Policies and subjects for tests, written the way users write them. */
import type { PolicyContext } from "../../src/merge/evaluate-policy.ts";
import type { PolicySubject, SubjectResourceChange } from "../../src/merge/policy-subject.ts";
import { subjectFromResourceChanges } from "../../src/merge/policy-subject.ts";
import type { AutomergePolicy } from "../../src/policy/automerge-policy.ts";
import { formatConfigIssues } from "../../src/policy/load-repo-config.ts";
import { type ResolvePolicyOptions, resolvePolicyFile } from "../../src/policy/policy-resolve.ts";

/** The effective policy of a policy file's text; fails the test when it does not load. */
export async function policyOf(
  yaml: string,
  options: Partial<ResolvePolicyOptions> = {},
): Promise<AutomergePolicy> {
  const result = await resolvePolicyFile(yaml, ".github/pr-autoscaler.yml", {
    read: async () => undefined,
    ...options,
  });
  if (!result.ok) throw new Error(`policy does not load:\n${formatConfigIssues(result.issues)}`);
  return result.policy;
}

/** A node-count change of `step` nodes in `direction` for `pool`. */
export function nodes(direction: "up" | "down", step = 1, pool = "workers"): PolicySubject {
  return { kind: "nodes", direction, step, resources: [], pool, labels: {} };
}

/** A resources change: each entry `[resource, relative change as a fraction]` (undefined: no value before). */
export function resources(
  changes: [SubjectResourceChange["resource"], number | undefined][],
  where: { namespace?: string; workload?: string; labels?: Record<string, string> } = {},
): PolicySubject {
  return subjectFromResourceChanges({
    namespace: where.namespace ?? "media",
    workload: where.workload ?? "plex",
    labels: where.labels ?? {},
    changes: changes.map(([resource, relativeChange]) => ({
      resource,
      relativeChange,
      direction: relativeChange !== undefined && relativeChange < 0 ? "down" : "up",
      container: `${where.workload ?? "plex"}/app`,
    })),
  });
}

/** A context in which nothing but the policy itself holds a merge back. */
export function openContext(now: string, overrides: Partial<PolicyContext> = {}): PolicyContext {
  return {
    now: new Date(now),
    openedAt: "2000-01-01T00:00:00Z",
    merges: [],
    checks: { required: [], states: {} },
    ...overrides,
  };
}
