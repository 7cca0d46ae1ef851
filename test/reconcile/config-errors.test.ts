import { describe, expect, it } from "@jest/globals";
import { checkPullRequestConfig } from "../../src/reconcile/config-check.ts";
import { OWNER, REPO } from "../support/github-responses.ts";
import { BOT_LOGIN } from "./support/fake-github.ts";
import {
  CONFIG,
  CONFIG_PATH,
  cluster,
  infraFiles,
  TFVARS,
  tfvars,
  WORKERS_POOL,
} from "./support/infra.ts";
import { repositories } from "./support/repositories.ts";
import { scenario } from "./support/scenario.ts";

const GUARD = "pr-autoscaler/plan-guard";
const GUARD_CONFIG = ".github/pr-autoscaler-guard.yml";

/** Two mistakes a person makes: a max below the min, and a percentage above 100. */
const BROKEN = `pools:
  - name: workers
    target:
      file: terraform/terraform.tfvars
      path: worker_count
    min: 4
    max: 2
    scaleUp:
      cpu: 180
`;

describe("an invalid configuration on the default branch", () => {
  it("is reported on the dashboard and as a failing check with file:line annotations", async () => {
    const world = scenario({
      files: infraFiles({ config: BROKEN }),
      cluster: cluster({ pending: 1 }),
    });
    const result = await world.run();
    expect(result.status).toBe("config-error");
    expect(result.pullRequests).toEqual([]);
    const body = world.github.botIssue("dashboard")?.body ?? "";
    expect(body).toContain("## Configuration errors");
    expect(body).toContain(
      "`.github/pr-autoscaler.yml:6:10` `pools[0].min`: min (4) is greater than max (2)",
    );
    expect(body).toContain(
      "`.github/pr-autoscaler.yml:9:12` `pools[0].scaleUp.cpu`: must be at most 100",
    );
    const [check] = world.github.checkRuns;
    expect(check).toMatchObject({
      name: "pr-autoscaler/config",
      headSha: world.github.head(),
      conclusion: "failure",
    });
    expect(check?.title).toBe("2 problems in the pr-autoscaler configuration");
    expect(check?.annotations).toEqual([
      expect.objectContaining({
        path: CONFIG_PATH,
        start_line: 6,
        annotation_level: "failure",
        message: "pools[0].min: min (4) is greater than max (2)",
      }),
      expect.objectContaining({
        path: CONFIG_PATH,
        start_line: 9,
        message: "pools[0].scaleUp.cpu: must be at most 100 %",
      }),
    ]);
  });

  it("leaves open pull requests alone, reports once per commit, and recovers when fixed", async () => {
    const world = scenario({ cluster: cluster({ pending: 1, plex: false }) });
    await world.run();
    world.github.push({ [CONFIG_PATH]: BROKEN });
    expect((await world.run()).status).toBe("config-error");
    expect(world.github.pull(1).state).toBe("open");
    await world.run();
    world.github.reset();
    const again = await world.run();
    expect(again.status).toBe("config-error");
    expect(world.github.calls()).toEqual(["GET /branches/main", "GET /pulls"]);
    expect(world.github.checkRuns).toHaveLength(1);
    world.github.push({ [CONFIG_PATH]: CONFIG });
    const fixed = await world.run();
    expect(fixed.status).toBe("ok");
    expect(world.github.botIssue("dashboard")?.body).not.toContain("Configuration errors");
  });

  it("turns off GitHub's auto-merge the bot turned on, so passing checks merge nothing until it is fixed", async () => {
    const rules = `automerge:\n  rules:\n    - name: add-a-node\n      match: { kind: nodes, direction: up }\n      action: merge\n      requiredChecks: [${GUARD}]\n`;
    const world = scenario({
      files: infraFiles({ config: `${WORKERS_POOL}${rules}` }),
      cluster: cluster({ pending: 1, plex: false }),
    });
    world.github.allowAutoMerge = true;
    world.github.requiredChecks.push(GUARD);
    await world.run();
    expect(world.github.pull(1).autoMerge).toEqual({ by: BOT_LOGIN, method: "squash" });
    world.github.push({ [CONFIG_PATH]: `${BROKEN}${rules}` });
    expect((await world.run()).status).toBe("config-error");
    expect(world.github.pull(1).autoMerge).toBeNull();
    world.github.setStatus(world.github.pull(1).headSha, GUARD, "success");
    expect(world.github.pull(1)).toMatchObject({ state: "open", mergedAt: null });
    // The runs after it (the first reads the lists its own change moved) ask nothing more of it.
    await world.run();
    world.github.reset();
    await world.run();
    expect(world.github.calls()).toEqual(["GET /branches/main", "GET /pulls"]);
    world.github.push({ [CONFIG_PATH]: `${WORKERS_POOL}${rules}` });
    const fixed = await world.run();
    // Rebuilt on the fix, it waits for its checks again, under GitHub's auto-merge.
    expect(fixed.merges).toEqual([
      expect.objectContaining({ number: 1, action: "auto-merge-enabled" }),
    ]);
    world.github.setStatus(world.github.pull(1).headSha, GUARD, "success");
    expect(world.github.pull(1).mergedAt).not.toBeNull();
  });

  it("takes commands given while it is broken once fixed, and not those from before", async () => {
    const world = scenario({ files: infraFiles({ config: BROKEN }), cluster: cluster() });
    world.github.permissions.set("alice", "write");
    // A pull request on the bot's branch and a command on it, from before the app came.
    world.github.branch("pr-autoscaler/nodes-workers");
    const old = world.github.openPull("pr-autoscaler/nodes-workers", "Scale workers by hand");
    world.github.comment(old.number, "/autoscaler pause");
    expect((await world.run()).status).toBe("config-error");
    const dashboard = world.github.botIssue("dashboard")?.number;
    if (dashboard === undefined) throw new Error("no dashboard");
    const given = world.github.comment(dashboard, "/autoscaler pause workers");
    world.github.push({ [CONFIG_PATH]: CONFIG });
    const fixed = await world.run(undefined, ["push"]);
    expect(fixed.commands).toEqual([
      expect.objectContaining({ commentId: given, outcome: "obeyed" }),
    ]);
    expect(fixed.paused).toBe(false);
  });

  it("leaves a repository without the file alone", async () => {
    const files = infraFiles();
    files.delete(CONFIG_PATH);
    const world = scenario({ files, cluster: cluster({ pending: 1 }) });
    const result = await world.run();
    expect(result.status).toBe("no-config");
    expect(world.github.pulls.size + world.github.issues.size).toBe(0);
  });
});

