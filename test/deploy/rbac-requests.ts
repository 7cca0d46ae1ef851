/** What a request to the Kubernetes API needs RBAC to allow, and whether rules allow it. */
import type { RecordedRequest } from "../support/fake-kube-apiserver.ts";

export interface ResourceRequest {
  group: string;
  resource: string;
  verb: string;
  name?: string;
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

const methodVerbs: Record<string, string> = {
  POST: "create",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

/**
 * Maps a request path to the RBAC attributes the API server authorizes it with: group,
 * resource (with `/subresource`), verb (GET of a collection is `list`, or `watch` with
 * `?watch=true`) and name. Undefined for non-resource paths (`/version`, discovery).
 */
export function resourceRequest(request: RecordedRequest): ResourceRequest | undefined {
  const segments = request.path.split("/").filter((segment) => segment !== "");
  let rest: string[];
  let group: string;
  if (segments[0] === "api" && segments.length >= 3) {
    group = "";
    rest = segments.slice(2);
  } else if (segments[0] === "apis" && segments.length >= 4) {
    group = segments[1] as string;
    rest = segments.slice(3);
  } else return undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) rest = rest.slice(2);
  const [resource, name, subresource] = rest as [string, string | undefined, string | undefined];
  const fullResource = subresource ? `${resource}/${subresource}` : resource;
  let verb: string;
  if (request.method === "GET") {
    verb = name === undefined ? (request.query.watch === "true" ? "watch" : "list") : "get";
  } else if (request.method === "DELETE" && name === undefined) verb = "deletecollection";
  else verb = methodVerbs[request.method] ?? request.method.toLowerCase();
  return name === undefined
    ? { group, resource: fullResource, verb }
    : { group, resource: fullResource, verb, name };
}

/** Whether some rule allows the request, with RBAC's matching (`*` included, for honesty). */
export function allows(rules: readonly PolicyRule[], request: ResourceRequest): boolean {
  return rules.some(
    (rule) =>
      matches(rule.apiGroups, request.group) &&
      matches(rule.resources, request.resource) &&
      matches(rule.verbs, request.verb) &&
      (rule.resourceNames === undefined ||
        rule.resourceNames.length === 0 ||
        (request.name !== undefined && rule.resourceNames.includes(request.name))),
  );
}

function matches(values: readonly string[] | undefined, wanted: string): boolean {
  return (values ?? []).some((value) => value === "*" || value === wanted);
}
