import type { VpaInfo } from "../planning/snapshot.ts";
import type { RightsizingConfig } from "../policy/rightsizing-config.ts";
import { decideResource } from "./decide-resource.ts";
import { readFileResources } from "./file-resources.ts";
import type { RepoIndex } from "./repo-index.ts";
import type {
  ContainerRightsizing,
  Recommendation,
  ResourceName,
  ResourcesLocation,
  WorkloadRightsizing,
} from "./resources-proposal.ts";
import {
  configRange,
  historyProblems,
  hpaOn,
  oomKillsOf,
  policyFor,
  runningAmounts,
  usageOf,
  vpaRange,
  type WorkloadFacts,
} from "./workload-facts.ts";

export interface LocatedContainer {
  name: string;
  location: ResourcesLocation;
}

export interface DecideWorkloadInput {
  vpa: VpaInfo;
  facts: WorkloadFacts;
  containers: LocatedContainer[];
  index: RepoIndex;
  config: RightsizingConfig;
  now: Date;
}

/** Decides every configured resource of every located container of one workload. */
export function decideWorkload(input: DecideWorkloadInput): WorkloadRightsizing {
  const { vpa, config, now } = input;
  const history = historyProblems(vpa, now, config.minHistory);
  const result: WorkloadRightsizing = {
    workload: input.facts.workload,
    vpa: {
      namespace: vpa.namespace,
      name: vpa.name,
      updateMode: vpa.updateMode,
      createdAt: vpa.createdAt,
    },
    containers: input.containers.map((container) =>
      decideContainer(input, container, history.problems),
    ),
  };
  if (history.ageMs !== undefined) result.historyMs = history.ageMs;
  return result;
}

function decideContainer(
  input: DecideWorkloadInput,
  container: LocatedContainer,
  problems: string[],
): ContainerRightsizing {
  const { vpa, facts, config, now } = input;
  const file = readFileResources(input.index, container.location);
  const policy = policyFor(vpa, container.name);
  const recommended = vpa.recommendations.find((r) => r.containerName === container.name);
  const oom = oomKillsOf(facts, container.name, now, config.oom.window);
  const key = `${facts.workload.namespace}/${facts.workload.name}`;
  const onlyIncrease =
    config.stateful.changes === "increase" && config.stateful.workloads.includes(key);
  const resources = config.resources.map((resource: ResourceName) => {
    const request = file.requests[resource];
    const limit = file.limits[resource];
    const recommendation: Recommendation = {};
    for (const field of ["target", "lowerBound", "upperBound", "uncappedTarget"] as const) {
      const value = recommended?.[field]?.[resource];
      if (value !== undefined) recommendation[field] = value;
    }
    const unreadable = request.unreadable
      ? { field: `requests.${resource}`, value: request.raw }
      : limit.unreadable
        ? { field: `limits.${resource}`, value: limit.raw }
        : undefined;
    return decideResource({
      resource,
      ...(request.amount === undefined ? {} : { current: request.amount }),
      ...(limit.amount === undefined ? {} : { currentLimit: limit.amount }),
      ...(unreadable ? { unreadable } : {}),
      recommendation,
      vpaRange: vpaRange(policy, resource),
      configRange: configRange(config, facts.workload, container.name, resource),
      step: config.steps[resource],
      tolerance: config.tolerance,
      limitMode: config.limits[resource],
      aboveLimit: config.limits.aboveLimit,
      controlled:
        policy?.controlledResources === undefined || policy.controlledResources.includes(resource),
      ...(hpaOn(facts, resource) ? { hpa: hpaOn(facts, resource) } : {}),
      historyProblems: problems,
      ...(resource === "memory" && oom.kills > 0
        ? { oom: { ...oom, margin: config.oom.margin } }
        : {}),
      onlyIncrease,
      ...(usageOf(facts, container.name, resource) === undefined
        ? {}
        : { usage: usageOf(facts, container.name, resource) }),
      running: runningAmounts(facts, container.name, resource),
      runningLimits: runningAmounts(facts, container.name, resource, "limits"),
      vpaApplies: vpa.updateMode !== "Off",
      vpaScalesLimits: vpa.updateMode !== "Off" && policy?.controlledValues !== "RequestsOnly",
      updateMode: vpa.updateMode,
    });
  });
  return { name: container.name, location: container.location, resources, oomKills: oom.kills };
}
