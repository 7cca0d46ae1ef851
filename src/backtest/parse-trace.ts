import type { z } from "zod";
import { formatKeyPath } from "../editors/path.ts";
import { jsonProblem } from "../editors/yaml/json-syntax.ts";
import { InputError } from "../errors.ts";
import { formatDuration } from "../planning/format.ts";
import type { OwnerRef } from "../planning/snapshot.ts";
import { configIssueMessage } from "../policy/config-issue-message.ts";
import { didYouMean, unknownKeyMessage } from "../policy/did-you-mean.ts";
import { knownKeysAt } from "../policy/schema-keys.ts";
import {
  arrivalKey,
  type PodArrival,
  type Trace,
  type TraceEvent,
  type TracePool,
  type UsageProfile,
} from "./trace.ts";
import {
  EVENT_LINES,
  HeaderLine,
  MAX_COUNT,
  type PodLine,
  type UsageLine,
} from "./trace-schema.ts";

/** One problem in a trace file, at a 1-based line. */
export interface TraceIssue {
  file: string;
  line: number;
  /** Where inside the line's object, in PATH syntax; empty for the whole line. */
  path: string;
  message: string;
}

export type ReadTraceResult = { ok: true; trace: Trace } | { ok: false; issues: TraceIssue[] };

/** Stop collecting after this many problems: a wrong file would otherwise print thousands. */
const MAX_ISSUES = 20;

/**
 * Reads and validates a JSON-lines trace (docs/backtest.md): a header line, then events in time
 * order. Every problem comes with its line; nothing is returned half-valid.
 */
export function readTrace(text: string, file: string): ReadTraceResult {
  const reader = new TraceReader(file);
  // A byte-order mark (a file saved by Notepad) is not part of the first line's JSON.
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (let i = 0; i < lines.length && reader.issues.length < MAX_ISSUES; i++) {
    const source = lines[i] ?? "";
    if (source.trim() === "") continue;
    const first = !reader.started;
    reader.readLine(source, i + 1);
    // Events cannot be checked against a header that is not valid.
    if (first && !reader.header) break;
  }
  if (!reader.started) reader.issue(1, "", "the trace is empty: its first line must be the header");
  if (reader.issues.length > 0 || !reader.header) return { ok: false, issues: reader.issues };
  return { ok: true, trace: reader.trace(reader.header) };
}

/** Like {@link readTrace}, throwing an InputError (exit 2) that lists every problem. */
export function parseTrace(text: string, file: string): Trace {
  const result = readTrace(text, file);
  if (result.ok) return result.trace;
  const [first, ...rest] = result.issues as [TraceIssue, ...TraceIssue[]];
  const more = rest.map((issue) => `\n${formatTraceIssue(issue)}`).join("");
  const tail = result.issues.length >= MAX_ISSUES ? "\n(stopped after 20 problems)" : "";
  throw new InputError(`${issueText(first)}${more}${tail}`, { file, line: first.line });
}

/** `file:line: path: message`. */
export function formatTraceIssue(issue: TraceIssue): string {
  return `${issue.file}:${issue.line}: ${issueText(issue)}`;
}