describe("a policy extended from another repository that cannot be read", () => {
  const INFRA = "octocat/infra";
  const POLICIES = "octocat/policies";

  /** The infra repository extends `policies`, which has no configuration yet. */
  async function broken() {
    const world = repositories(
      {
        [INFRA]: infraFiles({ config: `${WORKERS_POOL}automerge:\n  extends: policies\n` }),
        [POLICIES]: new Map([["README.md", "Shared policies\n"]]),
      },
      { cluster: cluster({ plex: false }) },
    );
    world.github(INFRA).permissions.set("alice", "write");
    expect((await world.run(INFRA)).status).toBe("config-error");
    const dashboard = world.github(INFRA).botIssue("dashboard")?.number;
    if (dashboard === undefined) throw new Error("no dashboard");
    world.github(POLICIES).push({ [CONFIG_PATH]: "automerge:\n  extends: preset:homelab\n" });
    return { world, dashboard };
  }

  it("is read again on /autoscaler recheck, with no push to the repository, and the command taken", async () => {
    const { world, dashboard } = await broken();
    const id = world.github(INFRA).comment(dashboard, "/autoscaler recheck");
    const result = await world.run(INFRA, undefined, ["comment"]);
    expect(result.status).toBe("ok");
    expect(result.commands).toEqual([
      expect.objectContaining({ commentId: id, outcome: "obeyed" }),
    ]);
    expect(world.github(INFRA).botIssue("dashboard")?.body).not.toContain(
      "## Configuration errors",
    );
  });

  it("is read again at the look for comments without webhooks, not at every reconcile", async () => {
    const { world } = await broken();
    world.github(POLICIES).push({ [CONFIG_PATH]: "automerge: [not, a, policy]\n" });
    expect((await world.run(INFRA)).status).toBe("config-error");
    world.github(INFRA).advance(5 * 60_000);
    world.github(INFRA).reset();
    expect((await world.run(INFRA)).status).toBe("config-error");
    const reads = () =>
      world
        .github(POLICIES)
        .calls()
        .filter((call) => call.startsWith("GET /contents/"));
    expect(reads()).not.toEqual([]);
    world.github(POLICIES).reset();
    world.github(INFRA).advance(60_000);
    expect((await world.run(INFRA)).status).toBe("config-error");
    expect(reads()).toEqual([]);
    world.github(POLICIES).push({ [CONFIG_PATH]: "automerge:\n  extends: preset:homelab\n" });
    world.github(INFRA).advance(5 * 60_000);
    expect((await world.run(INFRA)).status).toBe("ok");
  });
});

