import { describe, expect, it } from "@jest/globals";
import {
  CONFIG,
  CONFIG_PATH,
  cluster,
  infraFiles,
  NODES_ONLY_CONFIG,
  TFVARS,
  tfvars,
} from "./support/infra.ts";
import { type Scenario, scenario } from "./support/scenario.ts";

const BRANCH = "pr-autoscaler/nodes-workers";

/** The scenarios' node pull request: one pending pod of 3 cpu needs a fourth worker. */
function opened() {
  const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
  return { world, first: world.run() };
}

/** A person's branch `more-workers` whose one commit sets 4 workers. */
function withFourWorkersBranch() {
  const world = scenario({ cluster: cluster({ plex: false }) });
  world.github.branch("more-workers");
  world.github.push(
    { [TFVARS]: tfvars(3).replace("worker_count      = 3", "worker_count      = 4") },
    { branch: "more-workers", message: "Four workers for the import" },
  );
  return world;
}

/**
 * Merges three hours after the branch was written and reconciles five minutes later: the new
 * count's nodes are awaited from the merge, not reported as failed to join since the commit.
 */
async function expectJoiningFromMerge(world: Scenario, merge: () => void) {
  world.github.advance(3 * 60 * 60_000);
  merge();
  const mergedAt = world.github.now().toISOString();
  world.github.advance(5 * 60_000);
  world.github.reset();
  const result = await world.run();
  expect(result.decisions[0]?.holds).toEqual([
    expect.objectContaining({ kind: "provisioning", state: "joining", since: mergedAt }),
  ]);
}

describe("the first pull request", () => {
  it("opens one pull request with a Renovate-like title, labels, tables and the edited file", async () => {
    const { world, first } = opened();
    const result = await first;
    expect(result.status).toBe("ok");
    expect(result.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "created", number: 1 }),
    ]);
    const pull = world.github.pull(1);
    expect(pull.title).toBe("Scale workers from 3 to 4 nodes");
    expect(pull.labels).toEqual(["autoscaling", "scale-up"]);
    expect(pull.branch).toBe(BRANCH);
    expect(pull.body).toContain(
      "Pool **workers** needs more room: 1 pending pod needs 1 new node.",
    );
    expect(pull.body).toContain("| workers | 3 (3 Ready) | 3 → **4** | 1–6 |");
    // Why not the room there is: three workers short of cpu, the control plane tainted.
    expect(pull.body).toContain(
      "| apps/batch-0 | 3 | 2 GiB | new node 1 (existing nodes: talos-worker-0 and 2 more have too little cpu free; talos-cp-0 has room but a taint it does not tolerate keeps it off) |",
    );
    expect(pull.body).toContain(
      "Sets `worker_count` in `terraform/terraform.tfvars` from `3` to `4`.",
    );
    expect(pull.body).toContain(
      "**Merges itself** under rule `add-one-node` from `preset:homelab`",
    );
    expect(pull.body).toMatch(/<!-- pr-autoscaler:pull-request \{"key":"nodes-workers",/);
    expect(world.github.file(TFVARS, BRANCH)).toBe(
      tfvars(3).replace("worker_count      = 3", "worker_count      = 4"),
    );
    expect(world.github.file(TFVARS)).toBe(tfvars(3));
  });

  it("creates the dashboard with the pools, the decision and the command state", async () => {
    const { world, first } = opened();
    expect((await first).dashboard).toBe("created");
    const dashboard = world.github.botIssue("dashboard");
    expect(dashboard?.title).toBe("pr-autoscaler dashboard");
    expect(dashboard?.labels).toEqual(["pr-autoscaler"]);
    expect(dashboard?.body).toMatch(/^<!-- pr-autoscaler:control \{"version":1,"lastComment":0,/);
    expect(dashboard?.body).toContain(
      "| workers | 3 (3 Ready) | 3 | 1–6 | ~50 % / ~45 % | ~75 % / ~40 % | add 1 (→ 4) |",
    );
    expect(dashboard?.body).toContain("- #1 Scale workers from 3 to 4 nodes");
  });

  it("asks GitHub nothing about merging while the grace period runs", async () => {
    const { world, first } = opened();
    expect((await first).merges).toEqual([]);
    expect(world.github.calls().filter((call) => call.startsWith("GET /pulls/1"))).toEqual([]);
  });
});

