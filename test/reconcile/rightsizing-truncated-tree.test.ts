/**
 * Right-sizing's discovery on a repository whose git tree GitHub truncates (over 100,000 entries
 * or 7 MB on GitHub; the fake cuts it at `treeLimit` entries): it says it saw only part of the
 * repository, rather than act as though the files past the cut were not there.
 */
import { describe, expect, it } from "@jest/globals";
import { CONFIG, cluster, infraFiles, PLEX_FILE, WORKERS_POOL } from "./support/infra.ts";
import { scenario } from "./support/scenario.ts";

const PARTIAL =
  "GitHub truncated the list of the repository's files (a tree of over 100,000 entries or 7 MB): right-sizing's discovery saw only the files listed, and a values file, manifest or kustomization past the cut was not looked at";

/**
 * The infra repository's tree, as GitHub lists it recursively: `.github` and the configuration,
 * the five folders down to Plex's, its HelmRelease and kustomization, then `terraform` and its
 * tfvars (11 entries).
 */
function plexScenario(treeLimit: number, config = CONFIG) {
  const world = scenario({ files: infraFiles({ config }), cluster: cluster() });
  world.github.treeLimit = treeLimit;
  return world;
}

describe("right-sizing's discovery in a tree GitHub truncates", () => {
  it("warns that it saw only part of the repository, on the dashboard too", async () => {
    // Cut before Plex's HelmRelease: the workload's values are past the cut.
    const world = plexScenario(7);
    const result = await world.run();
    expect(result.errors).toEqual([]);
    expect(result.notes).toContainEqual({ level: "warning", subject: "repo", message: PARTIAL });
    expect(world.github.openPulls()).toEqual([]);
    expect(world.github.botIssue("dashboard")?.body).toContain(`\`repo\`: ${PARTIAL}`);
  });

  it("warns too when what it right-sizes was listed, and opens its pull request", async () => {
    // Cut after Plex's files: only the tfvars are past the cut.
    const world = plexScenario(10);
    const result = await world.run();
    expect(result.notes).toContainEqual({ level: "warning", subject: "repo", message: PARTIAL });
    expect(world.github.openPulls()).toHaveLength(1);
    // The index is kept per tree: the next reconcile of the head warns again, listing nothing.
    world.github.reset();
    const again = await world.run();
    expect(again.notes).toContainEqual({ level: "warning", subject: "repo", message: PARTIAL });
    expect(world.github.calls().filter((call) => call.startsWith("GET /git/trees/"))).toEqual([]);
  });

  it("reads a configured target past the cut, rather than say it does not exist", async () => {
    const world = plexScenario(
      7,
      `${WORKERS_POOL}rightsizing:
  targets:
    - workload: media/plex
      file: ${PLEX_FILE}
      path: spec.values.controllers.plex.containers.app.resources
`,
    );
    const result = await world.run();
    expect(result.errors).toEqual([]);
    expect(result.notes).toContainEqual({ level: "warning", subject: "repo", message: PARTIAL });
    expect(result.notes).not.toContainEqual(
      expect.objectContaining({ subject: "deployment/media/plex" }),
    );
    const [pull] = world.github.openPulls();
    expect(pull?.title).toContain("plex");
    expect(world.github.calls()).toContain(`GET /contents/${PLEX_FILE}`);
  });

  it("gives no such warning for a tree GitHub lists whole", async () => {
    const world = plexScenario(11);
    const result = await world.run();
    expect(result.notes).not.toContainEqual(expect.objectContaining({ subject: "repo" }));
    expect(world.github.openPulls()).toHaveLength(1);
  });
});
