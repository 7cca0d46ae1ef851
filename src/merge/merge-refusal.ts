import type { MergeMethod } from "../policy/automerge-policy.ts";

/**
 * Why GitHub would not merge, when it will not change by itself: `review` (branch protection or
 * a ruleset wants an approving review), `method` (the repository does not allow the rule's merge
 * method), `other` (anything else GitHub refuses until something changes: a conflict, a rule).
 */
export type MergeRefusalKind = "review" | "method" | "other";

export interface MergeRefusal {
  kind: MergeRefusalKind;
  /** GitHub's own message. */
  message: string;
  /** What a person can do about it, in a sentence. */
  advice: string;
}

/** The merge methods the repository allows, as GitHub reports them (absent: not reported). */
export interface AllowedMethods {
  merge?: boolean | undefined;
  squash?: boolean | undefined;
  rebase?: boolean | undefined;
}

/**
 * GitHub's refusals that clear by themselves, so the merge is tried again at the next poll: the
 * default branch moved while merging, a merge already running, required checks not yet reported
 * or still running.
 */
const PASSING = [
  /base branch was modified/i,
  /merge already in progress/i,
  /status checks? .*\b(expected|in progress|pending)\b/i,
];

/**
 * Without a webhook saying something changed, a refusal that does not clear by itself is tried
 * again this long after it (or after the merge poll, when that is longer).
 */
export const REFUSED_RETRY_MS = 60 * 60_000;

const REVIEW =
  /approving review|review is required|reviews? required|code owner|changes requested/i;
const METHOD = /\b(merge commits|squash merges|rebase merges|rebasing)\b.*\bnot allowed\b/i;

const METHOD_NAMES: Record<MergeMethod, string> = {
  squash: "squash merges",
  merge: "merge commits",
  rebase: "rebase merges",
};

/**
 * What GitHub's refusal to merge (`405`/`422` on `PUT …/merge`) means for when to try again:
 * undefined for one that clears by itself (try again soon), else a refusal that waits for
 * something to change, with advice. `method` is the method that was refused; `allowed` what the
 * repository allows, to suggest another.
 */
export function classifyMergeRefusal(
  message: string,
  method: MergeMethod,
  allowed: AllowedMethods,
): MergeRefusal | undefined {
  if (PASSING.some((pattern) => pattern.test(message))) return undefined;
  if (METHOD.test(message))
    return { kind: "method", message, advice: methodAdvice(method, allowed) };
  if (REVIEW.test(message))
    return {
      kind: "review",
      message,
      advice:
        "Approve the pull request (it then merges at the next look, if the policy's conditions still hold), or let the app bypass the review requirement of the default branch's protection or ruleset.",
    };
  return {
    kind: "other",
    message,
    advice: "See GitHub's reason; the pull request merges once it no longer applies.",
  };
}

function methodAdvice(method: MergeMethod, allowed: AllowedMethods): string {
  const others = (["squash", "merge", "rebase"] as const).filter(
    (name) => name !== method && allowed[name] === true,
  );
  const setting = `allow ${METHOD_NAMES[method]} in the repository's settings`;
  if (others.length === 0)
    return `Set \`method:\` on the rule (or the policy) to a method the repository allows, or ${setting}.`;
  const choices = others.map((name) => `\`method: ${name}\``).join(" or ");
  return `Set ${choices} on the rule (or the policy): the repository allows ${others.map((name) => METHOD_NAMES[name]).join(" and ")}; or ${setting}.`;
}
