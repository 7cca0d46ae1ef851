import { describe, expect, it } from "@jest/globals";
import {
  parseTrace,
  poolNodeIndex,
  poolNodeName,
  readTrace,
  type TraceIssue,
} from "../../src/backtest/parse-trace.ts";
import { InputError } from "../../src/errors.ts";
import { header, jsonLines, pod } from "./trace-helpers.ts";

const GI = 2 ** 30;
const MI = 2 ** 20;

function issues(text: string): TraceIssue[] {
  const result = readTrace(text, "t.jsonl");
  if (result.ok) throw new Error("expected the trace to be refused");
  return result.issues;
}

/** `line: path: message` of each issue, for compact assertions. */
function located(text: string): string[] {
  return issues(text).map(
    (issue) => `${issue.line}: ${issue.path ? `${issue.path}: ` : ""}${issue.message}`,
  );
}

describe("readTrace: a valid trace", () => {
  const text = jsonLines(
    header({ description: "d", config: "c.yml", duration: "2h" }, { count: 2, min: 0 }),
    pod(0, "media/plex", { requests: { cpu: "500m", memory: "2Gi" } }),
    pod("10m", "batch/job", { count: 2, duration: "5m", usage: { cpu: "2" } }),
    pod(900, "batch/run-{i}-x", { count: 2, priority: 10 }),
    {
      type: "usage",
      at: "20m",
      pod: "media/plex",
      usage: {
        points: [
          { at: 0, cpu: "3" },
          { at: "1h", memory: "1Gi" },
        ],
        shape: "linear",
        period: "2h",
      },
    },
    { type: "delete", at: "30m", pod: "batch/job-0" },
  );
  const result = readTrace(text, "t.jsonl");
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  const trace = result.trace;

  it("reads the header with units converted and defaults filled in", () => {
    expect(trace).toMatchObject({
      name: "test",
      description: "d",
      config: "c.yml",
      start: Date.parse("2025-06-06T00:00:00Z"),
      durationMs: 7_200_000,
      nodes: [],
    });
    expect(trace.pools).toEqual([
      {
        name: "workers",
        count: 2,
        min: 0,
        nodeName: "worker-{index}",
        indexBase: 1,
        allocatable: { cpu: 4000, memory: 16 * GI, pods: 110 },
        labels: { pool: "workers" },
        taints: [],
      },
    ]);
  });

  it("keeps a min of 1 by default, and of 0 for a pool that starts empty", () => {
    const minOf = (count: number) => {
      const { min: _, ...pool } = header({}, { count }).pools[0] as Record<string, unknown>;
      const read = readTrace(jsonLines(header({ pools: [pool] })), "t.jsonl");
      if (!read.ok) throw new Error(JSON.stringify(read.issues));
      return read.trace.pools[0]?.min;
    };
    expect(minOf(2)).toBe(1);
    expect(minOf(0)).toBe(0);
  });

  it("expands counted pods, numbering them or filling {i}", () => {
    const names = trace.events.flatMap((event) =>
      event.kind === "pod" ? [`${event.namespace}/${event.name}`] : [],
    );
    expect(names).toEqual([
      "media/plex",
      "batch/job-0",
      "batch/job-1",
      "batch/run-0-x",
      "batch/run-1-x",
    ]);
  });

  it("takes usage a line leaves out from the requests, and gives finishing pods a Job", () => {
    const [plex, job] = trace.events;
    expect(plex).toMatchObject({
      kind: "pod",
      at: 0,
      line: 2,
      requests: { cpu: 500, memory: 2 * GI },
      usage: { kind: "constant", cpu: 500, memory: 2 * GI },
      owner: { kind: "Deployment", name: "plex" },
      priority: 0,
    });
    expect(job).toMatchObject({
      at: 600_000,
      durationMs: 300_000,
      usage: { kind: "constant", cpu: 2000, memory: GI },
      owner: { kind: "Job", name: "job-0" },
    });
  });

  it("reads usage changes with points against the pod's requests, and deletions", () => {
    expect(trace.events.slice(-2)).toEqual([
      {
        kind: "usage",
        at: 1_200_000,
        line: 5,
        pod: "media/plex",
        usage: {
          kind: "points",
          shape: "linear",
          periodMs: 7_200_000,
          points: [
            { at: 0, cpu: 3000, memory: 2 * GI },
            { at: 3_600_000, cpu: 500, memory: GI },
          ],
        },
      },
      { kind: "delete", at: 1_800_000, line: 6, pod: "batch/job-0" },
    ]);
  });

  it("skips blank lines but keeps counting them", () => {
    const spaced = `${JSON.stringify(header())}\n\n${JSON.stringify(pod(0, "a"))}\n`;
    const read = readTrace(spaced, "t.jsonl");
    expect(read.ok && read.trace.events[0]?.line).toBe(3);
  });
});

