import { describe, expect, it } from "@jest/globals";
import { LineCounter, parseDocument } from "yaml";
import {
  type ConfigIssue,
  formatConfigIssues,
  loadRepoConfig,
} from "../../src/policy/load-repo-config.ts";
import { parseYamlSource } from "../../src/policy/policy-yaml.ts";
import type { RepoConfig } from "../../src/policy/repo-config.ts";
import { locateInYaml } from "../../src/policy/yaml-locations.ts";

function valid(text: string): RepoConfig {
  const result = loadRepoConfig(text);
  if (!result.ok) throw new Error(formatConfigIssues(result.issues));
  return result.config;
}

function issues(text: string): Omit<ConfigIssue, "file">[] {
  const result = loadRepoConfig(text);
  if (result.ok) throw new Error("expected the config to be refused");
  return result.issues.map(({ file: _, ...issue }) => issue);
}

/** Two pools: `big` builds on `workers` with a merge key and sets what differs. */
const TWO_POOLS = `pools:
  - &workers
    name: workers
    target: {file: terraform/terraform.tfvars, path: worker_count}
    max: 6
    scaleUp: &scaleUp
      cpu: 70
      window: 10m
  - <<: *workers
    name: big
    target: {file: terraform/terraform.tfvars, path: big_count}
    max: 3
`;

describe("loadRepoConfig and YAML merge keys", () => {
  it("merges a pool into another: the merged keys apply, the pool's own keys win", () => {
    const [workers, big] = valid(TWO_POOLS).pools;
    expect(big).toMatchObject({
      name: "big",
      target: { path: "big_count" },
      max: 3,
      scaleUp: { cpu: 70, window: 600_000 },
    });
    expect(workers).toMatchObject({ name: "workers", max: 6, scaleUp: { cpu: 70 } });
  });

  it("takes a list of sources, the earlier one winning, and an own key before or after it", () => {
    const text = `pools:
  - &a {name: a, target: {file: a.tfvars, path: n}, max: 6, min: 2}
  - &b {name: b, target: {file: b.tfvars, path: n}, max: 5, min: 3, cooldown: 1m}
  - max: 4
    <<: [*b, *a]
    name: c
    target: {file: c.tfvars, path: n}
`;
    expect(valid(text).pools[2]).toMatchObject({ name: "c", max: 4, min: 3, cooldown: 60_000 });
  });

  it("merges inside a section as well, next to keys that are not merged", () => {
    const text = TWO_POOLS.replace(
      "    max: 3\n",
      "    max: 3\n    scaleUp:\n      <<: *scaleUp\n      cpu: 90\n",
    );
    expect(valid(text).pools[1]?.scaleUp).toMatchObject({ cpu: 90, window: 600_000 });
  });

  it("reports a wrong merged value where it is written, once for each pool it reaches", () => {
    const text = TWO_POOLS.replace("      window: 10m", "      window: soon");
    expect(issues(text)).toEqual([
      {
        line: 8,
        column: 15,
        path: "pools[0].scaleUp.window",
        message: '"soon" is not a duration: write it like 90s, 10m, 1h30m or 2d',
      },
      {
        line: 8,
        column: 15,
        path: "pools[1].scaleUp.window",
        message: '"soon" is not a duration: write it like 90s, 10m, 1h30m or 2d',
      },
    ]);
  });

  it("points an unknown merged key at the key, and a pool's own mistake at its own line", () => {
    const text = TWO_POOLS.replace("      window: 10m", "      windw: 10m").replace(
      "    max: 3",
      "    max: 0",
    );
    expect(issues(text).map((issue) => [issue.line, issue.column, issue.path])).toEqual([
      [8, 7, "pools[0].scaleUp.windw"],
      [8, 7, "pools[1].scaleUp.windw"],
      [12, 10, "pools[1].max"],
    ]);
  });

  it("reports a rule across keys at the merged value it names", () => {
    // `big` inherits min 4 from `workers` and sets max 3 itself: min is where the 4 is written.
    const text = TWO_POOLS.replace("    max: 6\n", "    max: 6\n    min: 4\n");
    expect(issues(text)).toEqual([
      { line: 6, column: 10, path: "pools[1].min", message: "min (4) is greater than max (3)" },
    ]);
  });

  it("refuses a merge key whose value is no mapping, at that value", () => {
    const text = "pools:\n  - <<: [*none]\n    name: a\n";
    expect(issues(text)).toEqual([
      {
        line: 2,
        column: 10,
        path: "",
        message: "YAML aliases: Unresolved alias (the anchor must be set before the alias): none",
      },
    ]);
    expect(issues("pools:\n  - name: a\n    <<: 5\n")).toEqual([
      {
        line: 3,
        column: 9,
        path: "",
        message:
          "a merge key (<<) takes a mapping, an alias of one such as *defaults, or a list of them",
      },
    ]);
  });

  it("still refuses duplicate keys, and a quoted '<<' is a key like any other", () => {
    expect(issues("pools:\n  - name: a\n    name: b\n")[0]?.message).toContain("written twice");
    const quoted = issues("pools:\n  - name: a\n    '<<': {max: 3}\n");
    expect(quoted.find((issue) => issue.message.startsWith('unknown key "<<"'))).toMatchObject({
      line: 3,
      column: 5,
    });
  });

  it("merges in policy files too", () => {
    const text =
      "rules:\n  - &safe {name: up, match: {direction: up}}\n  - <<: *safe\n    name: up-too\n";
    const parsed = parseYamlSource(text, "policies/mine.yml");
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    expect(parsed.source.data).toEqual({
      rules: [
        { name: "up", match: { direction: "up" } },
        { name: "up-too", match: { direction: "up" } },
      ],
    });
    expect(parsed.source.locate(["rules", 1, "match", "direction"])).toEqual({
      line: 2,
      column: 41,
    });
  });
});

describe("locateInYaml", () => {
  it("finds a merged key in a document read without merging, as the merged data has it", () => {
    const lineCounter = new LineCounter();
    const doc = parseDocument(TWO_POOLS, { lineCounter });
    expect(locateInYaml(doc, lineCounter, ["pools", 1, "scaleUp", "cpu"])).toEqual({
      line: 7,
      column: 12,
    });
    expect(locateInYaml(doc, lineCounter, ["pools", 1, "max"])).toEqual({ line: 12, column: 10 });
  });
});
