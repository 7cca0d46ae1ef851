import { z } from "zod";
import { InputError } from "../errors.ts";
import type { GuardVerdict as GuardVerdictShape } from "./guard.ts";

/**
 * The verdict file `pr-autoscaler guard --json` writes, read back by `report`. Lenient about
 * fields it does not use (a newer guard may add some), strict about the ones it renders.
 */
const Counts = z.object({ from: z.number(), to: z.number() });

export const GuardVerdict = z.object({
  verdict: z.enum(["pass", "refuse"]),
  expected: Counts.nullable(),
  creates: z.array(
    z.object({ address: z.string(), name: z.string().nullable(), pool: z.string().optional() }),
  ),
  destroys: z.array(
    z.object({
      address: z.string(),
      name: z.string().nullable(),
      node: z.string().nullable(),
      pool: z.string().optional(),
      deleteEmptyDirData: z.literal(true).optional(),
    }),
  ),
  alsoAllowed: z.array(z.object({ address: z.string(), actions: z.array(z.string()) })).default([]),
  offending: z.array(
    z.object({ address: z.string(), actions: z.array(z.string()), reason: z.string() }),
  ),
  warnings: z.array(z.string()),
  pools: z.array(z.object({ name: z.string(), expected: Counts.nullable() })).optional(),
}) satisfies z.ZodType<GuardVerdictShape>;
export type GuardVerdict = GuardVerdictShape;

/**
 * Parses a verdict file. Throws an InputError naming the file (and the line, for JSON syntax
 * errors) when it is not a verdict of `pr-autoscaler guard --json`.
 */
export function parseGuardVerdict(text: string, file: string): GuardVerdict {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(
      `not a guard verdict: the file is not JSON (${(error as Error).message}). Write it with \`pr-autoscaler guard --json > FILE\`.`,
      { file, line: jsonErrorLine(text, error) },
    );
  }
  const parsed = GuardVerdict.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${formatIssuePath(issue.path)}` : "";
  throw new InputError(
    `not a guard verdict${where}: ${issue?.message ?? "unexpected shape"}. Write it with \`pr-autoscaler guard --json > FILE\`.`,
    { file },
  );
}

function formatIssuePath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === "number" ? `[${part}]` : `${index === 0 ? "" : "."}${String(part)}`,
    )
    .join("");
}

/** The 1-based line of a JSON.parse error, when its message gives a position. */
function jsonErrorLine(text: string, error: unknown): number | undefined {
  const message = (error as Error).message;
  const line = /\(line (\d+) column \d+\)/.exec(message);
  if (line?.[1]) return Number(line[1]);
  const position = /at position (\d+)/.exec(message);
  if (!position?.[1]) return undefined;
  return text.slice(0, Number(position[1])).split("\n").length;
}

/** A Kubernetes node name: a DNS-1123 subdomain (lower case, digits, `-` and `.`). */
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A pool name as it may appear in step outputs and on wait-nodes' command line. */
const POOL_NAME = /^[A-Za-z0-9._-]{1,63}$/;

/** The step outputs `report outputs` writes, in order. */
export const VERDICT_STEP_OUTPUTS = [
  "drain-nodes",
  "worker-count",
  "worker-added",
  "pool-counts",
  "pool-added",
  "pool-drain-nodes",
  "drain-emptydir-nodes",
] as const;

/**
 * What the apply job needs from a passing verdict, as GitHub step outputs (`name=value` lines):
 * - `drain-nodes`: every node to drain before the VMs go, space-separated;
 * - `worker-count`: the pool size to wait for afterwards (a verdict over several pools gives it
 *   only when it has one pool);
 * - `worker-added`: with `worker-count`, how many VMs the plan creates in the pool, when it
 *   creates some: `wait-nodes --added` makes sure they are among the Ready nodes;
 * - `pool-counts`: over several pools, `NAME=COUNT` for each pool whose count changes;
 * - `pool-added`: over several pools, `NAME=K` for each pool the plan creates K VMs in;
 * - `pool-drain-nodes`: over several pools, `NAME=NODE,NODE` for each pool with nodes to drain;
 * - `drain-emptydir-nodes`: those of `drain-nodes` whose pool, in the repo config, sets
 *   `scaleDown.deleteEmptyDirData` (the drain deletes their pods' emptyDir data), space-separated.
 * Refuses a verdict that is not a pass, node names that are not Kubernetes node names and pool
 * names that are not plain words: they are handed to drain, kubectl and wait-nodes as arguments,
 * and a newline would forge another output.
 */
export function verdictStepOutputs(verdict: GuardVerdict, file: string): string {
  if (verdict.verdict !== "pass") {
    throw new InputError("the verdict is not a pass: nothing may be drained or applied", { file });
  }
  const nodes = verdict.destroys.map((destroy) => checkedNode(destroy, file));
  const pools = verdict.pools ?? [];
  for (const pool of pools) {
    if (!POOL_NAME.test(pool.name)) {
      throw new InputError(
        `pool name ${JSON.stringify(pool.name)} is not a pool name (letters, digits, '.', '_' and '-'); it cannot be waited for`,
        { file },
      );
    }
  }
  const changed = pools.filter((p) => p.expected !== null && p.expected.from !== p.expected.to);
  const drained = pools.flatMap((pool) => {
    const own = verdict.destroys.filter((d) => d.pool === pool.name).map((d) => d.node);
    return own.length === 0 ? [] : [`${pool.name}=${own.join(",")}`];
  });
  const grown = pools.flatMap((pool) => {
    const added = verdict.creates.filter((create) => create.pool === pool.name).length;
    return added === 0 ? [] : [`${pool.name}=${added}`];
  });
  const values: Record<(typeof VERDICT_STEP_OUTPUTS)[number], string> = {
    "drain-nodes": nodes.join(" "),
    "worker-count": verdict.expected === null ? "" : String(verdict.expected.to),
    "worker-added":
      verdict.expected === null || verdict.creates.length === 0
        ? ""
        : String(verdict.creates.length),
    "pool-counts": changed.map((pool) => `${pool.name}=${pool.expected!.to}`).join(" "),
    "pool-added": grown.join(" "),
    "pool-drain-nodes": drained.join(" "),
    "drain-emptydir-nodes": verdict.destroys
      .filter((destroy) => destroy.deleteEmptyDirData === true)
      .map((destroy) => destroy.node)
      .join(" "),
  };
  return VERDICT_STEP_OUTPUTS.map((name) => `${name}=${values[name]}\n`).join("");
}

function checkedNode(destroy: GuardVerdict["destroys"][number], file: string): string {
  const node = destroy.node;
  if (node === null || node.length > 253 || !NODE_NAME.test(node)) {
    throw new InputError(
      `${destroy.address}: ${node === null ? "no node name" : `node name ${JSON.stringify(node)} is not a Kubernetes node name`}; it cannot be drained`,
      { file },
    );
  }
  return node;
}
