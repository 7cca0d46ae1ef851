import { z } from "zod";
import { CronExpression, Duration, TimeZone, ZERO_DURATION } from "./config-values.ts";
import { didYouMean } from "./did-you-mean.ts";
import { POLICY_REFERENCE_PATTERN, parsePolicyReference } from "./policy-reference.ts";
import { HoursRange, WeekDays } from "./policy-window-values.ts";
import { conditional, hasAnyKey, hasKeys } from "./schema-rules.ts";

export const POLICY_KINDS = ["nodes", "resources"] as const;
export const POLICY_DIRECTIONS = ["up", "down"] as const;
export const POLICY_RESOURCES = ["cpu", "memory"] as const;
export const MERGE_METHODS = ["squash", "merge", "rebase"] as const;
export const POLICY_ACTIONS = ["merge", "review"] as const;

/** One value or a list of values from `values`, with a message that names the allowed ones. */
function oneOrMany<const T extends readonly [string, ...string[]]>(values: T, what: string) {
  const item = z.enum(values);
  return z.union([item, z.array(item).min(1)], {
    error: (issue) => choiceMessage(issue.input, values, what),
  });
}

function choiceMessage(input: unknown, values: readonly string[], what: string): string {
  const choices = values.map((value) => JSON.stringify(value)).join(", ");
  if (Array.isArray(input)) {
    if (input.length === 0) return `needs at least one ${what}: use ${choices}`;
    const index = input.findIndex((item) => typeof item !== "string" || !values.includes(item));
    return `[${index}]: ${choiceMessage(input[index], values, what)}`;
  }
  if (typeof input !== "string")
    return `expected a ${what} (${choices}) or a list of them, got ${describe(input)}`;
  const suggestion = didYouMean(input, values);
  const hint = suggestion ? `; did you mean ${JSON.stringify(suggestion)}?` : "";
  return `${JSON.stringify(input)} is not a ${what}: use ${choices}${hint}`;
}

function describe(input: unknown): string {
  if (input === null || input === undefined) return "an empty value";
  if (typeof input === "object") return "a mapping";
  return typeof input === "string" ? JSON.stringify(input) : String(input);
}

/** Names such as pool, namespace or workload names, one or a list; `*` matches any characters. */
const NamePatterns = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
  error: (issue) =>
    Array.isArray(issue.input)
      ? "expected a list of non-empty names"
      : `expected a name (with * for any characters) or a list of names, got ${describe(issue.input)}`,
});

const CheckName = z
  .string({ error: "expected a check name such as pr-autoscaler/plan-guard" })
  .min(1, { error: "must not be empty" });

const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const TEAM_SLUG = /^(?:[A-Za-z0-9][A-Za-z0-9-]*\/)?[A-Za-z0-9][A-Za-z0-9._-]*$/;

const Login = z
  .string({ error: "expected a GitHub user name" })
  .regex(GITHUB_LOGIN, { error: "is not a GitHub user name (letters, digits and single hyphens)" });

const Team = z
  .string({ error: "expected a team slug such as infra or my-org/infra" })
  .regex(TEAM_SLUG, { error: "is not a team slug such as infra or my-org/infra" });

const DailyCap = z
  .number({ error: "expected a whole number of merges per day such as 3" })
  .int({ error: "expected a whole number of merges per day" })
  .min(1, { error: "must be at least 1 (a rule that must never merge is action: review)" });

/** For editors, as the loader checks it: a window has one form, whole. */
const WINDOW_FORMS = conditional(
  hasAnyKey(["cron", "duration"]),
  { ...hasKeys("cron", "duration"), not: hasAnyKey(["days", "hours"]) },
  hasAnyKey(["days", "hours"]),
);

/**
 * A time window: either a cron expression that starts it and a duration (`cron: "0 19 * * 5"`,
 * `duration: 4h`), or week days and/or hours of the day (`days: mon-fri`, `hours: 08:00-18:00`).
 */
