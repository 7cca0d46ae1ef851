/**
 * Saved snapshots (`pr-autoscaler snapshot --out`, read back by `plan --snapshot`): the
 * example cluster's snapshot with fields changed, removed, overflowing numbers, and text
 * damage, given to loadSnapshot. A snapshot that loads must hold what a read could have
 * produced: no negative, fractional or infinite amounts.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { loadSnapshot } from "../src/cluster/snapshot-file.ts";
import {
  crash,
  type FamilySession,
  handled,
  type InputFamily,
  judgeError,
  type Outcome,
  type ReliabilityCase,
} from "./reliability-case.ts";
import {
  allPaths,
  familySeed,
  formatPathKeys,
  hostileValue,
  invariantViolations,
  type Mutation,
  mutate,
  mutation,
  type PathKey,
  sample,
  withAt,
} from "./reliability-values.ts";

const file = "snapshot.json";

/** JSON number tokens that JSON.parse turns into surprises (Infinity, -0, rounded integers). */
const rawNumbers = [
  "1e999",
  "-1e999",
  "-1",
  "-0",
  "0.5",
  "1e-400",
  "123456789012345678901234567890",
  "-9007199254740993",
  "4e3",
];

interface SnapshotChange {
  path: number;
  op: "replace" | "remove" | "raw-number" | "text";
  value: unknown;
  number: string;
  text: Mutation;
}

const snapshotChange: fc.Arbitrary<SnapshotChange> = fc.record({
  path: fc.nat(),
  op: fc.constantFrom("replace", "replace", "remove", "raw-number", "raw-number", "text"),
  value: hostileValue,
  number: fc.constantFrom(...rawNumbers),
  text: mutation(["{", "}", "[", "]", ",", ":", '"', "\\", "\n", "null", "NaN", "\ufeff"]),
});

const placeholder = "\u0000raw-number\u0000";

function changed(base: string, change: SnapshotChange): { text: string; what: string } {
  if (change.op === "text") return { text: mutate(base, change.text), what: "text damage" };
  const data = JSON.parse(base) as unknown;
  const paths = allPaths(data);
  const path = paths[change.path % paths.length] as PathKey[];
  const where = formatPathKeys(path);
  if (change.op === "remove") {
    return { text: JSON.stringify(withAt(data, path, undefined)) ?? "", what: `${where} removed` };
  }
  if (change.op === "raw-number") {
    const text = (JSON.stringify(withAt(data, path, placeholder)) ?? "").replace(
      JSON.stringify(placeholder),
      change.number,
    );
    return { text, what: `${where} = ${change.number}` };
  }
  return {
    text: JSON.stringify(withAt(data, path, change.value)) ?? "",
    what: `${where} = ${(JSON.stringify(change.value) ?? "undefined").slice(0, 40)}`,
  };
}

function snapshotCase(id: string, text: string, what: string): ReliabilityCase {
  return {
    id,
    input: what,
    payload: () => ({ file, text }),
    run(): Outcome {
      let snapshot: ReturnType<typeof loadSnapshot>;
      try {
        snapshot = loadSnapshot(text, file);
      } catch (error) {
        return judgeError(error, file);
      }
      const problems = invariantViolations(snapshot, "snapshot");
      return problems.length === 0 ? handled("loaded") : crash(`loaded: ${problems.join("; ")}`);
    },
  };
}

function handWritten(base: string): [string, string][] {
  const data = JSON.parse(base) as { nodes: Record<string, unknown>[] };
  const withNode = (change: (node: Record<string, unknown>) => void): string => {
    const copy = structuredClone(data);
    change(copy.nodes[0] as Record<string, unknown>);
    return JSON.stringify(copy);
  };
  return [
    ["empty", ""],
    ["whitespace", "  \n"],
    ["null", "null"],
    ["array", "[]"],
    ["string", '"snapshot"'],
    ["bom", `\ufeff${base}`],
    ["truncated", base.slice(0, Math.floor(base.length / 2))],
    ["trailing-garbage", `${base}}`],
    ["yaml-not-json", "version: 1\nnodes: []\n"],
    ["version-2", JSON.stringify({ ...data, version: 2 })],
    ["version-string", JSON.stringify({ ...data, version: "1" })],
    ["nodes-object", JSON.stringify({ ...data, nodes: {} })],
    [
      "capacity-negative",
      withNode((node) => {
        node.capacity = { cpu: -4000, memory: -1 };
      }),
    ],
    [
      "capacity-fraction",
      withNode((node) => {
        node.capacity = { cpu: 0.5 };
      }),
    ],
    [
      "capacity-string",
      withNode((node) => {
        node.capacity = { cpu: "4" };
      }),
    ],
    [
      "usage-negative",
      withNode((node) => {
        node.usage = { source: "metrics-server", cpu: -5, memory: -5 };
      }),
    ],
    [
      "usage-window-negative",
      withNode((node) => {
        node.usage = { source: "metrics-server", cpu: 5, windowSeconds: -20 };
      }),
    ],
    [
      "usage-percentile-absurd",
      withNode((node) => {
        node.usage = { source: "prometheus", cpu: 5, peak: { cpu: 9, percentile: 250 } };
      }),
    ],
    [
      "extended-negative",
      withNode((node) => {
        node.allocatable = { extended: { "nvidia.com/gpu": -1 } };
      }),
    ],
    ["overflow-number", JSON.stringify(data).replace(/"cpu":(\d+)/, '"cpu":1e999')],
    [
      "huge-integer",
      JSON.stringify(data).replace(/"cpu":(\d+)/, '"cpu":123456789012345678901234567890'),
    ],
    [
      "proto-key",
      JSON.stringify(data).replace('"nodes":', '"__proto__":{"polluted":true},"nodes":'),
    ],
    ["duplicate-key", JSON.stringify(data).replace('"version":1', '"version":1,"version":2')],
    [
      "deep",
      `${JSON.stringify(data).slice(0, -1)},"extra":${'{"a":'.repeat(20000)}1${"}".repeat(20000)}}`,
    ],
    ["deep-array", `{"version":1,"nodes":${"[".repeat(100000)}${"]".repeat(100000)}}`],
    [
      "lone-surrogate",
      JSON.stringify(data).replace('"nodes":[{"name":"', '"nodes":[{"name":"\\ud800'),
    ],
  ];
}

export const snapshotFamily: InputFamily = {
  name: "snapshot",
  description: "saved snapshots (the example's changed, and hand-written) given to loadSnapshot",
  async open(options): Promise<FamilySession> {
    const base = readFileSync(
      new URL("../examples/talos-proxmox/cluster/snapshot.json", import.meta.url),
      "utf8",
    );
    const changes = sample(snapshotChange, options.generated, familySeed(options.seed, "snapshot"));
    const cases = [
      ...handWritten(base).map(([name, text]) => snapshotCase(`snapshot/${name}`, text, name)),
      ...changes.map((change, index) => {
        const { text, what } = changed(base, change);
        return snapshotCase(`snapshot/gen-${index}`, text, what);
      }),
    ];
    return { cases, close: async () => {} };
  },
};
