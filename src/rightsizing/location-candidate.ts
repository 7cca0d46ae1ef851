import type { Deployment, NamespaceSource } from "./repo-index.ts";
import type { Confidence, ResourcesLocation } from "./resources-proposal.ts";

/** A candidate place, before one is chosen. */
export interface LocationCandidate extends ResourcesLocation {
  /**
   * What kind of file it is; a kustomize `patch` overrides what its base `manifest` sets;
   * `helm-chart` is a kustomize `helmCharts` entry's values.
   */
  source: "manifest" | "patch" | "helm-release" | "application" | "values-file" | "helm-chart";
  /**
   * Why this place cannot be edited although it (or something over it) sets the container's
   * resources: values in a YAML string, values from an object outside the repo, a patch that
   * discovery cannot follow. Such a match is reported, never written.
   */
  blocked?: string;
  /**
   * Set on a place that is no candidate: the values have no `resources` there, and a Bitnami-style
   * `resourcesPreset` (this, `nano`) gives the container its resources. Only named in the note
   * when no file sets them.
   */
  preset?: string;
}

/** Where a file's workloads go, and the other deployments an edit of it would change too. */
export interface Placement {
  namespace: NamespaceSource | undefined;
  shared?: string;
}

/**
 * How FILE is deployed (DEPLOYMENTS, see `deploymentsOf`) for a workload in namespace WANTED:
 * through a deployment in that namespace (then `namespace` says where it comes from), else
 * through one that declares none (`namespace` absent: at best a likely match). Undefined when
 * every deployment goes to another namespace. `shared` names the other deployments, which an
 * edit of the file would change too, and what to do instead (REMEDY). A HelmRelease's
 * `targetNamespace` (FIXED) decides where its workloads go, whatever namespace the HelmRelease
 * itself is in.
 */
export function placement(
  deployments: readonly Deployment[],
  file: string,
  wanted: string,
  options: { fixed?: string; remedy?: (chosen: Deployment) => string } = {},
): Placement | undefined {
  const { fixed } = options;
  const chosen = fixed
    ? deployments[0]
    : (deployments.find((d) => d.namespace?.namespace === wanted) ??
      deployments.find((d) => d.namespace === undefined));
  if (!chosen) return undefined;
  const namespace: NamespaceSource | undefined = fixed
    ? { namespace: fixed, from: "metadata" }
    : chosen.namespace;
  const others = deployments.filter((d) => d !== chosen);
  if (others.length === 0) return { namespace };
  const remedy = options.remedy
    ? options.remedy(chosen)
    : `set the resources in a patch of ${chosen.root}, or set rightsizing.targets`;
  return {
    namespace,
    shared: `${file} is also deployed through ${others.map(describeDeployment).join(", ")}, which an edit would change too; ${remedy}`,
  };
}

function describeDeployment(deployment: Deployment): string {
  const namespace = deployment.namespace
    ? `namespace ${deployment.namespace.namespace}`
    : "no namespace declared";
  return `${deployment.root} (${namespace})`;
}

/** Exact needs a declared, equal namespace and a structural name match; a different namespace rules out. */
export function confidenceFor(
  namespace: NamespaceSource | undefined,
  wanted: string,
  structured: boolean,
): Confidence | undefined {
  if (namespace && namespace.namespace !== wanted) return undefined;
  return namespace && structured ? "exact" : "likely";
}

export function describeNamespace(namespace: NamespaceSource | undefined): string {
  if (!namespace) return " (no namespace declared)";
  if (namespace.from === "metadata") return ` (namespace ${namespace.namespace})`;
  return ` (namespace ${namespace.namespace} from ${namespace.file})`;
}

/** Kustomize reads a target's kind and name as whole-value regular expressions. */
export function matchesPattern(pattern: string | undefined, value: string): boolean {
  if (pattern === undefined || pattern === value) return true;
  try {
    return new RegExp(`^(?:${pattern})$`).test(value);
  } catch {
    // A pattern JavaScript cannot read may still match in kustomize (safe side).
    return true;
  }
}
