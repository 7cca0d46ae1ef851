import { describe, expect, it } from "@jest/globals";
import { ForgeError, NotATextFileError } from "../../../src/forge/forge-error.ts";
import { mockGitHub, REPO_PATH } from "../../support/github.ts";
import { responseExample } from "../../support/github-openapi.ts";
import { blob, commitSummary, fileContent, sha } from "../../support/github-responses.ts";
import { HEAD1, newForge, TFVARS, TREE1, tfvars } from "../../support/github-scenario.ts";
import { githubSteps } from "../../support/github-steps.ts";

async function forgeAtHead(github: ReturnType<typeof mockGitHub>) {
  const steps = githubSteps(github);
  steps.defaultBranch(HEAD1, TREE1, '"b1"');
  steps.openPulls([], '"p1"');
  steps.closedPulls([]);
  steps.botBranches([]);
  const forge = newForge();
  await forge.readState();
  github.reset();
  return { forge, steps };
}

describe("reading files", () => {
  it("reads a file at the head the last state saw, once per commit", async () => {
    const github = mockGitHub();
    const { forge, steps } = await forgeAtHead(github);
    steps.file(TFVARS, HEAD1, tfvars(3));

    expect(await forge.readFile(TFVARS)).toBe(tfvars(3));
    expect(await forge.readFile(`./${TFVARS}`)).toBe(tfvars(3));
    expect(await forge.readFile(TFVARS, HEAD1)).toBe(tfvars(3));

    expect(github.calls()).toEqual([`GET /contents/${TFVARS}`]);
    expect(github.scope.isDone()).toBe(true);
  });

  it("answers undefined for a missing file and refuses a directory", async () => {
    const github = mockGitHub();
    const { forge, steps } = await forgeAtHead(github);
    steps.file("apps/missing.yaml", HEAD1, undefined);
    github.scope
      .get(`${REPO_PATH}/contents/apps`)
      .query({ ref: HEAD1 })
      .reply(200, [fileContent("apps/a.yaml", "a: 1\n")]);

    expect(await forge.readFile("apps/missing.yaml")).toBeUndefined();
    const failure = await forge.readFile("apps").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ForgeError);
    expect(String(failure)).toContain("apps is a directory, not a file");
    expect(github.scope.isDone()).toBe(true);
  });

  it("refuses a symbolic link, followed or not, and a file that is not UTF-8, as no text file of its own", async () => {
    const github = mockGitHub();
    const { forge } = await forgeAtHead(github);
    const contents = (path: string) =>
      github.scope.get(`${REPO_PATH}/contents/${encodeURIComponent(path)}`).query({ ref: HEAD1 });
    // A link to a file of the repo: GitHub answers with that file, under the file's path.
    contents(TFVARS).reply(200, fileContent("envs/prod.tfvars", tfvars(3)));
    // A link to something else: GitHub answers with the link (its published example).
    contents("bin/some-symlink").reply(
      200,
      responseExample(
        "GET",
        "/repos/{owner}/{repo}/contents/{path}",
        200,
        "response-if-content-is-a-symlink",
      ) as object,
    );
    contents("latin1.tfvars").reply(200, {
      ...fileContent("latin1.tfvars", ""),
      content: Buffer.from("# caf\xe9\n", "latin1").toString("base64"),
    });

    const failures = await Promise.all(
      [TFVARS, "bin/some-symlink", "latin1.tfvars"].map((path) =>
        forge.readFile(path).catch((error: unknown) => error),
      ),
    );
    for (const failure of failures) expect(failure).toBeInstanceOf(NotATextFileError);
    expect(failures.map((failure) => (failure as NotATextFileError).problem)).toEqual([
      `${TFVARS} is a symbolic link to envs/prod.tfvars: set the pool's target to the file itself`,
      "bin/some-symlink is a symbolic link to /path/to/symlink/target: set the pool's target to the file itself",
      "latin1.tfvars is not valid UTF-8 text (byte 0xe9 at line 1, column 6); convert the file to UTF-8 first",
    ]);
    expect(github.scope.isDone()).toBe(true);
  });

  it("reads a file over 1 MB through its blob", async () => {
    const github = mockGitHub();
    const { forge } = await forgeAtHead(github);
    const big = `${"# padding\n".repeat(110_000)}worker_count = 3\n`;
    const blobSha = sha("blob");
    github.scope
      .get(`${REPO_PATH}/contents/${encodeURIComponent(TFVARS)}`)
      .query({ ref: HEAD1 })
      .reply(200, { ...fileContent(TFVARS, ""), content: "", encoding: "none", sha: blobSha });
    github.scope.get(`${REPO_PATH}/git/blobs/${blobSha}`).reply(200, blob(blobSha, big));

    expect(await forge.readFile(TFVARS)).toBe(big);
    expect(github.scope.isDone()).toBe(true);
  });

  it("refuses paths that leave the repository", async () => {
    const forge = newForge();
    await expect(forge.readFile("../secrets.yaml")).rejects.toThrow(
      'invalid repository path "../secrets.yaml"',
    );
    await expect(forge.readFile("/etc/passwd")).rejects.toThrow("invalid repository path");
  });
});

