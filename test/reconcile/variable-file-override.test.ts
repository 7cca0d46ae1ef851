import { describe, expect, it } from "@jest/globals";
import { CONFIG_PATH, cluster, NODES_ONLY_CONFIG, TFVARS, tfvars } from "./support/infra.ts";
import { scenario } from "./support/scenario.ts";

const OVERRIDE = "terraform/prod.auto.tfvars";

/**
 * The reconcile holds the pool, opening no pull request, with a note naming the later file and
 * line that sets the count.
 */
async function expectHeldByOverride(world: ReturnType<typeof scenario>): Promise<void> {
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
}

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
    await expectHeldByOverride(world);
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

describe("a count a variable file Terraform reads later overrides, in a tree GitHub truncates", () => {
  it("finds the file past the cut by reading the target's folder one level at a time", async () => {
    const world = oneNodeShortWith({ [OVERRIDE]: "# prod\nworker_count = 5\n" });
    // `.github`, its configuration, then the folder `terraform`: its files are past the cut.
    world.github.treeLimit = 3;
    await expectHeldByOverride(world);
    const head = world.github.head();
    const root = world.github.git.commits.get(head)?.tree as string;
    const folder = world.github.git.folders.get(root)?.find((entry) => entry.name === "terraform");
    // What the repository's files cost: as with the whole tree, and two requests more, the
    // root's own entries and the folder's.
    const reads = world.github.log
      .map((entry) => entry.call)
      .filter((call) => /^GET \/(contents|git\/trees|git\/blobs)\//.test(call));
    expect(reads).toEqual([
      `GET /contents/${CONFIG_PATH}?ref=${head}`,
      `GET /contents/${TFVARS}?ref=${head}`,
      `GET /git/trees/${root}?recursive=1`,
      `GET /git/trees/${root}`,
      `GET /git/trees/${folder?.sha}`,
      `GET /contents/${OVERRIDE}?ref=${head}`,
    ]);
  });

  it("reads the folder's trees once per head", async () => {
    const world = oneNodeShortWith({ [OVERRIDE]: "# prod\nworker_count = 5\n" });
    world.github.treeLimit = 3;
    await world.run();
    world.github.reset();
    const result = await world.run();
    expect(result.notes).toContainEqual(
      expect.objectContaining({ message: expect.stringContaining(`${OVERRIDE}:2:16:`) }),
    );
    expect(world.github.calls().filter((call) => call.startsWith("GET /git/trees/"))).toEqual([]);
  });

  it("opens the pull request when the folder's later files set other variables", async () => {
    const world = oneNodeShortWith({ [OVERRIDE]: 'region = "eu"\n' });
    world.github.treeLimit = 3;
    const result = await world.run();
    expect(result.pullRequests).toEqual([expect.objectContaining({ action: "created" })]);
    expect(result.notes).not.toContainEqual(expect.objectContaining({ subject: "repo" }));
  });
});

describe("a target two folders down, in a tree GitHub truncates", () => {
  it("reads one tree per level of the target's path to find the later file", async () => {
    const target = "envs/prod/terraform.tfvars";
    const later = "envs/prod/zz.auto.tfvars";
    const world = scenario({
      files: new Map([
        [CONFIG_PATH, NODES_ONLY_CONFIG.replace(TFVARS, target)],
        [target, tfvars(3)],
        // Another folder's file sets it too: Terraform does not read it with the target.
        ["envs/staging/zz.auto.tfvars", "worker_count = 9\n"],
        [later, "worker_count = 5\n"],
      ]),
      cluster: cluster({ pending: 1, plex: false }),
    });
    // `.github`, its configuration, `envs`: both folders' files are past the cut.
    world.github.treeLimit = 3;
    const result = await world.run();
    expect(result.pullRequests).toEqual([]);
    expect(result.notes).toContainEqual(
      expect.objectContaining({
        message: expect.stringContaining(
          `${later}:1:16: worker_count is set here too, and Terraform reads this file after ${target}`,
        ),
      }),
    );
    const trees = world.github.git.folders;
    const root = world.github.git.commits.get(world.github.head())?.tree as string;
    const sub = (sha: string | undefined, name: string) =>
      trees.get(sha ?? "")?.find((entry) => entry.name === name)?.sha;
    const envs = sub(root, "envs");
    expect(world.github.calls().filter((call) => call.startsWith("GET /git/trees/"))).toEqual([
      `GET /git/trees/${root}`,
      `GET /git/trees/${root}`,
      `GET /git/trees/${envs}`,
      `GET /git/trees/${sub(envs, "prod")}`,
    ]);
  });
});
