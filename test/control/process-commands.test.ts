import { describe, expect, it } from "@jest/globals";
import { USAGE } from "../../src/control/command.ts";
import type { CommandGitHub, CommentRecord } from "../../src/control/command-github.ts";
import { emptyControlState } from "../../src/control/control-state.ts";
import { processCommands } from "../../src/control/process-commands.ts";
import type { RepoState } from "../../src/forge/forge.ts";
import { RepoConfig } from "../../src/policy/repo-config.ts";

const config = RepoConfig.parse({
  pools: [{ name: "workers", target: { file: "t.tfvars", path: "worker_count" }, min: 2, max: 6 }],
});
const repoState: RepoState = {
  defaultBranch: "main",
  head: { sha: "b".repeat(40), treeSha: "c".repeat(40) },
  pullRequests: [],
  recentlyClosed: [],
  strayBranches: [],
};

/** Processes one comment on the dashboard (#1) by alice, who may write; returns the replies. */
async function answer(body: string) {
  const replies: string[] = [];
  const comment: CommentRecord = {
    id: 100,
    issueNumber: 1,
    body,
    login: "alice",
    isBot: false,
    createdAt: "2026-01-02T00:00:00Z",
  };
  const github: CommandGitHub = {
    newComments: async () => ({ comments: [comment], newest: comment.id }),
    permission: async () => ({ allowed: true, permission: "write" }),
    react: async () => {},
    reply: async (_comment, text) => {
      replies.push(text);
    },
    setHold: async () => {},
    turnOffAutoMerge: async () => {},
    findIssue: async () => undefined,
    pullRequestFiles: async () => [],
  };
  const result = await processCommands({
    github,
    state: emptyControlState(99),
    config,
    repoState,
    dashboardNumber: 1,
    forge: { closePullRequest: async () => ({ action: "closed" }) },
  });
  return { result, replies };
}

describe("processCommands' replies", () => {
  it("answers a thousand unreadable commands in one reply GitHub accepts, listing the commands once", async () => {
    const { result, replies } = await answer("/autoscaler frobnicate\n".repeat(1000));
    expect(result.error).toBeUndefined();
    expect(replies).toHaveLength(1);
    const reply = replies[0] ?? "";
    expect(reply.length).toBeLessThan(65_536);
    expect(reply.split(USAGE)).toHaveLength(2);
    expect(reply).toContain("a comment takes at most 10 commands");
  });

  it("lists the commands once when the comment asks for help beside a line it cannot read", async () => {
    const { replies } = await answer("/autoscaler help\n/autoscaler frobnicate");
    expect(replies).toHaveLength(1);
    expect(replies[0]?.split(USAGE)).toHaveLength(2);
  });

  it("quotes a line so that its backticks cannot end the quote and mention someone", async () => {
    const { replies } = await answer("/autoscaler fro`b` @someone");
    expect(replies[0]).toContain("``/autoscaler fro`b` @someone``: unknown command `` fro`b` ``.");
  });
});