/** A pull request from a new branch `branch` whose one commit writes `files`, and that commit. */
function openPullWith(
  world: ReturnType<typeof scenario>,
  branch: string,
  files: Record<string, string>,
  title: string,
): { pull: ReturnType<typeof world.github.openPull>; head: string } {
  world.github.branch(branch);
  const head = world.github.push(files, { branch });
  return { pull: world.github.openPull(branch, title), head };
}

/**
 * The configuration check of pull request `number` at its head as it is when called, as the app
 * makes it on each push to it.
 */
function configCheck(
  world: ReturnType<typeof scenario>,
  target: ReturnType<ReturnType<typeof scenario>["replica"]>,
  number: number,
  files: string[],
): () => ReturnType<typeof checkPullRequestConfig> {
  return () =>
    checkPullRequestConfig({
      forge: target.forge,
      owner: OWNER,
      repo: REPO,
      number,
      headSha: world.github.pull(number).headSha,
      files,
      ...(target.github?.repoPathsAt ? { listFiles: target.github.repoPathsAt } : {}),
    });
}

describe("a pull request that changes the configuration", () => {
  it("gets a failing check on its head before it merges, and a passing one once fixed", async () => {
    const world = scenario();
    const target = world.replica();
    const { pull, head } = openPullWith(
      world,
      "tune-autoscaler",
      { [CONFIG_PATH]: BROKEN },
      "Tune the autoscaler",
    );
    const check = configCheck(world, target, pull.number, [CONFIG_PATH]);
    expect(await check()).toBe("created");
    expect(world.github.checkRuns).toEqual([
      expect.objectContaining({
        headSha: head,
        conclusion: "failure",
        annotations: [
          expect.objectContaining({ start_line: 6 }),
          expect.objectContaining({ start_line: 9 }),
        ],
      }),
    ]);
    expect(await check()).toBe("unchanged");
    const fixed = world.github.push({ [CONFIG_PATH]: CONFIG }, { branch: "tune-autoscaler" });
    expect(await check()).toBe("created");
    expect(world.github.checkRuns.at(-1)).toMatchObject({ headSha: fixed, conclusion: "success" });
  });

  it("gives on its passing check the host cap and a schedule whose min it lowers, as validate does", async () => {
    // Valid, so the check passes; but the window names 5 nodes of a pool the host holds 3 of,
    // which the plan's bounds show only once it is open, and 1-6 nodes alone overstates the pool.
    const world = scenario();
    const target = world.replica();
    world.github.branch("friday-evening");
    const config = `${WORKERS_POOL}    host: { memory: 64Gi, reserved: { memory: 8Gi }, node: { memory: 16Gi } }
    schedules:
      - { name: friday-evening, cron: '0 18 * * 5', duration: 6h, min: 5 }
`;
    const head = world.github.push({ [CONFIG_PATH]: config }, { branch: "friday-evening" });
    const pull = world.github.openPull("friday-evening", "Five workers on Friday evenings");
    const result = await configCheck(world, target, pull.number, [CONFIG_PATH])();
    expect(result).toBe("created");
    const check = world.github.checkRuns.at(-1);
    expect(check).toMatchObject({ headSha: head, conclusion: "success" });
    expect(check?.summary.split("\n\n")).toEqual([
      "Pools: workers (1-6 nodes, host cap 3).",
      "pool workers: schedule friday-evening asks for a min of 5, above the host cap of 3: while it is open, the pool's min is 3",
    ]);
  });

  it("gives on its failing check the configuration's notes too, as validate does", async () => {
    // The schedule's note is about a valid pool; the other pool's missing file fails the check,
    // which still says what the window brings, as validate prints it with the problem.
    const world = scenario();
    const target = world.replica();
    world.github.branch("friday-evening");
    const config = `${WORKERS_POOL}    host: { memory: 64Gi, reserved: { memory: 8Gi }, node: { memory: 16Gi } }
    schedules:
      - { name: friday-evening, cron: '0 18 * * 5', duration: 6h, min: 5 }
  - name: gpu
    target:
      file: terraform/gpu.tfvars
      path: gpu_count
    max: 2
`;
    const head = world.github.push({ [CONFIG_PATH]: config }, { branch: "friday-evening" });
    const pull = world.github.openPull("friday-evening", "Five workers on Friday evenings");
    const result = await configCheck(world, target, pull.number, [CONFIG_PATH])();
    expect(result).toBe("created");
    const check = world.github.checkRuns.at(-1);
    expect(check).toMatchObject({ headSha: head, conclusion: "failure" });
    const paragraphs = check?.summary.split("\n\n") ?? [];
    expect(paragraphs).toContain(
      "pool workers: schedule friday-evening asks for a min of 5, above the host cap of 3: while it is open, the pool's min is 3",
    );
    expect(paragraphs.at(-1)).toBe(
      "Run `npx pr-autoscaler validate` in a checkout to see the same list.",
    );
  });

  it("fails on a pool whose count a variable file Terraform reads later sets too, at the head", async () => {
    const world = scenario();
    const target = world.replica();
    const { pull } = openPullWith(
      world,
      "prod-vars",
      {
        [CONFIG_PATH]: `${WORKERS_POOL}  - name: gpu\n    target:\n      file: terraform/gpu.tfvars\n      path: gpu_count\n    max: 2\n`,
        "terraform/gpu.tfvars": "gpu_count = 1\n",
        "terraform/prod.auto.tfvars": "# prod\nworker_count = 5\n",
      },
      "Prod variables and a GPU pool",
    );
    expect(await configCheck(world, target, pull.number, [CONFIG_PATH])()).toBe("created");
    const check = world.github.checkRuns.at(-1);
    expect(check).toMatchObject({ conclusion: "failure" });
    expect(check?.annotations).toEqual([
      expect.objectContaining({
        path: CONFIG_PATH,
        start_line: 4,
        message:
          "pools[0].target.file: terraform/prod.auto.tfvars:2:16: worker_count is set here too, and Terraform reads this file after terraform/terraform.tfvars: its value is the one applied, not worker_count of terraform/terraform.tfvars; point the pool's target.file at terraform/prod.auto.tfvars, or set worker_count in one file only; plan holds pool workers: a pull request that changes the count would change nothing Terraform applies",
      }),
    ]);
    // The default branch, which lacks the file, is not what was judged.
    expect(world.github.file("terraform/prod.auto.tfvars")).toBeUndefined();
  });

  it("fails on a pool whose target file or PATH its head lacks, as validate does, one read per file", async () => {
    // The configuration alone is valid; the count of the pool it names cannot be read at the
    // head, so the app would hold the pool once this merges.
    const world = scenario();
    const target = world.replica();
    world.github.branch("gpu-pool");
    const config = `${WORKERS_POOL}  - name: gpu
    target:
      file: terraform/gpu.tfvars
      path: gpu_count
    max: 2
`;
    world.github.push({ [CONFIG_PATH]: config }, { branch: "gpu-pool" });
    const pull = world.github.openPull("gpu-pool", "A GPU pool");
    const check = configCheck(world, target, pull.number, [CONFIG_PATH]);
    const reads = () => world.github.calls().filter((call) => call.startsWith("GET /contents/"));
    world.github.reset();
    expect(await check()).toBe("created");
    // The configuration, the workers' file, the missing one and the plan guard's config looked
    // for: each read once.
    expect(reads()).toEqual([
      `GET /contents/${CONFIG_PATH}`,
      "GET /contents/terraform/terraform.tfvars",
      "GET /contents/terraform/gpu.tfvars",
      `GET /contents/${GUARD_CONFIG}`,
    ]);
    const missing = world.github.checkRuns.at(-1);
    expect(missing).toMatchObject({
      conclusion: "failure",
      title: "1 problem in the pr-autoscaler configuration",
    });
    expect(missing?.summary).toContain(
      "The configuration itself is valid, but the pools it names cannot be scaled safely until it is fixed:",
    );
    expect(missing?.summary).toContain(
      `${CONFIG_PATH}:10:13: pools[1].target.file: terraform/gpu.tfvars does not exist in the repo; the app holds pool gpu until it can read the count`,
    );
    expect(missing?.annotations).toEqual([
      expect.objectContaining({
        path: CONFIG_PATH,
        start_line: 10,
        annotation_level: "failure",
        message:
          "pools[1].target.file: terraform/gpu.tfvars does not exist in the repo; the app holds pool gpu until it can read the count",
      }),
    ]);
    world.github.reset();
    expect(await check()).toBe("unchanged");
    expect(reads()).toEqual([]);

    world.github.push({ "terraform/gpu.tfvars": "gpus = 1\n" }, { branch: "gpu-pool" });
    expect(await check()).toBe("created");
    const unset = world.github.checkRuns.at(-1);
    expect(unset).toMatchObject({ conclusion: "failure" });
    expect(unset?.annotations).toEqual([
      expect.objectContaining({
        start_line: 11,
        message: expect.stringMatching(/^pools\[1\]\.target\.path: .*gpu_count/),
      }),
    ]);

    world.github.push({ "terraform/gpu.tfvars": "gpu_count = 1\n" }, { branch: "gpu-pool" });
    expect(await check()).toBe("created");
    expect(world.github.checkRuns.at(-1)).toMatchObject({ conclusion: "success" });
  });

  it("fails on a plan guard config whose node names are not the pools', as validate does", async () => {
    // The guard counts from 0 where the pool's removal naming counts from 1: the apply would
    // drain another node than the one the pull request removes.
    const world = scenario();
    const target = world.replica();
    world.github.branch("guard");
    const config = `${WORKERS_POOL}    removal: { nameTemplate: "talos-worker-{index}", indexBase: 1 }
`;
    const guard = (template: string) => `pools:
  workers:
    vmAddress: "proxmox_virtual_environment_vm.worker[*]"
    nameTemplate: "${template}"
    countVariable: worker_count
`;
    world.github.push(
      { [CONFIG_PATH]: config, [GUARD_CONFIG]: guard("talos-worker-{index}") },
      { branch: "guard" },
    );
    const pull = world.github.openPull("guard", "Guard the apply");
    const check = configCheck(world, target, pull.number, [GUARD_CONFIG]);
    expect(await check()).toBe("created");
    expect(world.github.checkRuns.at(-1)).toMatchObject({
      conclusion: "failure",
      annotations: [
        expect.objectContaining({
          path: GUARD_CONFIG,
          start_line: 4,
          message: expect.stringMatching(
            /^pools\.workers: .*talos-worker-0.*talos-worker-1.*\(the pool's removal naming is at \.github\/pr-autoscaler\.yml:8\)/,
          ),
        }),
      ],
    });

    // A guard config that cannot be read: validate stops on it, the check fails at its line.
    world.github.push(
      { [GUARD_CONFIG]: "pools:\n  workers:\n    drift: maybe\n" },
      { branch: "guard" },
    );
    expect(await check()).toBe("created");
    expect(world.github.checkRuns.at(-1)).toMatchObject({
      conclusion: "failure",
      annotations: [
        expect.objectContaining({
          path: GUARD_CONFIG,
          start_line: 3,
          message:
            'pools.workers: missing required key "vmAddress": write the Terraform address pattern of the pool\'s VMs, e.g. vmAddress: "proxmox_virtual_environment_vm.worker[*]"',
        }),
      ],
    });

    world.github.push({ [GUARD_CONFIG]: guard("talos-worker-{index+1}") }, { branch: "guard" });
    expect(await check()).toBe("created");
    expect(world.github.checkRuns.at(-1)).toMatchObject({ conclusion: "success" });
  });

  it("skips pull requests that do not touch it, without a request", async () => {
    const world = scenario();
    const target = world.replica();
    world.github.reset();
    const result = await checkPullRequestConfig({
      forge: target.forge,
      owner: OWNER,
      repo: REPO,
      number: 7,
      headSha: world.github.head(),
      files: ["README.md", ".github/workflows/terraform.yml"],
    });
    expect(result).toBe("skipped");
    expect(world.github.calls()).toEqual([]);
  });
});

describe("a pull request that changes a file holding a pool's count", () => {
  /** A pull request adding a variable file beside the target that sets the count to 5. */
  function prodVariablesPull() {
    const world = scenario();
    const target = world.replica();
    const added = "terraform/prod.auto.tfvars";
    const { pull } = openPullWith(
      world,
      "prod-vars",
      { [added]: "# prod\nworker_count = 5\n" },
      "Prod variables",
    );
    return { world, target, pull, added };
  }

  /** The requests of the check that read the head's files. */
  function reads(world: ReturnType<typeof scenario>): string[] {
    return world.github.calls().filter((call) => call.startsWith("GET /contents/"));
  }

  it("fails at the target file's line when the count can no longer be read there, and passes once it can", async () => {
    const world = scenario();
    const target = world.replica();
    world.github.branch("rename");
    // A person renames the variable by hand: the configuration, unchanged, names it still.
    world.github.push(
      { [TFVARS]: tfvars(3).replace("worker_count      =", "workers =") },
      { branch: "rename" },
    );
    const pull = world.github.openPull("rename", "Rename the worker count");
    const check = configCheck(world, target, pull.number, [TFVARS]);
    expect(await check()).toBe("created");
    const renamed = world.github.checkRuns.at(-1);
    expect(renamed).toMatchObject({
      headSha: world.github.pull(pull.number).headSha,
      conclusion: "failure",
      title: "1 problem in the pr-autoscaler configuration",
    });
    expect(renamed?.annotations).toEqual([
      expect.objectContaining({
        path: TFVARS,
        start_line: 1,
        annotation_level: "failure",
        message: expect.stringMatching(
          /^terraform\/terraform\.tfvars:1:1: reading worker_count: the file does not set the variable "worker_count".*; the app holds pool workers until it can read the count \(pools\[0\]\.target\.path at \.github\/pr-autoscaler\.yml:5\)$/,
        ),
      }),
    ]);
    expect(renamed?.summary).toContain(`${CONFIG_PATH}:5:13: pools[0].target.path: ${TFVARS}:1:1:`);

    // An expression the editor cannot read, at the line that holds it.
    world.github.push(
      { [TFVARS]: tfvars(3).replace("= 3", "= var.base_workers + 1") },
      { branch: "rename" },
    );
    expect(await check()).toBe("created");
    expect(world.github.checkRuns.at(-1)?.annotations).toEqual([
      expect.objectContaining({
        path: TFVARS,
        start_line: 5,
        message: expect.stringMatching(
          /^terraform\/terraform\.tfvars:5:21: worker_count is the expression var\.base_workers \+ 1; expected a whole number of nodes; /,
        ),
      }),
    ]);

    world.github.push({ [TFVARS]: tfvars(4) }, { branch: "rename" });
    expect(await check()).toBe("created");
    expect(world.github.checkRuns.at(-1)).toMatchObject({ conclusion: "success" });
  });

  it("fails at the line of a variable file it adds beside the target that overrides the count", async () => {
    const { world, target, pull, added } = prodVariablesPull();
    expect(await configCheck(world, target, pull.number, [added])()).toBe("created");
    const check = world.github.checkRuns.at(-1);
    expect(check).toMatchObject({ conclusion: "failure" });
    expect(check?.annotations).toEqual([
      expect.objectContaining({
        path: added,
        start_line: 2,
        message: `${added}:2:16: worker_count is set here too, and Terraform reads this file after ${TFVARS}: its value is the one applied, not worker_count of ${TFVARS}; point the pool's target.file at ${added}, or set worker_count in one file only; plan holds pool workers: a pull request that changes the count would change nothing Terraform applies (pools[0].target.file at ${CONFIG_PATH}:4)`,
      }),
    ]);
  });

  it("finds a variable file it adds past the cut of a head's tree GitHub truncates", async () => {
    const { world, target, pull, added } = prodVariablesPull();
    // `.github`, the configuration and `kubernetes`: the folder `terraform` is past the cut.
    world.github.treeLimit = 3;
    world.github.reset();
    expect(await configCheck(world, target, pull.number, [added])()).toBe("created");
    const check = world.github.checkRuns.at(-1);
    expect(check).toMatchObject({ conclusion: "failure" });
    expect(check?.annotations).toEqual([expect.objectContaining({ path: added, start_line: 2 })]);
    // The head's root tree, listed whole and truncated, then on its own, then the folder's.
    const root = world.github.git.commits.get(pull.headSha)?.tree as string;
    const folder = world.github.git.folders.get(root)?.find((entry) => entry.name === "terraform");
    expect(
      world.github.log.map((entry) => entry.call).filter((call) => call.includes("/git/trees/")),
    ).toEqual([
      `GET /git/trees/${root}?recursive=1`,
      `GET /git/trees/${root}`,
      `GET /git/trees/${folder?.sha}`,
    ]);
  });

  it("says on its check that no overriding variable file was looked for when the head's files cannot be listed", async () => {
    const { world, target, pull, added } = prodVariablesPull();
    world.github.fail("GET", /^\/git\/trees\//, 502, "Bad Gateway", 10);
    expect(await configCheck(world, target, pull.number, [added])()).toBe("created");
    const check = world.github.checkRuns.at(-1);
    // The file the list would have found is not judged: the check passes on what it read, and
    // says what it could not look at rather than pass as though it had.
    expect(check).toMatchObject({ conclusion: "success", annotations: [] });
    expect(check?.summary).toMatch(
      /\n\nthe files of the pull request's head could not be listed \(.*502.*\): a variable file Terraform reads after a pool's target, which would override its count, was not looked for$/,
    );
  });

  it("is skipped after the configuration's read when the file is no target and none overrides", async () => {
    // Only the configuration at the head tells the pools' files: one read, and no check.
    const world = scenario();
    const target = world.replica();
    const files = {
      "staging/terraform.tfvars": "worker_count = 2\n",
      // Beside the target, but read only when passed with -var-file: it overrides nothing.
      "terraform/staging.tfvars": "worker_count = 2\n",
    };
    const { pull } = openPullWith(world, "staging", files, "A staging cluster");
    world.github.reset();
    const check = configCheck(world, target, pull.number, Object.keys(files));
    expect(await check()).toBe("skipped");
    expect(world.github.calls()).toEqual([`GET /contents/${CONFIG_PATH}`]);
    expect(world.github.checkRuns).toEqual([]);
  });

  it("is skipped at a head whose configuration has errors, which the default branch reports", async () => {
    const world = scenario();
    const target = world.replica();
    world.github.push({ [CONFIG_PATH]: BROKEN });
    const { pull } = openPullWith(
      world,
      "rename",
      { [TFVARS]: "workers = 3\n" },
      "Rename the worker count",
    );
    world.github.reset();
    expect(await configCheck(world, target, pull.number, [TFVARS])()).toBe("skipped");
    expect(world.github.calls()).toEqual([`GET /contents/${CONFIG_PATH}`]);
    expect(world.github.checkRuns).toEqual([]);
  });

  it("looks at a target whose name tells no format when the default branch's configuration names it", async () => {
    const world = scenario();
    const target = world.replica();
    const file = "terraform/workers.hcl";
    const config = `pools:\n  - name: workers\n    target: { file: ${file}, path: worker_count, format: tfvars }\n    max: 6\n`;
    world.github.push({ [CONFIG_PATH]: config, [file]: "worker_count = 3\n" });
    const { pull } = openPullWith(
      world,
      "hcl",
      { [file]: "workers = 3\n" },
      "Rename the worker count",
    );
    const input = {
      forge: target.forge,
      owner: OWNER,
      repo: REPO,
      number: pull.number,
      headSha: world.github.pull(pull.number).headSha,
      files: [file],
    };
    // Any file could be such a target: unnamed, the file is not looked at.
    world.github.reset();
    expect(await checkPullRequestConfig(input)).toBe("skipped");
    expect(world.github.calls()).toEqual([]);
    expect(await checkPullRequestConfig({ ...input, knownTargets: [file] })).toBe("created");
    expect(reads(world)).toEqual([
      `GET /contents/${CONFIG_PATH}`,
      `GET /contents/${file}`,
      `GET /contents/.github/pr-autoscaler-guard.yml`,
    ]);
    expect(world.github.checkRuns.at(-1)).toMatchObject({
      conclusion: "failure",
      annotations: [expect.objectContaining({ path: file, start_line: 1 })],
    });
  });
});
