import { describe, expect, it } from "@jest/globals";
import {
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
});
