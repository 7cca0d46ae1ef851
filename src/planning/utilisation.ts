import type { ClusterIndex } from "./cluster-index.ts";
import type { Resource } from "./node-decision.ts";
import type { NodeInfo } from "./snapshot.ts";

/**
 * Usage and requests of a pool's Ready workers that are not cordoned (the nodes that take new
 * pods) against their allocatable.
 */
export interface ResourceUtilisation {
  resource: Resource;
  /** Ready worker nodes counted. */
  nodes: number;
  /** Sum of allocatable; absent when a Ready node does not report it, or there is none. */
  allocatable?: number;
  /** Sum of average usage; absent when any Ready node's usage is unknown. */
  usage?: number;
  percent?: number;
  /** Sum of the nodes' high percentile over the usage window, when every node has one. */
  peak?: number;
  peakPercent?: number;
  percentile?: number;
  /**
   * Sum of the nodes' lowest points over the usage window, when every node has one: no higher
   * than the pool's own lowest, so a level it shows held above a threshold was held there.
   */
  low?: number;
  lowPercent?: number;
  requests: number;
  /** Absent when a request could not be read, or the pod list was not read in full. */
  requestsPercent?: number;
  /** `["pods"]` when the pod list failed or stopped part way: `requests` are those read. */
  requestsUnread?: string[];
  /** Shortest usage window among the nodes, seconds (for Prometheus, the part its points cover). */
  windowSeconds?: number;
  /**
   * Longest gap between the usage window's points among the nodes; absent when a node's source
   * does not say (then the window is no evidence of a level held over it).
   */
  gapSeconds?: number;
  source?: "metrics-server" | "prometheus" | "mixed";
  /** For Prometheus: the window it was asked for, seconds (`windowSeconds` is what it covers). */
  askedWindowSeconds?: number;
  /** The usage source asked for that could not be read, so this usage is metrics-server's. */
  sourceFailed?: string;
  /**
   * Prometheus: the pool's utilisation (percent) at each step of the window where every node
   * counted has a point, oldest first; absent when a node's usage has no points (a snapshot
   * saved before they were kept). Each check of a window takes the points of its own.
   */
  points?: TimedPercent[];
  /** End of the window the points are of, ms (the earliest among the nodes). */
  pointsEndMs?: number;
  /** Ready nodes whose usage or allocatable is unknown (never counted as zero). */
  unknownNodes: string[];
  /**
   * Those of `unknownNodes` that report no allocatable, or 0 (usage is measured against it).
   */
  unknownAllocatable?: string[];
}

