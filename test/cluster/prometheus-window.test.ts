import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type PrometheusUsage, readPrometheusUsage } from "../../src/cluster/prometheus.ts";
import { coveredRate, defaultPrometheusQueries } from "../../src/cluster/prometheus-queries.ts";
import type { Usage } from "../../src/planning/snapshot.ts";
import { usageWindowCovers } from "../../src/planning/utilisation.ts";
import { type RunningPrometheus, startPrometheus } from "../support/prometheus.ts";
import {
  containerCgroup,
  nodeExporter,
  openMetricsOf,
  rootCgroup,
  type Series,
} from "../support/prometheus-series.ts";

// An hour of series ending two minutes ago on a minute boundary. Queries are anchored with
// `at`: on the boundary, where Prometheus 2 evaluates the window's first step as well, or off it.
const end = Math.floor(Date.now() / 60_000) * 60 - 120;
const start = end - 3600;
const onStep = new Date(end * 1000);
const offStep = new Date((end - 30) * 1000);
const GiB = 2 ** 30;
const replica = (n: number) => ({ prometheus_replica: `prometheus-kube-prometheus-stack-${n}` });

const series: Series[] = [
  // Every sample of the hour, written by two Prometheus replicas into one store.
  ...rootCgroup(
    { node: "full", ip: "10.0.0.11", cores: 0.5, bytes: 2 * GiB, extra: replica(0) },
    start,
  ),
  ...rootCgroup(
    { node: "full", ip: "10.0.0.11", cores: 0.5, bytes: 2 * GiB, extra: replica(1) },
    start,
  ),
  // Scraped for the last 3 minutes only (Prometheus started, or the node joined, then).
  ...rootCgroup(
    { node: "late", ip: "10.0.0.12", cores: 0.25, bytes: GiB, present: (t) => t >= end - 180 },
    start,
  ),
  // Scrapes failed for 7 minutes, from 8 minutes before the end until the last minute.
  ...rootCgroup(
    {
      node: "gappy",
      ip: "10.0.0.13",
      cores: 0.25,
      bytes: GiB,
      present: (t) => t <= end - 480 || t >= end - 60,
    },
    start,
  ),
  // One scrape failed, 45 s before a minute 5 minutes before the end: inside two rate ranges.
  ...rootCgroup(
    { node: "blip", ip: "10.0.0.15", cores: 0.75, bytes: GiB, present: (t) => t !== end - 345 },
    start,
  ),
  // node-exporter alone (no root cgroup), scraped by two jobs and stored by two replicas.
  ...nodeExporter(
    {
      node: "exported",
      ip: "10.0.0.14",
      cores: 1.5,
      usedBytes: 4 * GiB,
      scrapes: [{}, { job: "node-exporter-extra", service: "node-exporter-extra" }, replica(1)],
    },
    start,
  ),
  ...[0, 1].flatMap((n) =>
    containerCgroup(
      {
        namespace: "default",
        pod: "web-0",
        container: "app",
        node: "full",
        ip: "10.0.0.11",
        cores: 0.125,
        bytes: 256 * 2 ** 20,
        extra: replica(n),
      },
      start,
    ),
  ),
];

let prometheus: RunningPrometheus | undefined;

beforeAll(async () => {
  prometheus = await startPrometheus(openMetricsOf(series, start, end));
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
});

function url(): string {
  if (!prometheus) throw new Error("Prometheus did not start");
  return prometheus.url;
}

function partial(result: PrometheusUsage, node: string) {
  return result.warnings.filter(
    (w) => w.code === "prometheus-window-partial" && w.subject === `node/${node}`,
  );
}

async function instant(query: string, at: Date): Promise<string[]> {
  const body = new URLSearchParams({ query, time: String(at.getTime() / 1000) });
  const answer = (await (
    await fetch(`${url()}/api/v1/query`, { method: "POST", body })
  ).json()) as {
    data: { result: { value: [number, string] }[] };
  };
  return answer.data.result.map((r) => r.value[1]);
}