describe("file history", () => {
  it("lists the latest commits that changed a file, with the pull request each came from", async () => {
    const github = mockGitHub();
    const { forge } = await forgeAtHead(github);
    github.scope
      .get(`${REPO_PATH}/commits`)
      .query({ sha: HEAD1, path: TFVARS, per_page: "3" })
      .reply(200, [
        commitSummary(
          sha("s1"),
          "Scale worker nodes to 4 (#12)\n\nPr-Autoscaler-Key: nodes-workers",
          "2025-03-01T12:00:00Z",
          [sha("p1")],
        ),
        commitSummary(
          sha("s2"),
          "Merge pull request #9 from octocat/pr-autoscaler/nodes-workers\n\nScale",
          "2025-02-20T08:00:00Z",
          [sha("p2"), sha("b2")],
        ),
        commitSummary(sha("s3"), "Pin talos to v1.9.4", "2025-02-01T08:00:00Z", [sha("p3")]),
      ]);

    const history = await forge.fileHistory(TFVARS, { limit: 3 });
    const recent = await forge.fileHistory(TFVARS, { limit: 3, since: "2025-02-15T00:00:00Z" });

    expect(history).toEqual([
      {
        sha: sha("s1"),
        date: "2025-03-01T12:00:00Z",
        message: "Scale worker nodes to 4 (#12)\n\nPr-Autoscaler-Key: nodes-workers",
        prNumber: 12,
      },
      {
        sha: sha("s2"),
        date: "2025-02-20T08:00:00Z",
        message: "Merge pull request #9 from octocat/pr-autoscaler/nodes-workers\n\nScale",
        prNumber: 9,
      },
      { sha: sha("s3"), date: "2025-02-01T08:00:00Z", message: "Pin talos to v1.9.4" },
    ]);
    expect(recent.map((entry) => entry.prNumber)).toEqual([12, 9]);
    // Same head: the second call is answered from memory.
    expect(github.calls()).toEqual(["GET /commits"]);
    expect(github.scope.isDone()).toBe(true);
  });

  it("marks the commit listed with no parent as the repository's first, and not one whose parents are not given", async () => {
    const github = mockGitHub();
    const { forge } = await forgeAtHead(github);
    const { parents: _, ...unsaid } = commitSummary(sha("s5"), "Workers", "2025-02-10T08:00:00Z");
    github.scope
      .get(`${REPO_PATH}/commits`)
      .query({ sha: HEAD1, path: TFVARS, per_page: "3" })
      .reply(200, [
        commitSummary(sha("s4"), "More workers", "2025-03-01T12:00:00Z", [sha("s5")]),
        unsaid,
        commitSummary(sha("s6"), "Initial commit", "2025-02-01T08:00:00Z"),
      ]);
    const history = await forge.fileHistory(TFVARS, { limit: 3 });
    expect(history.map((entry) => [entry.sha, entry.root])).toEqual([
      [sha("s4"), undefined],
      [sha("s5"), undefined],
      [sha("s6"), true],
    ]);
  });
});

describe("the default branch's latest commits", () => {
  it("lists them with their parents, once per head", async () => {
    const github = mockGitHub();
    const { forge } = await forgeAtHead(github);
    github.scope
      .get(`${REPO_PATH}/commits`)
      .query({ sha: HEAD1, per_page: "100" })
      .reply(200, [
        commitSummary(HEAD1, "Merge pull request #9 from octocat/more", "2025-03-01T12:00:00Z", [
          sha("main"),
          sha("branch"),
        ]),
        commitSummary(sha("branch"), "Four workers", "2025-02-28T08:00:00Z", [sha("main")]),
        commitSummary(sha("main"), "Initial commit", "2025-02-01T08:00:00Z"),
      ]);

    const commits = await forge.branchCommits();
    expect(await forge.branchCommits()).toBe(commits);
    expect(commits).toEqual([
      { sha: HEAD1, date: "2025-03-01T12:00:00Z", parents: [sha("main"), sha("branch")] },
      { sha: sha("branch"), date: "2025-02-28T08:00:00Z", parents: [sha("main")] },
      { sha: sha("main"), date: "2025-02-01T08:00:00Z", parents: [] },
    ]);
    expect(github.calls()).toEqual(["GET /commits"]);
    expect(github.scope.isDone()).toBe(true);
  });
});