export const PolicyWindowConfig = z
  .strictObject({
    name: z
      .string()
      .min(1, { error: "must not be empty" })
      .optional()
      .meta({ description: "Names the window in explanations." }),
    cron: CronExpression.optional().meta({
      description:
        "When the window starts (5 fields or a macro such as @daily), e.g. 0 19 * * 5 for Fridays 19:00; with duration, without days and hours.",
    }),
    duration: Duration.optional().meta({
      description: "How long it lasts, more than 0, e.g. 4h; with cron.",
      not: ZERO_DURATION,
    }),
    days: WeekDays.optional().meta({
      description:
        "Week days, e.g. mon-fri, sat,sun or [mon, wed]. Default: every day. Not with cron.",
    }),
    hours: HoursRange.optional().meta({
      description:
        "Hours of the day, e.g. 08:00-18:00 or 22:00-06:00. Default: the whole day. Not with cron.",
    }),
    timezone: TimeZone.optional().meta({
      description:
        "IANA time zone, e.g. Europe/Berlin (the app checks the name); default: the policy's timezone.",
    }),
  })
  .superRefine((window, ctx) => {
    const cronForm = window.cron !== undefined || window.duration !== undefined;
    const weekForm = window.days !== undefined || window.hours !== undefined;
    const say = (message: string, path: string[] = []) =>
      ctx.addIssue({ code: "custom", message, path });
    if (cronForm && weekForm)
      say("a window is either cron + duration or days/hours, not both: split it in two windows");
    else if (!cronForm && !weekForm)
      say(
        "a window needs cron and duration, or days and/or hours (e.g. days: fri, hours: 19:00-23:00)",
      );
    else if (window.cron !== undefined && window.duration === undefined)
      say("cron needs a duration: how long the window lasts, e.g. duration: 4h");
    else if (window.duration !== undefined && window.cron === undefined)
      say("duration needs a cron expression that starts the window", ["duration"]);
    else if (window.duration === 0) say("must be longer than 0", ["duration"]);
  })
  .meta({
    description: "A time window: cron and duration, or days and/or hours.",
    ...WINDOW_FORMS,
  });

const Windows = z.array(PolicyWindowConfig, { error: "expected a list of windows" });

/** What a rule applies to; every key given must hold (a missing key matches anything). */
export const PolicyMatchConfig = z
  .strictObject({
    kind: oneOrMany(POLICY_KINDS, "kind").optional().meta({
      description: "nodes (worker count) or resources (container requests).",
    }),
    direction: oneOrMany(POLICY_DIRECTIONS, "direction").optional().meta({
      description: "up or down; for resources, every changed value must go this way.",
    }),
    maxStep: z
      .number({ error: "expected a whole number of nodes such as 1" })
      .int({ error: "expected a whole number of nodes" })
      .min(1, { error: "must be at least 1" })
      .optional()
      .meta({ description: "Nodes: at most this many nodes added or removed." }),
    maxChange: z
      .number({ error: "expected a percentage such as 50" })
      .gt(0, { error: "must be more than 0 %" })
      .optional()
      .meta({ description: "Resources: every value changes by at most this many percent." }),
    resource: oneOrMany(POLICY_RESOURCES, "resource").optional().meta({
      description: "Resources: every changed value is one of these (cpu, memory).",
    }),
    pool: NamePatterns.optional().meta({ description: "Nodes: pool name(s); * is a wildcard." }),
    namespace: NamePatterns.optional().meta({
      description: "Resources: namespace(s); * is a wildcard.",
    }),
    workload: NamePatterns.optional().meta({
      description: "Resources: workload name(s); * is a wildcard.",
    }),
    labels: z
      .record(z.string(), z.string(), { error: "expected a mapping of label: value" })
      .optional()
      .meta({ description: "Labels the subject must carry (value * : any value)." }),
  })
  .meta({ description: "What the rule applies to. Absent: every change." });

