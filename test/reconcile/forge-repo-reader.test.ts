import { describe, expect, it } from "@jest/globals";
import { ForgeError, NotATextFileError } from "../../src/forge/forge-error.ts";
import { RepoConfig } from "../../src/policy/repo-config.ts";
import { readConfiguration } from "../../src/reconcile/config-check.ts";
import { forgeRepoReader } from "../../src/reconcile/forge-repo-reader.ts";
import { readRepoConfig } from "../../src/reconcile/plan-repo.ts";
import { readPoolFacts } from "../../src/repo/pool-facts.ts";

const config = RepoConfig.parse({
  pools: [
    {
      name: "workers",
      target: { file: "terraform/terraform.tfvars", path: "worker_count" },
      max: 6,
    },
    { name: "gpu", target: { file: "gpu/terraform.tfvars", path: "gpu_count" }, max: 2 },
  ],
});

function readerFailingWith(error: Error) {
  return forgeRepoReader({
    forge: {
      async readFile(path) {
        if (path === "terraform/terraform.tfvars") throw error;
        return "gpu_count = 1\n";
      },
      fileHistory: async () => [],
    },
    headSha: "head",
  });
}

describe("the repo as the planner reads it through the forge", () => {
  it("holds the pool whose file is no text file of its own, and only that pool", async () => {
    const link = new NotATextFileError(
      "read terraform/terraform.tfvars",
      "terraform/terraform.tfvars",
      "terraform/terraform.tfvars is a symbolic link to envs/prod.tfvars: set the pool's target to the file itself",
    );
    const { facts } = await readPoolFacts(readerFailingWith(link), config);
    expect(facts).toEqual([
      {
        pool: "workers",
        currentValueProblem:
          "terraform/terraform.tfvars is a symbolic link to envs/prod.tfvars: set the pool's target to the file itself",
      },
      { pool: "gpu", currentValue: 1 },
    ]);
  });

  it("lets a failed request fail the read: asking again may work", async () => {
    const outage = new ForgeError("read terraform/terraform.tfvars", "502 Bad Gateway", 502);
    await expect(readPoolFacts(readerFailingWith(outage), config)).rejects.toBe(outage);
  });
});

describe("the last change of a count, from the file's commits on the forge", () => {
  const workers = RepoConfig.parse({
    pools: [
      {
        name: "workers",
        target: { file: "terraform/terraform.tfvars", path: "worker_count" },
        max: 6,
      },
    ],
  });

  /** A reader of a file whose only commit, two minutes before the planning time, is `entry`. */
  function oneCommit(entry: { root?: true }) {
    return forgeRepoReader({
      forge: {
        readFile: async (path) =>
          path === "terraform/terraform.tfvars" ? "worker_count = 3\n" : undefined,
        fileHistory: async () => [
          { sha: "c1", date: "2026-11-22T09:58:00Z", message: "workers", ...entry },
        ],
      },
      headSha: "c1",
    });
  }

  it("dates no change when the file's only commit is the repository's first: the count is asked for since then", async () => {
    const { facts } = await readPoolFacts(oneCommit({ root: true }), workers);
    expect(facts).toEqual([
      { pool: "workers", currentValue: 3, countSince: "2026-11-22T09:58:00Z" },
    ]);
  });

  it("dates a commit that brings the file into an older repository, without a direction", async () => {
    const { facts } = await readPoolFacts(oneCommit({}), workers);
    expect(facts).toEqual([
      { pool: "workers", currentValue: 3, lastChange: { at: "2026-11-22T09:58:00Z" } },
    ]);
  });
});

describe("a configuration file that is no text file of its own", () => {
  const notText = new NotATextFileError(
    "read .github/pr-autoscaler.yml",
    ".github/pr-autoscaler.yml",
    ".github/pr-autoscaler.yml is not valid UTF-8 text; convert the file to UTF-8 first",
  );
  const forge = {
    readFile: async (): Promise<string | undefined> => {
      throw notText;
    },
    fileHistory: async () => [],
  };
  const issue = {
    file: ".github/pr-autoscaler.yml",
    line: 1,
    column: 1,
    path: "",
    message: "the file is not valid UTF-8 text; convert the file to UTF-8 first",
  };

  it("is an invalid configuration for the app's check, reported, not a reconcile that fails", async () => {
    const result = await readConfiguration({ forge, owner: "o", repo: "r", sha: "head" });
    expect(result).toMatchObject({ found: true, ok: false, issues: [issue] });
  });

  it("is an invalid configuration for the planner", async () => {
    const state = await readRepoConfig(forgeRepoReader({ forge, headSha: "head" }));
    expect(state).toEqual({ status: "invalid", issues: [issue] });
  });
});
