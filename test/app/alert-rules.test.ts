/**
 * The alert rules docs/observability.md gives, as Prometheus evaluates them: `promtool test
 * rules` over series shaped as the app exposes them (one value a minute, labelled by the
 * scraped pod as Prometheus labels it).
 */
import { describe, expect, it } from "@jest/globals";
import {
  type AlertCheck,
  checkRules,
  documentedRules,
  type InputSeries,
  testRules,
} from "./support/alert-rules.ts";

const ALERT = "PrAutoscalerReconcilesFailing";
const REPOSITORY = "octocat/infra";

/** The series of one pod: `instance` as Prometheus labels a scraped target. */
function pod(instance: string) {
  const labels = `instance="${instance}",job="pr-autoscaler"`;
  const inARow = (values: string, repository = REPOSITORY): InputSeries => ({
    series: `pr_autoscaler_reconcile_failures_in_a_row{${labels},repository="${repository}"}`,
    values,
  });
  const leader = (values: string): InputSeries => ({
    series: `pr_autoscaler_leader{${labels}}`,
    values,
  });
  return {
    inARow,
    leader,
    /** Whether it leads, and its failures in a row for the repository, minute by minute. */
    leading: (leads: string, failures: string) => [leader(leads), inARow(failures)],
    reconciles: (status: string, values: string): InputSeries => ({
      series: `pr_autoscaler_reconciles_total{${labels},repository="${REPOSITORY}",status="${status}"}`,
      values,
    }),
  };
}

const firing = (at: string, repository = REPOSITORY): AlertCheck => ({
  alert: ALERT,
  at,
  firing: [{ repository }],
});
const quiet = (at: string): AlertCheck => ({ alert: ALERT, at, firing: [] });

async function expectRules(series: InputSeries[], checks: AlertCheck[]): Promise<void> {
  const outcome = await testRules(await documentedRules(), series, checks);
  // promtool's output says which check failed and what fired instead.
  expect(outcome.passed ? "passed" : outcome.output).toBe("passed");
}

describe("the documented alert rules", () => {
  it("are a rule file Prometheus loads", async () => {
    const outcome = await checkRules(await documentedRules());
    expect(outcome.output).toContain("SUCCESS: 6 rules found");
    expect(outcome.passed).toBe(true);
  });
});

describe("PrAutoscalerReconcilesFailing", () => {
  const a = pod("10.42.0.7:3000");
  const follower = pod("10.42.1.3:3000");
  const restarted = pod("10.42.2.9:3000");

  it.each<[string, InputSeries[], AlertCheck[]]>([
    [
      "fires for a repository never reconciled since the process started, at the third failure",
      [
        a.leader("1x30"),
        // The cluster was down from the start: no reconcile ever worked.
        a.reconciles("cluster-error", "1+1x30"),
        a.inARow("1+1x30"),
      ],
      [quiet("1m"), firing("2m"), firing("30m")],
    ],
    [
      "fires once the reconciles that worked stop, and not before",
      [a.leader("1x40"), a.reconciles("ok", "1+1x10 11x30"), a.inARow("0x10 1+1x30")],
      [quiet("10m"), quiet("12m"), firing("13m"), firing("40m")],
    ],
    [
      "resolves when a reconcile works again",
      a.leading("1x20", "1+1x5 0x15"),
      [firing("4m"), quiet("7m"), quiet("20m")],
    ],
    [
      "looks at the replica that runs the loop, not at a follower's older count",
      [
        ...a.leading("1x30", "0x30"),
        // The follower failed on webhooks while the cluster was down, and kept its count.
        ...follower.leading("0x30", "5x30"),
        a.inARow("0x10 1+1x20", "octocat/lab"),
      ],
      [quiet("5m"), quiet("12m"), firing("13m", "octocat/lab")],
    ],
    [
      "fires again in a pod restarted during an outage",
      [
        ...a.leading("1x5 stale", "1+1x5 stale"),
        // The new pod lists the repositories, then fails from its first reconcile.
        ...restarted.leading("_x7 1x30", "_x8 1+1x30"),
      ],
      [firing("4m"), quiet("7m"), quiet("9m"), firing("10m")],
    ],
  ])("%s", async (_name, series, checks) => {
    await expectRules(series, checks);
  });
});