const MERGE_ONLY = ["method", "during", "notDuring", "minAge", "maxPerDay", "requiredChecks"];
const REVIEW_ONLY = ["reviewers", "teamReviewers", "assignees"];
const NODES_ONLY = ["maxStep", "pool"];
const RESOURCES_ONLY = ["maxChange", "resource", "namespace", "workload"];

/** A rule whose `action` is `action` leaves out the keys of the other action. */
function keysOfOtherAction(action: string, others: readonly string[]) {
  return conditional(
    { required: ["action"], properties: { action: { const: action } } },
    { not: hasAnyKey(others) },
  );
}

/** A rule that matches `kind` only leaves out the match keys of the other kind. */
function matchKeysOfOtherKind(kind: string, others: readonly string[]) {
  const only = {
    anyOf: [{ const: kind }, { type: "array", items: { const: kind }, minItems: 1, maxItems: 1 }],
  };
  const matching = { type: "object", required: ["kind"], properties: { kind: only } };
  return conditional(
    { required: ["match"], properties: { match: matching } },
    { properties: { match: { type: "object", not: hasAnyKey(others) } } },
  );
}

/** For editors, as the loader checks it: a rule has only the keys of its action and kind. */
const RULE_KEYS = {
  allOf: [
    keysOfOtherAction("merge", REVIEW_ONLY),
    keysOfOtherAction("review", MERGE_ONLY),
    matchKeysOfOtherKind("nodes", RESOURCES_ONLY),
    matchKeysOfOtherKind("resources", NODES_ONLY),
  ],
};

/** One rule: what it matches, and whether such a change merges itself or waits for review. */
export const PolicyRuleConfig = z
  .strictObject({
    name: z
      .string({ error: "expected a rule name" })
      .min(1, { error: "must not be empty" })
      .optional()
      .meta({ description: "Names the rule in explanations; unique. Default: rules[N]." }),
    description: z.string().optional().meta({ description: "What the rule is for." }),
    match: PolicyMatchConfig.optional(),
    action: z
      .enum(POLICY_ACTIONS, {
        error: (issue) =>
          issue.input === undefined ? 'missing required key "action": merge or review' : undefined,
      })
      .meta({
        description: "merge: merges itself when the conditions hold; review: waits for a person.",
      }),
    method: z.enum(MERGE_METHODS).optional().meta({ description: "squash, merge or rebase." }),
    during: Windows.optional().meta({ description: "Merge only inside one of these windows." }),
    notDuring: Windows.optional().meta({ description: "Never merge inside these windows." }),
    minAge: Duration.optional().meta({
      description:
        "Grace period: merge no earlier than this long after the pull request opened or its values last changed.",
    }),
    maxPerDay: DailyCap.optional().meta({
      description: "At most this many merged pull requests of the same kind per day.",
    }),
    requiredChecks: z.array(CheckName).optional().meta({
      description:
        "Checks that must pass besides those branch protection and rulesets require, e.g. pr-autoscaler/plan-guard.",
    }),
    reviewers: z.array(Login).optional().meta({ description: "Users asked to review." }),
    teamReviewers: z.array(Team).optional().meta({ description: "Teams asked to review." }),
    assignees: z.array(Login).optional().meta({ description: "Users assigned." }),
  })
  .superRefine((rule, ctx) => {
    const given = (key: string) => (rule as Record<string, unknown>)[key] !== undefined;
    const wrong = rule.action === "merge" ? REVIEW_ONLY : MERGE_ONLY;
    for (const key of wrong.filter(given))
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: `${key} applies to ${rule.action === "merge" ? "review" : "merge"} rules only; this rule's action is ${rule.action}`,
      });
    const kinds = rule.match?.kind === undefined ? undefined : [rule.match.kind].flat();
    const only = kinds?.length === 1 ? kinds[0] : undefined;
    const foreign = only === "nodes" ? RESOURCES_ONLY : only === "resources" ? NODES_ONLY : [];
    const match = (rule.match ?? {}) as Record<string, unknown>;
    for (const key of foreign.filter((k) => match[k] !== undefined))
      ctx.addIssue({
        code: "custom",
        path: ["match", key],
        message: `${key} concerns ${only === "nodes" ? "resource" : "node"} changes, but this rule matches kind ${only}`,
      });
  })
  .meta({ description: "A rule; the first rule that matches a change decides.", ...RULE_KEYS });

