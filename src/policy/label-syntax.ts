/**
 * Label keys and values as the API server checks them (`IsQualifiedName`, `IsValidLabelValue`).
 * A node carries no other, so a selector or a new node's label written otherwise (a `*` meant as
 * a wildcard, a space) would match no node, silently.
 */

/** A DNS label: lower-case letters, digits and `-`, beginning and ending with a letter or digit. */
export const DNS_LABEL = "[a-z0-9](?:[-a-z0-9]*[a-z0-9])?";
/** A name: letters, digits, `-`, `_` and `.`, beginning and ending with a letter or digit. */
export const NAME_PART = "[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?";
const MAX_PREFIX = 253;
const MAX_NAME = 63;

const PREFIX = new RegExp(`^${DNS_LABEL}(?:\\.${DNS_LABEL})*$`);
const NAME = new RegExp(`^${NAME_PART}$`);

/** The keys {@link labelKeyProblem} takes, for the JSON Schema. */
export const LABEL_KEY_PATTERN = `^(?:(?=[^/]{1,${MAX_PREFIX}}/)${DNS_LABEL}(?:\\.${DNS_LABEL})*/)?(?=[^/]{1,${MAX_NAME}}$)${NAME_PART}$`;
/** The values {@link labelValueProblem} takes, for the JSON Schema. */
export const LABEL_VALUE_PATTERN = `^(?:(?=.{1,${MAX_NAME}}$)${NAME_PART})?$`;

const NAME_RULE = `letters, digits, '-', '_' and '.', beginning and ending with a letter or digit, at most ${MAX_NAME}`;

/** Why `key` is not a label (or taint) key, or `undefined` when it is one. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf("/");
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  const shown = JSON.stringify(key);
  if (key === "") return "must not be empty: a label key such as node.kubernetes.io/pool";
  if (prefix !== undefined && (!PREFIX.test(prefix) || prefix.length > MAX_PREFIX))
    return `${shown} is not a label key: its prefix ${JSON.stringify(prefix)} must be a DNS name (lower-case letters, digits, '-' and '.', at most ${MAX_PREFIX}), like node.kubernetes.io`;
  if (!NAME.test(name) || name.length > MAX_NAME)
    return `${shown} is not a label key: its name ${JSON.stringify(name)} must be ${NAME_RULE}, after an optional prefix and '/' (node.kubernetes.io/pool)`;
  return undefined;
}

/** Why `value` is not a label (or taint) value, or `undefined` when it is one. */
export function labelValueProblem(value: string): string | undefined {
  if (value === "" || (NAME.test(value) && value.length <= MAX_NAME)) return undefined;
  const wildcard = value.includes("*")
    ? "; '*' is no wildcard there (a selector lists the values it takes with operator In)"
    : "";
  return `${JSON.stringify(value)} is not a label value: ${NAME_RULE}, or empty${wildcard}`;
}
