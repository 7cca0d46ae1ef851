import { describe, expect, it } from "@jest/globals";
import { emptyControlState } from "../../src/control/control-state.ts";
import type { NodeDecision } from "../../src/planning/node-decision.ts";
import { nodeProposals } from "../../src/planning/proposal.ts";
import { schedulerFailedNote, unjudgedPendingNote } from "../../src/planning/unjudged-pods.ts";
import { renderDashboard } from "../../src/reconcile/dashboard.ts";
import { withinOneBand } from "../../src/reconcile/dashboard-step.ts";
import { decideResource } from "../../src/rightsizing/decide-resource.ts";
import { explainResource } from "../../src/rightsizing/explain-rightsizing.ts";
import { planOne } from "../planning/plan-helpers.ts";
import { buildSnapshot, node, nodes, pendingPod, pod } from "../support/snapshot-builder.ts";
import { cluster, infraFiles, WORKERS_POOL } from "./support/infra.ts";
import { scenario } from "./support/scenario.ts";

describe("the dashboard's notes", () => {
  // Four workers, two of them down: the pool holds, and a person is needed.
  const decision = planOne(
    buildSnapshot({
      nodes: [
        ...nodes(2, { usage: { cpu: "1", memory: "4Gi" } }),
        ...nodes(2, { ready: false }, "worker-", 3),
      ],
    }),
  );
  const { notes } = nodeProposals([decision], new Map());
  const dashboard = (extra = notes) =>
    renderDashboard({
      control: emptyControlState(),
      decisions: [decision],
      open: [],
      recentlyClosed: [],
      waiting: [],
      notes: extra,
    });

  it("give a held pool's warning under Why, not again as a note with its usage figures", () => {
    expect(notes[0]).toMatchObject({ level: "warning", subject: "pool/workers" });
    const body = dashboard();
    expect(body).toContain("## Why");
    expect(body).toContain("`workers` hold: 2 of 4 nodes not Ready (~50 % > 45 %)");
    expect(body).not.toContain("## Right-sizing and other notes");
  });

  it("still list a warning that no decision carries", () => {
    const body = dashboard([
      ...notes,
      {
        level: "warning",
        subject: "pool/workers",
        message: "workers wants 4 → 5, but the change cannot be written: an anchor",
      },
    ]);
    expect(body).toContain("## Right-sizing and other notes");
    expect(body).toContain(
      "`pool/workers`: workers wants 4 → 5, but the change cannot be written: an anchor",
    );
  });

  it("give the max a raise stops at under Why, not again as a note", () => {
    // Two workers at 97 % cpu over scaleUp.cpu: 50 want two more; the max of 3 lets one in.
    const raised = planOne(
      buildSnapshot({ nodes: nodes(2, { usage: { cpu: "3900m", memory: "4Gi" } }) }),
      { max: 3, scaleUp: { cpu: 50 } },
    );
    const output = nodeProposals(
      [raised],
      new Map([["terraform/terraform.tfvars", "worker_count = 2\n"]]),
    );
    expect(output.proposals[0]).toMatchObject({ from: 2, to: 3 });
    expect(output.notes).toEqual([
      expect.objectContaining({ level: "warning", subject: "pool/workers" }),
    ]);
    const body = renderDashboard({
      control: emptyControlState(),
      decisions: [raised],
      open: [],
      recentlyClosed: [],
      waiting: [],
      notes: output.notes,
    });
    expect(body).toContain("`workers` hold: wanted 4 nodes, the max allows 3");
    expect(body).not.toContain("## Right-sizing and other notes");
  });

  it("fold notes on the configuration apart from those on changes not proposed", () => {
    const body = dashboard([
      ...notes,
      {
        level: "info",
        subject: "config",
        message:
          "pool workers: schedule evening asks for a min of 5, above the host cap of 4: while it is open, the pool's min is 4",
      },
      {
        level: "info",
        subject: "apps/web",
        message: "web: no VPA recommendation for container web yet",
      },
    ]);
    const folded = (summary: string) =>
      body.split(`<summary>${summary}</summary>`)[1]?.split("</details>")[0];
    expect(folded("1 note on the configuration")).toContain(
      "`config`: pool workers: schedule evening",
    );
    expect(folded("1 note on the configuration")).not.toContain("apps/web");
    expect(folded("1 note on changes not proposed")).toContain("`apps/web`: web: no VPA");
    expect(folded("1 note on changes not proposed")).not.toContain("`config`");
  });

  it("round a signed change as a whole, its thresholds and margins as they are", () => {
    const request = (current: number, oom?: { kills: number; margin: number }) =>
      explainResource(
        decideResource({
          resource: "cpu",
          current,
          recommendation: { target: 450, lowerBound: 300, upperBound: 1200 },
          vpaRange: {},
          configRange: {},
          step: 10,
          tolerance: 20,
          limitMode: "keep",
          aboveLimit: "raise",
          controlled: true,
          historyProblems: [],
          vpaApplies: false,
          vpaScalesLimits: false,
          ...(oom ? { resource: "memory", oom, currentLimit: current } : {}),
        }),
      );
    const body = dashboard([
      { level: "info", subject: "deployment/media/plex", message: request(1300) },
      { level: "info", subject: "deployment/media/sonarr", message: request(480) },
      {
        level: "info",
        subject: "deployment/media/radarr",
        message: request(400, { kills: 1, margin: 20 }),
      },
    ]);
    // 1300m → 450m is −65.4 %: "~−65 %", as the other rounded figures read, not "−~65 %".
    expect(body).toContain(
      "`deployment/media/plex`: cpu request 1300m → 450m (~−65 %): VPA target 450m [VPA bounds 300m–1200m]; because the request is above the VPA upper bound 1200m; it differs by ~65 % (tolerance 20 %)",
    );
    expect(body).toContain(
      "`deployment/media/sonarr`: cpu request 480m kept: the target 450m differs by ~5 %, within the tolerance of 20 %, and the request is inside the VPA bounds [VPA bounds 300m–1200m]",
    );
    // One band further is no change of the text, as for usage; a change whose sign turns is.
    const plex = body.split("\n").find((line) => line.includes("media/plex")) ?? "";
    expect(withinOneBand(plex, plex.replace("~−65 %", "~−60 %"))).toBe(true);
    expect(withinOneBand(plex, plex.replace("~−65 %", "~−55 %"))).toBe(false);
    expect(withinOneBand("(~−5 %)", "(~+5 %)")).toBe(false);
    // A raise after an OOM kill: the limit of 400 bytes + 20 % is 480, a change of +20 %.
    expect(body).toContain(
      "`deployment/media/radarr`: memory request 400 → 480 (~+20 %): VPA target 450, after an OOM kill at least the current limit 400 + 20 % → 480",
    );
  });
});

