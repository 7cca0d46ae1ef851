import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDocument } from "yaml";
import { toVpaInfo } from "../../src/cluster/autoscaler-info.ts";
import { WarningCollector } from "../../src/cluster/warnings.ts";
import { parseBytes, parseCpu } from "../../src/planning/quantity.ts";
import type { HpaInfo, PodInfo, Snapshot, VpaInfo } from "../../src/planning/snapshot.ts";
import {
  RightsizingConfig,
  type RightsizingConfigInput,
} from "../../src/policy/rightsizing-config.ts";
import type { RepoFile } from "../../src/rightsizing/repo-files.ts";
import { buildSnapshot } from "../support/snapshot-builder.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/rightsizing/", import.meta.url));

/** Every file under a fixture folder, with paths relative to it: the folder is the repo. */
export function fixtureRepo(folder: string): RepoFile[] {
  const root = join(FIXTURES, folder);
  const files: RepoFile[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else
        files.push({
          path: relative(root, path).split("\\").join("/"),
          text: readFileSync(path, "utf8"),
        });
    }
  };
  walk(root);
  return files;
}

/** A fixture VPA object as the API serves it, before translation. */
export function fixtureVpaObject(name: string) {
  return parseDocument(readFileSync(join(FIXTURES, "vpa", name), "utf8")).toJS();
}

/** A fixture VPA object, translated by the cluster reader's own adapter. */
export function fixtureVpa(name: string): VpaInfo {
  const raw = fixtureVpaObject(name);
  const warnings = new WarningCollector();
  const vpa = toVpaInfo(raw, warnings);
  const problems = warnings.finish();
  if (problems.length > 0) throw new Error(`${name}: ${JSON.stringify(problems)}`);
  return vpa;
}

export function rightsizingConfig(input: RightsizingConfigInput = {}): RightsizingConfig {
  return RightsizingConfig.parse(input);
}

type Amounts = { cpu?: string; memory?: string };

export interface WorkloadPodSpec {
  kind?: string;
  container?: string;
  requests?: Amounts;
  limits?: Amounts;
  usage?: Amounts;
  oomKills?: { at?: string; restarts?: number }[];
  labels?: Record<string, string>;
  phase?: PodInfo["phase"];
}

function resources(amounts: Amounts = {}) {
  const out: { cpu?: number; memory?: number } = {};
  if (amounts.cpu !== undefined) out.cpu = parseCpu(amounts.cpu);
  if (amounts.memory !== undefined) out.memory = parseBytes(amounts.memory);
  return out;
}

/** A running pod of `namespace/workload` with one container (`app` unless told). */
export function workloadPod(key: string, podName: string, spec: WorkloadPodSpec = {}): PodInfo {
  const [namespace = "", name = ""] = key.split("/");
  const container = spec.container ?? "app";
  const requests = resources(spec.requests);
  const info: PodInfo = {
    namespace,
    name: podName,
    phase: spec.phase ?? "Running",
    nodeName: "worker-1",
    labels: spec.labels ?? {},
    owner: { kind: spec.kind ?? "Deployment", name },
    requests,
    containers: [{ name: container, requests, limits: resources(spec.limits) }],
    initContainers: [],
    nodeSelector: {},
    tolerations: [],
    blockingVolumes: [],
    doNotDisrupt: false,
    daemonSet: false,
    mirror: false,
    oomKills: (spec.oomKills ?? []).map((kill) => ({
      container,
      ...(kill.at ? { at: kill.at } : {}),
      ...(kill.restarts === undefined ? {} : { restarts: kill.restarts }),
    })),
    createdAt: "2025-06-01T00:00:00Z",
  };
  if (spec.usage) {
    const usage = resources(spec.usage);
    (info.containers[0] as PodInfo["containers"][number]).usage = {
      ...usage,
      source: "metrics-server",
    };
  }
  return info;
}

export function hpa(key: string, metrics: string[]): HpaInfo {
  const [namespace = "", name = ""] = key.split("/");
  return {
    namespace,
    name,
    target: { kind: "Deployment", name },
    resourceMetrics: metrics,
    maxReplicas: 5,
  };
}

export function snapshot(spec: {
  vpas: VpaInfo[];
  pods?: PodInfo[];
  hpas?: HpaInfo[];
  complete?: boolean;
}): Snapshot {
  return {
    ...buildSnapshot({ pods: spec.pods ?? [], complete: spec.complete ?? true }),
    vpas: spec.vpas,
    hpas: spec.hpas ?? [],
  };
}

/** `text` with the first occurrence of `from` replaced; fails when absent so tests stay honest. */
export function replaced(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`fixture does not contain ${JSON.stringify(from)}`);
  return text.replace(from, to);
}
