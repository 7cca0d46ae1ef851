/**
 * `plan --kubeconfig` where metrics-server serves the nodes' samples and none of the pods'
 * (PodMetrics missing, as while metrics-server has not scraped a kubelet since its pods
 * started). The node plan counts pods by their requests and reads the nodes' usage; a pod's
 * usage is read by right-sizing alone. So while the config has no `rightsizing:` section (or
 * sets `enabled: false`), the pods without usage are said in one note on stderr, not a warning
 * each (20 of them would crowd out the warnings that count); with right-sizing on each still
 * warns, as its decisions rest on that usage.
 */
import { describe, expect, it } from "@jest/globals";
import { CONFIG, type PlanJson } from "./served-cluster.ts";
import { apps, cluster, manyPods, serveForTest, WORKERS } from "./served-plan.ts";

const MISSING = "no usable metrics for this running pod; usage unknown [metrics-missing]";
const APP = "pod/default/echo-server-5d8f7c9b6-ap0xx";

describe("plan against a served cluster: pods without usage", () => {
  it("says the pods' missing usage in one note while right-sizing is off", async () => {
    const served = await serveForTest([...cluster(), ...apps(WORKERS)]);
    const run = await served.run([]);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain("warning: pod/");
    expect(run.stderr).toContain(
      "note: pods: usage unknown for 6 pods (default/echo-server-5d8f7c9b6-ap0xx, default/echo-server-5d8f7c9b6-ap1xx, default/echo-server-5d8f7c9b6-ap2xx, and 3 more) [metrics-missing]; right-sizing is off (the config has no rightsizing section), so no decision reads a pod's usage (the node plan counts pods by their requests)\n",
    );

    const json = await served.run(["--json"], {
      config: `${CONFIG}rightsizing:\n  enabled: false\n`,
    });
    expect(json.code).toBe(0);
    expect(json.stderr).not.toContain("warning: pod/");
    expect(json.stderr).toContain("right-sizing is off (rightsizing.enabled is false)");
    const notes = (JSON.parse(json.stdout) as PlanJson).notes;
    expect(notes.filter((note) => note.subject?.startsWith("pod"))).toEqual([]);
  });

  it("puts the summary of pods left out past a code's first 50 in the note too", async () => {
    // 66 pods without usage: the snapshot keeps 50 metrics-missing warnings and sums up the
    // other 16, all about pods, which no decision reads either while right-sizing is off.
    const served = await serveForTest([...cluster(), ...apps(WORKERS), ...manyPods(60)]);
    const run = await served.run([]);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain("warning: ");
    expect(run.stderr).toMatch(
      /^note: pods: usage unknown for 50 pods \(.*, and 47 more\) \[metrics-missing\]; 16 more warnings with code metrics-missing about pods or containers were left out \(66 in all\); right-sizing is off/m,
    );

    const on = await served.run([], { config: `${CONFIG}rightsizing: {}\n` });
    // Right-sizing on, they all warn: the first 20 printed, the rest counted with the summary's.
    expect(on.stderr).toContain("warning: 46 more warnings not shown\n");
    expect(on.stderr).not.toContain("note: pods:");
  });

  it("still warns of each pod's missing usage while right-sizing is on", async () => {
    const served = await serveForTest([...cluster(), ...apps(WORKERS)]);
    const run = await served.run([], { config: `${CONFIG}rightsizing: {}\n` });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`warning: ${APP}: ${MISSING}\n`);
    expect(run.stderr).not.toContain("note: pods:");
  });
});
