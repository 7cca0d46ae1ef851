import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { configTraceIssues, loadBacktestInputs } from "../../src/backtest/load-backtest.ts";
import { InputError } from "../../src/errors.ts";
import { loadRepoConfig } from "../../src/policy/load-repo-config.ts";
import { header, jsonLines, trace } from "./trace-helpers.ts";

const FIXTURES = "test/fixtures/backtest";

async function refusal(traceFile: string, configFile?: string): Promise<InputError> {
  try {
    await loadBacktestInputs(traceFile, configFile, process.cwd());
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error("expected the inputs to be refused");
}

describe("loadBacktestInputs", () => {
  it("finds the config the header names, beside the trace", async () => {
    const inputs = await loadBacktestInputs(`${FIXTURES}/tiny.jsonl`, undefined, process.cwd());
    expect(inputs.configFile).toBe(`${FIXTURES}/tiny.yml`);
    expect(inputs.trace.name).toBe("tiny");
    expect(inputs.config.pools[0]?.max).toBe(4);
  });

  it("takes an absolute config path in the header as it is", async () => {
    const dir = mkdtempSync(join(tmpdir(), "backtest-config-"));
    try {
      const config = resolve(FIXTURES, "tiny.yml");
      const [first, ...rest] = readFileSync(`${FIXTURES}/tiny.jsonl`, "utf8").split("\n");
      const headerLine = JSON.parse(first as string) as Record<string, unknown>;
      const file = join(dir, "moved.jsonl");
      writeFileSync(file, [JSON.stringify({ ...headerLine, config }), ...rest].join("\n"));
      const inputs = await loadBacktestInputs(file, undefined, process.cwd());
      expect(inputs.configFile).toBe(config);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports a bad trace at its line", async () => {
    const error = await refusal(`${FIXTURES}/bad-trace.jsonl`);
    expect(error.location).toEqual({ file: `${FIXTURES}/bad-trace.jsonl`, line: 3 });
    expect(error.exitCode).toBe(2);
  });

  it("reports a bad config at its line and column", async () => {
    const error = await refusal(`${FIXTURES}/tiny.jsonl`, `${FIXTURES}/bad-config.yml`);
    expect(error.location).toEqual({ file: `${FIXTURES}/bad-config.yml`, line: 6, column: 10 });
    expect(error.message).toBe('pools[0].min: expected a number, got the string "2"');
  });

  it("reports every way the config does not fit the trace, each at its line", async () => {
    const error = await refusal(`${FIXTURES}/tiny.jsonl`, `${FIXTURES}/wrong-pool.yml`);
    expect(error.location).toEqual({ file: `${FIXTURES}/wrong-pool.yml`, line: 7, column: 7 });
    expect(error.message).toBe(
      `pools[0].selector: the selector does not recognise the trace's workers nodes (labels {"pool":"workers"})\n` +
        `${FIXTURES}/wrong-pool.yml:10:11: pools[1].name: the trace has no pool "gpu" (its pools: workers)`,
    );
  });

  it("says where a file could not be read", async () => {
    const missing = await refusal(`${FIXTURES}/missing.jsonl`);
    expect(missing.message).toBe("no such file");
    expect(missing.location).toEqual({ file: `${FIXTURES}/missing.jsonl` });
    const error = await refusal(`${FIXTURES}/tiny.jsonl`, `${FIXTURES}/none.yml`);
    expect(error.location).toEqual({ file: `${FIXTURES}/none.yml` });
    const folder = await refusal(FIXTURES);
    expect(folder.message).toBe("is a directory");
    expect(folder.location).toEqual({ file: FIXTURES });
  });

  it("says a header's config that cannot be read at the header", async () => {
    const dir = mkdtempSync(join(tmpdir(), "backtest-"));
    try {
      const file = join(dir, "day.jsonl");
      writeFileSync(file, jsonLines(header({ config: "day.yml" })));
      const error = await refusal(file);
      expect(error.message).toBe(
        `config: cannot read ${join(dir, "day.yml")}: no such file (the header's config is relative to the trace)`,
      );
      expect(error.location).toEqual({ file, line: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("asks for a config when neither the flag nor the header names one", async () => {
    const error = await refusal(`${FIXTURES}/no-config.jsonl`);
    expect(error.message).toBe(
      'no repo config: give --config FILE, or "config" in the trace header',
    );
    expect(error.location).toEqual({ file: `${FIXTURES}/no-config.jsonl`, line: 1 });
  });
});

describe("configTraceIssues", () => {
  const twoPools = trace(
    header({
      pools: [
        { ...header().pools[0] },
        {
          name: "gpu",
          count: 1,
          nodeName: "gpu-{index}-vm",
          node: { cpu: "8", memory: "32Gi", labels: { pool: "gpu" } },
        },
      ],
      nodes: [{ name: "spare", cpu: "2", memory: "4Gi", labels: { pool: "workers" } }],
    }),
  );

  function check(yaml: string): string[] {
    const loaded = loadRepoConfig(yaml, "c.yml");
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    return configTraceIssues(loaded.config, yaml, "c.yml", twoPools).map(
      (issue) => `${issue.line}: ${issue.path}: ${issue.message}`,
    );
  }

  it("wants a selector for each pool that recognises its nodes only", () => {
    const yaml = [
      "pools:",
      "  - name: workers",
      "    target: { file: t.tfvars, path: a }",
      "    max: 3",
      "  - name: gpu",
      "    target: { file: t.tfvars, path: b }",
      "    selector: { matchLabels: { pool: gpu } }",
      "    removal: { nameTemplate: 'gpu-{index}-vm', indexBase: 1 }",
      "    max: 3",
      "",
    ].join("\n");
    expect(check(yaml)).toEqual([
      "2: pools[0].name: the selector also recognises the trace's gpu nodes; give it labels only workers nodes carry",
      "8: pools[1].removal: removal names nodes gpu-{index}-vm from 1, the trace gpu-{index}-vm from 0",
    ]);
  });

  it("wants the fixed nodes left out, node names ending in the index, and every pool", () => {
    const yaml = [
      "pools:",
      "  - name: workers",
      "    target: { file: t.tfvars, path: a }",
      "    selector: { matchLabels: { pool: workers } }",
      "    max: 3",
      "  - name: gpu",
      "    target: { file: t.tfvars, path: b }",
      "    selector: { matchLabels: { pool: gpu } }",
      "    max: 3",
      "",
    ].join("\n");
    expect(check(yaml)).toEqual([
      "4: pools[0].selector: the selector also recognises the trace's fixed node spare; give it labels only workers nodes carry",
      "6: pools[1].name: the trace's node names (gpu-{index}-vm) do not end in the index: set removal.nameTemplate: gpu-{index}-vm",
    ]);
    const onlyWorkers = yaml.split("\n").slice(0, 5).join("\n");
    expect(check(onlyWorkers)).toContain(
      '2: pools: no pool "gpu": every pool of the trace needs one (set min = max to keep it fixed)',
    );
  });

  it("wants a new node's size to be the trace's, and given when a pool starts empty", () => {
    const gpu = [
      "  - name: gpu",
      "    target: { file: t.tfvars, path: b }",
      "    selector: { matchLabels: { pool: gpu } }",
      "    removal: { nameTemplate: 'gpu-{index}-vm' }",
      "    max: 3",
    ];
    const workers = (extra: string[]) => [
      "pools:",
      "  - name: workers",
      "    target: { file: t.tfvars, path: a }",
      "    selector: { matchExpressions: [{ key: pool, operator: In, values: [workers] }, { key: kubernetes.io/hostname, operator: NotIn, values: [spare] }] }",
      "    max: 3",
      ...extra,
      ...gpu,
      "",
    ];
    expect(check(workers(["    newNode: { cpu: 16, memory: 16Gi }"]).join("\n"))).toEqual([
      `6: pools[0].newNode.cpu: 16000m is not the size of the trace's workers nodes (${twoPools.pools[0]?.allocatable.cpu}m): leave newNode.cpu out, or set ${twoPools.pools[0]?.allocatable.cpu}m`,
    ]);
    // Labels and taints a new node would carry that the trace's nodes do not: pods would be
    // placed on nodes that never come.
    expect(
      check(
        workers([
          "    newNode: { labels: { pool: workers, disk: ssd }, taints: [{ key: media, effect: NoSchedule }] }",
        ]).join("\n"),
      ),
    ).toEqual([
      "6: pools[0].newNode.labels: the trace's workers nodes do not carry disk=ssd: leave them out of newNode.labels, or give the trace's pool node those labels",
      "6: pools[0].newNode.taints: the trace's workers nodes do not carry the taint media:NoSchedule: leave it out of newNode.taints, or give the trace's pool node that taint",
    ]);
    // The trace's nodes have no extended resources: a new node with some never comes.
    expect(
      check(workers(['    newNode: { extendedResources: { "nvidia.com/gpu": 1 } }']).join("\n")),
    ).toEqual([
      "6: pools[0].newNode.extendedResources: the trace's workers nodes have no nvidia.com/gpu: leave newNode.extendedResources out",
    ]);
    const empty = trace(
      header({
        pools: [
          { ...header().pools[0], count: 0 },
          {
            name: "gpu",
            count: 1,
            nodeName: "gpu-{index}-vm",
            node: { cpu: "8", memory: "32Gi", labels: { pool: "gpu" } },
          },
        ],
      }),
    );
    const loaded = loadRepoConfig(workers([]).join("\n"), "c.yml");
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    expect(
      configTraceIssues(loaded.config, workers([]).join("\n"), "c.yml", empty).map(
        (i) => i.message,
      ),
    ).toEqual([
      expect.stringMatching(
        /^the trace's workers pool starts with no node, so the planner cannot learn a new node's size: set newNode\.cpu: \d+m and newNode\.memory: \d+(Gi|Mi)$/,
      ),
    ]);
  });
});