describe("readTrace: errors name the line", () => {
  it("refuses an empty file", () => {
    expect(located("\n\n")).toEqual(["1: the trace is empty: its first line must be the header"]);
  });

  it("wants the header first", () => {
    expect(located(jsonLines(pod(0, "a"), header()))).toEqual([
      '1: type: the first line must be the header ({"type":"header", ...})',
    ]);
  });

  it("reports a line that is not JSON", () => {
    const text = `${JSON.stringify(header())}\n${JSON.stringify(pod(0, "a"))}\n{"type": "pod",\n`;
    const [problem] = located(text);
    expect(problem).toBe(
      "3: not valid JSON at column 16: expected a key in double quotes but found the end of the line",
    );
    const cut = JSON.stringify(pod(0, "a")).slice(0, -1);
    expect(located(`${JSON.stringify(header())}\n${cut}\n`)).toEqual([
      `2: not valid JSON at column ${cut.length + 1}: expected ',' or '}' but found the end of the line`,
    ]);
    expect(located(`${JSON.stringify(header())}\n{"type":"pod"} {"type":"pod"}\n`)).toEqual([
      "2: not valid JSON at column 16: expected the end of the line after the JSON value but found '{'",
    ]);
  });

  it("refuses a key written twice in one object, which JSON.parse would settle silently", () => {
    const line = JSON.stringify(pod(0, "a", { requests: { cpu: "1" } })).replace(
      '"cpu":"1"',
      '"cpu":"1","cpu":"8"',
    );
    expect(located(`${JSON.stringify(header())}\n${line}\n`)).toEqual([
      "2: cpu: written twice in one object; which value is meant is not known",
    ]);
    // The same key in two objects is no duplicate.
    const fine = JSON.stringify(pod(0, "b", { requests: { cpu: "1", memory: "1Gi" } }));
    expect(readTrace(`${JSON.stringify(header())}\n${fine}\n`, "t.jsonl").ok).toBe(true);
  });

  it("reports unknown keys with what was probably meant", () => {
    const head = { ...header(), pool: [] };
    expect(located(jsonLines(head))).toEqual([
      '1: pool: unknown key "pool"; did you mean "pools"?',
    ]);
    const text = jsonLines(header(), pod(0, "a", { request: { cpu: "1" } }));
    expect(located(text)).toEqual(['2: request: unknown key "request"; did you mean "requests"?']);
  });

  it("reports bad quantities and times at their path", () => {
    const text = jsonLines(header(), pod(0, "a", { requests: { cpu: "lots" } }), pod("soon", "b"));
    expect(located(text)).toEqual([
      '2: requests.cpu: "lots" is not a cpu quantity: write it like 2, 0.5 or 500m',
      '3: at: "soon" is not a time: give seconds (90) or a duration (90s, 10m, 1h30m)',
    ]);
  });

  it("says a missing time is missing", () => {
    const { at: _, ...untimed } = pod(0, "a") as Record<string, unknown>;
    expect(located(jsonLines(header(), untimed))).toEqual([
      "2: at: missing required key: give seconds (90) or a duration (90s, 10m, 1h30m)",
    ]);
  });

  it("reads a file that starts with a byte-order mark", () => {
    const result = readTrace(`\uFEFF${jsonLines(header(), pod(0, "a"))}`, "t.jsonl");
    expect(result.ok).toBe(true);
  });

  it("wants a trace of at most 366 days", () => {
    expect(readTrace(jsonLines(header({ duration: "366d" })), "t.jsonl").ok).toBe(true);
    expect(located(jsonLines(header({ duration: "367d" })))).toEqual([
      "1: duration: must be at most 366d",
    ]);
    expect(located(jsonLines(header({ duration: 1e300 })))).toEqual([
      "1: duration: must be at most 366d",
    ]);
  });

  it("wants a pool's count and min of at most 10000 nodes", () => {
    expect(readTrace(jsonLines(header({}, { count: 2, min: 10_000 })), "t.jsonl").ok).toBe(true);
    expect(located(jsonLines(header({}, { count: 2, min: 1e9 })))).toEqual([
      "1: pools[0].min: must be at most 10000",
    ]);
    expect(located(jsonLines(header({}, { count: 10_001 })))).toEqual([
      "1: pools[0].count: must be at most 10000",
    ]);
  });

  it("wants events in time order and before the end", () => {
    const text = jsonLines(header(), pod("10m", "a"), pod("5m", "b"), pod("1h", "c"));
    expect(located(text)).toEqual([
      "3: at: events must be in time order: this one (5m) is before the line above (10m)",
      "4: at: 1h is not before the trace's end (its duration, 1h): every event is before it",
    ]);
    expect(located(jsonLines(header(), pod(1.5, "a"), pod(1, "b")))).toEqual([
      "3: at: events must be in time order: this one (1s) is before the line above (1.5s)",
    ]);
  });

  it("wants unique pod names and events about pods that arrived", () => {
    const text = jsonLines(
      header(),
      pod(0, "a"),
      pod(1, "a"),
      { type: "usage", at: 2, pod: "ghost", usage: { cpu: 1 } },
      { type: "delete", at: 3, pod: "a" },
      { type: "delete", at: 4, pod: "default/a" },
    );
    expect(located(text)).toEqual([
      "3: name: pod default/a already arrived on line 2; pod names are unique in a trace",
      "4: pod: no pod default/ghost arrived before this line",
      "6: pod: pod default/a was deleted before this line",
    ]);
  });

  it("wants count beside {i} in a pod name, and no other braces", () => {
    expect(located(jsonLines(header(), pod(0, "job-{i}")))).toEqual([
      "2: name: {i} numbers the pods of a count: give count, or leave {i} out",
    ]);
    expect(located(jsonLines(header(), pod(0, "we{b}")))).toEqual([
      "2: name: expected namespace/name in lower case, e.g. media/plex ({i} for the index with count)",
    ]);
  });

  it("names the event types when the type is unknown", () => {
    const text = jsonLines(header(), { type: "pods", at: 0 }, { at: 0 });
    expect(located(text)).toEqual([
      '2: type: type "pods": an event is one of pod, usage, delete; did you mean "pod"?',
      "3: type: no type: an event is one of pod, usage, delete",
    ]);
  });

  it("checks usage points: order, period, and no cpu beside points", () => {
    const usage = {
      cpu: "1",
      period: "10m",
      points: [{ at: "5m" }, { at: "2m" }, { at: "10m" }],
    };
    expect(located(jsonLines(header(), pod(0, "a", { usage })))).toEqual([
      "2: usage.cpu: give cpu inside each point when points are used",
      "2: usage.points[1].at: points must be in increasing time order",
      "2: usage.points[2].at: must be less than the period",
    ]);
    expect(located(jsonLines(header(), pod(0, "a", { usage: { shape: "step" } })))).toEqual([
      "2: usage.shape: shape needs points",
    ]);
  });

  it("refuses tolerations the API server would refuse", () => {
    const tolerations = [
      { operator: "Equal", value: "gpu" },
      { value: "gpu", effect: "NoSchedule" },
      { key: "gpu", operator: "Exists", value: "true" },
      { operator: "Exists" },
      { key: "gpu", value: "true" },
    ];
    expect(located(jsonLines(header(), pod(0, "a", { tolerations })))).toEqual([
      '2: tolerations[0].operator: a toleration without a key must have operator "Exists" (it then tolerates every taint)',
      '2: tolerations[1].operator: a toleration without a key must have operator "Exists" (it then tolerates every taint)',
      '2: tolerations[2].value: must be left out with operator "Exists", which matches every value',
    ]);
  });

  it("refuses pools whose node names can meet", () => {
    const head = header({
      pools: [
        { ...header().pools[0], nodeName: "w-{index}", indexBase: 0 },
        { ...header().pools[0], name: "other", nodeName: "w-1{index}", indexBase: 0 },
        { ...header().pools[0], name: "apart", nodeName: "w-{index}-gpu", indexBase: 0 },
      ],
    });
    expect(located(jsonLines(head))).toEqual([
      "1: pools[1].nodeName: its node w-10 would have the name of pools[0]'s node 10: give the pools node names that cannot meet",
    ]);
  });

  it("checks the header's pools and nodes against each other", () => {
    const head = header({
      pools: [header().pools[0], { ...header().pools[0], nodeName: "other-{index}" }],
      nodes: [{ name: "worker-3", cpu: "2", memory: "4Gi" }],
    });
    expect(located(jsonLines(head))).toEqual([
      '1: pools[1].name: pool "workers" appears twice',
      "1: nodes[0].name: worker-3 is a name of pool workers's nodes (worker-{index})",
    ]);
  });

  it("does not read events under a header that is not valid", () => {
    const text = jsonLines(header({ version: 2 }), { type: "nonsense" });
    expect(located(text)).toEqual(["1: version: expected version 1"]);
  });
});

