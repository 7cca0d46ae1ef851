import { percentBeside } from "../planning/format.ts";
import type { LimitMode } from "../policy/rightsizing-config.ts";
import type {
  DerivationStep,
  Recommendation,
  ResourceDecision,
  ResourceName,
  RightsizeHold,
  RightsizeTrigger,
} from "./resources-proposal.ts";

/** A min/max pair; either side may be unset. */
export interface Range {
  min?: number;
  max?: number;
}

/** Everything one resource of one container is decided on. Pure data, snapshot units. */
export interface ResourceInput {
  resource: ResourceName;
  /**
   * The request in the file; absent when the file sets none. Where it sets a limit and no
   * request, the limit (`requestFromLimit`): Kubernetes gives the container its limit as request.
   */
  current?: number;
  requestFromLimit?: boolean;
  currentLimit?: number;
  /** A value in the file that is not a quantity (a template, a typo). */
  unreadable?: { field: string; value: unknown };
  recommendation: Recommendation;
  /** The VPA's resourcePolicy minAllowed/maxAllowed for the container. */
  vpaRange: Range;
  /** The config's min/max for this container. */
  configRange: Range;
  step: number;
  /** Percent. */
  tolerance: number;
  limitMode: LimitMode;
  aboveLimit: "raise" | "refuse";
  /** False when the VPA's controlledResources leaves this resource out. */
  controlled: boolean;
  /** An HPA that scales the workload on this resource. */
  hpa?: string;
  /** Why the VPA's history is not enough yet; empty when it is. */
  historyProblems: string[];
  /**
   * Recent OOM kills of the container its pods still show (memory only), their restart counts
   * added up when known, and the margin to add, in %.
   */
  oom?: { kills: number; last?: string; restarts?: number; margin: number };
  /** `increase`: a stateful workload whose requests may only go up. */
  onlyIncrease?: boolean;
  usage?: number;
  /** Distinct requests of the running pods. */
  running?: number[];
  /** Distinct limits of the running pods. */
  runningLimits?: number[];
  /** True when the VPA itself rewrites pod requests (any mode but Off), so pods differ from the file. */
  vpaApplies: boolean;
  /**
   * True when the VPA also sets pod limits (any mode but Off, with controlledValues
   * RequestsAndLimits, the default): it scales them with the requests it sets, so the pods'
   * limits are not the ones their template gives them.
   */
  vpaScalesLimits: boolean;
  /** The VPA's updateMode, for what is said about it. */
  updateMode?: string;
  /** True when the workload's running pods are all of QoS class Guaranteed. */
  guaranteed?: boolean;
}

/** Rounds up to a multiple of STEP (a step of 0 or less leaves the value as it is). */
export function roundUp(value: number, step: number): number {
  return step > 0 ? Math.ceil(value / step) * step : Math.ceil(value);
}

/** |to − from| / from in %, unrounded. */
export function relativeChange(from: number, to: number): number {
  return (Math.abs(to - from) / from) * 100;
}

/**
 * Whether TO differs from FROM by more than TOLERANCE %: compared on the amounts themselves
 * (whole millicores and bytes), so neither rounding nor a fraction inexact in binary moves a
 * change across the tolerance.
 */
function beyondTolerance(from: number, to: number, tolerance: number): boolean {
  return Math.abs(to - from) * 100 > tolerance * from;
}

/**
 * The change from FROM to TO in % as shown: one decimal, or as many more as it takes to stay on
 * the side of TOLERANCE the change is on (a change of 20.04 % beside a tolerance of 20 % is
 * shown as 20.04, not as 20.0).
 */
export function shownChange(from: number, to: number, tolerance?: number): number {
  const percent = relativeChange(from, to);
  if (tolerance === undefined) return Math.round(percent * 10) / 10;
  return percentBeside(percent, tolerance, Math.sign(Math.abs(to - from) * 100 - tolerance * from));
}

/**
 * Decides one resource: the proposed request derived from the VPA target (rounded, clamped,
 * floored for memory), whether the change matters, and what happens to the limit. Every
 * number and reason is kept in the result.
 */
export function decideResource(input: ResourceInput): ResourceDecision {
  const base = baseDecision(input);
  const derived = derive(input);
  if ("hold" in derived) return { ...base, hold: derived.hold };
  return withProposal(input, { ...base, steps: derived.steps }, lastValue(derived.steps));
}

/** A decision that holds the request where it is, with the data it was to be made on. */
export function heldDecision(input: ResourceInput, hold: RightsizeHold): ResourceDecision {
  return { ...baseDecision(input), hold };
}