describe("the dashboard's reasons", () => {
  const why = (down: number, ready: number, maxUnready: number) => {
    const decision = planOne(
      buildSnapshot({
        nodes: [
          ...nodes(ready, { usage: { cpu: "1", memory: "4Gi" } }),
          ...nodes(down, { ready: false }, "worker-", ready + 1),
        ],
      }),
      { maxUnready },
    );
    return renderDashboard({
      control: emptyControlState(),
      decisions: [decision],
      open: [],
      recentlyClosed: [],
      waiting: [],
      notes: nodeProposals([decision], new Map()).notes,
    });
  };

  it("round the measured figure, never the threshold it is compared with", () => {
    // 1 of 2 is 50 %, above a maxUnready of 48 %: not "~50 % > ~50 %".
    expect(why(1, 1, 48)).toContain("`workers` hold: 1 of 2 nodes not Ready (~50 % > 48 %)");
  });

  it("keep a rounded figure on its side of the threshold", () => {
    // 4 of 7 is 57.1 %, which the nearest 5 would show as the 55 % it is above.
    expect(why(4, 3, 55)).toContain("`workers` hold: 4 of 7 nodes not Ready (~60 % > 55 %)");
  });
});

describe("the dashboard's note on pods the scheduler has not judged", () => {
  // Left to a scheduler of its own: not counted, and named from the first.
  const snapshot = buildSnapshot({
    nodes: nodes(1),
    pods: [{ ...pod("web/new"), schedulerName: "volcano" }],
  });
  const note = (now: string) => unjudgedPendingNote(snapshot, new Date(now));

  it("leaves out a pod just made, which the scheduler judges within seconds", () => {
    const fresh = note("2025-06-06T11:01:00.000Z");
    expect(fresh?.level).toBe("info");
    const body = renderDashboard({
      control: emptyControlState(),
      decisions: [],
      open: [],
      recentlyClosed: [],
      waiting: [],
      notes: fresh ? [fresh] : [],
    });
    expect(body).not.toContain("web/new");
  });

  it("shows pods left unjudged for long, the same at every reconcile", () => {
    const bodies = ["2025-06-06T11:30:00.000Z", "2025-06-06T11:45:00.000Z"].map((now) => {
      const late = note(now);
      expect(late?.level).toBe("warning");
      return renderDashboard({
        control: emptyControlState(),
        decisions: [],
        open: [],
        recentlyClosed: [],
        waiting: [],
        notes: late ? [late] : [],
      });
    });
    expect(bodies[0]).toContain("`unjudged-pods`: 1 Pending pod not marked unschedulable");
    expect(bodies[1]).toBe(bodies[0]);
  });

  it("shows a counted pod the default scheduler has not tried for long, the same at every reconcile", () => {
    const untried = buildSnapshot({ nodes: nodes(1), pods: [pod("web/new")] });
    const bodies = ["2025-06-06T11:30:00.000Z", "2025-06-06T11:45:00.000Z"].map((now) => {
      const late = unjudgedPendingNote(untried, new Date(now));
      return renderDashboard({
        control: emptyControlState(),
        decisions: [],
        open: [],
        recentlyClosed: [],
        waiting: [],
        notes: late ? [late] : [],
      });
    });
    expect(bodies[0]).toContain(
      "`unjudged-pods`: 1 Pending pod not yet tried by the scheduler (no PodScheduled condition) is counted as pending",
    );
    expect(bodies[1]).toBe(bodies[0]);
  });
});