/** Sums usage, peaks and requests over `ready` nodes (the pool's measured ones) for one resource. */
export function poolUtilisation(
  ready: readonly NodeInfo[],
  resource: Resource,
  index: ClusterIndex,
): ResourceUtilisation {
  const result: ResourceUtilisation = {
    resource,
    nodes: ready.length,
    requests: 0,
    unknownNodes: [],
  };
  let allocatable: number | undefined = ready.length > 0 ? 0 : undefined;
  const usage = {
    sum: 0,
    peak: 0,
    allPeaks: true,
    low: 0,
    allLows: true,
    window: Infinity,
    gap: undefined as number | undefined,
    gapUnknown: false,
    percentile: Infinity,
  };
  const sources = new Set<"metrics-server" | "prometheus">();
  // The pool's points: the sum at each step, and how many nodes have one there.
  const steps = new Map<number, { sum: number; nodes: number }>();
  let allPoints = true;
  let pointsEnd = Infinity;
  let requestsKnown = true;
  for (const node of ready) {
    const capacity = node.allocatable[resource];
    result.requests += index.usedByNode.get(node.name)?.[resource] ?? 0;
    if (index.requestsUnknown.get(node.name)?.has(resource)) requestsKnown = false;
    allocatable =
      capacity === undefined || allocatable === undefined ? undefined : allocatable + capacity;
    const used = node.usage?.[resource];
    // A node that reports no allocatable, or none at all (0), has nothing its usage is a share of.
    const measurable = capacity !== undefined && capacity > 0;
    if (!measurable || used === undefined || !node.usage) {
      result.unknownNodes.push(node.name);
      if (!measurable)
        result.unknownAllocatable = [...(result.unknownAllocatable ?? []), node.name];
      continue;
    }
    usage.sum += used;
    sources.add(node.usage.source);
    usage.window = Math.min(usage.window, node.usage.windowSeconds ?? 0);
    const gap = node.usage.gapSeconds;
    if (gap === undefined) usage.gapUnknown = true;
    else usage.gap = Math.max(usage.gap ?? 0, gap);
    const peak = node.usage.peak;
    if (peak?.[resource] === undefined) usage.allPeaks = false;
    else {
      usage.peak += peak[resource];
      usage.percentile = Math.min(usage.percentile, peak.percentile);
    }
    const low = node.usage.low?.[resource];
    if (low === undefined) usage.allLows = false;
    else usage.low += low;
    const points = node.usage.source === "prometheus" ? node.usage.points : undefined;
    const end = Date.parse(node.usage.timestamp ?? "");
    if (!points || Number.isNaN(end)) allPoints = false;
    else {
      pointsEnd = Math.min(pointsEnd, end);
      for (const point of points) {
        const at = Date.parse(point.at);
        const value = point[resource];
        if (Number.isNaN(at) || value === undefined) continue;
        const step = steps.get(at) ?? { sum: 0, nodes: 0 };
        step.sum += value;
        step.nodes++;
        steps.set(at, step);
      }
    }
  }
  if (allocatable === undefined) return result;
  result.allocatable = allocatable;
  // A request that could not be read leaves the pool's requests unknown, never short; so does a
  // pod list read in part, whose pods not read request room too.
  if (index.podsUnread) result.requestsUnread = ["pods"];
  else if (requestsKnown) result.requestsPercent = percentOf(result.requests, allocatable);
  if (result.unknownNodes.length > 0) return result;
  result.usage = usage.sum;
  result.percent = percentOf(usage.sum, allocatable);
  result.windowSeconds = usage.window;
  if (usage.gap !== undefined && !usage.gapUnknown) result.gapSeconds = usage.gap;
  result.source = sources.size > 1 ? "mixed" : [...sources][0];
  if (result.source === "prometheus" && index.prometheusWindowSeconds !== undefined)
    result.askedWindowSeconds = index.prometheusWindowSeconds;
  if (result.source !== "prometheus" && index.usageSourceFailed !== undefined)
    result.sourceFailed = index.usageSourceFailed;
  if (usage.allPeaks) {
    result.peak = usage.peak;
    result.peakPercent = percentOf(usage.peak, allocatable);
    result.percentile = usage.percentile;
  }
  if (usage.allLows) {
    result.low = usage.low;
    result.lowPercent = percentOf(usage.low, allocatable);
  }
  if (allPoints && result.source === "prometheus" && ready.length > 0) {
    // A step some node has no point at is missing for the pool: never a sum short of a node.
    result.points = [...steps]
      .filter(([, step]) => step.nodes === ready.length)
      .sort(([a], [b]) => a - b)
      .flatMap(([at, step]) => {
        const percent = percentOf(step.sum, allocatable);
        return percent === undefined ? [] : [{ at, percent }];
      });
    result.pointsEndMs = pointsEnd;
  }
  return result;
}

export function percentOf(part: number, whole: number): number | undefined {
  return whole > 0 ? (part / whole) * 100 : undefined;
}

/** A pool utilisation value at a moment (percent), from history. */
export interface TimedPercent {
  at: number;
  percent: number;
}

/**
 * Whether utilisation stayed above (or below) a threshold for a window, and on what evidence.
 * - `unknown`: the current usage is unknown; unknown is never zero, so nothing follows from it.
 * - `not-met`: the current value, or one within the window, is on the wrong side.
 * - `no-evidence`: the current value is on the right side but nothing shows it stayed there.
 * - `met`: history covers the window and every value in it is on the right side; or the usage
 *   source's own window is long enough (its lowest point for "above", as history's lowest
 *   sample: an average stays above after the level fell, or before it rose; its percentile for
 *   "below", since an average can hide peaks that a smaller pool would not absorb).
 */
