import { z } from "zod";
import { InputError } from "../errors.ts";
import type { GoneReport, WaitResult } from "./wait-nodes.ts";

/**
 * The part of `pr-autoscaler wait-nodes --json`'s result the apply report reads: how the wait
 * ended and what its last look lacked. Lenient about the fields it does not use; the schema is
 * checked against the wait's own result type, so the two cannot drift apart.
 */
export type WaitStop = Pick<
  WaitResult,
  | "outcome"
  | "pool"
  | "count"
  | "added"
  | "nodesRead"
  | "ready"
  | "newlyReady"
  | "newCordoned"
  | "notReadyBefore"
  | "waitingFor"
  | "stoppedReady"
  | "missing"
  | "missingNew"
  | "message"
  | "lastError"
> & { gone: Pick<GoneReport, "name" | "state" | "deleteFailed" | "deleteUnanswered">[] };

const names = z.array(z.string());

export const WaitStop = z.object({
  outcome: z.enum(["ready", "timed-out", "failed", "cancelled"]),
  pool: z.string(),
  count: z.number(),
  added: z.number().optional(),
  nodesRead: z.boolean(),
  ready: z.number().optional(),
  newlyReady: names.optional(),
  newCordoned: names.optional(),
  notReadyBefore: names.optional(),
  waitingFor: names.optional(),
  stoppedReady: names.optional(),
  missing: z.number().optional(),
  missingNew: z.number().optional(),
  gone: z.array(
    z.object({
      name: z.string(),
      state: z.enum(["gone", "deleted", "present", "unknown"]),
      deleteFailed: z.string().optional(),
      deleteUnanswered: z.literal(true).optional(),
    }),
  ),
  message: z.string().optional(),
  lastError: z.string().optional(),
}) satisfies z.ZodType<WaitStop>;

const WRITE_IT = "Write it with `pr-autoscaler wait-nodes --result-file FILE`.";

/** Reads a wait's JSON result; `file` names it in errors. */
export function parseWaitStop(text: string, file: string): WaitStop {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(
      `not a wait-nodes result: the file is not JSON (${(error as Error).message}). ${WRITE_IT}`,
      { file },
    );
  }
  const parsed = WaitStop.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
  throw new InputError(
    `not a wait-nodes result${where}: ${issue?.message ?? "unexpected shape"}. ${WRITE_IT}`,
    { file },
  );
}

/**
 * What kept a wait from succeeding, in a few words from its result, as its progress line
 * says it: "pool workers: 2/3 Ready", "pool workers: 3/3 Ready, 0/1 new", "pool workers: new
 * node talos-worker-4 cordoned", "talos-worker-3 still there, delete failed" when the last
 * successful look's delete of it failed ("talos-worker-3 delete unanswered" when the timeout
 * cut that delete short, which may have been applied), and "last look failed" when the timeout came with a
 * failed look (what is said before it is what the last successful look saw); a wait a signal
 * cancelled begins with "cancelled" ("pool workers: cancelled, 2/3 Ready"). Undefined for a
 * wait that succeeded.
 */
export function waitShortfall(wait: WaitStop): string | undefined {
  if (wait.outcome === "ready") return undefined;
  const subject = `pool ${wait.pool}`;
  if (!wait.nodesRead) {
    if (wait.outcome === "cancelled") return `${subject}: cancelled before the nodes were read`;
    return wait.outcome === "failed"
      ? `${subject}: the nodes could not be read`
      : `${subject}: the nodes could not be read within the timeout`;
  }
  const parts: string[] =
    wait.outcome === "failed"
      ? ["the wait stopped on an API error"]
      : wait.outcome === "cancelled"
        ? ["cancelled"]
        : [];
  const { count, ready = 0, missing = 0 } = wait;
  const excused = wait.notReadyBefore ?? [];
  if (missing > 0) {
    parts.push(
      excused.length === 0
        ? `${ready}/${count} Ready`
        : `${ready + excused.length}/${count} nodes, ${ready} Ready`,
    );
  }
  const stopped = new Set(wait.stoppedReady ?? []);
  const pending = (wait.waitingFor ?? []).filter((name) => !stopped.has(name));
  if (pending.length > 0) parts.push(`${listNames(pending)} not Ready`);
  if (stopped.size > 0) parts.push(`${listNames([...stopped])} stopped being Ready`);
  if ((wait.missingNew ?? 0) > 0) {
    const cordoned = wait.newCordoned ?? [];
    parts.push(
      cordoned.length > 0
        ? `new ${cordoned.length === 1 ? "node" : "nodes"} ${listNames(cordoned)} cordoned`
        : `${wait.newlyReady?.length ?? 0}/${wait.added ?? 0} new`,
    );
  }
  const present = wait.gone.filter((g) => g.state === "present");
  const lingering = present.filter((g) => g.deleteFailed === undefined).map((g) => g.name);
  if (lingering.length > 0) parts.push(`${listNames(lingering)} still there`);
  // A delete the last successful look sent that failed: that look read the nodes.
  const undeleted = present
    .filter((g) => g.deleteFailed !== undefined && !g.deleteUnanswered)
    .map((g) => g.name);
  if (undeleted.length > 0) parts.push(`${listNames(undeleted)} still there, delete failed`);
  // One the timeout cut short may have been applied.
  const unanswered = present.filter((g) => g.deleteUnanswered).map((g) => g.name);
  if (unanswered.length > 0) parts.push(`${listNames(unanswered)} delete unanswered`);
  if (wait.outcome === "timed-out" && wait.lastError !== undefined) {
    parts.push("last look failed");
  }
  if (parts.length === 0) parts.push("not as expected in time");
  else if (wait.outcome === "cancelled" && parts.length === 1) {
    parts.push("nothing lacking at the last look");
  }
  return `${subject}: ${parts.join(", ")}`;
}

function listNames(names: readonly string[]): string {
  return names.join(", ");
}
