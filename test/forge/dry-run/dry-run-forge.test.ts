import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { createDryRunForge, workingTreeState } from "../../../src/forge/dry-run/dry-run-forge.ts";
import { formatDryRun } from "../../../src/forge/dry-run/format-dry-run.ts";
import { readLocalFile } from "../../../src/forge/dry-run/read-local-file.ts";
import type { BotPullRequest, RepoState } from "../../../src/forge/forge.ts";
import { scaleWorkers, TFVARS, tfvars } from "../workers-plan.ts";

const checkout = mkdtempSync(join(tmpdir(), "dry-run-"));
mkdirSync(join(checkout, "terraform"));
writeFileSync(join(checkout, TFVARS), tfvars(3));
afterAll(() => rmSync(checkout, { recursive: true, force: true }));

const base = {
  readFile: readLocalFile(checkout),
  fileHistory: async () => [],
};

function openPull(fields: Partial<BotPullRequest>): BotPullRequest {
  return {
    number: 7,
    key: "nodes-workers",
    branch: "pr-autoscaler/nodes-workers",
    title: "Scale worker nodes to 4",
    body: "",
    url: "https://github.com/octocat/Hello-World/pull/7",
    headSha: "c1",
    labels: ["autoscaling", "scale-up"],
    createdAt: "2025-03-01T10:00:00Z",
    fingerprint: "workers-4",
    control: "bot",
    handsOffReason: undefined,
    upToDate: true,
    handsOffNoticed: false,
    ...fields,
  };
}

function stateWith(pull: BotPullRequest): RepoState {
  return { ...workingTreeState(), pullRequests: [pull] };
}

describe("the dry-run forge", () => {
  it("records the pull request it would open, with a unified diff of each file", async () => {
    const forge = createDryRunForge({ base });

    const result = await forge.ensurePullRequest(scaleWorkers(4), await forge.readState());

    expect(result).toEqual({ action: "created", key: "nodes-workers" });
    expect(forge.actions).toEqual([
      {
        kind: "open-pull-request",
        key: "nodes-workers",
        branch: "pr-autoscaler/nodes-workers",
        title: "Scale worker nodes to 4",
        labels: ["autoscaling", "scale-up"],
        body: "Pods are waiting for room: the workers pool goes to 4 nodes.",
        diffs: [
          {
            path: TFVARS,
            diff: [
              `--- a/${TFVARS}`,
              `+++ b/${TFVARS}`,
              "@@ -1,6 +1,6 @@",
              ' proxmox_node  = "pve1"',
              ' talos_version = "v1.9.4"',
              " ",
              "-worker_count  = 3",
              "+worker_count  = 4",
              " worker_cpu    = 4",
              " worker_memory = 8192",
              "",
            ].join("\n"),
          },
        ],
      },
    ]);
  });

  it("decides like the GitHub forge for pull requests that are open", async () => {
    const forge = createDryRunForge({ base });

    expect((await forge.ensurePullRequest(scaleWorkers(4), stateWith(openPull({})))).action).toBe(
      "unchanged",
    );
    expect(
      (await forge.ensurePullRequest(scaleWorkers(4), stateWith(openPull({ control: "human" }))))
        .action,
    ).toBe("human-edited");
    expect(forge.actions).toEqual([]);

    const updated = await forge.ensurePullRequest(scaleWorkers(5), stateWith(openPull({})));
    expect(updated).toMatchObject({ action: "updated", number: 7 });
    expect(forge.actions[0]).toMatchObject({ kind: "update-pull-request", number: 7 });
  });

  it("proposes nothing for a change the files already have", async () => {
    const forge = createDryRunForge({ base });
    expect((await forge.ensurePullRequest(scaleWorkers(3), workingTreeState())).action).toBe(
      "already-applied",
    );
    expect(forge.actions).toEqual([]);
  });

  it("prints what it would do", async () => {
    const forge = createDryRunForge({ base });
    const state = stateWith(openPull({ key: "resources-media-plex", number: 9 }));
    await forge.ensurePullRequest(scaleWorkers(4), state);
    const pr = state.pullRequests[0];
    if (!pr) throw new Error("expected a pull request");
    await forge.closePullRequest(pr, "Plex fits in its requests again.", state);

    const text = formatDryRun(forge.actions);

    expect(text).toContain(
      "Would open a pull request from pr-autoscaler/nodes-workers: Scale worker nodes to 4",
    );
    expect(text).toContain("  labels: autoscaling, scale-up");
    expect(text).toContain("  -worker_count  = 3\n  +worker_count  = 4");
    expect(text).toContain(
      "Would close pull request #9 (resources-media-plex): Plex fits in its requests again.",
    );
    expect(formatDryRun([])).toBe("Nothing to do.\n");
  });

  it("reads local files, answering undefined for a missing one and refusing paths outside", async () => {
    const read = readLocalFile(checkout);
    expect(await read(TFVARS)).toBe(tfvars(3));
    expect(await read("apps/missing.yaml")).toBeUndefined();
    await expect(read("../etc/passwd")).rejects.toThrow("invalid repository path");
  });
});
