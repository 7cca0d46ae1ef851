import { createHash } from "node:crypto";
import type { BotPullRequest, ClosedBotPullRequest, DesiredPullRequest } from "../forge/forge.ts";
import { changesValues } from "../forge/values-changed.ts";
import { mergeRecords } from "../merge/daily-cap.ts";
import { evaluatePolicy } from "../merge/evaluate-policy.ts";
import {
  type PolicySubject,
  relativeChange,
  type SubjectResourceChange,
  subjectFromNodeProposal,
  subjectFromResourceChanges,
} from "../merge/policy-subject.ts";
import { readReviewRecord } from "../merge/review-record.ts";
import type { Verdict } from "../merge/verdict.ts";
import { renderVerdictSection } from "../merge/verdict-markdown.ts";
import type { PoolUtilisationSample } from "../planning/node-plan-input.ts";
import type { Proposal } from "../planning/proposal.ts";
import type { AutomergePolicy } from "../policy/automerge-policy.ts";
import type { RepoConfig } from "../policy/repo-config.ts";
import type { ResourcesProposal } from "../rightsizing/resources-proposal.ts";
import { desiredPullRequest } from "./desired-pull-request.ts";
import { sections } from "./markdown.ts";
import { type ManualRequest, nodePullRequestBody } from "./node-pull-request-body.ts";
import { resourcesPullRequestBody } from "./resources-pull-request-body.ts";

export interface PullRequestContentInput {
  proposal: Proposal;
  config: RepoConfig;
  policy: AutomergePolicy;
  /**
   * The open pull request for the key, when there is one: its opening, or the last change of its
   * values, starts the grace period.
   */
  existing: BotPullRequest | undefined;
  recentlyClosed: readonly ClosedBotPullRequest[];
  history: readonly PoolUtilisationSample[];
  manual: ManualRequest | undefined;
  now: Date;
}

/** A proposal made into the pull request the forge converges on, with its policy facts. */
export interface PlannedPullRequest {
  proposal: Proposal;
  desired: DesiredPullRequest;
  subject: PolicySubject;
  verdict: Verdict;
}

const FOOTER =
  "<sub>Opened by pr-autoscaler. Comment `/autoscaler hold` to stop it merging by itself, `/autoscaler help` for the other commands. Pushing to this branch hands the pull request over to you.</sub>";

/**
 * The pull request for a proposal: title, labels, body (what and why, as tables, and the
 * policy's verdict) and a fingerprint that changes only when the values written or the verdict
 * change, so an unchanged plan makes no request. When it changes the values of the open pull
 * request, it records now as their change: the grace period counts from it.
 */
export function plannedPullRequest(input: PullRequestContentInput): PlannedPullRequest {
  const valuesFingerprint = proposalValuesFingerprint(input.proposal);
  // Built before it is known whether the values changed: a marker written before the values'
  // fingerprint was recorded is compared by the whole fingerprint, which needs the pull request.
  const kept = planned(input, valuesFingerprint, input.existing?.changedAt);
  if (!input.existing || !changesValues(input.existing, kept.desired)) return kept;
  return planned(input, valuesFingerprint, input.now.toISOString());
}

/**
 * A hash of the values the proposal writes: each value's file, path, and its value before and
 * after, so that the same values on a default branch that moved elsewhere hash the same, and a
 * count that people changed there (a 3 → 4 that is now 5 → 4) does not.
 */
export function proposalValuesFingerprint(proposal: Proposal): string {
  const values = proposal.changes
    .map((change) => [
      change.file,
      change.path,
      JSON.stringify(change.before ?? null),
      String(change.after),
    ])
    .sort((a, b) => a.join("\u0000").localeCompare(b.join("\u0000")));
  const essentials = JSON.stringify({ key: proposal.key, values });
  return createHash("sha256").update(essentials).digest("hex").slice(0, 16);
}

function planned(
  input: PullRequestContentInput,
  valuesFingerprint: string,
  changedAt: string | undefined,
): PlannedPullRequest {
  const { proposal } = input;
  const subject = policySubject(proposal, input.config);
  const verdict = evaluatePolicy(input.policy, subject, {
    now: input.now,
    openedAt: input.existing?.createdAt ?? input.now.toISOString(),
    ...(changedAt ? { changedAt } : {}),
    merges: mergeRecords(input.recentlyClosed),
  });
  const body = sections(
    proposal.kind === "nodes"
      ? nodePullRequestBody(proposal, {
          history: input.history,
          ...(input.manual ? { manual: input.manual } : {}),
        })
      : resourcesPullRequestBody(proposal),
    // The record of asking a review rule's people carries over, so an update does not ask again.
    renderVerdictSection(verdict, readReviewRecord(input.existing?.body)),
    `---\n${FOOTER}`,
  );
  const desired = {
    ...desiredPullRequest({
      proposal,
      body,
      fingerprintExtra: {
        verdict: `${verdict.action}:${verdict.rule?.name ?? ""}`,
        ...(input.manual ? { manual: `${input.manual.by}:${input.manual.count}` } : {}),
      },
    }),
    valuesFingerprint,
    ...(changedAt ? { changedAt } : {}),
  };
  return { proposal, desired, subject, verdict };
}

/** The facts auto-merge rules match on. */
export function policySubject(proposal: Proposal, config: RepoConfig): PolicySubject {
  if (proposal.kind === "nodes") {
    const pool = config.pools.find((p) => p.name === proposal.pool);
    return subjectFromNodeProposal(proposal, pool?.selector?.matchLabels ?? {});
  }
  return resourcesSubject(proposal);
}

function resourcesSubject(proposal: ResourcesProposal): PolicySubject {
  const changes: SubjectResourceChange[] = [];
  for (const workload of proposal.workloads) {
    for (const container of workload.containers) {
      for (const decision of container.resources) {
        if (decision.action !== "change" || decision.proposed === undefined) continue;
        changes.push({
          resource: decision.resource,
          direction:
            decision.current !== undefined && decision.proposed < decision.current ? "down" : "up",
          relativeChange: relativeChange(decision.current, decision.proposed),
          container: `${workload.workload.name}/${container.name}`,
        });
      }
    }
  }
  const first = proposal.workloads[0]?.workload;
  return subjectFromResourceChanges({
    namespace: first?.namespace ?? proposal.namespace ?? "",
    workload: proposal.workloads.length === 1 ? (first?.name ?? "") : "",
    changes,
  });
}
