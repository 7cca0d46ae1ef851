import type { VpaInfo } from "../planning/snapshot.ts";
import type { RightsizingConfig } from "../policy/rightsizing-config.ts";
import {
  decideResource,
  decideSharedResource,
  heldDecision,
  type ResourceInput,
} from "./decide-resource.ts";
import { readFileResources } from "./file-resources.ts";
import type { RepoIndex } from "./repo-index.ts";
import type {
  ContainerRightsizing,
  Recommendation,
  ResourceDecision,
  ResourceName,
  ResourcesLocation,
  WorkloadId,
  WorkloadRightsizing,
} from "./resources-proposal.ts";
import {
  configRange,
  historyProblems,
  hpaOn,
  oomKillsOf,
  podsGuaranteed,
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

/**
 * Values other containers read too (see shared-places.ts): every container they set, those
 * with a recommendation to go by, each with its workload's input (the first of them decides
 * the values for all), and those without one, with why.
 */
export interface SharedValues {
  readers: string[];
  planned: { reader: string; input: DecideWorkloadInput; container: LocatedContainer }[];
  unknown: { reader: string; why: string; settled?: true }[];
}

/**
 * Decides every configured resource of every located container of one workload. SHAREDAT
 * tells which of its containers' places other containers read too: those are decided once,
 * for all of them.
 */
export function decideWorkload(
  input: DecideWorkloadInput,
  sharedAt: (location: ResourcesLocation) => SharedValues | undefined = () => undefined,
): WorkloadRightsizing {
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
    containers: input.containers.map((container) => {
      const shared = sharedAt(container.location);
      const own = resourceInputs(input, container, history.problems);
      const oom = oomKillsOf(input.facts, container.name, now, config.oom.window);
      const decided: ContainerRightsizing = {
        name: container.name,
        location: container.location,
        resources: shared
          ? decideShared(input, container, own, shared)
          : own.map((resource) => decideResource(resource)),
        oomKills: oom.kills,
        ...(oom.restarts === undefined ? {} : { oomRestarts: oom.restarts }),
      };
      if (shared) {
        const self = readerLabel(input.facts.workload, container.name);
        decided.sharedWith = shared.readers.filter((reader) => reader !== self);
      }
      return decided;
    }),
  };
  if (history.ageMs !== undefined) result.historyMs = history.ageMs;
  return result;
}

/** `Kind ns/name container c`: one container that values may set. */
export function readerLabel(workload: WorkloadId, container: string): string {
  return `${workload.kind} ${workload.namespace}/${workload.name} container ${container}`;
}

/**
 * The decisions for values other containers read too: made by the first container with a
 * recommendation, from every such container's own data, and held while any container they
 * set has none to go by.
 */
function decideShared(
  input: DecideWorkloadInput,
  container: LocatedContainer,
  own: ResourceInput[],
  shared: SharedValues,
): ResourceDecision[] {
  const [owner] = shared.planned;
  if (owner && owner.reader !== readerLabel(input.facts.workload, container.name))
    return own.map((resource) => heldDecision(resource, { kind: "shared", owner: owner.reader }));
  if (shared.unknown.length > 0)
    return own.map((resource) =>
      heldDecision(resource, { kind: "shared-unknown", readers: shared.unknown }),
    );
  const readers = shared.planned.map((reader) => {
    const { vpa, config, now } = reader.input;
    const problems = historyProblems(vpa, now, config.minHistory).problems;
    return {
      reader: reader.reader,
      inputs: resourceInputs(reader.input, reader.container, problems),
    };
  });
  return own.map((_, i) =>
    decideSharedResource(
      readers.map((reader) => ({
        reader: reader.reader,
        input: reader.inputs[i] as ResourceInput,
      })),
    ),
  );
}

/** What each configured resource of a located container is decided on. */
function resourceInputs(
  input: DecideWorkloadInput,
  container: LocatedContainer,
  problems: string[],
): ResourceInput[] {
  const { vpa, facts, config, now } = input;
  const file = readFileResources(input.index, container.location);
  const policy = policyFor(vpa, container.name);
  const recommended = vpa.recommendations.find((r) => r.containerName === container.name);
  const oom = oomKillsOf(facts, container.name, now, config.oom.window);
  const key = `${facts.workload.namespace}/${facts.workload.name}`;
  const onlyIncrease =
    config.stateful.changes === "increase" && config.stateful.workloads.includes(key);
  return config.resources.map((resource: ResourceName) => {
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
    // Kubernetes gives a container that sets a limit and no request its limit as request: that
    // is what the pods request, what the tolerance and the stateful rule judge a change from.
    const fromLimit =
      request.amount === undefined && !request.unreadable && limit.amount !== undefined;
    return {
      resource,
      ...(request.amount !== undefined
        ? { current: request.amount }
        : fromLimit
          ? { current: limit.amount, requestFromLimit: true }
          : {}),
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
      guaranteed: podsGuaranteed(facts),
    } satisfies ResourceInput;
  });
}