export interface SustainedCheck {
  resource: Resource;
  direction: "above" | "below";
  threshold: number;
  windowMs: number;
  outcome: "met" | "not-met" | "no-evidence" | "unknown";
  basis?: "current" | "history" | "usage-window";
  /** The value compared: the lowest in the window for "above", the highest for "below". */
  percent?: number;
  /** How much of the window the evidence spans, ms. */
  coveredMs?: number;
  /** History samples in the window. */
  samples?: number;
  /**
   * Prometheus' points of the check's own window it was judged on (`basis` `usage-window`);
   * absent when it was judged on the statistics of the whole window Prometheus was asked for.
   */
  points?: number;
  /**
   * For "above" judged on points: how long the level has been at or above the threshold, up to
   * the end of the window (each point standing for the step up to it); 0 when the last is below.
   */
  heldMs?: number;
  /** For "below" judged on points: the percentile of them compared. */
  percentile?: number;
  /** For `no-evidence`: why the usage source's own window does not count. */
  shortfall?: WindowShortfall;
  /**
   * For `unknown`: the nodes whose usage is unknown (none when no node is measured), and those
   * of them whose allocatable is what is missing, as the pool's utilisation has them.
   */
  unknownNodes?: string[];
  unknownAllocatable?: string[];
}

/**
 * Why a usage source's window is no evidence for a check: its usage is one sample
 * (metrics-server, or nodes read from different sources), Prometheus was asked for a shorter
 * window (`askedMs`), its points cover less than the window, a gap between them is too long
 * (`gapMs`, at most `maxGapMs`), its last point is too old for a "stayed below" check (`ageMs`,
 * at most `maxAgeMs`: scrapes stopped), or it has no percentile for a "stayed below" check, or no
 * lowest point for a "stayed above" one (a snapshot saved before they were kept).
 */
export interface WindowShortfall {
  kind:
    | "single-sample"
    | "asked-short"
    | "short"
    | "gap"
    | "gap-unknown"
    | "stale"
    | "no-percentile"
    | "no-low";
  askedMs?: number;
  gapMs?: number;
  maxGapMs?: number;
  /** For `stale`: how long before the end of the window the last point is, and at most may be. */
  ageMs?: number;
  maxAgeMs?: number;
  /** For `single-sample`: the usage source asked for that could not be read. */
  sourceFailed?: string;
}

/** Samples may be this far apart, and this far from the window's ends, and still cover it. */
export function maxSampleGap(windowMs: number): number {
  return Math.max(MIN_SAMPLE_GAP, windowMs / 2);
}

const MIN_SAMPLE_GAP = 120_000;

