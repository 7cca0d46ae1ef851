import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { formatKeyPath } from "../editors/path.ts";
import { InputError } from "../errors.ts";
import { matchesLabelSelector } from "../planning/scheduling.ts";
import { CONFIG_YAML_OPTIONS } from "../policy/config-yaml.ts";
import {
  type ConfigIssue,
  formatConfigIssues,
  loadRepoConfig,
} from "../policy/load-repo-config.ts";
import type { RepoConfig } from "../policy/repo-config.ts";
import { locateInYaml } from "../policy/yaml-locations.ts";
import { fileReadError, readFailure } from "../util/read-failure.ts";
import { parseTrace, poolNodeName } from "./parse-trace.ts";
import type { Trace, TracePool } from "./trace.ts";

export interface BacktestInputs {
  trace: Trace;
  config: RepoConfig;
  /** The config file as shown in messages. */
  configFile: string;
}

/**
 * Reads the trace and the repo config it is replayed with: `configFile` when given, else the
 * header's `config` (relative to the trace). Either file being wrong, or the config not
 * fitting the trace's pools, is an InputError (exit 2) with file:line.
 */
export async function loadBacktestInputs(
  traceFile: string,
  configFile: string | undefined,
  cwd: string,
): Promise<BacktestInputs> {
  const trace = parseTrace(await readText(resolve(cwd, traceFile), traceFile), traceFile);
  // The header's config is relative to the trace; an absolute one stays as it is.
  const shown =
    configFile ?? (trace.config ? resolveFrom(dirname(traceFile), trace.config) : undefined);
  if (shown === undefined)
    throw new InputError('no repo config: give --config FILE, or "config" in the trace header', {
      file: traceFile,
      line: 1,
    });
  // A header's config that cannot be read is the header's line to fix.
  const text = await readText(
    resolve(cwd, shown),
    shown,
    configFile === undefined ? { file: traceFile, line: 1 } : undefined,
  );
  const loaded = loadRepoConfig(text, shown);
  if (!loaded.ok) throw configError(loaded.issues);
  const issues = configTraceIssues(loaded.config, text, shown, trace);
  if (issues.length > 0) throw configError(issues);
  return { trace, config: loaded.config, configFile: shown };
}

/**
 * Where the config does not fit the trace: each config pool must be a trace pool, recognise
 * exactly that pool's nodes, and pick the node a decrease removes the way Terraform `count`
 * does (the highest index), and each trace pool must be in the config.
 */
export function configTraceIssues(
  config: RepoConfig,
  text: string,
  file: string,
  trace: Trace,
): ConfigIssue[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...CONFIG_YAML_OPTIONS, lineCounter });
  const at = (path: PropertyKey[], message: string): ConfigIssue => ({
    file,
    ...locateInYaml(doc, lineCounter, path),
    path: formatKeyPath(path),
    message,
  });
  const issues: ConfigIssue[] = [];
  config.pools.forEach((pool, i) => {
    const tracePool = trace.pools.find((candidate) => candidate.name === pool.name);
    if (!tracePool) {
      const names = trace.pools.map((candidate) => candidate.name).join(", ");
      issues.push(
        at(
          ["pools", i, "name"],
          `the trace has no pool ${JSON.stringify(pool.name)} (its pools: ${names})`,
        ),
      );
      return;
    }
    const selectorProblem = selectorIssue(pool.selector, tracePool, trace);
    if (selectorProblem)
      issues.push(at(["pools", i, pool.selector ? "selector" : "name"], selectorProblem));
    const removalProblem = removalIssue(pool.removal, tracePool);
    if (removalProblem)
      issues.push(at(["pools", i, pool.removal.nameTemplate ? "removal" : "name"], removalProblem));
    for (const [field, problem] of newNodeIssues(pool.newNode, tracePool))
      issues.push(at(["pools", i, ...(field ? ["newNode", field] : ["name"])], problem));
  });
  for (const tracePool of trace.pools)
    if (!config.pools.some((pool) => pool.name === tracePool.name))
      issues.push(
        at(
          ["pools"],
          `no pool ${JSON.stringify(tracePool.name)}: every pool of the trace needs one (set min = max to keep it fixed)`,
        ),
      );
  return issues;
}

function resolveFrom(dir: string, path: string): string {
  return isAbsolute(path) ? path : join(dir, path);
}

function selectorIssue(
  selector: RepoConfig["pools"][number]["selector"],
  pool: TracePool,
  trace: Trace,
): string | undefined {
  const matches = (labels: Record<string, string>) =>
    !selector || matchesLabelSelector(selector, labels);
  const sample = poolNodeName(pool, 0);
  if (!matches({ "kubernetes.io/hostname": sample, ...pool.labels }))
    return `the selector does not recognise the trace's ${pool.name} nodes (labels ${JSON.stringify(pool.labels)})`;
  for (const other of trace.pools)
    if (
      other !== pool &&
      matches({ "kubernetes.io/hostname": poolNodeName(other, 0), ...other.labels })
    )
      return `the selector also recognises the trace's ${other.name} nodes; give it labels only ${pool.name} nodes carry`;
  for (const node of trace.nodes)
    if (!node.controlPlane && matches({ "kubernetes.io/hostname": node.name, ...node.labels }))
      return `the selector also recognises the trace's fixed node ${node.name}; give it labels only ${pool.name} nodes carry`;
  return undefined;
}