describe("the dashboard's note on pods the scheduler failed on", () => {
  const snapshot = buildSnapshot({
    nodes: nodes(1),
    pods: [
      {
        ...pod("web/bind"),
        notScheduled: {
          reason: "SchedulerError",
          message: "binding rejected: etcdserver: request timed out",
          since: "2025-06-06T11:20:00.000Z",
        },
      },
    ],
  });
  const render = (now: string) => {
    const note = schedulerFailedNote(snapshot, new Date(now));
    return renderDashboard({
      control: emptyControlState(),
      decisions: [],
      open: [],
      recentlyClosed: [],
      waiting: [],
      notes: note ? [note] : [],
    });
  };

  it("leaves out a failure of a moment, which the scheduler tries again", () => {
    expect(render("2025-06-06T11:21:00.000Z")).not.toContain("web/bind");
  });

  it("shows one that lasts, the same at every reconcile", () => {
    const bodies = ["2025-06-06T11:30:00.000Z", "2025-06-06T11:45:00.000Z"].map(render);
    expect(bodies[0]).toContain(
      "`scheduler-failed`: Pending pod web/bind adds no node: the scheduler failed on it",
    );
    expect(bodies[1]).toBe(bodies[0]);
  });
});

describe("the dashboard's cluster section", () => {
  it("keeps secret shapes that a server's answer quoted out of the issue, which may be public", () => {
    const body = renderDashboard({
      control: emptyControlState(),
      decisions: [],
      open: [],
      recentlyClosed: [],
      waiting: [],
      notes: [],
      clusterError:
        "GET https://admin:kube-Pa55word-9@10.0.0.10:6443/api/v1/nodes: 401 Unauthorized: token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYSJ9.c2lnbmF0dXJl",
      snapshotWarnings: ["prometheus: answered 500 for http://monitor:Prom-Pa55w0rd@prom:9090/"],
    });
    expect(body).toContain("The cluster could not be read, so nothing changes: GET https://");
    for (const secret of ["kube-Pa55word-9", "eyJzdWIiOiJzYSJ9", "Prom-Pa55w0rd"])
      expect(body).not.toContain(secret);
    expect(body).toContain("401 Unauthorized");
  });
});

describe("the dashboard's scale-down section", () => {
  it("says a pool's last node stays while the room on a new node without it is unknown", () => {
    const [only] = nodes(1, { usage: { cpu: "400m", memory: "2Gi" } });
    const snapshot = buildSnapshot({ nodes: only ? [only] : [], daemonSets: "unknown" });
    const decision = planOne(snapshot, { min: 0, newNode: { cpu: "4", memory: "16Gi" } });
    const body = renderDashboard({
      control: emptyControlState(),
      decisions: [decision],
      open: [],
      recentlyClosed: [],
      waiting: [],
      notes: [],
    });
    expect(body).toContain(
      "worker-1 is the pool's last node, and the room on a new node without it is unknown (the cluster's DaemonSets)",
    );
    const configured = planOne(
      { ...snapshot, daemonSets: [] },
      { min: 0, newNode: { cpu: "4", memory: "16Gi" } },
    );
    expect(configured).toMatchObject({ action: "scale-down", desired: 0 });
  });
});