export function sustainedCheck(options: {
  resource: Resource;
  direction: "above" | "below";
  threshold: number;
  windowMs: number;
  utilisation: ResourceUtilisation;
  history: readonly TimedPercent[];
  now: Date;
}): SustainedCheck {
  const { resource, direction, threshold, windowMs, utilisation } = options;
  const check: SustainedCheck = { resource, direction, threshold, windowMs, outcome: "unknown" };
  const current = utilisation.percent;
  if (current === undefined) {
    const { unknownNodes, unknownAllocatable } = utilisation;
    return {
      ...check,
      unknownNodes: [...unknownNodes],
      ...(unknownAllocatable ? { unknownAllocatable: [...unknownAllocatable] } : {}),
    };
  }
  const beyond = (value: number) =>
    direction === "above" ? value >= threshold : value < threshold;
  // A level held below must be seen up to now: Prometheus' points that stopped (scrapes down,
  // or a node too loaded to answer them) say nothing of the last minutes, whatever gaps inside
  // the window allow, and their average and percentile are of the minutes before. They still
  // show the level was not held when they are at or above it: that is judged first.
  const stale = direction === "below" ? staleness(utilisation, windowMs) : undefined;
  // Prometheus' points of the check's own window, when they cover it, say whether the level
  // held there, whatever the rest of the window Prometheus was asked for held. A window of 0
  // takes the last point: the usage of now, not the average of the window asked for.
  const fromPoints = pointsEvidence(utilisation, direction, windowMs);
  // Points that do not cover the window still show a level above was not held when one of
  // them is below: the check says so of its own window, not of the whole one.
  const shown =
    fromPoints?.covered || (fromPoints && direction === "above" && !beyond(fromPoints.percent));
  if (fromPoints && shown && !(stale && beyond(fromPoints.percent))) {
    return {
      ...check,
      outcome: beyond(fromPoints.percent) ? "met" : "not-met",
      basis: "usage-window",
      percent: fromPoints.percent,
      coveredMs: fromPoints.coveredMs,
      points: fromPoints.points,
      ...(direction === "above"
        ? { heldMs: heldFor(utilisation, beyond) }
        : { percentile: utilisation.percentile ?? 100 }),
    };
  }
  if (!beyond(current)) {
    // A windowed source's value is its window's average, not a sample: say so. Its lowest
    // point (above) or percentile (below) is then on the wrong side too, and shows the level was
    // not held whether or not its points cover the whole window.
    const extreme = windowMs > 0 ? latestExtreme(utilisation, direction) : undefined;
    if (extreme !== undefined && !beyond(extreme)) {
      const coveredMs = (utilisation.windowSeconds ?? 0) * 1000;
      return { ...check, outcome: "not-met", basis: "usage-window", percent: extreme, coveredMs };
    }
    return { ...check, outcome: "not-met", basis: "current", percent: current, coveredMs: 0 };
  }
  if (stale)
    return {
      ...check,
      outcome: "no-evidence",
      percent: current,
      coveredMs: stale.coveredMs,
      shortfall: stale.shortfall,
    };
  if (windowMs === 0)
    return { ...check, outcome: "met", basis: "current", percent: current, coveredMs: 0 };
  const fromHistory = historyEvidence(options.history, options.now, windowMs);
  if (fromHistory.covered) {
    const values = [...fromHistory.values, latestExtreme(utilisation, direction) ?? current];
    const extreme = direction === "above" ? Math.min(...values) : Math.max(...values);
    return {
      ...check,
      outcome: beyond(extreme) ? "met" : "not-met",
      basis: "history",
      percent: extreme,
      coveredMs: fromHistory.coveredMs,
      samples: fromHistory.values.length,
    };
  }
  return usageWindowEvidence(check, utilisation, beyond, fromHistory);
}

/**
 * The pool's points that fall in the check's window (after its start, up to the end of the
 * window Prometheus was read over; for a window shorter than the step that holds none, the
 * last point, less than a step before the end): their lowest for "above"; for "below" their percentile,
 * taken as Prometheus' quantile_over_time takes it; and whether they cover the window by the
 * rule of the whole window: the first within one step of its start, and no gap (between two
 * points, or from the last to the end) longer than max(2 min, half the window). Undefined when
 * there are none: the check is then judged as without them. (A "stayed below" check whose last
 * point is older than `maxPointAge` never gets here: see `staleness`.)
 */
function pointsEvidence(
  utilisation: ResourceUtilisation,
  direction: "above" | "below",
  windowMs: number,
): { percent: number; points: number; covered: boolean; coveredMs: number } | undefined {
  const { points, pointsEndMs: end } = utilisation;
  const step = points ? stepOf(points) : undefined;
  if (!points || end === undefined || step === undefined) return undefined;
  const start = end - windowMs;
  let slice = points.filter((point) => point.at > start && point.at <= end);
  // A window shorter than the step (a 30s scaleUp.window, or 0) may hold no point when its end
  // is not on one: the last point, less than a step before the end, is then the latest evidence
  // of it, as it is where the end falls on a step.
  const latest = points.findLast((point) => point.at <= end);
  if (slice.length === 0 && latest && end - latest.at < step) slice = [latest];
  const first = slice[0];
  const last = slice.at(-1);
  if (!first || !last) return undefined;
  let gap = step * (Math.floor((end - last.at) / step) + 1);
  for (let i = 1; i < slice.length; i++)
    gap = Math.max(gap, (slice[i]?.at ?? 0) - (slice[i - 1]?.at ?? 0));
  const covered = first.at - start <= step && gap <= maxSampleGap(windowMs);
  const values = slice.map((point) => point.percent).sort((a, b) => a - b);
  const percent =
    direction === "above"
      ? (values[0] as number)
      : quantileOf(values, (utilisation.percentile ?? 100) / 100);
  // Each point stands for the step up to it.
  const coveredMs = covered ? windowMs : Math.min(windowMs, end - first.at + step);
  return { percent, points: slice.length, covered, coveredMs };
}

