/**
 * The alert rules of docs/observability.md under `promtool test rules`: a scenario is a set of
 * series given one value a minute, and the alerts expected to fire at one time. promtool is
 * the real one (Debian/Ubuntu: apt-get install prometheus); a missing promtool fails the test.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse, stringify } from "yaml";

const run = promisify(execFile);

/** One input series: its selector (`name{label="value"}`) and its values, one a minute. */
export interface InputSeries {
  series: string;
  /** promtool's expanding notation: `1+1x10`, `0x5 1+1x20`, `_x3` for no sample. */
  values: string;
}

export interface AlertCheck {
  alert: string;
  /** When to look, from the first sample (`30m`). */
  at: string;
  /** The labels of each alert expected to fire (besides `alertname`); empty: none fires. */
  firing: Record<string, string>[];
}

export interface RuleTestOutcome {
  passed: boolean;
  /** promtool's own words: on a failure, what it expected and what it got. */
  output: string;
}

/** The YAML block under "### Alert rules" in docs/observability.md. */
export async function documentedRules(): Promise<string> {
  const docs = await readFile(new URL("../../../docs/observability.md", import.meta.url), "utf8");
  const rules = /### Alert rules[\s\S]*?```yaml\n([\s\S]*?)```/.exec(docs)?.[1];
  if (!rules) throw new Error("docs/observability.md has no YAML block under ### Alert rules");
  return rules;
}

/** Runs promtool with `args` in `dir`; a failing run is an outcome, not a throw. */
async function promtool(args: string[], dir: string): Promise<RuleTestOutcome> {
  try {
    const { stdout, stderr } = await run("promtool", args, { cwd: dir });
    return { passed: true, output: `${stdout}${stderr}` };
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (failure.code === "ENOENT")
      throw new Error(
        "promtool is not on PATH: install it (Debian/Ubuntu: apt-get install prometheus)",
      );
    return { passed: false, output: `${failure.stdout ?? ""}${failure.stderr ?? ""}` };
  }
}

/** `promtool check rules` on `rules`. */
export async function checkRules(rules: string): Promise<RuleTestOutcome> {
  return inDirectory(async (dir) => {
    await writeFile(join(dir, "rules.yml"), rules);
    return promtool(["check", "rules", "rules.yml"], dir);
  });
}

/** `promtool test rules` of `rules` on `series`, evaluated every minute, against `checks`. */
export async function testRules(
  rules: string,
  series: readonly InputSeries[],
  checks: readonly AlertCheck[],
): Promise<RuleTestOutcome> {
  return inDirectory(async (dir) => {
    await writeFile(join(dir, "rules.yml"), withoutAnnotations(rules));
    const test = {
      rule_files: ["rules.yml"],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: series,
          alert_rule_test: checks.map((check) => ({
            eval_time: check.at,
            alertname: check.alert,
            // The annotations are the rule file's own; the test is about when alerts fire.
            exp_alerts: check.firing.map((labels) => ({ exp_labels: labels })),
          })),
        },
      ],
    };
    await writeFile(join(dir, "test.yml"), stringify(test));
    return promtool(["test", "rules", "test.yml"], dir);
  });
}

/**
 * `rules` without their annotations: promtool compares them whole, and what the tests are
 * about is when the alerts fire.
 */
function withoutAnnotations(rules: string): string {
  const file = parse(rules) as { groups: { rules: Record<string, unknown>[] }[] };
  for (const group of file.groups) for (const rule of group.rules) delete rule.annotations;
  return stringify(file);
}

async function inDirectory<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-rules-"));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
