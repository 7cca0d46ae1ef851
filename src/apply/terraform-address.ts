import { InputError } from "../errors.ts";

/** A `count` index or a `for_each` key. */
export type InstanceKey = number | string;

/** One `module.NAME[KEY]` step of a resource address. */
export interface ModuleStep {
  name: string;
  key?: InstanceKey;
}

/**
 * A Terraform resource instance address such as
 * `module.workers["pve-1"].proxmox_virtual_environment_vm.worker[3]`.
 */
export interface ResourceAddress {
  modules: ModuleStep[];
  mode: "managed" | "data";
  type: string;
  name: string;
  key?: InstanceKey;
}

/** What a pattern accepts in a key position: no key, any key (`[*]`), or one key. */
export type KeyPattern = { kind: "none" } | { kind: "any" } | { kind: "exact"; key: InstanceKey };

/** An address whose keys may be `[*]`; everything else must match exactly. */
export interface AddressPattern {
  text: string;
  modules: { name: string; key: KeyPattern }[];
  mode: "managed" | "data";
  type: string;
  name: string;
  key: KeyPattern;
}

interface Step {
  name: string;
  key: KeyPattern;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*/;

/** Parses a resource instance address as Terraform prints it in plans. */
export function parseResourceAddress(text: string): ResourceAddress {
  return concrete(parseAddressPattern(text, false), undefined);
}

/**
 * Parses an address pattern: a resource address whose instance keys may be `[*]`.
 * `allowWildcard: false` parses plain addresses with the same grammar.
 */
export function parseAddressPattern(text: string, allowWildcard = true): AddressPattern {
  const steps = parseSteps(text, allowWildcard);
  const modules: { name: string; key: KeyPattern }[] = [];
  let i = 0;
  while (steps[i]?.name === "module" && steps[i]?.key.kind === "none" && i + 1 < steps.length) {
    const moduleStep = steps[i + 1]!;
    modules.push({ name: moduleStep.name, key: moduleStep.key });
    i += 2;
  }
  let mode: "managed" | "data" = "managed";
  if (steps[i]?.name === "data" && steps[i]?.key.kind === "none" && steps.length - i === 3) {
    mode = "data";
    i += 1;
  }
  const rest = steps.slice(i);
  if (rest.length !== 2) {
    throw addressError(text, "expected [module.NAME[KEY].]...[data.]TYPE.NAME[KEY]");
  }
  const [typeStep, nameStep] = rest as [Step, Step];
  if (typeStep.key.kind !== "none") throw addressError(text, "a resource type takes no key");
  return { text, modules, mode, type: typeStep.name, name: nameStep.name, key: nameStep.key };
}

/** Renders an address back in Terraform's syntax. */
export function formatResourceAddress(address: ResourceAddress): string {
  const parts = address.modules.map((m) => `module.${m.name}${formatKey(m.key)}`);
  if (address.mode === "data") parts.push("data");
  parts.push(address.type, `${address.name}${formatKey(address.key)}`);
  return parts.join(".");
}

/** Renders a pattern with its `[*]` replaced by `key` (used to name an instance that is missing). */
export function instantiatePattern(pattern: AddressPattern, key: InstanceKey): string {
  return formatResourceAddress(concrete(pattern, key));
}

/** How many `[*]` the pattern holds. */
export function wildcardCount(pattern: AddressPattern): number {
  const keys = [...pattern.modules.map((m) => m.key), pattern.key];
  return keys.filter((k) => k.kind === "any").length;
}

/**
 * Matches an address against a pattern. Returns the keys that the `[*]` positions matched, in
 * order (empty when the pattern has none), or undefined when it does not match.
 */
export function matchAddress(
  pattern: AddressPattern,
  address: ResourceAddress,
): InstanceKey[] | undefined {
  if (pattern.mode !== address.mode || pattern.type !== address.type) return undefined;
  if (pattern.name !== address.name || pattern.modules.length !== address.modules.length) {
    return undefined;
  }
  const matched: InstanceKey[] = [];
  const pairs: [KeyPattern, InstanceKey | undefined][] = [];
  for (const [i, step] of pattern.modules.entries()) {
    const actual = address.modules[i]!;
    if (step.name !== actual.name) return undefined;
    pairs.push([step.key, actual.key]);
  }
  pairs.push([pattern.key, address.key]);
  for (const [keyPattern, key] of pairs) {
    if (!keyMatches(keyPattern, key)) return undefined;
    if (keyPattern.kind === "any" && key !== undefined) matched.push(key);
  }
  return matched;
}

/** Renders a key the way Terraform does: `[3]` or `["name"]`. */
export function formatKey(key: InstanceKey | undefined): string {
  if (key === undefined) return "";
  return typeof key === "number" ? `[${key}]` : `[${quoteHcl(key)}]`;
}

function keyMatches(pattern: KeyPattern, key: InstanceKey | undefined): boolean {
  if (pattern.kind === "none") return key === undefined;
  if (pattern.kind === "any") return key !== undefined;
  return key === pattern.key;
}

/** The address a pattern names once its `[*]` (if any) is filled with `wildcard`. */
function concrete(pattern: AddressPattern, wildcard: InstanceKey | undefined): ResourceAddress {
  const fill = (k: KeyPattern): { key?: InstanceKey } => {
    const value = k.kind === "exact" ? k.key : k.kind === "any" ? wildcard : undefined;
    return value === undefined ? {} : { key: value };
  };
  return {
    modules: pattern.modules.map((m) => ({ name: m.name, ...fill(m.key) })),
    mode: pattern.mode,
    type: pattern.type,
    name: pattern.name,
    ...fill(pattern.key),
  };
}

function parseSteps(text: string, allowWildcard: boolean): Step[] {
  const steps: Step[] = [];
  let at = 0;
  while (true) {
    const identifier = IDENTIFIER.exec(text.slice(at));
    if (!identifier) throw addressError(text, `expected a name at character ${at + 1}`);
    at += identifier[0].length;
    let key: KeyPattern = { kind: "none" };
    if (text[at] === "[") {
      const [parsed, length] = parseKey(text, at, allowWildcard);
      key = parsed;
      at += length;
    }
    steps.push({ name: identifier[0], key });
    if (at === text.length) return steps;
    if (text[at] !== ".") throw addressError(text, `expected '.' or '[' at character ${at + 1}`);
    at += 1;
  }
}

function parseKey(text: string, at: number, allowWildcard: boolean): [KeyPattern, number] {
  const rest = text.slice(at);
  const integer = /^\[(\d+)\]/.exec(rest);
  if (integer?.[1] !== undefined) {
    return [{ kind: "exact", key: Number(integer[1]) }, integer[0].length];
  }
  if (rest.startsWith("[*]")) {
    if (!allowWildcard) throw addressError(text, `'[*]' is only allowed in patterns`);
    return [{ kind: "any" }, 3];
  }
  if (rest.startsWith('["')) {
    const [value, length] = unquoteHcl(text, at + 1);
    if (text[at + 1 + length] !== "]") {
      throw addressError(text, `expected ']' at character ${at + 2 + length}`);
    }
    return [{ kind: "exact", key: value }, length + 2];
  }
  throw addressError(text, `expected [N], ["key"] or [*] at character ${at + 1}`);
}

/** Reads an HCL quoted string starting at `at` (the opening quote); returns value and length. */
function unquoteHcl(text: string, at: number): [string, number] {
  let value = "";
  let i = at + 1;
  while (i < text.length && text[i] !== '"') {
    const c = text[i]!;
    if (c === "\\") {
      const [decoded, used] = decodeEscape(text, i);
      value += decoded;
      i += used;
    } else if ((c === "$" || c === "%") && text[i + 1] === c && text[i + 2] === "{") {
      value += `${c}{`;
      i += 3;
    } else {
      value += c;
      i += 1;
    }
  }
  if (i >= text.length)
    throw addressError(text, `the quoted key at character ${at + 1} is never closed`);
  return [value, i + 1 - at];
}

function decodeEscape(text: string, at: number): [string, number] {
  const c = text[at + 1];
  const simple: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };
  if (c !== undefined && simple[c] !== undefined) return [simple[c], 2];
  const hex = c === "u" ? 4 : c === "U" ? 8 : 0;
  const digits = text.slice(at + 2, at + 2 + hex);
  if (hex > 0 && /^[0-9a-fA-F]+$/.test(digits) && digits.length === hex) {
    return [String.fromCodePoint(Number.parseInt(digits, 16)), 2 + hex];
  }
  throw addressError(text, `bad escape at character ${at + 1}`);
}

function quoteHcl(value: string): string {
  let out = '"';
  for (const ch of value) {
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else out += ch;
  }
  // A replacer function: in a replacement string, `$$` would stand for a single `$`.
  return `${out.replaceAll("${", () => "$${").replaceAll("%{", () => "%%{")}"`;
}

function addressError(text: string, reason: string): InputError {
  return new InputError(`address ${JSON.stringify(text)}: ${reason}`);
}