/** One container whose resources the values decided together set, with its own data. */
export interface SharedReader {
  /** `Kind ns/name container c`. */
  reader: string;
  input: ResourceInput;
}

/**
 * Decides one resource of values that several containers read (a chart's exporter sidecar in
 * each of its workloads): each container's value is derived from its own VPA as in
 * `decideResource`, and the highest of them is proposed, as one change, so that none of them
 * gets less than it needs. Whatever holds one of them (no usable recommendation, an HPA, pods
 * that differ from the file) holds the values for all. READERS share the file's values; the
 * first is the container deciding, whose own hold is given as it is.
 */
export function decideSharedResource(readers: readonly SharedReader[]): ResourceDecision {
  const merged = mergedInput(readers.map((reader) => reader.input));
  const base = baseDecision(merged);
  const values: { reader: string; value: number }[] = [];
  let highest: DerivationStep[] = [];
  for (const [index, { reader, input }] of readers.entries()) {
    const result = derive(input);
    // The first reader is the container deciding: what holds it is its own, not another's.
    if ("hold" in result)
      return index === 0
        ? { ...base, hold: result.hold }
        : { ...base, hold: { kind: "shared-reader", reader, hold: result.hold } };
    const value = lastValue(result.steps);
    if (values.every((entry) => entry.value < value)) highest = result.steps;
    values.push({ reader, value });
  }
  const value = lastValue(highest);
  const steps: DerivationStep[] = [...highest, { kind: "shared", values, value }];
  return withProposal(merged, { ...base, steps }, value);
}

/**
 * What the values decided together are checked against: the file's values (the same for
 * all), the highest VPA bounds (below the highest lower bound one container is short; above
 * the highest upper bound, every one has more than it needs), every container's pods, OOM
 * kills and usage.
 */
function mergedInput(inputs: readonly ResourceInput[]): ResourceInput {
  const first = inputs[0] as ResourceInput;
  const highest = (values: (number | undefined)[]) => {
    const known = values.filter((value): value is number => value !== undefined);
    return known.length === 0 ? undefined : Math.max(...known);
  };
  const recommendation: Recommendation = {};
  for (const field of ["target", "lowerBound", "upperBound", "uncappedTarget"] as const) {
    const value = highest(inputs.map((input) => input.recommendation[field]));
    if (value !== undefined) recommendation[field] = value;
  }
  const ooms = inputs.flatMap((input) => (input.oom ? [input.oom] : []));
  const distinct = (lists: (number[] | undefined)[]) =>
    [...new Set(lists.flatMap((list) => list ?? []))].sort((a, b) => a - b);
  const merged: ResourceInput = {
    ...first,
    recommendation,
    running: distinct(inputs.map((input) => input.running)),
    runningLimits: distinct(inputs.map((input) => input.runningLimits)),
    onlyIncrease: inputs.some((input) => input.onlyIncrease),
    vpaApplies: inputs.some((input) => input.vpaApplies),
    vpaScalesLimits: inputs.some((input) => input.vpaScalesLimits),
    guaranteed: inputs.some((input) => input.guaranteed),
  };
  const scaling = inputs.find((input) => input.vpaScalesLimits);
  if (scaling?.updateMode) merged.updateMode = scaling.updateMode;
  const usage = highest(inputs.map((input) => input.usage));
  if (usage === undefined) delete merged.usage;
  else merged.usage = usage;
  const [oom] = ooms;
  if (oom) {
    const last = ooms
      .flatMap((kill) => (kill.last ? [kill.last] : []))
      .sort()
      .at(-1);
    // Restarts are known for all only when known for each.
    const restarts = ooms.every((kill) => kill.restarts !== undefined)
      ? ooms.reduce((sum, kill) => sum + (kill.restarts ?? 0), 0)
      : undefined;
    merged.oom = {
      kills: ooms.reduce((sum, kill) => sum + kill.kills, 0),
      margin: oom.margin,
      ...(last ? { last } : {}),
      ...(restarts === undefined ? {} : { restarts }),
    };
  }
  return merged;
}

/** The steps to a container's own proposed value, or why there is none. */
function derive(input: ResourceInput): { steps: DerivationStep[] } | { hold: RightsizeHold } {
  const hold = precondition(input);
  if (hold) return { hold };
  const oomFloor = oomFloorStep(input);
  if (input.historyProblems.length > 0 || input.recommendation.target === undefined) {
    // Without a usable recommendation only an OOM kill, itself a measurement, moves memory.
    if (oomFloor) return { steps: [oomFloor] };
    return {
      hold:
        input.historyProblems.length > 0
          ? { kind: "history", problems: input.historyProblems }
          : { kind: "no-recommendation" },
    };
  }
  return { steps: deriveFromTarget(input, input.recommendation.target, oomFloor) };
}

