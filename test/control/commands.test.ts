import { describe, expect, it } from "@jest/globals";
import { readControlMarker } from "../../src/control/control-state.ts";
import { HOLD_LABEL } from "../../src/merge/hold.ts";
import { BOT_LOGIN } from "../reconcile/support/fake-github.ts";
import { cluster, infraFiles, TFVARS } from "../reconcile/support/infra.ts";
import { reactions, replies, type Scenario, scenario } from "../reconcile/support/scenario.ts";

/** A repository with its dashboard made and people who may and may not give commands. */
async function ready(
  options: Parameters<typeof scenario>[0] = {},
): Promise<{ world: Scenario; dashboard: number }> {
  const world = scenario({ cluster: cluster({ plex: false }), ...options });
  world.github.permissions.set("alice", "write");
  world.github.permissions.set("mallory", "read");
  await world.run();
  const dashboard = world.github.botIssue("dashboard")?.number;
  if (dashboard === undefined) throw new Error("no dashboard");
  return { world, dashboard };
}

/** {@link ready} with Plex's right-sizing pull request open. */
async function rightSizing() {
  const { world } = await ready({ cluster: cluster() });
  const pull = world.github
    .openPulls()
    .find((p) => p.branch === "pr-autoscaler/resources-media-plex");
  if (!pull) throw new Error("no right-sizing pull request");
  return { world, pull };
}

function state(world: Scenario) {
  return readControlMarker(world.github.botIssue("dashboard")?.body);
}

describe("/autoscaler pause and resume", () => {
  it("pauses everything: nothing opens, an open pull request stays, the dashboard says so", async () => {
    const { world, dashboard } = await ready({ cluster: cluster({ pending: 1, plex: false }) });
    expect(world.github.openPulls()).toHaveLength(1);
    const id = world.github.comment(dashboard, "/autoscaler pause");
    world.cluster = cluster({ pending: 0, plex: false });
    const result = await world.run(undefined, ["comment"]);
    expect(result.commands).toEqual([
      expect.objectContaining({ commentId: id, login: "alice", outcome: "obeyed" }),
    ]);
    expect(reactions(world, id)).toEqual(["+1"]);
    expect(result.pullRequests).toEqual([
      expect.objectContaining({ action: "left-alone", note: "paused" }),
    ]);
    expect(world.github.pull(1).state).toBe("open");
    expect(state(world)?.paused.all).toEqual({ by: "alice", at: world.github.now().toISOString() });
    expect(world.github.botIssue("dashboard")?.body).toContain("> **Paused** by @alice");

    world.cluster = cluster({ pending: 2, plex: false });
    const paused = await world.run();
    expect(paused.pullRequests).toEqual([expect.objectContaining({ action: "paused" })]);
    expect(world.github.pull(1).title).toBe("Scale workers from 3 to 4 nodes");

    world.github.comment(dashboard, "/autoscaler resume");
    const resumed = await world.run(undefined, ["comment"]);
    expect(resumed.pullRequests).toEqual([
      expect.objectContaining({ action: "updated", number: 1 }),
    ]);
    expect(state(world)?.paused).toEqual({ pools: {} });
  });

  it("pauses one pool only", async () => {
    const { world, dashboard } = await ready();
    world.github.comment(dashboard, "/autoscaler pause workers");
    world.cluster = cluster({ pending: 1 });
    const result = await world.run(undefined, ["comment"]);
    const actions = Object.fromEntries(result.pullRequests.map((o) => [o.key, o.action]));
    expect(actions).toEqual({ "nodes-workers": "paused", "resources-media-plex": "created" });
  });

  it("survives a restart: a new process reads the state back from the dashboard", async () => {
    const { world, dashboard } = await ready();
    world.github.comment(dashboard, "/autoscaler pause");
    await world.run(undefined, ["comment"]);
    world.cluster = cluster({ pending: 1, plex: false });
    const restarted = await world.run(world.replica());
    expect(restarted.paused).toBe(true);
    expect(world.github.openPulls()).toEqual([]);
  });

  it("survives a restart when other issues with the label come before the dashboard", async () => {
    const world = scenario({ cluster: cluster({ plex: false }) });
    world.github.permissions.set("alice", "write");
    for (let i = 0; i < 130; i++) world.github.openIssue(`Old request ${i}`, ["pr-autoscaler"]);
    await world.run();
    const dashboard = world.github.botIssue("dashboard")?.number;
    expect(dashboard).toBe(131);
    world.github.comment(dashboard as number, "/autoscaler pause");
    await world.run(undefined, ["comment"]);
    world.cluster = cluster({ pending: 1, plex: false });
    const restarted = await world.run(world.replica());
    expect(restarted.paused).toBe(true);
    expect(world.github.openPulls()).toEqual([]);
  });

  it("is seen without webhooks at the next poll", async () => {
    const { world, dashboard } = await ready();
    const id = world.github.comment(dashboard, "/autoscaler pause");
    await world.run();
    expect(reactions(world, id)).toEqual([]);
    world.github.advance(5 * 60_000);
    const polled = await world.run();
    expect(polled.paused).toBe(true);
    expect(reactions(world, id)).toEqual(["+1"]);
  });
});

