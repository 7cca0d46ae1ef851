import { describe, expect, it } from "@jest/globals";
import { createCommandGitHub, type RepliedComment } from "../../src/control/command-github.ts";
import { createGitHubClient, type OctokitLike } from "../../src/forge/github/github-client.ts";
import { commentTag } from "../../src/forge/marker.ts";

const BOT = "pr-autoscaler[bot]";
const comment: RepliedComment = { id: 42, issueNumber: 7, createdAt: "2026-01-02T00:00:00Z" };
const tag = commentTag("reply", { comment: "42" });

interface Listed {
  id: number;
  body: string;
  user: { login: string };
}

/**
 * An issue's comments as GitHub's REST API serves them to the app: `GET` lists them, `POST`
 * adds one by the app, `DELETE` removes one. `aroundPost` lets another replica's or a person's
 * comment land just before or just after the app's own.
 */
function issue(aroundPost: { before?: Listed[]; after?: Listed[] } = {}) {
  const comments: Listed[] = [];
  const requests: string[] = [];
  let next = 100;
  const add = (listed: Omit<Listed, "id">) => {
    const made = { ...listed, id: next++ };
    comments.push(made);
    return made;
  };
  const octokit: OctokitLike = {
    async request(route, parameters = {}) {
      const { owner: _owner, repo: _repo, ...asked } = parameters;
      requests.push(`${route} ${JSON.stringify(asked)}`);
      if (route.startsWith("GET")) return { status: 200, headers: {}, data: [...comments] };
      if (route.startsWith("POST")) {
        for (const other of aroundPost.before ?? []) add(other);
        const made = add({ body: String(asked.body), user: { login: BOT } });
        for (const other of aroundPost.after ?? []) add(other);
        return { status: 201, headers: {}, data: made };
      }
      const index = comments.findIndex((listed) => listed.id === asked.comment_id);
      comments.splice(index, 1);
      return { status: 204, headers: {}, data: "" };
    },
  };
  const github = createCommandGitHub(createGitHubClient(octokit, { owner: "o", repo: "r" }), {
    botLogin: BOT,
    graphql: { graphql: async () => ({}) },
  });
  return { github, comments, requests };
}

const byBot = (body: string): Listed => ({ id: 0, body, user: { login: BOT } });

describe("a reply to a command comment", () => {
  it("is made once, and looked for among the comments made since the command", async () => {
    const { github, comments, requests } = issue();
    await github.reply(comment, "@alice Not done.");
    await github.reply(comment, "@alice Not done.");
    expect(comments.map((listed) => listed.body)).toEqual([`@alice Not done.\n\n${tag}`]);
    expect(requests.filter((request) => request.startsWith("POST"))).toHaveLength(1);
    expect(requests[0]).toContain('"since":"2026-01-02T00:00:00Z"');
  });

  it("is taken back when another replica's reply came first", async () => {
    const { github, comments, requests } = issue({ before: [byBot(`@alice Not done.\n\n${tag}`)] });
    await github.reply(comment, "@alice Not done.");
    expect(comments.map((listed) => listed.id)).toEqual([100]);
    expect(requests.at(-1)).toBe(
      'DELETE /repos/{owner}/{repo}/issues/comments/{comment_id} {"comment_id":101}',
    );
  });

  it("stands when another replica's reply came after it: that one is the other's to take back", async () => {
    const { github, comments } = issue({ after: [byBot(`@alice Not done.\n\n${tag}`)] });
    await github.reply(comment, "@alice Not done.");
    expect(comments.map((listed) => listed.id)).toEqual([100, 101]);
  });

  it("stands beside a person's comment that carries the tag", async () => {
    const { github, comments } = issue({
      before: [{ id: 0, body: `me first\n\n${tag}`, user: { login: "mallory" } }],
    });
    await github.reply(comment, "@alice Not done.");
    expect(comments.map((listed) => listed.id)).toEqual([100, 101]);
  });
});
