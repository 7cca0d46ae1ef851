/**
 * Reliability run: feeds malformed and hostile inputs to pr-autoscaler's readers and editors
 * and counts the outcomes (clear errors, handled results, crashes, files written broken); then
 * runs the fault and concurrency scenarios (bench/reliability-faults.ts).
 * Prints the figures and the findings, and rewrites their sections of docs/reliability.md.
 *
 *   node bench/reliability.ts [--generated 80] [--seed 20261127] [--family NAME]...
 *                             [--no-write] [--dump DIR]
 *
 * --family runs only the named families (and writes nothing); --dump DIR writes the whole
 * input of every finding to DIR/<id>.json, to reproduce it.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { defaultSeed, reliabilityFamilies } from "./reliability-families.ts";
import { renderFaultTable, runReliabilityFaults } from "./reliability-faults.ts";
import {
  type FamilyReport,
  formatFindings,
  formatTable,
  replaceSection,
  runFamily,
} from "./reliability-run.ts";

const { values } = parseArgs({
  options: {
    generated: { type: "string", default: "80" },
    seed: { type: "string", default: String(defaultSeed) },
    family: { type: "string", multiple: true },
    "no-write": { type: "boolean", default: false },
    dump: { type: "string" },
  },
});

const options = { generated: Number(values.generated), seed: Number(values.seed) };
if (
  !Number.isInteger(options.generated) ||
  options.generated < 0 ||
  !Number.isInteger(options.seed)
) {
  throw new Error("--generated and --seed take whole numbers");
}
const names = values.family ?? [];
const unknown = names.filter((name) => !reliabilityFamilies.some((family) => family.name === name));
if (unknown.length > 0) {
  throw new Error(
    `no family ${unknown.join(", ")}; the families are ${reliabilityFamilies.map((f) => f.name).join(", ")}`,
  );
}
const families =
  names.length === 0
    ? reliabilityFamilies
    : reliabilityFamilies.filter((f) => names.includes(f.name));

const reports: FamilyReport[] = [];
for (const family of families) {
  const started = performance.now();
  const report = await runFamily(family, options);
  reports.push(report);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `${family.name}: ${report.tried} tried, ${report.counts.crash} crashes, ${report.counts["broken-file"]} broken files (${seconds} s)\n`,
  );
}

const cpu = cpus();
const machine = `${cpu[0]?.model.trim() ?? "unknown CPU"} (${cpu.length} cores), ${Math.round(totalmem() / 1024 ** 3)} GB RAM, ${process.platform}`;
const table = formatTable(reports, {
  machine,
  date: new Date().toISOString().slice(0, 10),
  options,
  node: process.versions.node,
});
const findings = formatFindings(reports);
process.stdout.write(`\n${table}\n\nFindings:\n${findings}\n`);

// Faults and concurrency (bench/reliability-faults.ts) run with the whole set, not with --family.
const faults = names.length === 0 ? renderFaultTable(await runReliabilityFaults()) : undefined;
if (faults) process.stdout.write(`\nFaults and concurrency:\n${faults}\n`);

if (values.dump) {
  await mkdir(values.dump, { recursive: true });
  for (const report of reports) {
    const session = await families.find((f) => f.name === report.name)?.open(options);
    for (const finding of report.findings) {
      const trial = session?.cases.find((c) => c.id === finding.id);
      const file = join(values.dump, `${finding.id.replaceAll("/", "-")}.json`);
      await writeFile(
        file,
        `${JSON.stringify({ ...finding, payload: trial?.payload() }, null, 2)}\n`,
      );
    }
    await session?.close();
  }
}

if (!values["no-write"] && names.length === 0) {
  const doc = new URL("../docs/reliability.md", import.meta.url);
  let text = await readFile(doc, "utf8");
  text = replaceSection(text, "reliability-table", table);
  text = replaceSection(text, "reliability-findings", findings);
  if (faults) text = replaceSection(text, "reliability-faults", faults);
  await writeFile(doc, text);
  process.stdout.write("\nUpdated docs/reliability.md.\n");
}