function issueText(issue: TraceIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

interface PodRecord {
  arrival: PodArrival;
  deletedAt?: number;
}

class TraceReader {
  readonly file: string;
  readonly issues: TraceIssue[] = [];
  header: HeaderLine | undefined;
  readonly events: TraceEvent[] = [];
  readonly pods = new Map<string, PodRecord>();
  lastAt = 0;
  /** The first non-empty line was read (as the header, valid or not). */
  started = false;

  constructor(file: string) {
    this.file = file;
  }

  issue(line: number, path: string, message: string): void {
    this.issues.push({ file: this.file, line, path, message });
  }

  readLine(source: string, line: number): void {
    let data: unknown;
    try {
      data = JSON.parse(source);
    } catch (error) {
      this.started = true;
      this.issue(line, "", notJson(source, error as Error));
      return;
    }
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      this.started = true;
      this.issue(line, "", "expected a JSON object with a type");
      return;
    }
    // JSON.parse keeps the last of a key written twice: which one was meant is not known.
    const twice = jsonProblem(source)?.duplicateKey;
    if (twice !== undefined) {
      this.started = true;
      this.issue(line, twice, "written twice in one object; which value is meant is not known");
      return;
    }
    const type = (data as { type?: unknown }).type;
    if (!this.started) {
      this.started = true;
      this.readHeader(data, type, line);
      return;
    }
    if (type === "header") {
      this.issue(line, "type", "only the first line may be the header");
      return;
    }
    this.readEvent(data, type, line);
  }

  readHeader(data: unknown, type: unknown, line: number): void {
    if (type !== "header") {
      this.issue(line, "type", 'the first line must be the header ({"type":"header", ...})');
      return;
    }
    const header = this.validate(HeaderLine, data, line);
    if (header && this.checkHeader(header, line)) this.header = header;
  }

  checkHeader(header: HeaderLine, line: number): boolean {
    const before = this.issues.length;
    const names = new Set<string>();
    header.pools.forEach((pool, i) => {
      if (names.has(pool.name))
        this.issue(line, `pools[${i}].name`, `pool ${JSON.stringify(pool.name)} appears twice`);
      names.add(pool.name);
      const clash = header.pools.findIndex((other) => other.nodeName === pool.nodeName);
      if (clash < i)
        this.issue(line, `pools[${i}].nodeName`, `pools[${clash}] already names its nodes so`);
      else {
        const shared = sharedNodeName(header.pools, i);
        if (shared)
          this.issue(
            line,
            `pools[${i}].nodeName`,
            `its node ${shared.name} would have the name of pools[${shared.pool}]'s node ${shared.index}: give the pools node names that cannot meet`,
          );
      }
    });
    const nodeNames = new Set<string>();
    header.nodes.forEach((node, i) => {
      if (nodeNames.has(node.name))
        this.issue(line, `nodes[${i}].name`, `node ${JSON.stringify(node.name)} appears twice`);
      nodeNames.add(node.name);
      const owner = header.pools.find((pool) => poolNodeIndex(pool, node.name) !== undefined);
      if (owner)
        this.issue(
          line,
          `nodes[${i}].name`,
          `${node.name} is a name of pool ${owner.name}'s nodes (${owner.nodeName})`,
        );
    });
    if (Number.isNaN(Date.parse(header.start)))
      this.issue(line, "start", `${JSON.stringify(header.start)} is not a valid time`);
    return this.issues.length === before;
  }

  readEvent(data: unknown, type: unknown, line: number): void {
    if (!this.header) return;
    const schema =
      typeof type === "string" ? EVENT_LINES[type as keyof typeof EVENT_LINES] : undefined;
    if (!schema) {
      const known = Object.keys(EVENT_LINES);
      const hint = typeof type === "string" ? didYouMean(type, known) : undefined;
      const got = type === undefined ? "no type" : `type ${JSON.stringify(type)}`;
      const suggestion = hint ? `; did you mean "${hint}"?` : "";
      this.issue(line, "type", `${got}: an event is one of ${known.join(", ")}${suggestion}`);
      return;
    }
    const event = this.validate(schema as z.ZodType, data, line) as
      | z.output<(typeof EVENT_LINES)[keyof typeof EVENT_LINES]>
      | undefined;
    if (!event || !this.checkTime(event.at, line)) return;
    if (event.type === "pod") this.addArrivals(event, line);
    else this.addPodEvent(event, line);
  }

  checkTime(at: number, line: number): boolean {
    const duration = (this.header as HeaderLine).duration;
    if (at < this.lastAt) {
      this.issue(
        line,
        "at",
        `events must be in time order: this one (${traceTime(at)}) is before the line above (${traceTime(this.lastAt)})`,
      );
      return false;
    }
    if (at >= duration) {
      this.issue(
        line,
        "at",
        `${traceTime(at)} is not before the trace's end (its duration, ${traceTime(duration)}): every event is before it`,
      );
      return false;
    }
    this.lastAt = at;
    return true;
  }

  addArrivals(event: PodLine, line: number): void {
    if (event.count === undefined && event.name.includes("{i}")) {
      this.issue(line, "name", "{i} numbers the pods of a count: give count, or leave {i} out");
      return;
    }
    const count = event.count ?? 1;
    for (let i = 0; i < count; i++) {
      const name = podName(event.name, event.count === undefined ? undefined : i);
      const [namespace, short] = name.includes("/") ? splitKey(name) : ["default", name];
      const arrival = toArrival(event, namespace, short, line);
      const key = arrivalKey(arrival);
      const earlier = this.pods.get(key);
      if (earlier) {
        this.issue(
          line,
          "name",
          `pod ${key} already arrived on line ${earlier.arrival.line}; pod names are unique in a trace`,
        );
        return;
      }
      this.pods.set(key, { arrival });
      this.events.push(arrival);
    }
  }

  addPodEvent(
    event: { type: "usage" | "delete"; at: number; pod: string; usage?: UsageLine },
    line: number,
  ): void {
    const key = event.pod.includes("/") ? event.pod : `default/${event.pod}`;
    const record = this.pods.get(key);
    if (!record) {
      this.issue(line, "pod", `no pod ${key} arrived before this line`);
      return;
    }
    if (record.deletedAt !== undefined) {
      this.issue(line, "pod", `pod ${key} was deleted before this line`);
      return;
    }
    if (event.type === "delete") {
      record.deletedAt = event.at;
      this.events.push({ kind: "delete", at: event.at, line, pod: key });
      return;
    }
    const usage = toProfile(event.usage, record.arrival.requests);
    this.events.push({ kind: "usage", at: event.at, line, pod: key, usage });
  }

  validate<T extends z.ZodType>(schema: T, data: unknown, line: number): z.output<T> | undefined {
    const parsed = schema.safeParse(data, { error: configIssueMessage });
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) {
      if (issue.code === "unrecognized_keys") {
        const known = knownKeysAt(schema, issue.path);
        for (const key of issue.keys)
          this.issue(line, formatKeyPath([...issue.path, key]), unknownKeyMessage(key, known));
      } else this.issue(line, formatKeyPath(issue.path), issue.message);
    }
    return undefined;
  }

  trace(header: HeaderLine): Trace {
    const trace: Trace = {
      file: this.file,
      name: header.name,
      start: Date.parse(header.start),
      durationMs: header.duration,
      pools: header.pools.map(
        (pool): TracePool => ({
          name: pool.name,
          count: pool.count,
          min: pool.min ?? Math.min(1, pool.count),
          nodeName: pool.nodeName,
          indexBase: pool.indexBase,
          allocatable: { cpu: pool.node.cpu, memory: pool.node.memory, pods: pool.node.pods },
          labels: pool.node.labels,
          taints: pool.node.taints,
        }),
      ),
      nodes: header.nodes.map((node) => ({
        name: node.name,
        controlPlane: node.controlPlane,
        allocatable: { cpu: node.cpu, memory: node.memory, pods: node.pods },
        labels: node.labels,
        taints: node.taints,
      })),
      events: this.events,
    };
    if (header.description !== undefined) trace.description = header.description;
    if (header.config !== undefined) trace.config = header.config;
    return trace;
  }
}

