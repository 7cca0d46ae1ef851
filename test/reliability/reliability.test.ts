/**
 * The reliability run (bench/reliability.ts) with fewer generated inputs: every family's
 * inputs end in a clear error or a handled result, never a crash or a file written broken,
 * except the open findings of docs/reliability.md (known-findings.ts).
 */
import { describe, expect, it } from "@jest/globals";
import { defaultSeed, reliabilityFamilies } from "../../bench/reliability-families.ts";
import { type Finding, runFamily } from "../../bench/reliability-run.ts";
import { knownFindings } from "./known-findings.ts";

/** Generated inputs per family, besides the hand-written ones. */
const generated = 12;

function shown(finding: Finding): string {
  return `${finding.id} (${finding.kind}): ${finding.detail}\n  input: ${finding.input}${finding.stack ? `\n${finding.stack}` : ""}`;
}

describe.each(reliabilityFamilies.map((family) => [family.name, family] as const))(
  "%s",
  (_name, family) => {
    it("ends every input in a clear error or a handled result", async () => {
      const report = await runFamily(family, { generated, seed: defaultSeed });
      expect(report.tried).toBeGreaterThan(generated);
      expect(report.counts["clear-error"] + report.counts.handled).toBeGreaterThan(0);
      const unexpected = report.findings.filter((finding) => !knownFindings.has(finding.id));
      expect(unexpected.map(shown)).toEqual([]);
      // A listed finding that ran and did not crash is fixed: take it off known-findings.ts.
      const found = new Set(report.findings.map((finding) => finding.id));
      const fixed = report.ids.filter((id) => knownFindings.has(id) && !found.has(id));
      expect(fixed).toEqual([]);
    }, 180_000);
  },
);

it("runs at least 300 inputs in all", async () => {
  let total = 0;
  for (const family of reliabilityFamilies) {
    const session = await family.open({ generated, seed: defaultSeed });
    total += session.cases.length;
    await session.close();
  }
  expect(total).toBeGreaterThanOrEqual(300);
});
