import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { formatConfigIssues, loadRepoConfig } from "../../src/policy/load-repo-config.ts";
import { poolWith } from "./support/minimal-pool.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const doc = readFileSync(join(ROOT, "docs", "configuration.md"), "utf8");

/** The fenced blocks of a language in the doc, in order. */
function blocks(language: string): string[] {
  const fence = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, "g");
  return [...doc.matchAll(fence)].map((match) => match[1] ?? "");
}

describe("docs/configuration.md", () => {
  it("shows the full example fixture as it is, and it loads", () => {
    const fixture = readFileSync(join(ROOT, "test", "fixtures", "config", "full.yml"), "utf8");
    expect(blocks("yaml")).toContain(fixture);
    expect(loadRepoConfig(fixture).ok).toBe(true);
  });

  it("introduces the full example as example values, since they are not all defaults", () => {
    const fixture = readFileSync(join(ROOT, "test", "fixtures", "config", "full.yml"), "utf8");
    const full = loadRepoConfig(fixture);
    const bare = loadRepoConfig(
      "pools:\n  - {name: w, target: {file: t.tfvars, path: n}, max: 6}\n",
    );
    if (!full.ok || !bare.ok) throw new Error("expected both configs to load");
    // The example sets values a pool does not get by default (min 2, scaleUp.requests 90, …).
    expect(full.config.pools[0]?.min).not.toBe(bare.config.pools[0]?.min);
    expect(full.config.pools[0]?.scaleUp.requests).not.toBe(bare.config.pools[0]?.scaleUp.requests);
    const intro = doc.slice(doc.indexOf("## Full example"), doc.indexOf("```yaml\npools:"));
    expect(intro).not.toMatch(/with the defaults/);
    expect(intro).toMatch(/example values/);
    expect(intro).toMatch(/\[Pool keys\]\(#pool-keys\) lists every\s+key and its default/);
  });

  it("shows examples that load", () => {
    const pools = blocks("yaml").filter((block) => block.startsWith("pools:"));
    expect(pools.length).toBeGreaterThanOrEqual(2);
    for (const block of pools) expect(loadRepoConfig(block)).toMatchObject({ ok: true });
  });

  it("shows error messages the loader really gives", () => {
    const text = poolWith(
      [
        'min: "2"',
        "scaleDown:",
        "  unneded: 10m",
        "schedules:",
        "  - duration: 6h",
        '    cron: "0 25 * * 5"',
        "    min: 2",
      ].join("\n"),
    );
    const result = loadRepoConfig(text);
    if (result.ok) throw new Error("expected errors");
    const shown = blocks("text").find((block) => block.startsWith(".github/pr-autoscaler.yml:"));
    expect(`${formatConfigIssues(result.issues)}\n`).toBe(shown);
  });
});