/**
 * A new node's size is the trace's (the simulation adds nodes of that size): a configured size
 * that differs would have the planner pack for nodes that never come, and a pool that starts
 * with no node gives the planner nothing to learn the size from.
 */
function newNodeIssues(
  newNode: RepoConfig["pools"][number]["newNode"],
  pool: TracePool,
): [field: NewNodeField | undefined, problem: string][] {
  const issues: [field: NewNodeField | undefined, problem: string][] = [];
  for (const field of ["cpu", "memory", "pods"] as const) {
    const configured = newNode[field];
    const traced = pool.allocatable[field];
    if (configured !== undefined && configured !== traced)
      issues.push([
        field,
        `${quantity(field, configured)} is not the size of the trace's ${pool.name} nodes (${quantity(field, traced)}): leave newNode.${field} out, or set ${quantity(field, traced)}`,
      ]);
  }
  // The trace's nodes have no extended resources, so neither have the simulation's new nodes.
  const extended = Object.keys(newNode.extendedResources);
  if (extended.length > 0)
    issues.push([
      "extendedResources",
      `the trace's ${pool.name} nodes have no ${extended.join(", ")}: leave newNode.extendedResources out`,
    ]);
  // The simulation's new nodes carry the trace's labels and taints: configured ones they lack
  // would have the planner place pods on nodes that never come.
  const missing = Object.entries(newNode.labels).filter(
    ([key, value]) => pool.labels[key] !== value,
  );
  if (missing.length > 0)
    issues.push([
      "labels",
      `the trace's ${pool.name} nodes do not carry ${missing.map(([key, value]) => `${key}=${value}`).join(", ")}: leave them out of newNode.labels, or give the trace's pool node those labels`,
    ]);
  const untraced = newNode.taints.filter(
    (taint) =>
      !pool.taints.some(
        (other) =>
          other.key === taint.key &&
          (other.value ?? "") === (taint.value ?? "") &&
          other.effect === taint.effect,
      ),
  );
  if (untraced.length > 0)
    issues.push([
      "taints",
      `the trace's ${pool.name} nodes do not carry the taint ${untraced.map((taint) => `${taint.key}${taint.value ? `=${taint.value}` : ""}:${taint.effect}`).join(", ")}: leave it out of newNode.taints, or give the trace's pool node that taint`,
    ]);
  if (pool.count === 0 && (newNode.cpu === undefined || newNode.memory === undefined))
    issues.push([
      undefined,
      `the trace's ${pool.name} pool starts with no node, so the planner cannot learn a new node's size: set newNode.cpu: ${quantity("cpu", pool.allocatable.cpu)} and newNode.memory: ${quantity("memory", pool.allocatable.memory)}`,
    ]);
  return issues;
}

type NewNodeField = "cpu" | "memory" | "pods" | "extendedResources" | "labels" | "taints";

/** An amount written as the config takes it: cpu in millicores, memory in Gi or Mi. */
function quantity(field: "cpu" | "memory" | "pods", amount: number): string {
  if (field === "cpu") return `${amount}m`;
  if (field === "pods") return String(amount);
  if (amount % 2 ** 30 === 0) return `${amount / 2 ** 30}Gi`;
  return amount % 2 ** 20 === 0 ? `${amount / 2 ** 20}Mi` : String(amount);
}

function removalIssue(
  removal: RepoConfig["pools"][number]["removal"],
  pool: TracePool,
): string | undefined {
  if (removal.nameTemplate !== undefined) {
    if (removal.nameTemplate === pool.nodeName && removal.indexBase === pool.indexBase)
      return undefined;
    return `removal names nodes ${removal.nameTemplate} from ${removal.indexBase}, the trace ${pool.nodeName} from ${pool.indexBase}`;
  }
  if (pool.nodeName.endsWith("{index}")) return undefined;
  return `the trace's node names (${pool.nodeName}) do not end in the index: set removal.nameTemplate: ${pool.nodeName}`;
}

function configError(issues: readonly ConfigIssue[]): InputError {
  const [first, ...rest] = issues as [ConfigIssue, ...ConfigIssue[]];
  const head = first.path ? `${first.path}: ${first.message}` : first.message;
  const tail = rest.length > 0 ? `\n${formatConfigIssues(rest)}` : "";
  return new InputError(`${head}${tail}`, {
    file: first.file,
    line: first.line,
    column: first.column,
  });
}

/** A file's text; `header` is where the trace named it, when it did. */
async function readText(
  path: string,
  shown: string,
  header?: { file: string; line: number },
): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if (header)
      throw new InputError(
        `config: cannot read ${shown}: ${readFailure(error)} (the header's config is relative to the trace)`,
        header,
      );
    throw fileReadError(shown, error);
  }
}