describe("parseTrace", () => {
  it("throws an InputError at the first problem's line listing the others by file:line", () => {
    const text = jsonLines(header(), pod(0, "a", { requests: { memory: "-1" } }), { type: "pods" });
    let error: unknown;
    try {
      parseTrace(text, "day.jsonl");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    const input = error as InputError;
    expect(input.location).toEqual({ file: "day.jsonl", line: 2 });
    expect(input.exitCode).toBe(2);
    expect(input.message).toBe(
      'requests.memory: "-1" is not a memory quantity: write it like 16Gi, 512Mi or 8G\n' +
        'day.jsonl:3: type: type "pods": an event is one of pod, usage, delete; did you mean "pod"?',
    );
  });

  it("reads memory quantities in bytes", () => {
    const trace = parseTrace(
      jsonLines(header(), pod(0, "a", { requests: { memory: "512Mi" } })),
      "t",
    );
    expect(trace.events[0]).toMatchObject({ requests: { cpu: 0, memory: 512 * MI } });
  });
});

describe("poolNodeIndex", () => {
  it("reads the count index from a name the pool makes, and only from one", () => {
    const pool = { nodeName: "talos-worker-{index}", indexBase: 1 };
    expect(poolNodeIndex(pool, "talos-worker-1")).toBe(0);
    expect(poolNodeIndex(pool, "talos-worker-12")).toBe(11);
    // Below the base, zero-padded, or another name: not a node of the pool.
    expect(poolNodeIndex(pool, "talos-worker-0")).toBeUndefined();
    expect(poolNodeIndex(pool, "talos-worker-01")).toBeUndefined();
    expect(poolNodeIndex(pool, "talos-worker-1a")).toBeUndefined();
    expect(poolNodeIndex(pool, "talos-cp-1")).toBeUndefined();
  });

  it("finds the index where digits follow it in the template", () => {
    const pool = { nodeName: "vm{index}0-{index}", indexBase: 0 };
    expect(poolNodeIndex(pool, poolNodeName(pool, 12))).toBe(12);
    expect(poolNodeIndex(pool, "vm120-13")).toBeUndefined();
  });
});