describe("the dashboard's scale-down section, with the node to remove cordoned", () => {
  it("says the node is cordoned", () => {
    const usage = { usage: { cpu: "400m", memory: "2Gi" } };
    const snapshot = buildSnapshot({
      nodes: [...nodes(2, usage), ...nodes(1, { ...usage, unschedulable: true }, "worker-", 3)],
    });
    const decision = planOne(snapshot, { scaleDown: { unneededTime: "0s" } });
    expect(decision.action).toBe("none");
    const body = renderDashboard({
      control: emptyControlState(),
      decisions: [decision],
      open: [],
      recentlyClosed: [],
      waiting: [],
      notes: [],
    });
    expect(body).toContain("No node is removed because:\n\n- worker-3 is cordoned");
  });
});

describe("the dashboard's scale-down section, with a blocker on the node", () => {
  it("counts one blocker in the singular", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(3, { usage: { cpu: "400m", memory: "2Gi" } }),
      pods: [pod("tools/debug", { node: "worker-3", owner: null })],
    });
    const decision = planOne(snapshot);
    expect(decision.action).toBe("none");
    const body = renderDashboard({
      control: emptyControlState(),
      decisions: [decision],
      open: [],
      recentlyClosed: [],
      waiting: [],
      notes: [],
    });
    expect(body).toContain("No node is removed because:\n\n- worker-3 has 1 blocker\n");
  });
});

describe("the dashboard's scale-down section, with the budgets not read", () => {
  it("says the node's blockers are unknown, not that it has none", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(3, { usage: { cpu: "400m", memory: "2Gi" } }),
      complete: false,
      warnings: [
        {
          code: "list-failed",
          subject: "poddisruptionbudgets",
          message: "HTTP 403 Forbidden",
        },
      ],
    });
    const decision = planOne(snapshot, { scaleDown: { unneededTime: "0s" } });
    expect(decision.action).toBe("none");
    const body = renderDashboard({
      control: emptyControlState(),
      decisions: [decision],
      open: [],
      recentlyClosed: [],
      waiting: [],
      notes: [],
    });
    expect(body).toContain(
      "No node is removed because:\n\n- worker-3's blockers are unknown (poddisruptionbudgets not read in full)",
    );
  });
});

describe("the dashboard's scale-down section, with the pod list read in part", () => {
  it("says the requests and where the node's pods go are unknown, not that they fit", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(3, { usage: { cpu: "400m", memory: "2Gi" } }),
      complete: false,
      warnings: [{ code: "list-partial", subject: "pods", message: "HTTP 500" }],
    });
    const decision = planOne(snapshot, { scaleDown: { unneededTime: "0s" } });
    expect(decision.action).toBe("none");
    const body = renderDashboard({
      control: emptyControlState(),
      decisions: [decision],
      open: [],
      recentlyClosed: [],
      waiting: [],
      notes: [],
    });
    expect(body).toContain("- cpu requests are unknown (pods not read in full)\n");
    expect(body).toContain(
      "- whether the pods of worker-3 fit on the other nodes is unknown (pods not read in full)",
    );
  });
});

describe("the dashboard's scale-down section, on what usage shows", () => {
  const low = { cpu: "400m", memory: "2Gi" };
  const scaleDown = (decision: NodeDecision) => {
    expect(decision.action).toBe("none");
    const body = renderDashboard({
      control: emptyControlState(),
      decisions: [decision],
      open: [],
      recentlyClosed: [],
      waiting: [],
      notes: [],
    });
    return body.slice(body.indexOf("## Scale-down"), body.indexOf("## Pull requests"));
  };

  it("says usage is unknown, not that it did not stay below, when a node has none", () => {
    const snapshot = buildSnapshot({ nodes: [...nodes(2, { usage: low }), node("worker-3")] });
    const section = scaleDown(planOne(snapshot, { scaleDown: { unneededTime: "0s" } }));
    expect(section).toContain("- cpu usage is unknown\n- memory usage is unknown\n");
    expect(section).toContain("- without a node, cpu would be unknown\n");
    expect(section).not.toMatch(/stayed below|at or above/);
  });

  it("says usage is below now but not shown over the window, when one sample is all there is", () => {
    const snapshot = buildSnapshot({
      nodes: nodes(3, { usage: { ...low, source: "metrics-server" } }),
    });
    expect(scaleDown(planOne(snapshot))).toContain(
      "- cpu usage is below 30 % now, but not shown to have stayed there for 10m yet\n",
    );
  });

  it("gives the window as configured, not rounded to minutes", () => {
    const snapshot = buildSnapshot({ nodes: nodes(3, { usage: { cpu: "3", memory: "2Gi" } }) });
    const section = scaleDown(planOne(snapshot, { scaleDown: { unneededTime: "90s" } }));
    expect(section).toContain("- cpu usage has not stayed below 30 % for 1m30s\n");
  });
});

