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
