import type { GuardVerdict } from "./guard.ts";

/** The verdict for people: what would happen, or every reason it may not. */
export function formatGuardVerdict(verdict: GuardVerdict, pool: string): string {
  const expected = verdict.expected
    ? `${verdict.expected.from} → ${verdict.expected.to} workers`
    : "no worker change expected";
  const lines: string[] = [];
  if (verdict.verdict === "pass") {
    lines.push(`Plan guard: PASS for pool ${pool} (${expected}).`);
  } else {
    const count = verdict.offending.length;
    lines.push(
      `Plan guard: REFUSED for pool ${pool} (${expected}): ${count} ${count === 1 ? "problem" : "problems"}.`,
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

function vmLines(verdict: GuardVerdict): string[] {
  const lines: string[] = [];
  if (verdict.creates.length > 0) {
    lines.push("", "VMs to create:");
    for (const c of verdict.creates) lines.push(`  + ${c.address}  name: ${c.name ?? "(unknown)"}`);
  }
  if (verdict.destroys.length > 0) {
    lines.push("", "VMs to destroy (drain their nodes first):");
    for (const d of verdict.destroys) {
      lines.push(
        `  - ${d.address}  name: ${d.name ?? "(unknown)"}  node: ${d.node ?? "(unknown)"}`,
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
