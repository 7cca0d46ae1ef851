import type { AutomergeConfig, PolicyRuleConfig, PolicyWindowConfig } from "./automerge-config.ts";
import {
  type AutomergePolicy,
  POLICY_DEFAULTS,
  type PolicyKind,
  type PolicyMatch,
  type PolicyRule,
  type PolicyWindow,
} from "./automerge-policy.ts";

/** One policy of an `extends` chain, with the name its rules are shown under. */
export interface PolicyLink {
  /** E.g. `.github/pr-autoscaler.yml`, `preset:homelab`, `my-org/.github`. */
  label: string;
  config: AutomergeConfig;
}

/**
 * The effective policy of a chain, nearest first: rules in chain order (the repo's own first);
 * the nearest timezone, method, native auto-merge switch and per-kind caps; required checks and
 * blackout windows added up. A window without a time zone takes its file's, else the effective one.
 */
export function mergePolicyChain(chain: readonly PolicyLink[]): AutomergePolicy {
  const first = <T>(pick: (config: AutomergeConfig) => T | undefined): T | undefined =>
    chain.map((link) => pick(link.config)).find((value) => value !== undefined);
  const timezone = first((c) => c.timezone) ?? POLICY_DEFAULTS.timezone;
  const method = first((c) => c.method) ?? POLICY_DEFAULTS.method;
  const maxPerDay: Partial<Record<PolicyKind, number>> = {};
  for (const kind of ["nodes", "resources"] as const) {
    const cap = first((c) => c.maxPerDay?.[kind]);
    if (cap !== undefined) maxPerDay[kind] = cap;
  }
  const zoneOf = (link: PolicyLink) => link.config.timezone ?? timezone;
  return {
    timezone,
    method,
    requiredChecks: unique(chain.flatMap((link) => link.config.requiredChecks ?? [])),
    maxPerDay,
    notDuring: chain.flatMap((link) => windows(link.config.notDuring, zoneOf(link))),
    nativeAutoMerge: first((c) => c.nativeAutoMerge) ?? POLICY_DEFAULTS.nativeAutoMerge,
    rules: chain.flatMap((link) =>
      (link.config.rules ?? []).map((rule, i) => toRule(rule, i, link.label, zoneOf(link), method)),
    ),
    sources: chain.map((link) => link.label),
    problems: [],
  };
}

function toRule(
  rule: PolicyRuleConfig,
  index: number,
  source: string,
  timezone: string,
  method: AutomergePolicy["method"],
): PolicyRule {
  return {
    name: rule.name ?? `rules[${index}]`,
    description: rule.description,
    source,
    sourceIndex: index,
    action: rule.action,
    match: toMatch(rule.match),
    method: rule.method ?? method,
    during: windows(rule.during, timezone),
    notDuring: windows(rule.notDuring, timezone),
    minAgeMs: rule.minAge,
    maxPerDay: rule.maxPerDay,
    requiredChecks: unique(rule.requiredChecks ?? []),
    reviewers: unique(rule.reviewers ?? []),
    // The REST API takes team slugs without the organisation.
    teamReviewers: unique((rule.teamReviewers ?? []).map((team) => team.split("/").at(-1) ?? team)),
    assignees: unique(rule.assignees ?? []),
  };
}

function toMatch(match: PolicyRuleConfig["match"]): PolicyMatch {
  if (!match) return {};
  const list = <T>(value: T | T[] | undefined): T[] | undefined =>
    value === undefined ? undefined : ([value].flat() as T[]);
  const out: PolicyMatch = {};
  const kind = list(match.kind);
  if (kind) out.kind = kind;
  const direction = list(match.direction);
  if (direction) out.direction = direction;
  if (match.maxStep !== undefined) out.maxStep = match.maxStep;
  if (match.maxChange !== undefined) out.maxChange = match.maxChange;
  const resource = list(match.resource);
  if (resource) out.resource = resource;
  for (const key of ["pool", "namespace", "workload"] as const) {
    const names = list(match[key]);
    if (names) out[key] = names;
  }
  if (match.labels) out.labels = match.labels;
  return out;
}

function windows(configs: PolicyWindowConfig[] | undefined, timezone: string): PolicyWindow[] {
  return (configs ?? []).map((window) => toWindow(window, timezone));
}

function toWindow(window: PolicyWindowConfig, timezone: string): PolicyWindow {
  const zone = window.timezone ?? timezone;
  if (window.cron !== undefined && window.duration !== undefined)
    return {
      type: "cron",
      name: window.name,
      cron: window.cron,
      durationMs: window.duration,
      timezone: zone,
    };
  return {
    type: "weekly",
    name: window.name,
    days: window.days ?? [0, 1, 2, 3, 4, 5, 6],
    start: window.hours?.start ?? 0,
    end: window.hours?.end ?? 24 * 60,
    timezone: zone,
  };
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
