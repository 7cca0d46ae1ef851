import { describe, expect, it } from "@jest/globals";
import { CONFIG_PATH, cluster, infraFiles } from "./support/infra.ts";
import { scenario } from "./support/scenario.ts";

const POOL = `pools:
  - name: workers
    target:
      file: terraform/terraform.tfvars
      path: worker_count
    min: 1
    max: 6
`;

/** Every node change waits for a person; the rule names whom to ask. */
function reviewing(people: string): string {
  return `${POOL}automerge:
  rules:
    - name: nodes-need-review
      match: { kind: nodes }
      action: review
${people}`;
}

const ASKING = reviewing(`      reviewers: [octocat]
      teamReviewers: [my-org/infra]
      assignees: [alice]
`);

const ASKS = /^POST \/(pulls\/1\/requested_reviewers|issues\/1\/assignees)$/;

function world(config: string) {
  const world = scenario({
    files: infraFiles({ config }),
    cluster: cluster({ pending: 1, plex: false }),
  });
  for (const login of ["octocat", "alice", "hubot"]) world.github.permissions.set(login, "write");
  world.github.teams.add("infra");
  return world;
}

describe("a review rule's people", () => {
  it("are asked once, when the rule first applies, and the body says so only then", async () => {
    const w = world(ASKING);
    const first = await w.run();
    expect(w.github.calls().filter((call) => ASKS.test(call))).toEqual([
      "POST /pulls/1/requested_reviewers",
      "POST /issues/1/assignees",
    ]);
    expect(w.github.pull(1)).toMatchObject({
      requestedReviewers: ["octocat"],
      requestedTeams: ["infra"],
      assignees: ["alice"],
    });
    expect(first.merges).toEqual([
      expect.objectContaining({
        action: "review",
        note: expect.stringContaining("asked @octocat, team infra to review; assigned @alice"),
      }),
    ]);
    const body = w.github.pull(1).body;
    expect(body).toContain("Review requested from @octocat, team `infra`.");
    expect(body).toContain("Assigned to @alice.");
    expect(body).not.toContain("to be requested");

    // The next reconcile, and a restarted replica, find the request in the body.
    w.github.reset();
    await w.run();
    await w.run(w.replica());
    expect(w.github.calls().filter((call) => ASKS.test(call))).toEqual([]);
    expect(w.github.calls().filter((call) => call.startsWith("PATCH /pulls/1"))).toEqual([]);

    // A new plan rewrites the body and keeps the record: nobody is asked again.
    w.cluster = cluster({ pending: 2, plex: false });
    const updated = await w.run();
    expect(updated.pullRequests.map((o) => o.action)).toEqual(["updated"]);
    expect(w.github.pull(1).body).toContain("Review requested from @octocat, team `infra`.");
    await w.run(w.replica());
    expect(w.github.calls().filter((call) => ASKS.test(call))).toEqual([]);
  });

  it("are asked again when the rule's people change", async () => {
    const w = world(ASKING);
    await w.run();
    w.github.reset();
    w.github.push({ [CONFIG_PATH]: ASKING.replace("reviewers: [octocat]", "reviewers: [hubot]") });
    const changed = await w.run(undefined, ["push"]);
    expect(w.github.calls().filter((call) => ASKS.test(call))).toEqual([
      "POST /pulls/1/requested_reviewers",
      "POST /issues/1/assignees",
    ]);
    expect(changed.merges).toEqual([expect.objectContaining({ action: "review" })]);
    expect(w.github.pull(1).requestedReviewers).toEqual(["octocat", "hubot"]);
    expect(w.github.pull(1).body).toContain("Review requested from @hubot, team `infra`.");
    w.github.reset();
    await w.run();
    expect(w.github.calls().filter((call) => ASKS.test(call))).toEqual([]);
  });

  it("that GitHub refuses are noted in the body, not asked again; the others still are", async () => {
    const w = world(
      reviewing(`      reviewers: [octocat, ghost]
      assignees: [alice, nobody]
`),
    );
    const first = await w.run();
    // The request naming ghost is refused as a whole (422): each is then asked alone.
    expect(w.github.log.filter((entry) => ASKS.test(entry.call.split("?")[0] ?? ""))).toEqual([
      { call: "POST /pulls/1/requested_reviewers", status: 422 },
      { call: "POST /pulls/1/requested_reviewers", status: 201 },
      { call: "POST /pulls/1/requested_reviewers", status: 422 },
      { call: "POST /issues/1/assignees", status: 201 },
    ]);
    expect(w.github.pull(1)).toMatchObject({
      requestedReviewers: ["octocat"],
      assignees: ["alice"],
    });
    const body = w.github.pull(1).body;
    expect(body).toContain("Review requested from @octocat.");
    expect(body).toContain("Assigned to @alice.");
    expect(body).toContain(
      "- @ghost: Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the octocat/Hello-World repository.",
    );
    expect(body).toContain(
      "- @nobody (assignee): GitHub did not assign them: only people with access to the repository can be assigned",
    );
    expect(first.merges[0]?.note).toContain("GitHub refused @ghost: Reviews may only be requested");

    w.github.reset();
    await w.run(w.replica());
    await w.run(undefined, ["push"]);
    expect(w.github.calls().filter((call) => ASKS.test(call))).toEqual([]);
  });

  it("are none for a review rule that names nobody: GitHub is not asked", async () => {
    const w = world(reviewing(""));
    const first = await w.run();
    expect(first.merges).toEqual([]);
    expect(w.github.calls().filter((call) => /^(GET|PATCH) \/pulls\/1$/.test(call))).toEqual([]);
  });
});
