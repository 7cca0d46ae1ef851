import { describe, expect, it } from "@jest/globals";
import { CONFIG_PATH, cluster, NODES_ONLY_CONFIG, TFVARS, tfvars } from "./support/infra.ts";
import { scenario } from "./support/scenario.ts";

const OVERRIDE = "terraform/prod.auto.tfvars";

/** Three workers one node short, with `extra` files beside the pool's tfvars. */
function oneNodeShortWith(extra: Record<string, string>) {
  return scenario({
    files: new Map([
      [CONFIG_PATH, NODES_ONLY_CONFIG],
      [TFVARS, tfvars(3)],
      ...Object.entries(extra),
    ]),
    cluster: cluster({ pending: 1, plex: false }),
  });
}

describe("a count a variable file Terraform reads later overrides, in the app", () => {
  it("holds the pool with a note naming the file and line, and opens no pull request", async () => {
    const world = oneNodeShortWith({ [OVERRIDE]: "# prod\nworker_count = 5\n" });
    const result = await world.run();
    expect(result.errors).toEqual([]);
    expect(result.pullRequests).toEqual([]);
    expect(world.github.openPulls()).toEqual([]);
    expect(result.notes).toContainEqual(
      expect.objectContaining({
        message: expect.stringContaining(
          `${OVERRIDE}:2:16: worker_count is set here too, and Terraform reads this file after ${TFVARS}: its value is the one applied, not worker_count of ${TFVARS}; point the pool's target.file at ${OVERRIDE}, or set worker_count in one file only`,
        ),
      }),
    );
  });

  it("says so when the file tree cannot be read, rather than take it as listing no later file", async () => {
    const world = oneNodeShortWith({ [OVERRIDE]: 'region = "eu"\n' });
    world.github.fail("GET", /^\/git\/trees\//, 404, "Not Found", 10);
    const result = await world.run();
    expect(result.notes).toContainEqual({
      level: "warning",
      subject: "repo",
      message: expect.stringMatching(
        /^the repository's files could not be listed \(.*404.*\): a variable file Terraform reads after a pool's target, which would override its count, was not looked for$/,
      ),
    });
  });

  it("opens the pull request when the later files set other variables, reading the tree once per head", async () => {
    const world = oneNodeShortWith({ [OVERRIDE]: 'region = "eu"\n' });
    const result = await world.run();
    expect(result.pullRequests).toEqual([expect.objectContaining({ action: "created" })]);
    const trees = () => world.github.calls().filter((call) => call.startsWith("GET /git/trees/"));
    expect(trees()).toHaveLength(1);
    world.github.reset();
    await world.run();
    expect(trees()).toEqual([]);
  });
});