function lastValue(steps: readonly DerivationStep[]): number {
  return (steps[steps.length - 1] as DerivationStep).value;
}

function baseDecision(input: ResourceInput): ResourceDecision {
  const decision: ResourceDecision = {
    resource: input.resource,
    action: "keep",
    recommendation: input.recommendation,
    steps: [],
    triggers: [],
  };
  if (input.current !== undefined) decision.current = input.current;
  if (input.requestFromLimit) decision.requestFromLimit = true;
  if (input.currentLimit !== undefined) decision.currentLimit = input.currentLimit;
  if (input.usage !== undefined) decision.usage = input.usage;
  if (input.running && input.running.length > 0) decision.running = input.running;
  return decision;
}

function precondition(input: ResourceInput): RightsizeHold | undefined {
  if (input.unreadable) return { kind: "unreadable", ...input.unreadable };
  if (!input.controlled) return { kind: "not-controlled", reason: "vpa-controlled-resources" };
  if (input.hpa) return { kind: "hpa", hpa: input.hpa, metric: input.resource };
  const running = input.running ?? [];
  const differs = running.some((value) => value !== input.current);
  // Pods built from this file must request what it says; otherwise the file is not what
  // runs (not deployed yet, or it is not this workload's file after all).
  if (!input.vpaApplies && input.current !== undefined && differs)
    return { kind: "cluster-differs", running };
  return undefined;
}

function oomFloorStep(input: ResourceInput): DerivationStep | undefined {
  if (input.resource !== "memory" || !input.oom || input.oom.kills === 0) return undefined;
  // The kill came at the limit: the file's, else the one the pods carry from elsewhere.
  const unseen = unseenLimit(input);
  const limit = input.currentLimit ?? (unseen?.known ? unseen.limit : undefined);
  const basis = limit !== undefined ? "limit" : "request";
  const base = limit ?? input.current;
  if (base === undefined) return undefined;
  const value = roundUp(base * (1 + input.oom.margin / 100), input.step);
  return {
    kind: "oom-floor",
    base,
    basis,
    margin: input.oom.margin,
    kills: input.oom.kills,
    value,
  };
}

function deriveFromTarget(
  input: ResourceInput,
  target: number,
  oomFloor: DerivationStep | undefined,
): DerivationStep[] {
  const steps: DerivationStep[] = [{ kind: "target", value: target }];
  let value = roundUp(target, input.step);
  if (value !== target) steps.push({ kind: "rounded", step: input.step, value });
  for (const [by, range] of [
    ["vpa", input.vpaRange],
    ["config", input.configRange],
  ] as const) {
    if (range.min !== undefined && value < range.min) {
      value = range.min;
      steps.push({ kind: "clamped", by: `${by}-min`, bound: range.min, value });
    }
    if (range.max !== undefined && value > range.max) {
      value = range.max;
      steps.push({ kind: "clamped", by: `${by}-max`, bound: range.max, value });
    }
  }
  const lower = input.recommendation.lowerBound;
  if (input.resource === "memory" && lower !== undefined && value < lower) {
    value = roundUp(lower, input.step);
    steps.push({ kind: "lower-bound", bound: lower, value });
  }
  if (oomFloor && oomFloor.value > value) steps.push(oomFloor);
  return steps;
}

function withProposal(
  input: ResourceInput,
  decision: ResourceDecision,
  proposed: number,
): ResourceDecision {
  const { current } = input;
  if (current === proposed) return { ...decision, hold: { kind: "unchanged" } };
  const triggers = triggersFor(input, decision.steps, proposed);
  if (triggers.length === 0) {
    const percent = current === undefined ? 0 : shownChange(current, proposed, input.tolerance);
    return { ...decision, hold: { kind: "within-tolerance", percent, tolerance: input.tolerance } };
  }
  if (input.onlyIncrease && current !== undefined && proposed < current)
    return { ...decision, triggers, hold: { kind: "stateful", proposed } };
  const unseen = unseenLimit(input);
  if (unseen?.known && proposed > unseen.limit)
    return { ...decision, triggers, hold: { kind: "unseen-limit", limit: unseen.limit, proposed } };
  // Lowering a request never takes it over a limit the template gives; raising it may.
  if (unseen && !unseen.known && (current === undefined || proposed > current))
    return {
      ...decision,
      triggers,
      hold: {
        kind: "unknown-limit",
        running: unseen.running,
        proposed,
        ...(input.updateMode ? { updateMode: input.updateMode } : {}),
      },
    };
  const limit = decideLimit(input, proposed);
  if ("refuse" in limit)
    return {
      ...decision,
      triggers,
      hold: { kind: "limit", limit: limit.refuse, mode: limit.mode },
    };
  const changed: ResourceDecision = { ...decision, action: "change", proposed, triggers };
  if (limit.limit !== undefined) {
    changed.proposedLimit = limit.limit;
    changed.limitReason = limit.reason;
  }
  // Guaranteed pods have every request equal to its limit: one left other than it makes them
  // Burstable (evicted earlier under node pressure, no exclusive cores).
  const beside = limit.limit ?? input.currentLimit ?? (unseen?.known ? unseen.limit : undefined);
  if (input.guaranteed && beside !== undefined && beside !== proposed)
    changed.qosClass = {
      current: "Guaranteed",
      proposed: "Burstable",
      limit: beside,
      from: limit.limit !== undefined || input.currentLimit !== undefined ? "file" : "pods",
      limitMode: input.limitMode,
    };
  return changed;
}

