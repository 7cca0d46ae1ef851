import { describe, expect, it } from "@jest/globals";
import { assertValidKey, branchForKey, keyOfBranch } from "../../src/forge/branch-name.ts";
import {
  botCommitMessage,
  pullRequestNumberOf,
  readBotTrailers,
} from "../../src/forge/commit-message.ts";

describe("the bot's commit messages", () => {
  it("carry the key and fingerprint as trailers", () => {
    const message = botCommitMessage("Scale worker nodes\nto 4", "nodes-workers", "workers-4");
    expect(message).toBe(
      "Scale worker nodes to 4\n\nPr-Autoscaler-Key: nodes-workers\nPr-Autoscaler-Fingerprint: workers-4\n",
    );
    expect(readBotTrailers(message)).toEqual({ key: "nodes-workers", fingerprint: "workers-4" });
  });

  it("are told apart from other commits", () => {
    expect(readBotTrailers("Pin workers at 5")).toBeUndefined();
    expect(readBotTrailers("Pr-Autoscaler-Key: x\n\nbut then a human paragraph")).toBeUndefined();
    expect(
      readBotTrailers("Fix\n\nSigned-off-by: Jo <jo@example.com>\nPr-Autoscaler-Key: x"),
    ).toEqual({
      key: "x",
      fingerprint: undefined,
    });
  });

  it("name the pull request of merge and squash commits", () => {
    expect(
      pullRequestNumberOf("Merge pull request #12 from octocat/pr-autoscaler/nodes-workers"),
    ).toBe(12);
    expect(pullRequestNumberOf("Scale worker nodes to 4 (#13)\n\nbody (#99)")).toBe(13);
    expect(pullRequestNumberOf("Scale worker nodes to 4")).toBeUndefined();
  });
});

describe("branch names", () => {
  it("map keys to pr-autoscaler/<key> and back", () => {
    expect(branchForKey("resources-media-plex")).toBe("pr-autoscaler/resources-media-plex");
    expect(keyOfBranch("pr-autoscaler/resources-media-plex")).toBe("resources-media-plex");
    expect(keyOfBranch("renovate/helm")).toBeUndefined();
    expect(keyOfBranch("pr-autoscaler/a/b")).toBeUndefined();
  });

  it("refuse keys that are not plain names", () => {
    for (const key of ["", "-x", "a..b", "x.lock", "a b", "a/b", "x-"]) {
      expect(() => assertValidKey(key)).toThrow("invalid pull request key");
    }
    expect(() => assertValidKey("nodes-workers_2.v1")).not.toThrow();
  });
});
