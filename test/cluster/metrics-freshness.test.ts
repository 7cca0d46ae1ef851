import { describe, expect, it } from "@jest/globals";
import { type MetricsContext, toNodeUsage } from "../../src/cluster/metrics-usage.ts";
import { WarningCollector } from "../../src/cluster/warnings.ts";
import { nodeMetrics } from "../support/kube-fixtures.ts";

const READ_AT = new Date("2026-11-22T09:00:00Z");

function read(timestamp: string, planningTime?: Date) {
  const warnings = new WarningCollector();
  const context: MetricsContext = {
    now: READ_AT,
    maxAgeSeconds: 300,
    warnings,
    ...(planningTime ? { planningTime } : {}),
  };
  const usage = toNodeUsage(
    nodeMetrics("talos-worker-1", { cpu: "500m", memory: "1Gi" }, timestamp),
    context,
  );
  return { usage: usage?.[1], warnings: warnings.finish() };
}

describe("how fresh a metrics-server sample must be", () => {
  it("takes a sample within five minutes of the read, either side (clock skew)", () => {
    expect(read("2026-11-22T08:56:00Z").usage?.cpu).toBe(500);
    expect(read("2026-11-22T09:00:30Z").usage?.cpu).toBe(500);
  });

  it("leaves usage unknown for an old sample, and for one stamped far in the future", () => {
    const old = read("2026-11-22T08:50:00Z");
    expect(old.usage).toBeUndefined();
    expect(old.warnings[0]?.message).toBe(
      "metrics are 600s old (more than 300s); usage treated as unknown",
    );
    const ahead = read("2026-11-27T14:29:45Z");
    expect(ahead.usage).toBeUndefined();
    expect(ahead.warnings[0]?.message).toMatch(/^metrics are stamped \d+s in the future/);
  });

  it("takes a sample near the time planned for (plan --now on a recorded cluster)", () => {
    const planned = new Date("2026-11-20T14:30:00Z");
    expect(read("2026-11-20T14:29:45Z", planned).usage?.cpu).toBe(500);
    expect(read("2026-11-20T14:00:00Z", planned).usage).toBeUndefined();
  });
});
