import { describe, expect, it } from "@jest/globals";
import {
  coveredRate,
  defaultPrometheusQueries,
  prometheusQueryNames,
  windowQueries,
} from "../../src/cluster/prometheus-queries.ts";

const settings = { windowSeconds: 900, stepSeconds: 30, rateSeconds: 90, percentile: 99.5 };

describe("windowQueries", () => {
  it("wraps a usage query in the window's average, percentile and lowest point, counts its points and gives each step's value", () => {
    expect(windowQueries("max by (node) (x)", settings)).toEqual({
      average: "avg_over_time((max by (node) (x))[900s:30s])",
      peak: "quantile_over_time(0.995, (max by (node) (x))[900s:30s])",
      low: "min_over_time((max by (node) (x))[900s:30s])",
      points: "count_over_time((max by (node) (x))[900s:30s])",
      first: "min_over_time(timestamp((max by (node) (x)) * 0)[900s:30s])",
      steps: "(max by (node) (x))[900s:30s]",
    });
  });

  it("puts the rate range in place of every $rate, leaving label_replace's $1 alone", () => {
    const query =
      'label_replace(rate(a[$rate]) + rate(b[$rate]), "node", "$1", "nodename", "(.+)")';

    expect(windowQueries(query, settings).average).toBe(
      'avg_over_time((label_replace(rate(a[90s]) + rate(b[90s]), "node", "$1", "nodename", "(.+)"))[900s:30s])',
    );
  });

  it("gives a default for every measure, each using the rate range where it takes a rate", () => {
    for (const name of prometheusQueryNames) {
      const query = defaultPrometheusQueries[name];
      expect(query.includes("rate(")).toBe(query.includes("[$rate]"));
      expect(query).not.toMatch(/\[\d+[smh]\]/);
    }
  });

  it("takes every rate of the node CPU query only where its samples cover its range", () => {
    expect(coveredRate('x{id="/"}')).toBe(
      '(rate(x{id="/"}[$rate]) and count_over_time(x{id="/"}[$rate]) + 1 >= count_over_time(x{id="/"}[$rate] offset $rate) ' +
        'and time() - timestamp(x{id="/"}) < 1.1 * $rateSeconds / count_over_time(x{id="/"}[$rate] offset $rate))',
    );
    const nodeCpu = defaultPrometheusQueries.nodeCpu;
    const selectors = [...nodeCpu.matchAll(/\brate\(([^[]+)\[\$rate\]\)/g)].map((m) => m[1] ?? "");
    expect(selectors).toHaveLength(3);
    for (const selector of selectors) expect(nodeCpu).toContain(coveredRate(selector));
  });

  it("puts the rate range's seconds in place of every $rateSeconds", () => {
    expect(windowQueries("rate(x[$rate]) < 1.1 * $rateSeconds / 8", settings).steps).toBe(
      "(rate(x[90s]) < 1.1 * 90 / 8)[900s:30s]",
    );
  });
});
