/**
 * Label and field selectors as the kube-apiserver understands them in list queries
 * (`app=web,tier!=db,env in (prod,staging),!canary`), and PDB label selector matching.
 */

type Raw = Record<string, unknown>;

interface Requirement {
  key: string;
  operator: "=" | "!=" | "in" | "notin" | "exists" | "!exists";
  values: string[];
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of selector) {
    if (char === "(") depth++;
    if (char === ")") depth--;
    if (char === "," && depth === 0) {
      terms.push(current);
      current = "";
    } else current += char;
  }
  if (current.trim() !== "") terms.push(current);
  return terms.map((term) => term.trim()).filter((term) => term !== "");
}

/** Parses a label selector string; throws on syntax it does not understand. */
export function parseLabelSelector(selector: string): Requirement[] {
  return splitTerms(selector).map((term) => {
    const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (set) {
      const values = (set[3] ?? "").split(",").map((v) => v.trim());
      return { key: set[1] as string, operator: set[2] as "in" | "notin", values };
    }
    const comparison = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (comparison) {
      const operator = comparison[2] === "!=" ? "!=" : "=";
      return { key: comparison[1] as string, operator, values: [comparison[3] ?? ""] };
    }
    if (/^![^=!\s]+$/.test(term)) return { key: term.slice(1), operator: "!exists", values: [] };
    if (/^[^=!\s()]+$/.test(term)) return { key: term, operator: "exists", values: [] };
    throw new Error(`unable to parse requirement: ${JSON.stringify(term)}`);
  });
}

export function labelsMatch(labels: Record<string, string>, requirements: Requirement[]): boolean {
  return requirements.every(({ key, operator, values }) => {
    const value = labels[key];
    switch (operator) {
      case "=":
        return value === values[0];
      case "!=":
        return value !== values[0];
      case "in":
        return value !== undefined && values.includes(value);
      case "notin":
        return value === undefined || !values.includes(value);
      case "exists":
        return value !== undefined;
      case "!exists":
        return value === undefined;
      default:
        return false;
    }
  });
}

function fieldValue(object: Raw, path: string): string | undefined {
  let value: unknown = object;
  for (const part of path.split(".")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Raw)[part];
  }
  return typeof value === "string" ? value : value === undefined ? undefined : String(value);
}

/** Field selectors support `=`, `==` and `!=` on any dotted path (`spec.nodeName=worker-1`). */
export function fieldsMatch(object: Raw, selector: string): boolean {
  return splitTerms(selector).every((term) => {
    const match = /^([^=!]+)(==|=|!=)(.*)$/.exec(term);
    if (!match) throw new Error(`invalid field selector: ${JSON.stringify(term)}`);
    const actual = fieldValue(object, match[1] as string) ?? "";
    return match[2] === "!=" ? actual !== match[3] : actual === match[3];
  });
}

/** metav1.LabelSelector matching; an empty selector matches everything (policy/v1 PDBs). */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  if (typeof selector !== "object" || selector === null) return false;
  const { matchLabels = {}, matchExpressions = [] } = selector as {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  };
  for (const [key, value] of Object.entries(matchLabels)) {
    if (labels[key] !== value) return false;
  }
  return matchExpressions.every(({ key, operator, values = [] }) => {
    const value = labels[key];
    switch (operator) {
      case "In":
        return value !== undefined && values.includes(value);
      case "NotIn":
        return value === undefined || !values.includes(value);
      case "Exists":
        return value !== undefined;
      case "DoesNotExist":
        return value === undefined;
      default:
        return false;
    }
  });
}
