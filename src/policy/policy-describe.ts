import type { AutomergePolicy, PolicyMatch, PolicyRule, PolicyWindow } from "./automerge-policy.ts";

/** The effective policy in lines for people (`pr-autoscaler validate`, logs). */
export function describePolicy(policy: AutomergePolicy): string[] {
  if (policy.rules.length === 0 && policy.sources.length === 0)
    return ["auto-merge: no policy; every pull request waits for review"];
  const from = policy.sources.length > 1 ? ` (${policy.sources.join(" → ")})` : "";
  const lines = [`auto-merge${from}, time zone ${policy.timezone}:`];
  const caps = Object.entries(policy.maxPerDay).map(([kind, cap]) => `${cap} ${kind}`);
  if (caps.length > 0) lines.push(`  at most per day: ${caps.join(", ")}`);
  if (policy.requiredChecks.length > 0)
    lines.push(`  every merge needs: ${policy.requiredChecks.join(", ")}`);
  for (const window of policy.notDuring) lines.push(`  never during: ${describeWindow(window)}`);
  policy.rules.forEach((rule, i) => {
    lines.push(`  ${i + 1}. ${describeRule(rule)}`);
  });
  lines.push(`  ${policy.rules.length + 1}. otherwise: review`);
  return lines;
}

/** One rule on one line, e.g. `add-one-node [preset:homelab]: nodes, up, step ≤ 1 → merge (squash) …`. */
export function describeRule(rule: PolicyRule): string {
  const head = `${rule.name} [${rule.source}]: ${describeMatch(rule.match)} → ${rule.action}`;
  if (rule.action === "review") {
    const who = [
      ...rule.reviewers.map((r) => `@${r}`),
      ...rule.teamReviewers.map((t) => `team ${t}`),
    ];
    return who.length > 0 ? `${head}, asking ${who.join(", ")}` : head;
  }
  const parts = [`(${rule.method})`];
  if (rule.minAgeMs !== undefined) parts.push(`after ${formatDuration(rule.minAgeMs)}`);
  if (rule.maxPerDay !== undefined) parts.push(`at most ${rule.maxPerDay}/day`);
  for (const window of rule.during) parts.push(`during ${describeWindow(window)}`);
  for (const window of rule.notDuring) parts.push(`not during ${describeWindow(window)}`);
  if (rule.requiredChecks.length > 0) parts.push(`needs ${rule.requiredChecks.join(", ")}`);
  return `${head} ${parts.join(", ")}`;
}

function describeMatch(match: PolicyMatch): string {
  const parts: string[] = [];
  if (match.kind) parts.push(match.kind.join("|"));
  if (match.direction) parts.push(match.direction.join("|"));
  if (match.maxStep !== undefined) parts.push(`step ≤ ${match.maxStep}`);
  if (match.resource) parts.push(match.resource.join("|"));
  if (match.maxChange !== undefined) parts.push(`change ≤ ${match.maxChange} %`);
  for (const key of ["pool", "namespace", "workload"] as const) {
    const names = match[key];
    if (names) parts.push(`${key} ${names.join("|")}`);
  }
  if (match.labels)
    parts.push(
      `labels ${Object.entries(match.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(",")}`,
    );
  return parts.length > 0 ? parts.join(", ") : "any change";
}

/** A window in words, e.g. `Fri 19:00 for 4h (Europe/Berlin)` or `mon,tue 08:00-18:00 (UTC)`. */
export function describeWindow(window: PolicyWindow): string {
  const name = window.name ? `${window.name}: ` : "";
  if (window.type === "cron")
    return `${name}cron "${window.cron}" for ${formatDuration(window.durationMs)} (${window.timezone})`;
  const days =
    window.days.length === 7 ? "every day" : window.days.map((day) => DAY_NAMES[day]).join(",");
  const hours =
    window.start === 0 && window.end === 24 * 60
      ? ""
      : ` ${clock(window.start)}-${clock(window.end)}`;
  return `${name}${days}${hours} (${window.timezone})`;
}

const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

function clock(minutes: number): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/** `4h`, `1h30m`, `90s`, `2d`. */
export function formatDuration(ms: number): string {
  const units: [string, number][] = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ];
  let rest = ms;
  let out = "";
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0) out += `${count}${unit}`;
    rest -= count * size;
  }
  return out || "0s";
}
