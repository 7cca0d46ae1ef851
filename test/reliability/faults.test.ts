/**
 * The reduced set of the fault and concurrency run (bench/reliability-faults.ts): every kind of
 * GitHub fault at the requests that write, every Kubernetes fault, and two replicas under 50
 * duplicate webhook deliveries. The goals: no duplicate pull request, no half-made one left, no
 * scale-down on missing data, and every run recovered by the next reconcile.
 */
import { beforeAll, describe, expect, it } from "@jest/globals";
import nock from "nock";
import {
  type FaultReport,
  renderFaultTable,
  runReliabilityFaults,
} from "../../bench/reliability-faults.ts";
import {
  gitHubFaultKinds,
  phases,
  recordPhase,
  runStepFault,
} from "../../bench/reliability-faults-github.ts";
import { kubeFaults, runKubeFault } from "../../bench/reliability-faults-kube.ts";

let report: FaultReport;

// About 80 s on two cores that also run other work, and 175 s with two busy loops besides:
// three minutes was no margin.
beforeAll(async () => {
  report = await runReliabilityFaults({ reduced: true });
}, 600_000);

describe("faults and concurrency, reduced set", () => {
  it("puts every kind of fault somewhere, and every write of every phase gets one", () => {
    const faults = new Set(report.rows.map((row) => row.fault));
    for (const kind of gitHubFaultKinds) expect(faults).toContain(kind.name);
    for (const fault of kubeFaults) expect(faults).toContain(fault.name);
    expect([...faults].some((fault) => fault.startsWith("2 replicas"))).toBe(true);
    for (const { phase, steps } of report.phases) {
      steps.forEach((call, i) => {
        if (!/^(POST|PATCH|PUT|DELETE) /.test(call)) return;
        expect(report.rows.some((row) => row.step === `${phase} ${i + 1}: ${call}`)).toBe(true);
      });
    }
    expect(report.phases.map((p) => p.phase)).toEqual(["open", "update", "close"]);
  });

  it("meets every goal: no duplicate, nothing half-made, no scale-down on missing data, all recovered", () => {
    const missed = report.rows.filter(
      (row) =>
        row.duplicatePRs !== 0 ||
        row.halfMadeLeft !== 0 ||
        (row.scaleDownOnMissingData ?? 0) !== 0 ||
        row.recovered !== row.runs ||
        row.notes.length > 0,
    );
    expect(missed).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(renderFaultTable(report)).toContain("Runs that missed a goal:\n\nNone.");
  });
});

describe("the judgement sees what a fault leaves", () => {
  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect("127.0.0.1");
  });

  it("counts a branch left without its pull request when no reconcile follows the fault", async () => {
    const open = phases[0] as (typeof phases)[number];
    const recorded = await recordPhase(open);
    const step = recorded.steps.indexOf("POST /pulls") + 1;
    const refused = gitHubFaultKinds[0] as (typeof gitHubFaultKinds)[number];
    const { row } = await runStepFault(open, recorded, step, refused, { recover: false });
    expect(row.halfMadeLeft).toBe(1);
    expect(row.recovered).toBe(0);
    expect(row.notes).toContain(
      "half-made: branch pr-autoscaler/nodes-workers without a pull request",
    );
  });

  it("has a cluster on which whole data does make the planner scale down", async () => {
    const control = await runKubeFault(undefined);
    expect(control).toMatchObject({ fault: "none", recovered: 1, notes: [] });
  });
});