describe("/autoscaler scale", () => {
  it("opens a pull request for the count asked, and forgets the request once it is merged", async () => {
    const { world, dashboard } = await ready();
    world.github.comment(dashboard, "/autoscaler scale workers=5");
    const result = await world.run(undefined, ["comment"]);
    expect(result.pullRequests).toEqual([
      expect.objectContaining({ key: "nodes-workers", action: "created" }),
    ]);
    const [pull] = world.github.openPulls();
    expect(pull?.title).toBe("Scale workers from 3 to 5 nodes");
    expect(pull?.body).toContain(
      "@alice asked for 5 nodes in pool **workers** with `/autoscaler scale workers=5`.",
    );
    expect(state(world)?.scale.workers).toMatchObject({ by: "alice", count: 5 });
    world.github.mergePull(pull?.number ?? 0);
    world.cluster = cluster({ workers: 5, plex: false });
    await world.run();
    expect(world.github.file(TFVARS)).toContain("worker_count      = 5");
    expect(state(world)?.scale).toEqual({});
  });

  it("refuses a count outside min and max, with a reply saying why", async () => {
    const { world, dashboard } = await ready();
    const id = world.github.comment(dashboard, "/autoscaler scale workers=9");
    const result = await world.run(undefined, ["comment"]);
    expect(result.commands).toEqual([expect.objectContaining({ outcome: "refused" })]);
    expect(reactions(world, id)).toEqual([]);
    expect(replies(world, dashboard)).toEqual([
      expect.stringContaining(
        "@alice Pool `workers` may have 1 to 6 nodes (min and max in .github/pr-autoscaler.yml); 9 is outside.",
      ),
    ]);
    expect(world.github.openPulls()).toEqual([]);
  });
});

describe("replies that say what a command did not change", () => {
  it("resume of one pool while everything is paused says the pause of everything holds", async () => {
    const { world, dashboard } = await ready();
    world.github.comment(dashboard, "/autoscaler pause");
    await world.run(undefined, ["comment"]);
    const id = world.github.comment(dashboard, "/autoscaler resume workers");
    const result = await world.run(undefined, ["comment"]);
    expect(result.paused).toBe(true);
    expect(reactions(world, id)).toEqual(["+1"]);
    expect(replies(world, dashboard)).toEqual([
      expect.stringContaining(
        "@alice Everything is still paused (by @alice): `/autoscaler resume` lifts that.",
      ),
    ]);
  });

  it("scale while the pool is paused says when the count is proposed", async () => {
    const { world, dashboard } = await ready();
    world.github.comment(dashboard, "/autoscaler pause workers\n/autoscaler scale workers=5");
    const result = await world.run(undefined, ["comment"]);
    expect(result.commands).toEqual([expect.objectContaining({ outcome: "obeyed" })]);
    expect(world.github.openPulls()).toEqual([]);
    expect(replies(world, dashboard)).toEqual([
      expect.stringContaining(
        "@alice workers is paused: the 5 nodes asked for are proposed after `/autoscaler resume workers`.",
      ),
    ]);
  });
});