/** Merge caps per day over all merge rules, per kind. */
export const PolicyDailyCaps = z
  .strictObject({
    nodes: DailyCap.optional().meta({
      description: "Merged pull requests that change node counts, per day.",
    }),
    resources: DailyCap.optional().meta({
      description: "Merged pull requests that change container requests, per day.",
    }),
  })
  .meta({ description: "At most this many merged pull requests per day, per kind." });

/** The extends reference, checked for its form here; the file or preset is read later. */
const PolicyReferenceText = z
  .string({
    error: "expected a reference such as preset:homelab, .github or my-org/infra:policy.yml",
  })
  .superRefine((text, ctx) => {
    const parsed = parsePolicyReference(text);
    if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: parsed });
  })
  .meta({ pattern: POLICY_REFERENCE_PATTERN });

/**
 * The auto-merge policy: the `automerge:` section of `.github/pr-autoscaler.yml`, and the whole
 * of a policy file (a bundled preset, or a file it extends). Settings left out are inherited
 * through `extends`; the rules of the file come before the rules it extends.
 */
export const AutomergeConfig = z
  .strictObject({
    extends: PolicyReferenceText.optional().meta({
      description:
        "Build on another policy: preset:NAME (bundled), .github/PATH.yml (this repository), REPO or OWNER/REPO (its .github/pr-autoscaler.yml) or REPO:PATH.",
    }),
    description: z.string().optional().meta({ description: "What this policy is for." }),
    timezone: TimeZone.optional().meta({
      description:
        "IANA time zone, e.g. Europe/Berlin (the app checks the name), of windows and of the day the daily caps count. Default: UTC.",
    }),
    method: z.enum(MERGE_METHODS).optional().meta({
      description: "Merge method of merge rules that set none. Default: squash.",
    }),
    requiredChecks: z.array(CheckName).optional().meta({
      description:
        "Checks every merge needs besides those branch protection and rulesets require (added up through extends).",
    }),
    maxPerDay: PolicyDailyCaps.optional(),
    notDuring: Windows.optional().meta({
      description: "Windows in which nothing merges itself (added up through extends).",
    }),
    nativeAutoMerge: z.boolean().optional().meta({
      description:
        "Use GitHub's auto-merge for rules without windows or caps. Default: true. false: the bot merges itself.",
    }),
    rules: z.array(PolicyRuleConfig, { error: "expected a list of rules" }).optional().meta({
      description:
        "Rules in order, before those of what it extends; the first that matches a change decides.",
    }),
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.rules?.forEach((rule, i) => {
      if (rule.name === undefined) return;
      const first = seen.get(rule.name);
      if (first === undefined) seen.set(rule.name, i);
      else
        ctx.addIssue({
          code: "custom",
          path: ["rules", i, "name"],
          message: `rule name ${JSON.stringify(rule.name)} is already used by rules[${first}]`,
        });
    });
  })
  .meta({
    title: "pr-autoscaler auto-merge policy",
    description:
      "Which of pr-autoscaler's pull requests merge themselves. The first rule that matches decides; no match: review.",
  });

export type AutomergeConfig = z.output<typeof AutomergeConfig>;
export type AutomergeConfigInput = z.input<typeof AutomergeConfig>;
export type PolicyRuleConfig = z.output<typeof PolicyRuleConfig>;
export type PolicyMatchConfig = z.output<typeof PolicyMatchConfig>;
export type PolicyWindowConfig = z.output<typeof PolicyWindowConfig>;