describe("an open pull request when the plan changes", () => {
  it("supersedes 3 → 4 with 3 → 5 in the same pull request", async () => {
    const { world, first } = opened();
    await first;
    world.cluster = cluster({ pending: 2, plex: false });
    const result = await world.run();
    expect(result.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "updated", number: 1 }),
    ]);
    expect(world.github.openPulls()).toHaveLength(1);
    const pull = world.github.pull(1);
    expect(pull.title).toBe("Scale workers from 3 to 5 nodes");
    expect(pull.body).toContain("3 → **5**");
    expect(world.github.file(TFVARS, BRANCH)).toContain("worker_count      = 5");
    expect(world.github.file(TFVARS)).toContain("worker_count      = 3");
  });

  it("closes the pull request, with the reason, when the plan no longer wants a change", async () => {
    const { world, first } = opened();
    await first;
    world.cluster = cluster({ pending: 0, plex: false });
    const result = await world.run();
    expect(result.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "closed", number: 1 }),
    ]);
    expect(world.github.pull(1).state).toBe("closed");
    expect(world.github.git.branches.has(BRANCH)).toBe(false);
    const [comment] = world.github.commentsOn(1);
    expect(comment?.body).toContain("The plan no longer wants this change: pool workers");
    expect(comment?.body).toContain("no change at 3");
  });

  it("closes an increase beyond a max lowered since, though more nodes are still wanted", async () => {
    const { world, first } = opened();
    await first;
    world.github.push({ [CONFIG_PATH]: CONFIG.replace("max: 6", "max: 2") });
    world.cluster = cluster({ pending: 1, plex: false });
    const result = await world.run();
    expect(result.decisions[0]?.holds).toEqual([
      { kind: "at-max", wanted: 4, allowed: 2, bound: "max" },
    ]);
    expect(result.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "closed", number: 1 }),
    ]);
    expect(world.github.pull(1).state).toBe("closed");
    expect(world.github.commentsOn(1)[0]?.body).toMatch(
      /^This pull request's count of 4 is above the max of 2 now, so it no longer applies: pool workers /,
    );
  });

  it("leaves the pull request open while the pool's decision is held", async () => {
    const { world, first } = opened();
    await first;
    world.cluster = cluster({ pending: 0, plex: false, complete: false });
    const result = await world.run();
    expect(result.pullRequests).toEqual([
      expect.objectContaining({
        key: "nodes-workers",
        action: "left-alone",
        note: "held: the cluster snapshot is incomplete (pods: the list stopped part way); no action",
      }),
    ]);
    expect(world.github.pull(1).state).toBe("open");
  });

  it("names on the dashboard the list each warning of an incomplete snapshot is about", async () => {
    const held = cluster({ pending: 0, plex: false, complete: false });
    const world = scenario({
      cluster: {
        ...held,
        warnings: [
          {
            code: "list-failed",
            subject: "poddisruptionbudgets",
            message: "HTTP 500 Internal Server Error",
          },
        ],
      },
    });
    await world.run();
    expect(world.github.botIssue("dashboard")?.body).toContain(
      "The snapshot is incomplete, so no node is added or removed:\n\n- poddisruptionbudgets: HTTP 500 Internal Server Error\n",
    );
  });

  it("says usage no decision reads as plan says it among an incomplete snapshot's warnings", async () => {
    const held = cluster({ pending: 0, plex: false, complete: false });
    const missing = (name: string) => ({
      code: "metrics-missing",
      message: "no usable metrics",
      subject: `pod/apps/${name}`,
    });
    // No pool has the control plane, and without a rightsizing section no decision reads a pod's
    // usage: the list that stopped part way is the warning, the rest says why it is no concern.
    const world = scenario({
      files: infraFiles({ config: NODES_ONLY_CONFIG }),
      cluster: {
        ...held,
        warnings: [
          {
            code: "list-failed",
            subject: "poddisruptionbudgets",
            message: "HTTP 500 Internal Server Error",
          },
          {
            code: "prometheus-no-series",
            subject: "node/talos-cp-0",
            message: "Prometheus has no usage series for node talos-cp-0; its usage is unknown",
          },
          missing("web-0"),
          missing("web-1"),
          missing("web-2"),
          missing("web-3"),
        ],
      },
    });
    await world.run();
    expect(world.github.botIssue("dashboard")?.body).toContain(
      [
        "The snapshot is incomplete, so no node is added or removed:\n",
        "- poddisruptionbudgets: HTTP 500 Internal Server Error",
        "- node/talos-cp-0: Prometheus has no usage series for node talos-cp-0; its usage is unknown [prometheus-no-series]; no pool has talos-cp-0, so no decision reads its usage (the room pods find on it is judged by their requests)",
        "- pods: usage unknown for 4 pods (apps/web-0, apps/web-1, apps/web-2, and 1 more) [metrics-missing]; right-sizing is off (the config has no rightsizing section), so no decision reads a pod's usage (the node plan counts pods by their requests)\n",
      ].join("\n"),
    );
  });

  it("lists the failed list first and at most 20 of an incomplete snapshot's warnings", async () => {
    const held = cluster({ pending: 0, plex: false, complete: false });
    // 24 pods with a request the reader could not parse, read before the list that failed: the
    // dashboard names the list first, then 19 of them, and counts the other 5.
    const unparsed = Array.from({ length: 24 }, (_, i) => ({
      code: "quantity-invalid",
      subject: `pod/apps/web-${i}`,
      message: `containers[0].resources.requests.cpu: "1 core" is not a quantity; treated as unknown`,
    }));
    const world = scenario({
      cluster: {
        ...held,
        warnings: [
          ...unparsed,
          {
            code: "list-failed",
            subject: "poddisruptionbudgets",
            message: "HTTP 500 Internal Server Error",
          },
        ],
      },
    });
    await world.run();
    const body = world.github.botIssue("dashboard")?.body ?? "";
    const listed = body
      .slice(body.indexOf("The snapshot is incomplete, so no node is added or removed:"))
      .split("\n\n")[1]
      ?.split("\n");
    expect(listed).toHaveLength(20);
    expect(listed?.[0]).toBe("- poddisruptionbudgets: HTTP 500 Internal Server Error");
    expect(listed?.at(-1)).toContain("- pod/apps/web-18: ");
    expect(body).not.toContain("pod/apps/web-19");
    expect(body).toContain(
      '- pod/apps/web-18: containers[0].resources.requests.cpu: "1 core" is not a quantity; treated as unknown\n\n5 more warnings not shown.\n',
    );
  });

  it("closes a right-sizing pull request once the VPA API is not served, saying so", async () => {
    const world = scenario({ cluster: cluster({ plex: true }) });
    const opening = await world.run();
    const plex = opening.pullRequests.find((outcome) => outcome.key === "resources-media-plex");
    if (plex?.number === undefined) throw new Error("no right-sizing pull request opened");
    // The VPA's CRDs are gone (uninstalled, or a release that serves only v1beta2): the reader
    // warns, as it does for a 404 on the VPA list, and lists no VPA.
    const read = cluster({ plex: true });
    world.cluster = {
      ...read,
      vpas: [],
      warnings: [
        ...read.warnings,
        {
          code: "vpa-not-installed",
          subject: "verticalpodautoscalers",
          message: "autoscaling.k8s.io/v1 is not served by this cluster (404); none are considered",
        },
      ],
    };
    const result = await world.run();
    expect(result.pullRequests).toContainEqual(
      expect.objectContaining({
        key: "resources-media-plex",
        action: "closed",
        number: plex.number,
      }),
    );
    const [comment] = world.github.commentsOn(plex.number);
    expect(comment?.body).toContain(
      "The VerticalPodAutoscaler API (autoscaling.k8s.io/v1) is not served in the cluster any more, so no recommendation backs this change",
    );
    expect(comment?.body).not.toContain("within the tolerance");
  });

  it("closes a right-sizing pull request whose workload the configuration now leaves out, saying so", async () => {
    const world = scenario({ cluster: cluster({ plex: true }) });
    const opening = await world.run();
    const plex = opening.pullRequests.find((outcome) => outcome.key === "resources-media-plex");
    if (plex?.number === undefined) throw new Error("no right-sizing pull request opened");
    world.github.push({
      [CONFIG_PATH]: CONFIG.replace("rightsizing: {}", "rightsizing:\n  exclude: [media/plex]"),
    });
    const result = await world.run(undefined, ["push"]);
    const reason =
      "Right-sizing leaves Deployment media/plex (media/plex is in rightsizing.exclude) out now, so this change is not wanted any more.";
    expect(result.pullRequests).toContainEqual({
      key: "resources-media-plex",
      action: "closed",
      number: plex.number,
      note: reason,
    });
    const [comment] = world.github.commentsOn(plex.number);
    expect(comment?.body).toContain(reason);
    expect(comment?.body).not.toContain("within the tolerance");
  });

  it("closes a right-sizing pull request whose container its VPA's policy now turns off, saying so", async () => {
    const world = scenario({ cluster: cluster({ plex: true }) });
    const opening = await world.run();
    const plex = opening.pullRequests.find((outcome) => outcome.key === "resources-media-plex");
    if (plex?.number === undefined) throw new Error("no right-sizing pull request opened");
    // Someone sets `containerPolicies: [{containerName: app, mode: "Off"}]` on Plex's VPA.
    const now = cluster({ plex: true });
    world.cluster = {
      ...now,
      vpas: now.vpas.map((vpa) => ({
        ...vpa,
        resourcePolicy: [{ containerName: "app", mode: "Off" as const }],
      })),
    };
    const result = await world.run();
    const reason =
      "Right-sizing leaves Deployment media/plex (container app: the VPA's policy for it is mode Off) out now, so this change is not wanted any more.";
    expect(result.pullRequests).toContainEqual({
      key: "resources-media-plex",
      action: "closed",
      number: plex.number,
      note: reason,
    });
    const [comment] = world.github.commentsOn(plex.number);
    expect(comment?.body).toContain(reason);
    expect(comment?.body).not.toContain("within the tolerance");
  });

  it("rebuilds on the moved default branch, keeping what people changed there", async () => {
    const { world, first } = opened();
    await first;
    const moved = world.github.push({
      [TFVARS]: tfvars(3).replace("worker_cores      = 4", "worker_cores      = 6"),
    });
    const result = await world.run();
    expect(result.pullRequests).toEqual([
      expect.objectContaining({ action: "rebuilt", number: 1 }),
    ]);
    const head = world.github.git.commits.get(world.github.pull(1).headSha);
    expect(head?.parents).toEqual([moved]);
    const built = world.github.file(TFVARS, BRANCH);
    expect(built).toContain("worker_cores      = 6");
    expect(built).toContain("worker_count      = 4");
  });

  it("leaves a pull request someone pushed to, saying so once", async () => {
    const { world, first } = opened();
    await first;
    world.github.push({ "notes.md": "why we need five\n" }, { branch: BRANCH });
    const result = await world.run();
    expect(result.pullRequests).toEqual([
      expect.objectContaining({ action: "human-edited", number: 1 }),
    ]);
    world.cluster = cluster({ pending: 0, plex: false });
    const later = await world.run();
    expect(later.pullRequests).toEqual([
      expect.objectContaining({ action: "left-alone", number: 1 }),
    ]);
    expect(world.github.pull(1).state).toBe("open");
    const notices = world.github
      .commentsOn(1)
      .filter((c) => c.body.includes("leaves this pull request to you"));
    expect(notices).toHaveLength(1);
  });

  it("dates a change merged with a merge commit from the merge: its nodes are still joining", async () => {
    const { world, first } = opened();
    await first;
    // Reviewed for two hours, then merged with a merge commit: the branch commit keeps its date.
    world.github.advance(2 * 60 * 60_000);
    world.github.mergePullWithCommit(1);
    const mergedAt = world.github.now().toISOString();
    world.github.advance(5 * 60_000);
    const result = await world.run();
    const holds = result.decisions[0]?.holds ?? [];
    expect(holds).toEqual([
      expect.objectContaining({ kind: "provisioning", state: "joining", since: mergedAt }),
    ]);
  });

  it("dates a person's change merged with a merge commit from the merge too", async () => {
    const world = withFourWorkersBranch();
    const pull = world.github.openPull("more-workers", "Four workers");
    await expectJoiningFromMerge(world, () => world.github.mergePullWithCommit(pull.number));
  });

  it("dates a pull request of several commits merged with a merge commit from the merge", async () => {
    const world = withFourWorkersBranch();
    // A second commit after the count's: the pull request's head is not the commit that changed it.
    world.github.advance(10 * 60_000);
    world.github.push({ "notes.md": "why four\n" }, { branch: "more-workers", message: "Notes" });
    const pull = world.github.openPull("more-workers", "Four workers");
    await expectJoiningFromMerge(world, () => world.github.mergePullWithCommit(pull.number));
  });

  it("dates a branch merged and pushed without a pull request from its merge commit", async () => {
    const world = withFourWorkersBranch();
    await expectJoiningFromMerge(world, () => world.github.mergeBranch("more-workers"));
    // The file's history, and the branch's latest commits to tell which came in with a merge.
    expect(world.github.calls().filter((call) => call === "GET /commits")).toHaveLength(2);
  });

  it("deletes the branch a merge left behind once the plan is done with it", async () => {
    const { world, first } = opened();
    await first;
    world.github.mergePull(1);
    world.cluster = cluster({ workers: 4, pending: 0, plex: false });
    const result = await world.run();
    expect(result.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "branch-deleted" }),
    ]);
    expect(world.github.git.branches.has(BRANCH)).toBe(false);
    expect(world.github.file(TFVARS)).toContain("worker_count      = 4");
  });
});

