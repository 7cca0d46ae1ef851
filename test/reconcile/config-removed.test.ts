import { describe, expect, it } from "@jest/globals";
import { CONFIG_REMOVED } from "../../src/reconcile/config-removed.ts";
import { BOT_LOGIN } from "./support/fake-github.ts";
import {
  CONFIG_PATH,
  cluster,
  infraFiles,
  NODES_ONLY_CONFIG,
  WORKERS_POOL,
} from "./support/infra.ts";
import { oneNodeShort, type Scenario, scenario } from "./support/scenario.ts";

function withoutConfig(): Map<string, string> {
  const files = infraFiles({ config: NODES_ONLY_CONFIG });
  files.delete(CONFIG_PATH);
  return files;
}

describe("a repository whose configuration file is removed", () => {
  it("gets the bot's open pull request and its dashboard closed, each saying why", async () => {
    const world = oneNodeShort(NODES_ONLY_CONFIG);
    world.github.permissions.set("alice", "write");
    await world.run();
    // A pause, to see the command state kept for when the file comes back.
    world.github.comment(world.github.botIssue("dashboard")?.number ?? 0, "/autoscaler pause");
    await world.run(undefined, ["comment"]);
    const pull = world.github.openPulls()[0];
    const dashboard = world.github.botIssue("dashboard");
    expect(pull?.title).toBe("Scale workers from 3 to 4 nodes");

    world.github.push({ [CONFIG_PATH]: null }, { message: "Stop autoscaling" });
    const result = await world.run(undefined, ["push"]);
    expect(result.status).toBe("no-config");
    expect(result.pullRequests.map((o) => [o.key, o.action, o.number])).toEqual([
      ["nodes-workers", "closed", pull?.number],
    ]);
    expect(result.dashboard).toBe("updated");
    expect(world.github.openPulls()).toEqual([]);
    expect(world.github.commentsOn(pull?.number ?? 0).map((c) => c.body)).toContainEqual(
      expect.stringContaining(CONFIG_REMOVED),
    );
    const closed = world.github.issues.get(dashboard?.number ?? 0);
    expect(closed?.state).toBe("closed");
    expect(closed?.body).toContain("pr-autoscaler is off in this repository.");
    expect(closed?.body).toContain('"all":{"by":"alice"');
    expect(world.github.commentsOn(dashboard?.number ?? 0).map((c) => c.body)).toContain(
      CONFIG_REMOVED,
    );
    // A closed pull request of the bot's own is no "no" to that change.
    expect(world.github.pull(pull?.number ?? 0).body).toContain('"closedBy":"bot"');

    // Afterwards the repository costs what one without configuration costs: two requests (once
    // the lists its own closes changed were read again).
    await world.run();
    world.github.reset();
    const idle = await world.run();
    expect(idle.status).toBe("no-config");
    expect(world.github.calls()).toEqual(["GET /branches/main", "GET /pulls"]);

    // The file back: the dashboard opens again, the command state as it was.
    world.github.push({ [CONFIG_PATH]: NODES_ONLY_CONFIG });
    const back = await world.run(undefined, ["push"]);
    expect(back.status).toBe("ok");
    expect(back.paused).toBe(true);
    expect(world.github.issues.get(dashboard?.number ?? 0)?.state).toBe("open");
  });

  it("after a restart: the first reconcile of the new process closes what the old one left open", async () => {
    const world = oneNodeShort(NODES_ONLY_CONFIG);
    await world.run();
    world.github.push({ [CONFIG_PATH]: null });
    const fresh = world.replica();
    const result = await world.run(fresh);
    expect(result.pullRequests.map((o) => o.action)).toEqual(["closed"]);
    expect(result.dashboard).toBe("updated");
    expect(world.github.openPulls()).toEqual([]);
    expect(world.github.botIssue("dashboard")?.state).toBe("closed");
  });

  it("never configured: looked at once for a dashboard, then two requests per reconcile, and no write ever", async () => {
    const world = scenario({ files: withoutConfig(), cluster: cluster({ pending: 1 }) });
    const first = await world.run();
    expect(first.status).toBe("no-config");
    expect(first.dashboard).toBe("skipped");
    // The repository's state as any first reconcile reads it, the file, the file under the
    // other YAML name (looked for once per head), and one look for a dashboard (a process just
    // started cannot know none was left open).
    const calls = world.github.calls();
    expect(calls.slice(-3)).toEqual([
      "GET /contents/.github/pr-autoscaler.yml",
      "GET /contents/.github/pr-autoscaler.yaml",
      "GET /issues",
    ]);
    expect(first.misnamedConfig).toBeUndefined();
    expect(calls.filter((call) => !call.startsWith("GET "))).toEqual([]);
    world.github.reset();
    await world.run();
    expect(world.github.calls()).toEqual(["GET /branches/main", "GET /pulls"]);
    expect(world.github.issues.size).toBe(0);
  });

  it("named .yaml, not .yml: says once that the file is there and not read", async () => {
    const files = withoutConfig();
    files.set(".github/pr-autoscaler.yaml", NODES_ONLY_CONFIG);
    const world = scenario({ files, cluster: cluster({ pending: 1 }) });
    const first = await world.run();
    expect(first.status).toBe("no-config");
    expect(first.misnamedConfig).toEqual({
      file: ".github/pr-autoscaler.yaml",
      message:
        ".github/pr-autoscaler.yaml is there, but only .github/pr-autoscaler.yml is read: rename it",
    });
    // Said once: neither the same head nor a later one is read for it again.
    world.github.reset();
    const again = await world.run();
    expect(again.misnamedConfig).toBeUndefined();
    expect(world.github.calls()).toEqual(["GET /branches/main", "GET /pulls"]);
    world.github.push({ "notes.md": "still .yaml\n" });
    world.github.reset();
    const later = await world.run(undefined, ["push"]);
    expect(later.misnamedConfig).toBeUndefined();
    expect(world.github.calls()).not.toContain("GET /contents/.github/pr-autoscaler.yaml");
  });

  it("empty, nothing pushed yet: left alone like one without the file, not a reconcile that fails", async () => {
    const world = scenario({ cluster: cluster({ pending: 1 }) });
    // A repository created on GitHub and not pushed to has no branch at all.
    world.github.deleteBranch("main");
    const result = await world.run();
    expect(result).toMatchObject({
      status: "no-config",
      head: "",
      errors: [],
      dashboard: "skipped",
    });
    expect(world.github.calls()).toEqual(["GET /branches/main", "GET /commits"]);
    expect(world.github.issues.size).toBe(0);
  });

  it("leaves a pull request people took over under the bot's prefix to them", async () => {
    const world = oneNodeShort(NODES_ONLY_CONFIG);
    await world.run();
    const pull = world.github.openPulls()[0];
    world.github.push({ "notes.md": "mine now\n" }, { branch: pull?.branch ?? "" });
    world.github.push({ [CONFIG_PATH]: null });
    const result = await world.run(undefined, ["push"]);
    expect(result.pullRequests.filter((o) => o.action === "closed")).toEqual([]);
    expect(world.github.openPulls().map((p) => p.number)).toEqual([pull?.number]);
  });

  it("turns off GitHub's auto-merge the bot turned on for one people took over, though their push went unseen", async () => {
    const world = guardedAutoMerge();
    await world.run();
    const pull = world.github.openPulls()[0];
    if (!pull) throw new Error("no pull request opened");
    expect(pull.autoMerge).toEqual({ by: BOT_LOGIN, method: "squash" });
    // Someone with write access pushes to it, which keeps the bot's auto-merge on (as GitHub
    // does), and the file is removed before any reconcile saw the push.
    world.github.push({ "notes.md": "four, please\n" }, { branch: pull.branch, login: "alice" });
    world.github.push({ [CONFIG_PATH]: null });
    world.github.reset();
    const result = await world.run(undefined, ["push"]);
    expect(result.status).toBe("no-config");
    expect(result.pullRequests).toEqual([
      {
        key: "nodes-workers",
        action: "left-alone",
        number: pull.number,
        note: `its branch has commit ${world.github.pull(pull.number).headSha.slice(0, 7)}, which pr-autoscaler did not make; GitHub's auto-merge that pr-autoscaler turned on is off`,
      },
    ]);
    expect(world.github.calls().filter((call) => call.startsWith("POST /graphql"))).toEqual([
      "POST /graphql disablePullRequestAutoMerge",
    ]);
    expect(world.github.pull(pull.number)).toMatchObject({ state: "open", autoMerge: null });
    world.github.setStatus(world.github.pull(pull.number).headSha, GUARD, "success");
    expect(world.github.pull(pull.number)).toMatchObject({ state: "open", mergedAt: null });
  });

  it("leaves the auto-merge a person turned on for one people took over", async () => {
    const world = guardedAutoMerge();
    await world.run();
    const pull = world.github.openPulls()[0];
    if (!pull) throw new Error("no pull request opened");
    world.github.push({ "notes.md": "four, please\n" }, { branch: pull.branch, login: "alice" });
    world.github.enableAutoMerge(pull.number, "alice", "merge");
    world.github.push({ [CONFIG_PATH]: null });
    world.github.reset();
    const result = await world.run(undefined, ["push"]);
    expect(result.pullRequests).toEqual([]);
    expect(world.github.calls().filter((call) => call.startsWith("POST /graphql"))).toEqual([]);
    expect(world.github.pull(pull.number).autoMerge).toEqual({ by: "alice", method: "merge" });
  });
});

const GUARD = "pr-autoscaler/plan-guard";

/**
 * One node short, adding one merging itself through GitHub's auto-merge once the plan guard
 * passed, which the default branch requires; alice may push.
 */
function guardedAutoMerge(): Scenario {
  const world = oneNodeShort(`${WORKERS_POOL}automerge:
  rules:
    - name: add-a-node
      match: { kind: nodes, direction: up }
      action: merge
      requiredChecks: [${GUARD}]
`);
  world.github.allowAutoMerge = true;
  world.github.requiredChecks.push(GUARD);
  world.github.permissions.set("alice", "write");
  return world;
}
