/**
 * The GitHub answers a forge scenario is made of, as nock interceptors on a checked mock (see
 * github.ts). Each helper adds exactly one expected request.
 */
import type { GitHubMock } from "./github.ts";
import { REPO_PATH, refPath } from "./github.ts";
import {
  branch,
  fileContent,
  fullPullRequest,
  gitCommit,
  labels,
  type PullRequestFields,
  ref,
  tree,
} from "./github-responses.ts";

const OPEN_QUERY = { state: "open", per_page: "100" };
const CLOSED_QUERY = { state: "closed", sort: "updated", direction: "desc", per_page: "50" };

export function githubSteps(github: GitHubMock) {
  const { scope } = github;
  const path = (rest: string) => `${REPO_PATH}${rest}`;
  return {
    /** The default branch `main` at `sha` with tree `treeSha`, tagged with an ETag. */
    defaultBranch(sha: string, treeSha: string, etag: string) {
      scope.get(path("/branches/main")).reply(200, branch("main", sha, treeSha), { etag });
    },
    defaultBranchNotModified(etag: string) {
      scope.get(path("/branches/main")).matchHeader("if-none-match", etag).reply(304);
    },
    openPulls(pulls: object[], etag: string) {
      scope.get(path("/pulls")).query(OPEN_QUERY).reply(200, pulls, { etag });
    },
    openPullsNotModified(etag: string) {
      scope.get(path("/pulls")).query(OPEN_QUERY).matchHeader("if-none-match", etag).reply(304);
    },
    closedPulls(pulls: object[]) {
      scope.get(path("/pulls")).query(CLOSED_QUERY).reply(200, pulls);
    },
    botBranches(branches: { name: string; sha: string }[]) {
      scope.get(path(`/git/matching-refs/${refPath("heads/pr-autoscaler")}`)).reply(
        200,
        branches.map((item) => ref(item.name, item.sha)),
      );
    },
    /** One file read at `at`; `text` undefined answers 404. */
    file(filePath: string, at: string, text: string | undefined) {
      const interceptor = scope
        .get(path(`/contents/${encodeURIComponent(filePath)}`))
        .query({ ref: at });
      if (text === undefined) interceptor.reply(404, { message: "Not Found" });
      else interceptor.reply(200, fileContent(filePath, text));
    },
    createTree(treeSha: string) {
      scope.post(path("/git/trees")).reply(201, tree(treeSha));
    },
    createCommit(commitSha: string, options: { tree: string; parents: string[] }) {
      scope
        .post(path("/git/commits"))
        .reply(201, gitCommit(commitSha, { ...options, message: "built" }));
    },
    /** GitHub's comparison `base...head` (see `comparison`). */
    compare(base: string, head: string, answer: object) {
      scope.get(path(`/compare/${base}...${head}`)).reply(200, answer);
    },
    readCommit(commitSha: string, options: { tree: string; parents: string[]; message: string }) {
      scope.get(path(`/git/commits/${commitSha}`)).reply(200, gitCommit(commitSha, options));
    },
    createRef(name: string, commitSha: string) {
      scope.post(path("/git/refs")).reply(201, ref(name, commitSha));
    },
    createRefFails(status: number, body: object) {
      scope.post(path("/git/refs")).reply(status, body);
    },
    readRef(name: string, commitSha: string | undefined) {
      const interceptor = scope.get(path(`/git/ref/${refPath(`heads/${name}`)}`));
      if (commitSha === undefined) interceptor.reply(404, { message: "Not Found" });
      else interceptor.reply(200, ref(name, commitSha));
    },
    moveRef(name: string, commitSha: string) {
      scope.patch(path(`/git/refs/${refPath(`heads/${name}`)}`)).reply(200, ref(name, commitSha));
    },
    deleteRef(name: string) {
      scope.delete(path(`/git/refs/${refPath(`heads/${name}`)}`)).reply(204);
    },
    createPull(fields: PullRequestFields) {
      scope.post(path("/pulls")).reply(201, fullPullRequest(fields));
    },
    createPullFails(status: number, body: object) {
      scope.post(path("/pulls")).reply(status, body);
    },
    updatePull(fields: PullRequestFields) {
      scope.patch(path(`/pulls/${fields.number}`)).reply(200, fullPullRequest(fields));
    },
    findPull(branchName: string, pulls: object[]) {
      scope
        .get(path("/pulls"))
        .query({ state: "open", head: `octocat:${branchName}`, per_page: "1" })
        .reply(200, pulls);
    },
    addLabels(issueNumber: number, names: string[]) {
      scope.post(path(`/issues/${issueNumber}/labels`)).reply(200, labels(names));
    },
    setLabels(issueNumber: number, names: string[]) {
      scope.put(path(`/issues/${issueNumber}/labels`)).reply(200, labels(names));
    },
    comments(issueNumber: number, list: object[]) {
      scope
        .get(path(`/issues/${issueNumber}/comments`))
        .query({ per_page: "100" })
        .reply(200, list);
    },
    postComment(issueNumber: number, answer: object) {
      scope.post(path(`/issues/${issueNumber}/comments`)).reply(201, answer);
    },
  };
}