describe("concurrency and failures", () => {
  it("opens one pull request when the same event is handled twice, by two processes", async () => {
    const { world, first } = opened();
    await first;
    const second = await world.run(world.replica());
    expect(second.pullRequests).toEqual([
      expect.objectContaining({ action: "unchanged", number: 1 }),
    ]);
    expect(world.github.pulls.size).toBe(1);
  });

  it("opens one pull request when two replicas reconcile the same state at once", async () => {
    const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
    const [a, b] = await Promise.all([world.run(world.replica()), world.run(world.replica())]);
    expect(world.github.pulls.size).toBe(1);
    const actions = [a, b].map((result) => result.pullRequests[0]?.action).sort();
    expect(actions).toEqual(["created", "unchanged"]);
    expect(
      [...world.github.git.branches.keys()].filter((name) => name.startsWith("pr-autoscaler/")),
    ).toEqual([BRANCH]);
    // Both may have created a dashboard; the next write closes the newer as a duplicate.
    world.cluster = cluster({ pending: 2, plex: false });
    await world.run(world.replica());
    const dashboards = [...world.github.issues.values()].filter((issue) => issue.state === "open");
    expect(dashboards).toHaveLength(1);
    expect(world.github.openPulls()).toHaveLength(1);
  });

  it("leaves no half-made pull request when opening fails: the next run adopts the branch", async () => {
    const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
    world.github.fail("POST", /^\/pulls$/, 502, "Bad Gateway");
    const failed = await world.run();
    expect(failed.pullRequests).toEqual([expect.objectContaining({ action: "failed" })]);
    expect(failed.errors[0]).toContain("open the pull request for pr-autoscaler/nodes-workers");
    expect(world.github.pulls.size).toBe(0);
    const retried = await world.run();
    expect(retried.pullRequests).toEqual([
      expect.objectContaining({ action: "created", number: 2 }),
    ]);
    expect(world.github.openPulls().map((pull) => pull.branch)).toEqual([BRANCH]);
    expect(world.github.file(TFVARS, BRANCH)).toContain("worker_count      = 4");
  });

  it("keeps going with the other steps when one fails, and reports it", async () => {
    const world = scenario({ cluster: cluster({ pending: 1 }) });
    world.github.fail("POST", /^\/git\/refs$/, 500);
    const result = await world.run();
    const actions = Object.fromEntries(result.pullRequests.map((o) => [o.key, o.action]));
    expect(actions).toEqual({ "nodes-workers": "failed", "resources-media-plex": "created" });
    expect(result.dashboard).toBe("created");
  });
});
