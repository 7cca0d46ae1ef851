/**
 * Extended resource names as the API server checks them (`IsExtendedResourceName`): a domain, a
 * slash and a name (`nvidia.com/gpu`), outside the `kubernetes.io` domain, whose quota name
 * (`requests.` and the name) is a qualified name.
 */

import { DNS_LABEL, NAME_PART } from "./label-syntax.ts";

const DOMAIN = new RegExp(`^${DNS_LABEL}(?:\\.${DNS_LABEL})*$`);
const NAME = new RegExp(`^${NAME_PART}$`);
/** The quota prefix Kubernetes puts before a resource's name: `requests.nvidia.com/gpu`. */
const QUOTA_PREFIX = "requests.";
/** A qualified name's prefix is a DNS subdomain of at most 253 characters, the quota's included. */
const MAX_DOMAIN = 253 - QUOTA_PREFIX.length;
const MAX_NAME = 63;
const NATIVE_DOMAIN = "kubernetes.io/";
/** Resources a new node's size gives under keys of their own. */
const OWN_KEYS: Record<string, string> = { cpu: "cpu", memory: "memory", pods: "pods" };

/** The names {@link extendedResourceNameProblem} takes, for the JSON Schema. */
export const EXTENDED_RESOURCE_NAME_PATTERN = `^(?!requests\\.)(?!.*kubernetes\\.io/)(?=[^/]{1,${MAX_DOMAIN}}/)${DNS_LABEL}(?:\\.${DNS_LABEL})*/(?=.{1,${MAX_NAME}}$)${NAME_PART}$`;

/** Why `name` is not an extended resource name, or `undefined` when it is one. */
export function extendedResourceNameProblem(name: string): string | undefined {
  const own = OWN_KEYS[name];
  if (own) return `${name} is not an extended resource: set newNode.${own}`;
  const slash = name.indexOf("/");
  if (slash < 0)
    return `${JSON.stringify(name)} has no domain: an extended resource is named like nvidia.com/gpu (a domain, a slash, a name)`;
  if (name.includes(NATIVE_DOMAIN))
    return `${JSON.stringify(name)} is in the kubernetes.io domain, which names Kubernetes' own resources, not extended ones`;
  if (name.startsWith(QUOTA_PREFIX))
    return `${JSON.stringify(name)} starts with "requests.", which names a quota, not a resource`;
  const domain = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  if (!DOMAIN.test(domain) || domain.length > MAX_DOMAIN)
    return `${JSON.stringify(domain)} is not a domain: lower-case letters, digits, '-' and '.', at most ${MAX_DOMAIN} characters, like nvidia.com`;
  if (!NAME.test(rest) || rest.length > MAX_NAME)
    return `${JSON.stringify(rest)} is not a resource name: letters, digits, '-', '_' and '.', beginning and ending with a letter or digit, at most ${MAX_NAME} characters, like gpu`;
  return undefined;
}
