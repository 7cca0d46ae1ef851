import { z } from "zod";
import { InputError } from "../errors.ts";
import type { DrainResult } from "./drain-result.ts";

/**
 * The part of `pr-autoscaler drain --json`'s result the apply report reads: how the drain
 * stopped and which nodes it left cordoned. Lenient about the fields it does not use; the
 * schema is checked against the drain's own result type, so the two cannot drift apart.
 */
export type DrainStop = Pick<DrainResult, "outcome" | "dryRun" | "leftCordoned" | "uncordonErrors">;

export const DrainStop = z.object({
  outcome: z.enum(["drained", "would-drain", "refused", "timed-out", "failed", "cancelled"]),
  dryRun: z.boolean(),
  leftCordoned: z.array(z.string()),
  uncordonErrors: z.array(z.string()),
}) satisfies z.ZodType<DrainStop>;

const WRITE_IT = "Write it with `pr-autoscaler drain --json > FILE`.";

/** Reads a drain's JSON result; `file` names it in errors. */
export function parseDrainStop(text: string, file: string): DrainStop {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(
      `not a drain result: the file is not JSON (${(error as Error).message}). ${WRITE_IT}`,
      { file },
    );
  }
  const parsed = DrainStop.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
  throw new InputError(
    `not a drain result${where}: ${issue?.message ?? "unexpected shape"}. ${WRITE_IT}`,
    { file },
  );
}

/**
 * Whether the drain says it was cancelled and put back every node it had cordoned: nothing
 * left cordoned, no uncordon that failed. Anything else leaves the nodes' state open.
 */
export function cancelledAndUncordoned(drain: DrainStop | undefined): boolean {
  return (
    drain !== undefined &&
    drain.outcome === "cancelled" &&
    !drain.dryRun &&
    drain.leftCordoned.length === 0 &&
    drain.uncordonErrors.length === 0
  );
}