describe("how much of the window Prometheus' points cover", () => {
  it("counts a full window as the window, also when Prometheus 2 adds a point at its start", async () => {
    // The premise: on a step boundary the 10 minute window has 11 points.
    expect(
      await instant(
        'count_over_time(max by (node) (container_memory_working_set_bytes{node="full"})[600s:60s])',
        onStep,
      ),
    ).toEqual(["11"]);

    for (const at of [onStep, offStep]) {
      const result = await readPrometheusUsage({ url: url(), at });
      expect(result.nodes.get("full")).toMatchObject({ windowSeconds: 600, gapSeconds: 60 });
      expect(result.nodes.get("exported")).toMatchObject({ windowSeconds: 600, gapSeconds: 60 });
      expect(partial(result, "full")).toEqual([]);
      expect(partial(result, "exported")).toEqual([]);
      expect(result.containers.get("default/web-0/app")).toMatchObject({ windowSeconds: 600 });
    }
  });

  it("says a node with 3 minutes of points covers 3 minutes of the 10, and warns naming it", async () => {
    const result = await readPrometheusUsage({ url: url(), at: onStep });

    // CPU points at -60 and 0 s: the rate at -120 s holds two samples but its range began
    // before the first (the range before it has none), so it would read low; memory from -180 s.
    expect(result.nodes.get("late")).toMatchObject({
      memory: GiB,
      windowSeconds: 120,
      gapSeconds: 60,
    });
    const warnings = partial(result, "late");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain("node late over the 600 s window ending");
    expect(warnings[0]!.message).toContain("its CPU points cover 120 s of it");
    expect(warnings[0]!.message).toContain("its memory points cover 240 s of it");
  });

  it("bounds the longest gap between points by the points missing", async () => {
    const result = await readPrometheusUsage({ url: url(), at: onStep });

    // CPU has points up to 8 minutes before the end, the last whose range holds every sample:
    // the rate at -420 s is over a range the samples stop a minute into, and the one at the end
    // over a range they resume in (the range before it has none); both would read low. 3 of 11,
    // the 8 missing one gap of 9 minutes.
    expect(result.nodes.get("gappy")).toMatchObject({ windowSeconds: 600, gapSeconds: 540 });
    const warnings = partial(result, "gappy");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain("8 missing, gaps up to 540 s");
  });

  it("says how old the last point is when the node's scrapes stopped", async () => {
    // 90 s before the end, the scrapes that resume a minute before it are not in: CPU's last
    // point is 8 minutes before the end (as above); memory, read as last scraped, lasts out
    // Prometheus' lookback to the step of -180 s, 90 s before the window's end.
    const at = new Date((end - 90) * 1000);
    const warnings = partial(await readPrometheusUsage({ url: url(), at }), "gappy");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(
      /its CPU points cover 600 s of it, from [^(]+\(4 points, 6 missing, gaps up to 420 s\)/,
    );
    expect(warnings[0]!.message).toMatch(
      /\(9 points, 1 missing, gaps up to 120 s\), and its last CPU point, at [^,]+, is 390 s old, more than 120 s: its scrapes may have stopped; its usage is no evidence of a level held over the window$/,
    );
  });

  it("says a 2 hour window over an hour of data covers the hour", async () => {
    const result = await readPrometheusUsage({ url: url(), at: offStep, windowSeconds: 7200 });

    expect(result.windowSeconds).toBe(7200);
    // The first CPU point is two minutes into the data, the first whose range the samples
    // cover (the one a minute in holds two samples, but its range began before the first);
    // from it to the window's last step, a minute before the end, 58 points of a minute each.
    expect(result.nodes.get("full")).toMatchObject({ windowSeconds: 3480, gapSeconds: 60 });
    expect(partial(result, "full")[0]?.message).toContain("its CPU points cover 3480 s of it");
  });

  it("makes a usage evidence of a level over 10 minutes only where its points cover them", async () => {
    const covers = (usage: Usage | undefined, windowMs: number) =>
      usageWindowCovers(
        (usage?.windowSeconds ?? 0) * 1000,
        usage?.gapSeconds === undefined ? undefined : usage.gapSeconds * 1000,
        windowMs,
      );
    const tenMinutes = await readPrometheusUsage({ url: url(), at: onStep });
    expect(covers(tenMinutes.nodes.get("full"), 600_000)).toBe(true);
    expect(covers(tenMinutes.nodes.get("late"), 600_000)).toBe(false);
    // Every step has a point but the gap: 7 minutes without one is not 10 minutes held.
    expect(covers(tenMinutes.nodes.get("gappy"), 600_000)).toBe(false);
    // 3 minutes of points do hold a level over 2 minutes.
    expect(covers(tenMinutes.nodes.get("late"), 120_000)).toBe(true);

    const twoHours = await readPrometheusUsage({ url: url(), at: offStep, windowSeconds: 7200 });
    expect(covers(twoHours.nodes.get("full"), 600_000)).toBe(true);
    expect(covers(twoHours.nodes.get("full"), 7200_000)).toBe(false);
  });

  it("keeps every figure of a node scraped throughout, or but for one scrape, in the cAdvisor and node-exporter forms", async () => {
    // The default node CPU query with each rate taken as is, whatever part of its range the
    // series covers.
    const rate = (selector: string) => `rate(${selector}[$rate])`;
    const exporterCpu = rate('node_cpu_seconds_total{mode!~"idle|iowait|steal"}');
    const plainRates = defaultPrometheusQueries.nodeCpu
      .replace(
        coveredRate('container_cpu_usage_seconds_total{id="/", node!=""}'),
        rate('container_cpu_usage_seconds_total{id="/", node!=""}'),
      )
      .replaceAll(
        coveredRate('node_cpu_seconds_total{mode!~"idle|iowait|steal"}'),
        `(${exporterCpu})`,
      );
    expect(plainRates).not.toContain("count_over_time");
    for (const at of [onStep, offStep]) {
      const covered = await readPrometheusUsage({ url: url(), at });
      const plain = await readPrometheusUsage({ url: url(), at, queries: { nodeCpu: plainRates } });
      for (const node of ["full", "exported", "blip"]) {
        expect(covered.nodes.get(node)?.points?.length).toBeGreaterThanOrEqual(10);
        expect(covered.nodes.get(node)).toEqual(plain.nodes.get(node));
      }
      // The node that joined reads low on the plain rates: its first CPU point is over a
      // range begun before its first sample.
      expect(plain.nodes.get("late")?.low?.cpu).toBeLessThan(250);
      expect(covered.nodes.get("late")?.low?.cpu).toBe(250);
    }
  });

  it("counts a node-exporter scraped by two jobs and stored by two replicas once", async () => {
    const result = await readPrometheusUsage({ url: url(), at: offStep });

    expect(result.nodes.get("exported")).toMatchObject({
      cpu: 1500,
      memory: 4 * GiB,
      peak: { cpu: 1500, memory: 4 * GiB },
    });
    expect(result.nodes.get("full")).toMatchObject({ cpu: 500, memory: 2 * GiB });
    expect(result.containers.get("default/web-0/app")).toMatchObject({
      cpu: 125,
      memory: 256 * 2 ** 20,
    });
    expect(result.warnings.filter((w) => w.code === "prometheus-series-repeated")).toEqual([]);
  });
});