/**
 * How long before the end of its window a level held below may have its last point: a healthy
 * scrape gives a point at the last step, less than a step before the end, and the 2 minutes
 * (with the default 60 s step) leave room for the newest step's scrape not yet in.
 */
export function maxPointAge(stepMs: number): number {
  return Math.max(MIN_SAMPLE_GAP, stepMs);
}

/**
 * The pool's Prometheus points end too long before the end of their window (`maxPointAge`):
 * how old the last is, and how much of the check's window the points before it span.
 * Undefined when they do not (or the usage has no points to tell: an older snapshot).
 */
function staleness(
  utilisation: ResourceUtilisation,
  windowMs: number,
): { shortfall: WindowShortfall; coveredMs: number } | undefined {
  const { points, pointsEndMs: end } = utilisation;
  const step = points ? stepOf(points) : undefined;
  const last = points?.findLast((point) => end !== undefined && point.at <= end);
  if (!points || end === undefined || step === undefined || !last) return undefined;
  const ageMs = end - last.at;
  const maxAgeMs = maxPointAge(step);
  if (ageMs <= maxAgeMs) return undefined;
  const start = end - windowMs;
  const first = points.find((point) => point.at > start);
  const coveredMs =
    first && first.at <= last.at ? Math.max(0, last.at - Math.max(start, first.at - step)) : 0;
  return { shortfall: { kind: "stale", ageMs, maxAgeMs }, coveredMs };
}

/** The distance between the points: the shortest between two neighbours. */
function stepOf(points: readonly TimedPercent[]): number | undefined {
  let step: number | undefined;
  for (let i = 1; i < points.length; i++) {
    const distance = (points[i]?.at ?? 0) - (points[i - 1]?.at ?? 0);
    if (distance > 0) step = Math.min(step ?? distance, distance);
  }
  return step;
}

/** Prometheus' quantile of sorted values: linear between the two ranks around q × (n − 1). */
function quantileOf(sorted: readonly number[], q: number): number {
  const rank = q * (sorted.length - 1);
  const lower = Math.floor(rank);
  const low = sorted[lower] as number;
  const high = sorted[Math.min(lower + 1, sorted.length - 1)] as number;
  return low + (high - low) * (rank - lower);
}

/**
 * How long the pool's points have been on the threshold's side, up to the end of their window:
 * from the step after the last point on the other side (each point stands for the step up to
 * it). 0 when the last point is on the other side.
 */
function heldFor(utilisation: ResourceUtilisation, beyond: (value: number) => boolean): number {
  const { points = [], pointsEndMs: end = 0 } = utilisation;
  const step = stepOf(points) ?? 0;
  const last = points.at(-1);
  if (!last || !beyond(last.percent)) return 0;
  const below = points.findLast((point) => !beyond(point.percent));
  const from = below ? below.at : (points[0]?.at ?? end) - step;
  return Math.max(0, end - from);
}

/**
 * The value of now that history's samples are joined by: Prometheus' lowest point over its
 * window for "above" and its percentile for "below", when it gives them. Its average would let
 * history of averages (the app's samples of earlier reads) hold a level the last minutes left:
 * cpu at 100 % and then 13 % for 2 minutes still averages 87 %.
 */
function latestExtreme(
  utilisation: ResourceUtilisation,
  direction: "above" | "below",
): number | undefined {
  if (utilisation.source !== "prometheus") return undefined;
  return direction === "above" ? utilisation.lowPercent : utilisation.peakPercent;
}

function usageWindowEvidence(
  check: SustainedCheck,
  utilisation: ResourceUtilisation,
  beyond: (value: number) => boolean,
  fromHistory: { coveredMs: number; values: number[] },
): SustainedCheck {
  const windowMs = (utilisation.windowSeconds ?? 0) * 1000;
  const value = check.direction === "above" ? utilisation.lowPercent : utilisation.peakPercent;
  if (value !== undefined && windowCovers(utilisation, check.windowMs))
    return {
      ...check,
      outcome: beyond(value) ? "met" : "not-met",
      basis: "usage-window",
      percent: value,
      coveredMs: windowMs,
    };
  return {
    ...check,
    outcome: "no-evidence",
    percent: utilisation.percent,
    coveredMs: Math.max(windowMs, fromHistory.coveredMs),
    samples: fromHistory.values.length,
    shortfall: windowShortfall(utilisation, check.windowMs, check.direction),
  };
}