describe("the dashboard's pending pods that add no node", () => {
  // Two full workers whose zones differ, a max of 3: one new node for five pending pods.
  const snapshot = buildSnapshot({
    nodes: [
      node("worker-1", { labels: { zone: "a" }, usage: { cpu: "2", memory: "8Gi" } }),
      node("worker-2", { labels: { zone: "b" }, usage: { cpu: "2", memory: "8Gi" } }),
    ],
    pods: [
      pod("web/full-1", { node: "worker-1", cpu: "3500m", memory: "1Gi" }),
      pod("web/full-2", { node: "worker-2", cpu: "3500m", memory: "1Gi" }),
      pendingPod("batch/job-1", { cpu: "3", memory: "1Gi" }),
      pendingPod("batch/job-2", { cpu: "3", memory: "1Gi" }),
      pendingPod("batch/job-3", { cpu: "3", memory: "1Gi" }),
      pendingPod("batch/huge", { cpu: "16", memory: "1Gi" }),
      pendingPod("batch/zoned", { cpu: "1", memory: "1Gi", nodeSelector: { zone: "a" } }),
    ],
  });
  const decision = planOne(snapshot, { max: 3 });
  const { proposals, notes } = nodeProposals(
    [decision],
    new Map([["terraform/terraform.tfvars", "worker_count = 2\n"]]),
  );
  const body = renderDashboard({
    control: emptyControlState(),
    decisions: [decision],
    open: [],
    recentlyClosed: [],
    waiting: [],
    notes,
  });

  it("lists under Why, once each, the pods that need a person though their pool changes", () => {
    expect(proposals.map((entry) => [entry.from, entry.to])).toEqual([[2, 3]]);
    expect(notes.map((note) => note.subject)).toEqual(["pods"]);
    // Job-2 and job-3 still wait once the change is made: a warning, shown once all the same.
    expect(notes[0]?.level).toBe("warning");
    expect(body).toContain(
      "- `workers` never fits: batch/huge (cpu 16, memory 1 GiB): needs more cpu than a new node has (asks for 16 cpu, a new node has 4)\n",
    );
    // Whether a new node would be in zone a is not known: a person sets newNode.labels.
    expect(body).toMatch(
      /\n- `workers` fit unknown: batch\/zoned \(cpu 1, memory 1 GiB\): [^\n]*newNode\.labels/,
    );
    expect(body).toContain(
      "- `workers` beyond max: 3 new nodes needed, 1 allowed (the max is 3); left pending: batch/job-2, batch/job-3\n",
    );
    // The plan's note on them says nothing the pool's lines do not: it is not shown again.
    for (const name of ["batch/huge", "batch/zoned", "batch/job-2"])
      expect(body.split(name)).toHaveLength(2);
    expect(body).not.toContain("pending pods that add no node");
  });
});

describe("the dashboard's notes on the configuration", () => {
  it("say a schedule's min is above the host cap before the window opens", async () => {
    // Friday's evening window asks for 5 workers of a host that holds 4; the run is on a Friday
    // at noon, hours before it opens, when the pool's bounds say nothing of it yet.
    const config = WORKERS_POOL.replace(
      "    max: 6\n",
      "    max: 6\n    host: { maxNodes: 4 }\n    schedules:\n      - { name: evening, cron: '0 18 * * 5', duration: 6h, min: 5 }\n",
    );
    const world = scenario({ files: infraFiles({ config }), cluster: cluster() });
    const result = await world.run();
    const note =
      "pool workers: schedule evening asks for a min of 5, above the host cap of 4: while it is open, the pool's min is 4";
    expect(result.notes).toContainEqual({ level: "info", subject: "config", message: note });
    const body = world.github.botIssue("dashboard")?.body ?? "";
    expect(body).toContain("## Right-sizing and other notes");
    expect(body).toContain(`\`config\`: ${note}`);
    // It is about no change: folded under its own summary, not among the changes not proposed.
    expect(body).toContain("<summary>1 note on the configuration</summary>");
    expect(body).not.toContain("on changes not proposed");
  });
});

describe("the dashboard's list of commands", () => {
  it("lists /autoscaler help, which the pull requests' footer points to", () => {
    const body = renderDashboard({
      control: emptyControlState(),
      decisions: [],
      open: [],
      recentlyClosed: [],
      waiting: [],
      notes: [],
    });
    expect(body).toContain(
      "- `/autoscaler hold` / `unhold`: on a pull request, stop or allow its auto-merge\n" +
        "- `/autoscaler help`: reply with this list\n\nOnly people with write access are obeyed.",
    );
  });
});
