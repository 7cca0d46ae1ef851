import { KubeApiError, type KubeClient } from "./kube-client.ts";

/** A collection as RBAC names it: resource and API group, and whether it is namespaced. */
export interface ListedResource {
  /** `pods`, `poddisruptionbudgets.policy`, `nodes.metrics.k8s.io`: as `kubectl auth can-i` takes it. */
  name: string;
  group: string;
  version: string;
  namespaced: boolean;
}

/** Collections read that are not namespaced, by `group/resource`. */
const clusterScoped = new Set([
  "/namespaces",
  "/nodes",
  "/persistentvolumes",
  "metrics.k8s.io/nodes",
  "node.k8s.io/runtimeclasses",
  "storage.k8s.io/csinodes",
  "storage.k8s.io/storageclasses",
]);

/** The resource a collection path lists: `/api/v1/pods`, `/apis/policy/v1/poddisruptionbudgets`. */
export function listedResource(path: string): ListedResource {
  const parts = path.split("/").filter((part) => part !== "");
  const core = parts[0] === "api";
  const group = core ? "" : (parts[1] ?? "");
  const version = (core ? parts[1] : parts[2]) ?? "";
  const resource = parts[parts.length - 1] ?? path;
  return {
    name: group === "" ? resource : `${resource}.${group}`,
    group,
    version,
    namespaced: !clusterScoped.has(`${group}/${resource}`),
  };
}

/**
 * A failed list's message, with what to do when the answer was 401 or 403: for 403, the verb
 * and resource the account lacks, as `kubectl auth can-i` checks them.
 */
export function listFailure(error: KubeApiError | undefined, path: string): string {
  if (error === undefined) return "not read";
  if (error.status === 401)
    return `${error.message} (the credentials were refused: check the kubeconfig's user)`;
  if (error.status !== 403) return error.message;
  const { name, namespaced } = listedResource(path);
  const scope = namespaced ? " --all-namespaces" : "";
  return `${error.message} (forbidden: the account needs "list" on ${name}${namespaced ? " in all namespaces" : ""}; check with kubectl auth can-i list ${name}${scope})`;
}

/** Why a collection answered 404, and whether the answer shows its API missing. */
export interface MissingApi {
  /** The 404 said as a missing API where it is one, else as the answer it was. */
  why: string;
  /**
   * True when the cluster's discovery says the API is not served (the group not at all, or
   * only in other versions): there is nothing to list. False when the 404 does not show that:
   * the core API, a group whose discovery serves the version listed, or discovery that failed.
   */
  absent: boolean;
}

/**
 * Why a collection answered 404: its API group is not served at all, or only in other
 * versions (a VPA release that serves only `autoscaling.k8s.io/v1beta2`), as the group's
 * discovery document says (`absent`). Where discovery serves the version listed, or could not
 * be read (other than a 404, which says the group is not served), the 404 does not show the
 * API missing, and what the list would show is unknown, not none (a proxy in front of the
 * server that does not pass the path answers so). For a collection of the core API only the
 * 404 itself is said: every API server serves the core API, so the answer does not tell that an
 * API is missing.
 */
export async function missingApi(client: KubeClient, path: string): Promise<MissingApi> {
  const { group, version } = listedResource(path);
  if (group === "") return { why: `the API server answered 404 for ${path}`, absent: false };
  const notServed = {
    why: `${group}/${version} is not served by this cluster (404)`,
    absent: true,
  };
  const unshown = `so the 404 does not show the API missing (what the list would show is unknown, not none)`;
  let versions: string[];
  try {
    versions = servedVersions(JSON.parse(await client.getText(`/apis/${group}`)));
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return notServed;
    const message = error instanceof Error ? error.message : String(error);
    return {
      why: `whether ${group}/${version} is served could not be told (${message}), ${unshown}`,
      absent: false,
    };
  }
  if (versions.includes(version))
    return {
      why: `${group}/${version} is served, as the cluster's discovery says, ${unshown}`,
      absent: false,
    };
  if (versions.length === 0) return notServed;
  return {
    why: `${group}/${version} is not served by this cluster (404); ${group} is served only as ${versions.join(", ")}, which is not read`,
    absent: true,
  };
}

function servedVersions(document: unknown): string[] {
  const versions = (document as { versions?: unknown } | null)?.versions;
  if (!Array.isArray(versions)) return [];
  return versions
    .map((entry) => (entry as { version?: unknown } | null)?.version)
    .filter((version): version is string => typeof version === "string");
}
