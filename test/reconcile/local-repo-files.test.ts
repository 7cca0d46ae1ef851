import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { localRepo } from "../../src/repo/local-repo.ts";

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "pr-autoscaler-files-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe("localRepo().listFiles (what right-sizing discovery reads in a checkout)", () => {
  const files = {
    ".gitignore": "secrets/\n",
    "apps/plex/values.yaml": "resources: {}\n",
    "terraform/terraform.tfvars": "worker_count = 3\n",
    "secrets/token.yaml": "token: x\n",
  };

  it("lists tracked and untracked files of a git checkout, without what .gitignore excludes", async () => {
    const dir = tree(files);
    execFileSync("git", ["-C", dir, "init", "-q"]);
    execFileSync("git", ["-C", dir, "add", "terraform"]);
    expect(await localRepo(dir).listFiles()).toEqual([
      ".gitignore",
      "apps/plex/values.yaml",
      "terraform/terraform.tfvars",
    ]);
  });

  it("lists paths relative to a subdirectory of a checkout", async () => {
    const dir = tree({ "examples/lab/apps/a.yaml": "a: 1\n", "src/x.ts": "" });
    execFileSync("git", ["-C", dir, "init", "-q"]);
    expect(await localRepo(join(dir, "examples/lab")).listFiles()).toEqual(["apps/a.yaml"]);
  });

  it("walks a directory that is not a git checkout", async () => {
    const dir = tree(files);
    expect(await localRepo(dir).listFiles()).toEqual([
      ".gitignore",
      "apps/plex/values.yaml",
      "secrets/token.yaml",
      "terraform/terraform.tfvars",
    ]);
  });
});