describe("a comment with several commands", () => {
  it("says which were done when others were refused, each refusal naming its line", async () => {
    const { world, dashboard } = await ready();
    const id = world.github.comment(
      dashboard,
      "/autoscaler pause\r\n/autoscaler scale workers=99\r\n/autoscaler scale gpu.a-1=2",
    );
    const result = await world.run(undefined, ["comment"]);
    expect(result.commands).toEqual([expect.objectContaining({ outcome: "refused" })]);
    expect(state(world)?.paused.all).toMatchObject({ by: "alice" });
    expect(reactions(world, id)).toEqual([]);
    const [reply] = replies(world, dashboard);
    expect(reply?.split("\n\n").slice(0, 3)).toEqual([
      "@alice Done: `/autoscaler pause`. Not done:",
      "`/autoscaler scale workers=99`: Pool `workers` may have 1 to 6 nodes (min and max in .github/pr-autoscaler.yml); 99 is outside.",
      "`/autoscaler scale gpu.a-1=2`: There is no pool named `gpu.a-1` in .github/pr-autoscaler.yml (pools: `workers`).",
    ]);
  });
});

describe("/autoscaler on pull requests", () => {
  it("hold puts the hold label on, unhold takes it off", async () => {
    const { world } = await ready({ cluster: cluster({ pending: 1, plex: false }) });
    world.github.comment(1, "/autoscaler hold");
    await world.run(undefined, ["comment"]);
    expect(world.github.pull(1).labels).toContain(HOLD_LABEL);
    world.github.comment(1, "/autoscaler unhold");
    await world.run(undefined, ["comment"]);
    expect(world.github.pull(1).labels).not.toContain(HOLD_LABEL);
  });

  it("ignore closes a right-sizing pull request and keeps it away until the recommendation moves", async () => {
    const { world, pull } = await rightSizing();
    world.github.comment(pull.number, "/autoscaler ignore");
    await world.run(undefined, ["comment"]);
    expect(world.github.pull(pull.number).state).toBe("closed");
    expect(world.github.commentsOn(pull.number).at(-1)?.body).toContain(
      "@alice asked to ignore this change",
    );
    const later = await world.run();
    expect(later.pullRequests.filter((o) => o.action === "created")).toEqual([]);
    expect(state(world)?.ignored["resources-media-plex"]?.targets).toEqual({
      "media/plex/app/cpu": 450,
      "media/plex/app/memory": 1395864371,
    });

    const vpa = world.cluster.vpas[0];
    const recommendation = vpa?.recommendations[0];
    if (!vpa || !recommendation?.target) throw new Error("no VPA");
    world.cluster = {
      ...world.cluster,
      vpas: [
        {
          ...vpa,
          recommendations: [{ ...recommendation, target: { ...recommendation.target, cpu: 900 } }],
        },
      ],
    };
    const moved = await world.run();
    expect(moved.pullRequests).toEqual([
      expect.objectContaining({ key: "resources-media-plex", action: "created" }),
    ]);
  });

  it("refuses ignore on a right-sizing pull request people took over, leaving it open", async () => {
    const { world, pull } = await rightSizing();
    world.github.push({ "notes.md": "mine now\n" }, { branch: pull.branch });
    await world.run();
    world.github.comment(pull.number, "/autoscaler ignore");
    const result = await world.run(undefined, ["comment"]);
    expect(result.commands).toEqual([expect.objectContaining({ outcome: "refused" })]);
    expect(world.github.pull(pull.number).state).toBe("open");
    expect(state(world)?.ignored).toEqual({});
    expect(replies(world, pull.number).at(-1)).toContain(
      "@alice People took this pull request over: pr-autoscaler leaves it to them and does not close it.",
    );
  });

  it("takes commands on a pull request closed before they were read, and says hold is for open ones", async () => {
    const { world } = await ready({ cluster: cluster({ pending: 1, plex: false }) });
    // Without webhooks, comments are read every few minutes: the pull request closes meanwhile.
    const pause = world.github.comment(1, "/autoscaler pause");
    const hold = world.github.comment(1, "/autoscaler hold");
    world.github.closePull(1);
    world.github.advance(5 * 60_000);
    const result = await world.run();
    expect(result.commands.map((c) => [c.commentId, c.outcome])).toEqual([
      [pause, "obeyed"],
      [hold, "refused"],
    ]);
    expect(state(world)?.paused.all).toMatchObject({ by: "alice" });
    expect(replies(world, 1)).toEqual([
      expect.stringContaining(
        "@alice #1 is closed: `/autoscaler hold` works on an open pull request of pr-autoscaler.",
      ),
    ]);
  });

  it("ignore on a right-sizing pull request people closed keeps its change away", async () => {
    const { world, pull } = await rightSizing();
    world.github.closePull(pull.number);
    world.github.comment(pull.number, "/autoscaler ignore");
    const result = await world.run(undefined, ["comment"]);
    expect(result.commands).toEqual([expect.objectContaining({ outcome: "obeyed" })]);
    expect(state(world)?.ignored["resources-media-plex"]).toMatchObject({ by: "alice" });
    world.github.advance(60 * 60_000);
    const later = await world.run();
    expect(later.pullRequests.filter((o) => o.action === "created")).toEqual([]);
  });

  it("answers ignore on a node pull request with what it is for", async () => {
    const { world } = await ready({ cluster: cluster({ pending: 1, plex: false }) });
    world.github.comment(1, "/autoscaler ignore");
    await world.run(undefined, ["comment"]);
    expect(replies(world, 1)).toEqual([
      expect.stringContaining("works on a right-sizing pull request"),
    ]);
    expect(world.github.pull(1).state).toBe("open");
  });
});

