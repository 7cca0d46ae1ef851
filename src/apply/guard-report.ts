import type { GuardVerdict, PoolExpectation } from "./guard.ts";

/**
 * The verdict for people: what would happen, or every reason it may not. `pool` names the pool
 * of a one-pool verdict; a verdict over several pools names its own.
 */
export function formatGuardVerdict(verdict: GuardVerdict, pool: string): string {
  const subject =
    verdict.pools === undefined
      ? `pool ${pool} (${expectedText(verdict.expected)})`
      : `pools ${verdict.pools.map(poolText).join(", ")}`;
  const lines: string[] = [];
  if (verdict.verdict === "pass") {
    lines.push(`Plan guard: PASS for ${subject}.`);
  } else {
    const count = verdict.offending.length;
    lines.push(
      `Plan guard: REFUSED for ${subject}: ${count} ${count === 1 ? "problem" : "problems"}.`,
      "",
      "Refused:",
      ...verdict.offending.map(
        (o) =>
          `  ${o.address}${o.actions.length > 0 ? ` [${o.actions.join(", ")}]` : ""}\n      ${o.reason}`,
      ),
      "",
      "Nothing may be applied until every problem above is resolved.",
    );
  }
  lines.push(...vmLines(verdict));
  if (verdict.warnings.length > 0) {
    lines.push("", "Warnings:", ...verdict.warnings.map((w) => `  ${w}`));
  }
  if (verdict.verdict === "pass" && nothingToDo(verdict)) {
    lines.push("", "Nothing to do for the pool: the plan creates and destroys no worker.");
  }
  return `${lines.join("\n")}\n`;
}

function expectedText(expected: GuardVerdict["expected"]): string {
  return expected ? countChange(expected) : "no worker change expected";
}

/** `3 → 4 workers`, `3 → 1 worker`, or `3 workers, unchanged`. */
export function countChange(expected: { from: number; to: number }): string {
  const workers = expected.to === 1 ? "worker" : "workers";
  if (expected.from === expected.to) return `${expected.to} ${workers}, unchanged`;
  return `${expected.from} → ${expected.to} ${workers}`;
}

function poolText(pool: PoolExpectation): string {
  return `${pool.name} (${expectedText(pool.expected)})`;
}

/** ` (pool gpu)` for a VM of a verdict over several pools. */
function poolTag(vm: { pool?: string }): string {
  return vm.pool === undefined ? "" : `  pool: ${vm.pool}`;
}

function vmLines(verdict: GuardVerdict): string[] {
  const lines: string[] = [];
  if (verdict.creates.length > 0) {
    lines.push("", "VMs to create:");
    for (const c of verdict.creates) {
      lines.push(`  + ${c.address}  name: ${c.name ?? "(unknown)"}${poolTag(c)}`);
    }
  }
  if (verdict.destroys.length > 0) {
    lines.push("", "VMs to destroy (drain their nodes first):");
    for (const d of verdict.destroys) {
      lines.push(
        `  - ${d.address}  name: ${d.name ?? "(unknown)"}  node: ${d.node ?? "(unknown)"}${poolTag(d)}${d.deleteEmptyDirData ? "  (its pods' emptyDir data is deleted: scaleDown.deleteEmptyDirData)" : ""}`,
      );
    }
  }
  if (verdict.alsoAllowed.length > 0) {
    lines.push("", "Also allowed:");
    for (const c of verdict.alsoAllowed) lines.push(`  ${c.address} [${c.actions.join(", ")}]`);
  }
  return lines;
}

function nothingToDo(verdict: GuardVerdict): boolean {
  return verdict.creates.length === 0 && verdict.destroys.length === 0;
}