/**
 * A name that node `i` of pool `p` and a node of an earlier pool would both have (`w-{index}`
 * and `w-1{index}` both make `w-10`), among the first MAX_COUNT of each: two nodes of one name
 * cannot be in a cluster.
 */
function sharedNodeName(
  pools: readonly { nodeName: string; indexBase: number }[],
  p: number,
): { name: string; pool: number; index: number } | undefined {
  const pool = pools[p] as (typeof pools)[number];
  const prefix = (template: string) => template.slice(0, template.indexOf("{index}"));
  for (let other = 0; other < p; other++) {
    const [mine, theirs] = [prefix(pool.nodeName), prefix((pools[other] as typeof pool).nodeName)];
    // A name begins with its template's prefix: prefixes that differ early never meet.
    if (!mine.startsWith(theirs) && !theirs.startsWith(mine)) continue;
    for (let i = 0; i < MAX_COUNT; i++) {
      const name = poolNodeName(pool, i);
      const index = poolNodeIndex(pools[other] as (typeof pools)[number], name);
      if (index !== undefined && index < MAX_COUNT) return { name, pool: other, index };
    }
  }
  return undefined;
}

/** The name of node `i` of a pool (Terraform count index `i`). */
export function poolNodeName(pool: { nodeName: string; indexBase: number }, i: number): string {
  return pool.nodeName.replaceAll("{index}", String(pool.indexBase + i));
}