describe("who is obeyed", () => {
  it("answers people without write access politely and changes nothing", async () => {
    const { world, dashboard } = await ready();
    world.github.comment(dashboard, "/autoscaler pause", "mallory");
    world.github.comment(dashboard, "/autoscaler pause", "stranger");
    const result = await world.run(undefined, ["comment"]);
    expect(result.commands.map((c) => c.outcome)).toEqual(["not-allowed", "not-allowed"]);
    expect(replies(world, dashboard)).toEqual([
      expect.stringContaining(
        "Thank you, @mallory. pr-autoscaler takes commands only from people with write access to this repository (yours: read)",
      ),
      expect.stringContaining(
        "Thank you, @stranger. pr-autoscaler takes commands only from people with write access to this repository (yours: none)",
      ),
    ]);
    expect(state(world)?.paused.all).toBeUndefined();
  });

  it.each([
    "/autoscaler pause",
    "/autoscaler resume",
    "/autoscaler recheck",
    "/autoscaler scale workers=5",
    "/autoscaler ignore",
    "/autoscaler hold",
    "/autoscaler unhold",
  ])("refuses %s from someone with read access, changing nothing", async (command) => {
    const { world } = await ready({ cluster: cluster({ pending: 1, plex: false }) });
    const before = world.github.botIssue("dashboard")?.body;
    world.github.comment(1, command, "mallory");
    const result = await world.run(undefined, ["comment"]);
    expect(result.commands).toEqual([expect.objectContaining({ outcome: "not-allowed" })]);
    expect(replies(world, 1)).toEqual([expect.stringContaining("Thank you, @mallory.")]);
    expect(world.github.pull(1)).toMatchObject({
      state: "open",
      labels: ["autoscaling", "scale-up"],
    });
    const { lastComment: _, ...after } =
      readControlMarker(world.github.botIssue("dashboard")?.body) ?? {};
    const { lastComment: __, ...earlier } = readControlMarker(before) ?? {};
    expect(after).toEqual(earlier);
  });

  it("recheck looks at the checks of a waiting pull request now", async () => {
    const config = `pools:
  - name: workers
    target: { file: terraform/terraform.tfvars, path: worker_count }
    max: 6
automerge:
  nativeAutoMerge: false
  rules:
    - name: scale-up
      match: { kind: nodes, direction: up }
      action: merge
      requiredChecks: [pr-autoscaler/plan-guard]
`;
    const { world, dashboard } = await ready({
      files: infraFiles({ config }),
      cluster: cluster({ pending: 1, plex: false }),
    });
    world.github.setStatus(world.github.pull(1).headSha, "pr-autoscaler/plan-guard", "success");
    expect((await world.run()).merges).toEqual([]);
    world.github.comment(dashboard, "/autoscaler recheck");
    const result = await world.run(undefined, ["comment"]);
    expect(result.merges).toEqual([expect.objectContaining({ number: 1, action: "merged" })]);
  });

  it("never reacts to bots, itself included", async () => {
    const { world, dashboard } = await ready();
    world.github.comment(dashboard, "/autoscaler pause", "renovate[bot]", true);
    world.github.comment(dashboard, "/autoscaler pause", BOT_LOGIN, true);
    world.github.reset();
    const result = await world.run(undefined, ["comment"]);
    expect(result.commands).toEqual([]);
    const answered = world.github
      .calls()
      .filter((call) => /permission|reactions|comments$/.test(call));
    expect(answered).toEqual(["GET /issues/comments"]);
    expect(state(world)?.paused.all).toBeUndefined();
  });

  it("takes commands only on the dashboard and its own pull requests", async () => {
    const { world } = await ready();
    world.github.branch("docs");
    const other = world.github.openPull("docs", "Docs");
    world.github.comment(other.number, "/autoscaler pause");
    const result = await world.run(undefined, ["comment"]);
    expect(result.commands).toEqual([]);
    expect(world.github.commentsOn(other.number)).toHaveLength(1);
  });

  it("replies although someone else wrote the reply's hidden tag first", async () => {
    const { world, dashboard } = await ready();
    const id = world.github.comment(dashboard, "/autoscaler scale workers=9");
    world.github.comment(dashboard, `<!-- pr-autoscaler:reply {"comment":"${id}"} -->`, "mallory");
    await world.run(undefined, ["comment"]);
    expect(replies(world, dashboard)).toEqual([expect.stringContaining("9 is outside")]);
  });

  it("replies once when a second replica handles a command the first already answered", async () => {
    const { world, dashboard } = await ready();
    const second = world.replica();
    await world.run(second);
    const issue = world.github.botIssue("dashboard");
    if (!issue) throw new Error("no dashboard");
    const before = issue.body;
    world.github.comment(dashboard, "/autoscaler scale workers=9");
    await world.run(undefined, ["comment"]);
    // As if the first replica's dashboard write had not landed yet: the second replica's state
    // is GitHub's, so it handles the comment again.
    issue.body = before;
    const again = await world.run(second, ["comment"]);
    expect(again.commands).toEqual([expect.objectContaining({ outcome: "refused" })]);
    expect(replies(world, dashboard)).toHaveLength(1);
  });

  it("a second replica whose memory is behind takes the state the first wrote", async () => {
    const { world, dashboard } = await ready();
    const second = world.replica();
    await world.run(second);
    world.github.comment(dashboard, "/autoscaler scale workers=9");
    await world.run(undefined, ["comment"]);
    const again = await world.run(second, ["comment"]);
    expect(again.commands).toEqual([]);
    expect(replies(world, dashboard)).toHaveLength(1);
  });

  it("acknowledges each command once across runs", async () => {
    const { world, dashboard } = await ready();
    const id = world.github.comment(dashboard, "/autoscaler recheck");
    await world.run(undefined, ["comment"]);
    await world.run(undefined, ["comment"]);
    await world.run(world.replica(), ["comment"]);
    expect(reactions(world, id)).toEqual(["+1"]);
    expect(state(world)?.lastComment).toBe(id);
  });
});