function windowShortfall(
  utilisation: ResourceUtilisation,
  windowMs: number,
  direction: "above" | "below",
): WindowShortfall {
  if (utilisation.source !== "prometheus") {
    const failed = utilisation.sourceFailed;
    return { kind: "single-sample", ...(failed ? { sourceFailed: failed } : {}) };
  }
  // However far back its points reach, a window asked shorter than the check's never covers it.
  const askedMs = (utilisation.askedWindowSeconds ?? Number.POSITIVE_INFINITY) * 1000;
  if (askedMs < windowMs) return { kind: "asked-short", askedMs };
  if ((utilisation.windowSeconds ?? 0) * 1000 < windowMs) return { kind: "short" };
  if (utilisation.gapSeconds === undefined) return { kind: "gap-unknown" };
  const gapMs = utilisation.gapSeconds * 1000;
  const maxGapMs = maxSampleGap(windowMs);
  if (gapMs > maxGapMs) return { kind: "gap", gapMs, maxGapMs };
  return { kind: direction === "above" ? "no-low" : "no-percentile" };
}

/**
 * Whether a usage source's window is evidence for `windowMs`: the part its points cover spans
 * the whole of it, and (for a source that says how its points lie: Prometheus) no gap between
 * them is longer than maxSampleGap. 3 minutes of points are no evidence of 10 idle minutes, nor
 * are points 8 minutes apart, nor a 3-minute window asked of Prometheus for a 5-minute check.
 * `gapMs` undefined (a saved snapshot's Prometheus usage without `gapSeconds`) is no evidence
 * either: how the points lie is not known.
 */
export function usageWindowCovers(
  coveredMs: number,
  gapMs: number | undefined,
  windowMs: number,
): boolean {
  if (coveredMs <= 0 || coveredMs < windowMs) return false;
  // Each point stands for the step up to it, so a window whose points are all there is covered
  // in full: unlike history's first sample, no late start is allowed (a window asked of
  // Prometheus shorter than the check's is no evidence for it). Points missing inside it are
  // judged as history's gaps are.
  return gapMs !== undefined && gapMs <= maxSampleGap(windowMs);
}

function windowCovers(utilisation: ResourceUtilisation, windowMs: number): boolean {
  const { windowSeconds, gapSeconds, source } = utilisation;
  // metrics-server's usage is one sample whatever window it claims; only Prometheus' is a window.
  if (source !== "prometheus") return false;
  const gapMs = gapSeconds === undefined ? undefined : gapSeconds * 1000;
  return usageWindowCovers((windowSeconds ?? 0) * 1000, gapMs, windowMs);
}

function historyEvidence(
  history: readonly TimedPercent[],
  now: Date,
  windowMs: number,
): { covered: boolean; coveredMs: number; values: number[] } {
  const end = now.getTime();
  const start = end - windowMs;
  const inWindow = history.filter((sample) => sample.at >= start && sample.at <= end);
  inWindow.sort((a, b) => a.at - b.at);
  const first = inWindow[0];
  const last = inWindow.at(-1);
  const values = inWindow.map((sample) => sample.percent);
  if (!first || !last) return { covered: false, coveredMs: 0, values };
  const gap = maxSampleGap(windowMs);
  let widest = 0;
  for (let i = 1; i < inWindow.length; i++)
    widest = Math.max(widest, (inWindow[i]?.at ?? 0) - (inWindow[i - 1]?.at ?? 0));
  const covered =
    widest <= gap && end - last.at <= gap && first.at - start <= leadingGap(gap, widest, windowMs);
  return { covered, coveredMs: end - first.at, values };
}

/**
 * How late after the window's start the first sample may come: one sampling interval (the
 * widest gap seen, at least 2 minutes), never more than `gap`, nor more than half the window.
 * History younger than the window (a restart, the first minutes) then does not count as
 * covering it: samples every minute for 15 minutes are not evidence that usage stayed low for
 * 30, and the sample of this very moment alone is no evidence for a window of 2 minutes.
 */
function leadingGap(gap: number, widest: number, windowMs: number): number {
  return Math.min(gap, Math.max(MIN_SAMPLE_GAP, widest), windowMs / 2);
}