function triggersFor(
  input: ResourceInput,
  steps: DerivationStep[],
  proposed: number,
): RightsizeTrigger[] {
  const { current, recommendation } = input;
  const triggers: RightsizeTrigger[] = [];
  // Recent OOM kills make any memory increase urgent, whether the floor or the target set it.
  if (
    input.resource === "memory" &&
    input.oom &&
    input.oom.kills > 0 &&
    (current === undefined || proposed > current)
  ) {
    const { kills, last, restarts } = input.oom;
    triggers.push({
      kind: "oom",
      kills,
      ...(last === undefined ? {} : { last }),
      ...(restarts === undefined ? {} : { restarts }),
    });
  }
  if (current === undefined || current === 0) return [{ kind: "no-request" }, ...triggers];
  const fromTarget = steps[0]?.kind === "target";
  if (fromTarget && recommendation.lowerBound !== undefined && current < recommendation.lowerBound)
    triggers.push({ kind: "below-lower-bound", bound: recommendation.lowerBound });
  if (fromTarget && recommendation.upperBound !== undefined && current > recommendation.upperBound)
    triggers.push({ kind: "above-upper-bound", bound: recommendation.upperBound });
  if (fromTarget && beyondTolerance(current, proposed, input.tolerance))
    triggers.push({
      kind: "beyond-tolerance",
      percent: shownChange(current, proposed, input.tolerance),
      tolerance: input.tolerance,
    });
  return triggers;
}

/**
 * The limit the running pods carry where the file sets none: a LimitRange's default, or values
 * the file does not show (a chart default, values merged from elsewhere). A request above it
 * would make every new pod invalid. The pods' limits are those their template gives them when
 * the VPA leaves limits alone (mode Off, or controlledValues RequestsOnly); otherwise the VPA
 * has scaled them with the requests it set, and the template's limit is not known from them.
 */
function unseenLimit(
  input: ResourceInput,
): { known: true; limit: number } | { known: false; running: number[] } | undefined {
  const limits = input.runningLimits ?? [];
  if (input.currentLimit !== undefined || limits.length === 0) return undefined;
  if (input.vpaScalesLimits) return { known: false, running: limits };
  return { known: true, limit: Math.min(...limits) };
}

type LimitOutcome =
  | { limit?: number; reason?: "raised" | "ratio" }
  | { refuse: number; mode: "keep" | "none" };

/**
 * keep: the limit stays, unless the request would exceed it (raise it to the request, or
 * refuse, per `aboveLimit`); none: limits are never written, so a request above the limit is
 * refused; ratio: the limit follows the request at the current limit/request ratio, as the
 * VPA does (a container with no request, or a request of 0, has its limit as request: ratio 1).
 */
function decideLimit(input: ResourceInput, proposed: number): LimitOutcome {
  const { currentLimit, current } = input;
  if (currentLimit === undefined) return {};
  if (input.limitMode === "ratio") {
    // A request of 0 is no request to the VPA too: the ratio to it is not a number.
    const ratio = current === undefined || current === 0 ? 1 : currentLimit / current;
    // A limit equal to its request stays equal to it, unrounded: the pods stay Guaranteed.
    const limit =
      ratio === 1 ? proposed : Math.max(proposed, roundUp(proposed * ratio, input.step));
    return limit === currentLimit ? {} : { limit, reason: "ratio" };
  }
  if (proposed <= currentLimit) return {};
  if (input.limitMode === "keep" && input.aboveLimit === "raise")
    return { limit: proposed, reason: "raised" };
  return { refuse: currentLimit, mode: input.limitMode === "none" ? "none" : "keep" };
}