/** The count index of the pool's node called `name`; undefined when the pool makes no such name. */
export function poolNodeIndex(
  pool: { nodeName: string; indexBase: number },
  name: string,
): number | undefined {
  const prefix = pool.nodeName.slice(0, pool.nodeName.indexOf("{index}"));
  if (!name.startsWith(prefix)) return undefined;
  const digits = /^\d*/.exec(name.slice(prefix.length))?.[0] ?? "";
  // A template may go on with digits after the index ("node{index}0").
  for (let length = digits.length; length > 0; length--) {
    const index = Number(digits.slice(0, length)) - pool.indexBase;
    if (index >= 0 && poolNodeName(pool, index) === name) return index;
  }
  return undefined;
}

function podName(template: string, i: number | undefined): string {
  if (i === undefined) return template;
  return template.includes("{i}") ? template.replaceAll("{i}", String(i)) : `${template}-${i}`;
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf("/");
  return [key.slice(0, slash), key.slice(slash + 1)];
}

function toArrival(event: PodLine, namespace: string, name: string, line: number): PodArrival {
  const requests = { cpu: event.requests.cpu ?? 0, memory: event.requests.memory ?? 0 };
  const arrival: PodArrival = {
    kind: "pod",
    at: event.at,
    line,
    namespace,
    name,
    requests,
    usage: toProfile(event.usage, requests),
    labels: { app: name, ...event.labels },
    nodeSelector: event.nodeSelector,
    tolerations: event.tolerations,
    priority: event.priority,
    localStorage: event.localStorage,
  };
  const owner = ownerOf(event, name);
  if (owner) arrival.owner = owner;
  if (event.duration !== undefined) arrival.durationMs = event.duration;
  if (event.safeToEvict !== undefined) arrival.safeToEvict = event.safeToEvict;
  return arrival;
}

/** Pods that finish belong to a Job, the rest to a Deployment, unless the line says. */
function ownerOf(event: PodLine, name: string): OwnerRef | undefined {
  const kind = event.owner ?? (event.duration !== undefined ? "Job" : "Deployment");
  return kind === "none" ? undefined : { kind, name };
}

/** A resource a usage value leaves out is the pod's request. */
function toProfile(
  usage: UsageLine | undefined,
  requests: { cpu: number; memory: number },
): UsageProfile {
  if (!usage?.points)
    return {
      kind: "constant",
      cpu: usage?.cpu ?? requests.cpu,
      memory: usage?.memory ?? requests.memory,
    };
  const profile: UsageProfile = {
    kind: "points",
    shape: usage.shape ?? "step",
    points: usage.points.map((point) => ({
      at: point.at,
      cpu: point.cpu ?? requests.cpu,
      memory: point.memory ?? requests.memory,
    })),
  };
  if (usage.period !== undefined) profile.periodMs = usage.period;
  return profile;
}

/**
 * What breaks a line's JSON, and at which column: the line is one JSON object, so the end of
 * the text is the end of the line (JSON.parse's own message counts lines within the one it was
 * given, always line 1).
 */
function notJson(source: string, error: Error): string {
  const problem = jsonProblem(source);
  if (!problem) return `not valid JSON: ${error.message}`;
  const message = problem.message.replaceAll("the end of the file", "the end of the line");
  return `not valid JSON at column ${problem.offset + 1}: ${message}`;
}

/** A time from the trace's start as a trace writes it: `90s`, `1h30m`, or `1.5s`. */
function traceTime(ms: number): string {
  return ms % 1000 === 0 ? formatDuration(ms) : `${ms / 1000}s`;
}
