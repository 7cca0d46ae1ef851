import type { BotPullRequest, DesiredPullRequest } from "./forge.ts";

/**
 * Whether `desired` writes other values than the open pull request holds, so that what would
 * merge changes. Told by the values' fingerprints; for a pull request whose marker has none
 * (written before it was recorded) by the plan's fingerprint, which changes with the values but
 * also with the verdict: such a change is taken as one of the values, the safe side.
 */
export function changesValues(
  pr: Pick<BotPullRequest, "fingerprint" | "valuesFingerprint">,
  desired: Pick<DesiredPullRequest, "fingerprint" | "valuesFingerprint">,
): boolean {
  if (pr.valuesFingerprint !== undefined && desired.valuesFingerprint !== undefined)
    return pr.valuesFingerprint !== desired.valuesFingerprint;
  return pr.fingerprint !== desired.fingerprint;
}
