import { expect } from "@jest/globals";
import { parseAllDocuments } from "yaml";
import { toVpaInfo } from "../../src/cluster/autoscaler-info.ts";
import { WarningCollector } from "../../src/cluster/warnings.ts";
import type { PodInfo, VpaInfo } from "../../src/planning/snapshot.ts";
import { locateContainer } from "../../src/rightsizing/locate-container.ts";
import { planRightsizing, type RightsizingPlan } from "../../src/rightsizing/plan-rightsizing.ts";
import type { RepoFile } from "../../src/rightsizing/repo-files.ts";
import { indexRepo } from "../../src/rightsizing/repo-index.ts";
import type { WorkloadId } from "../../src/rightsizing/resources-proposal.ts";
import { fixtureVpaObject, rightsizingConfig, snapshot } from "./rightsizing-helpers.ts";

// Helpers for tests that plan over a fixture repo and variants of its files.

export const NOW = new Date("2025-06-06T12:00:00Z");

export function locate(
  files: RepoFile[],
  workload: WorkloadId,
  container: string,
  containerCount = 1,
) {
  return locateContainer(indexRepo(files), rightsizingConfig({}), {
    workload,
    container,
    containerCount,
  });
}

export function plan(files: RepoFile[], vpas: VpaInfo[], pods: PodInfo[] = []): RightsizingPlan {
  return planRightsizing({
    snapshot: snapshot({ vpas, pods }),
    config: rightsizingConfig({}),
    files,
    now: NOW,
  });
}

/**
 * A fixture VPA pointed at another workload (same recorded numbers); with CONTAINERS, its
 * first container's recommendation is given to each of them.
 */
export function vpaFor(
  file: string,
  target: { namespace: string; kind: string; name: string },
  containers?: string[],
): VpaInfo {
  const raw = fixtureVpaObject(file);
  if (containers) {
    const [first] = raw.status.recommendation.containerRecommendations;
    raw.status.recommendation.containerRecommendations = containers.map((containerName) => ({
      ...first,
      containerName,
    }));
  }
  raw.metadata.name = target.name;
  raw.metadata.namespace = target.namespace;
  raw.spec.targetRef.kind = target.kind;
  raw.spec.targetRef.name = target.name;
  const warnings = new WarningCollector();
  const vpa = toVpaInfo(raw, warnings);
  expect(warnings.finish()).toEqual([]);
  return vpa;
}

export function withText(
  files: RepoFile[],
  path: string,
  edit: (text: string) => string,
): RepoFile[] {
  expect(files.some((file) => file.path === path)).toBe(true);
  return files.map((file) => (file.path === path ? { path, text: edit(file.text) } : file));
}

export function textOf(files: RepoFile[], path: string): string {
  const file = files.find((f) => f.path === path);
  if (!file) throw new Error(`no ${path}`);
  return file.text;
}

/** Replaces FROM by TO at its first occurrence after MARKER; fails when either is absent. */
export function replacedAfter(text: string, marker: string, from: string, to: string): string {
  const start = text.indexOf(marker);
  if (start < 0) throw new Error(`no ${JSON.stringify(marker)}`);
  const at = text.indexOf(from, start);
  if (at < 0) throw new Error(`no ${JSON.stringify(from)} after ${JSON.stringify(marker)}`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

/** The lines of AFTER that are not in BEFORE, checking BEFORE's lines all stay, in order. */
export function addedLines(before: string, after: string): string[] {
  const kept = before.split("\n");
  const added: string[] = [];
  let next = 0;
  for (const line of after.split("\n")) {
    if (next < kept.length && line === kept[next]) next++;
    else added.push(line);
  }
  expect(next).toBe(kept.length);
  return added;
}

export function parses(text: string): void {
  for (const document of parseAllDocuments(text)) expect(document.errors).toEqual([]);
}
