/**
 * A GitHub repository that keeps state, behind nock: branches, commits, pull requests, issues,
 * comments, reactions, labels, check runs and statuses, and the few app endpoints the server
 * uses. In tests it is served on the checked mock of test/support/github.ts, so every request
 * must be an operation of GitHub's REST API description with a valid body. Answers are built from
 * GitHub's published examples (test/support/github-responses.ts); GETs carry ETags and answer
 * 304 to a matching If-None-Match, as GitHub does. Scenario tests act as people through the
 * helpers (push, merge, comment) and assert on the state and on the requests made.
 *
 * GitHub's auto-merge, which only GitHub's GraphQL API turns on and off, is served too: `POST
 * /graphql` with the two mutations the app sends, each checked against the schema excerpt of
 * test/merge/fixtures. While it is on, GitHub (the fake) merges the pull request as soon as the
 * checks the default branch requires pass on its head.
 */
import { createHash } from "node:crypto";
import nock from "nock";
import { readIssueMarker } from "../../../src/forge/marker.ts";
import { responseExample } from "../../support/github-openapi.ts";
import {
  blob as blobAnswer,
  branch,
  commitSummary,
  comparison,
  fileContent,
  fullPullRequest,
  gitCommit,
  issue as issueAnswer,
  labels as labelAnswers,
  OWNER,
  pullRequest,
  REPO,
  ref as refAnswer,
  repository as repositoryAnswer,
  tree as treeAnswer,
} from "../../support/github-responses.ts";
import { recordGraphqlProblems } from "../../support/graphql-problems.ts";
import { FakeGit } from "./fake-git.ts";
import { readGraphqlRequest, selectFields } from "./graphql-request.ts";

type Json = Record<string, unknown>;

/** The most characters GitHub takes in the body of an issue, a pull request or a comment. */
export const GITHUB_MAX_BODY = 65_536;

/**
 * GitHub's refusal of a body longer than it takes: 422 Validation Failed, in the shape its REST
 * API documents for validation errors (docs.github.com/rest, "Client errors": `message`,
 * `errors` of `resource`, `field`, `code` and, for code `custom`, a `message`).
 */
function tooLong(resource: string, body: Json): [number, unknown] | undefined {
  if (typeof body.body !== "string" || body.body.length <= GITHUB_MAX_BODY) return undefined;
  return [
    422,
    {
      message: "Validation Failed",
      errors: [
        {
          resource,
          code: "custom",
          field: "body",
          message: `body is too long (maximum is ${GITHUB_MAX_BODY} characters)`,
        },
      ],
      documentation_url: "https://docs.github.com/rest",
      status: "422",
    },
  ];
}
type Answer = [number, unknown, Record<string, string>?];
type Handler = (params: string[], query: Record<string, string>, body: Json) => Answer;

function example(method: string, template: string, status = 200): Json {
  return responseExample(method, template, status) as Json;
}

function exampleList(method: string, template: string): Json {
  return (responseExample(method, template, 200) as Json[])[0] as Json;
}

export interface FakePull {
  number: number;
  title: string;
  body: string;
  branch: string;
  headSha: string;
  base: string;
  /** The default branch commit a person's pull request was opened on (GitHub's `base.sha`). */
  baseSha?: string;
  /** The fork its head lives in, for a person's pull request from a fork. */
  headRepo?: string;
  /** A person's pull request opened as a draft. */
  draft?: boolean;
  state: "open" | "closed";
  labels: string[];
  createdAt: string;
  closedAt: string | null;
  mergedAt: string | null;
  user: string;
  /** Logins and team slugs asked to review, and the assignees, as GitHub lists them. */
  requestedReviewers: string[];
  requestedTeams: string[];
  assignees: string[];
  /** The pull request's GraphQL id, which GitHub's auto-merge mutations take. */
  nodeId: string;
  /** GitHub's auto-merge, while it is on. */
  autoMerge: FakeAutoMerge | null;
}

/** GitHub's auto-merge of a pull request: who turned it on, and how it merges. */
export interface FakeAutoMerge {
  by: string;
  method: "merge" | "squash" | "rebase";
}

export interface FakeIssue {
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  labels: string[];
  createdAt: string;
}

export interface FakeComment {
  id: number;
  issueNumber: number;
  body: string;
  login: string;
  bot: boolean;
  createdAt: string;
}

export interface FakeCheckRun {
  id: number;
  headSha: string;
  name: string;
  conclusion: string;
  externalId: string | null;
  title: string;
  summary: string;
  annotations: Json[];
}

interface Fault {
  method: string;
  path: RegExp;
  status: number;
  message: string;
  times: number;
  /** GitHub carries the request out before the answer goes wrong (a proxy's 502 after it). */
  acts: boolean;
}

/** Something people do while GitHub serves one of the bot's requests. */
interface Interlude {
  method: string;
  path: RegExp;
  act: () => void;
}

/**
 * One request that goes wrong, whatever it is: GitHub may carry it out before the answer goes
 * wrong (a proxy's 502 after the backend acted, an answer lost on the way), and the answer is an
 * error status with GitHub's error body and headers, or none at all (the request hangs).
 */
export interface RequestFault {
  acts: boolean;
  answer: { status: number; message: string; headers?: Record<string, string> } | "none";
}

export const BOT_LOGIN = "pr-autoscaler[bot]";
export const INSTALLATION_ID = 42;
const FULL_NAME = `${OWNER}/${REPO}`;
const REPO_PREFIX = `/repos/${OWNER}/${REPO}`;
const API_ORIGIN = "https://api.github.com";
/** Roles that may push to a branch: GitHub keeps its auto-merge on for their pushes. */
const WRITERS = new Set(["write", "maintain", "admin"]);
/** Check run conclusions GitHub counts as passing for a required check. */
const PASSING = new Set(["success", "neutral", "skipped"]);

type CheckState = "success" | "pending" | "failure";
/** GitHub's refusal of a GraphQL mutation, as an entry of the answer's `errors`. */
interface Refusal {
  type: string;
  message: string;
}

/** Fakes made so far: each numbers its pull requests' GraphQL ids apart from the others'. */
let fakesMade = 0;

/**
 * The time GitHub writes into what a fake serves. The repositories of one app process share
 * one: its reconciles read one clock, and a pull request one of them opened is never in the
 * future of another's now.
 */
export class FakeClock {
  private at: Date;

  constructor(at: Date) {
    this.at = at;
  }

  now(): Date {
    return this.at;
  }

  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
}

export class FakeGitHub {
  readonly git = new FakeGit();
  readonly pulls = new Map<number, FakePull>();
  readonly issues = new Map<number, FakeIssue>();
  readonly comments: FakeComment[] = [];
  readonly reactions: { commentId: number; content: string; login: string }[] = [];
  readonly checkRuns: FakeCheckRun[] = [];
  readonly statuses: { sha: string; context: string; state: string; description: string }[] = [];
  readonly permissions = new Map<string, string>();
  /** Team slugs of the owner's organisation with access to the repository. */
  readonly teams = new Set<string>();
  /** Every request as `METHOD /path?query` with the status answered, in order (paths relative
   * to the repository; a GraphQL request as `POST /graphql` and the fields it asks for). */
  readonly log: { call: string; status: number }[] = [];
  /** Status checks the default branch requires, by a ruleset; none by default. */
  readonly requiredChecks: string[] = [];
  /**
   * The most entries a recursive listing of a tree holds: past it GitHub cuts the listing and
   * says `truncated: true` (GitHub's limit is 100,000 entries, or 7 MB).
   */
  treeLimit = 100_000;
  /** The repository setting "Allow auto-merge": off, as on a new GitHub repository. */
  allowAutoMerge = false;
  /** Every auto-merge mutation served, in order, with GitHub's refusal when it refused. */
  readonly mutations: { name: string; pullRequestId: unknown; refused?: string }[] = [];
  private readonly serial = ++fakesMade;
  private readonly faults: Fault[] = [];
  private readonly interludes: Interlude[] = [];
  /** Request faults by the request's number (1 = the first request the fake served). */
  private readonly requestFaults = new Map<number, RequestFault>();
  private served = 0;
  private nextNumber = 1;
  private nextId = 1000;
  private readonly clock: FakeClock;

  /**
   * The repository with `files` on its default branch, served on `scope` (a nock scope on
   * https://api.github.com; tests pass the checked one of test/support/github.ts), on its own
   * clock starting at `now`, or on a clock it shares with other fakes.
   */
  constructor(files: Map<string, string>, now: Date | FakeClock, scope: nock.Scope) {
    this.clock = now instanceof FakeClock ? now : new FakeClock(now);
    const tree = this.git.tree(files);
    // The repository is older than the scenario: its first commit starts no cooldown.
    const date = new Date(this.clock.now().getTime() - 24 * 60 * 60 * 1000).toISOString();
    const root = this.git.commit({ tree, parents: [], message: "Initial commit", date });
    this.git.branches.set("main", root.sha);
    // GraphQL is no operation of the REST description the checked scope holds requests to: it
    // has a scope of its own, which takes the requests that name this repository's pull requests.
    nock(API_ORIGIN)
      .persist()
      .post("/graphql", (body: Json) => this.namesOwnPull(body))
      .optionally()
      .reply(async (request: Request) => this.handle(request));
    scope.persist();
    for (const method of ["GET", "POST", "PATCH", "PUT", "DELETE"]) {
      scope
        .intercept(() => true, method)
        .optionally()
        .reply(async (request: Request) => this.handle(request));
    }
  }

  // ---- the world, as people change it -------------------------------------------------------

  now(): Date {
    return this.clock.now();
  }

  /** Moves the clock (every timestamp GitHub writes comes from it), for the fakes sharing it too. */
  advance(ms: number): void {
    this.clock.advance(ms);
  }

  head(): string {
    return this.git.branches.get("main") as string;
  }

  file(path: string, ref = "main"): string | undefined {
    return this.git.fileAt(ref, path);
  }

  /**
   * A person's commit on a branch (default: the default branch); null removes a file. A push by
   * someone without write access (`login`, "alice" by default, as `permissions` has them) turns
   * GitHub's auto-merge of the branch's pull request off, as GitHub does.
   */
  push(
    files: Record<string, string | null>,
    options: { branch?: string; message?: string; login?: string } = {},
  ): string {
    const name = options.branch ?? "main";
    const parent = this.git.branches.get(name) as string;
    const base = this.git.commits.get(parent)?.tree;
    const tree = this.git.tree(Object.entries(files), base);
    const commit = this.git.commit({
      tree,
      parents: [parent],
      message: options.message ?? "Edit by a person",
      date: this.iso(),
    });
    this.git.branches.set(name, commit.sha);
    const writer = WRITERS.has(this.permissions.get(options.login ?? "alice") ?? "");
    for (const pull of this.pulls.values()) {
      if (pull.state !== "open" || pull.branch !== name) continue;
      pull.headSha = commit.sha;
      if (!writer) pull.autoMerge = null;
    }
    return commit.sha;
  }

  /** A person's pull request from `branch` (which must exist) into the default branch. */
  openPull(branch: string, title: string, login = "alice"): FakePull {
    const number = this.nextNumber++;
    const pull: FakePull = {
      number,
      title,
      body: "",
      branch,
      headSha: this.git.branches.get(branch) as string,
      base: "main",
      baseSha: this.head(),
      state: "open",
      labels: [],
      createdAt: this.iso(),
      closedAt: null,
      mergedAt: null,
      user: login,
      requestedReviewers: [],
      requestedTeams: [],
      assignees: [],
      ...this.autoMergeFields(number),
    };
    this.pulls.set(pull.number, pull);
    return pull;
  }

  /** A new branch at the default branch's head. */
  branch(name: string): void {
    this.git.branches.set(name, this.head());
  }

  openPulls(): FakePull[] {
    return [...this.pulls.values()].filter((pull) => pull.state === "open");
  }

  pull(number: number): FakePull {
    const found = this.pulls.get(number);
    if (!found) throw new Error(`no pull request #${number}`);
    return found;
  }

  /** Squash-merges a pull request onto the default branch, as the merge button does. */
  mergePull(number: number): string {
    const pull = this.pull(number);
    const head = this.git.commits.get(pull.headSha);
    const parent = head?.parents[0];
    if (!head || !parent) throw new Error(`#${number} has no mergeable head`);
    const changed = this.git
      .diff(parent, head.sha)
      .map(({ path, blob }) => [path, blob === null ? null : (this.git.blobs.get(blob) ?? "")]);
    const sha = this.push(Object.fromEntries(changed), { message: `${pull.title} (#${number})` });
    pull.state = "closed";
    pull.closedAt = this.iso();
    pull.mergedAt = this.iso();
    return sha;
  }

  /**
   * Merges a pull request with a merge commit (the "Create a merge commit" button): the branch's
   * commits keep their dates and the merge commit, dated now, joins them to the default branch.
   */
  mergePullWithCommit(number: number): string {
    const pull = this.pull(number);
    if (!this.git.commits.has(pull.headSha)) throw new Error(`#${number} has no mergeable head`);
    const sha = this.mergeCommit(
      pull.base,
      pull.headSha,
      `Merge pull request #${number} from octocat/${pull.branch}`,
    );
    pull.state = "closed";
    pull.closedAt = this.iso();
    pull.mergedAt = this.iso();
    return sha;
  }

  /**
   * A person merges `branch` into the default branch on their machine (`git merge --no-ff`, the
   * branch's files winning) and pushes the merge commit, dated now: no pull request is involved.
   */
  mergeBranch(branch: string): string {
    return this.mergeCommit(
      "main",
      this.git.branches.get(branch) as string,
      `Merge branch '${branch}'`,
    );
  }

  /** A merge commit, dated now, of `head` into `base` with `head`'s files; `base` moves to it. */
  private mergeCommit(base: string, head: string, message: string): string {
    const tree = this.git.commits.get(head)?.tree as string;
    const parents = [this.git.branches.get(base) as string, head];
    const commit = this.git.commit({ tree, parents, message, date: this.iso() });
    this.git.branches.set(base, commit.sha);
    return commit.sha;
  }

  closePull(number: number): void {
    const pull = this.pull(number);
    pull.state = "closed";
    pull.closedAt = this.iso();
    pull.autoMerge = null;
  }

  /**
   * A person (with write access) turns GitHub's auto-merge on, as the button does; GitHub's
   * refusal (the repository does not allow it, the pull request could merge now…) is thrown.
   */
  enableAutoMerge(
    number: number,
    login = "alice",
    method: FakeAutoMerge["method"] = "squash",
  ): void {
    const pull = this.pull(number);
    const refusal = this.autoMergeRefusal(pull, undefined);
    if (refusal) throw new Error(refusal.message);
    pull.autoMerge = { by: login, method };
  }

  deleteBranch(name: string): void {
    this.git.branches.delete(name);
  }

  /** A comment by a person (or a bot, with `bot: true`); returns its id. */
  comment(issueNumber: number, body: string, login = "alice", bot = false): number {
    const id = this.nextId++;
    this.comments.push({ id, issueNumber, body, login, bot, createdAt: this.iso() });
    return id;
  }

  /** An issue opened by a person; returns its number. */
  openIssue(title: string, labels: string[] = []): number {
    const [, answer] = this.createIssue({ title, body: "", labels });
    return (answer as { number: number }).number;
  }

  commentsOn(issueNumber: number): FakeComment[] {
    return this.comments.filter((comment) => comment.issueNumber === issueNumber);
  }

  /** The bot's issue with the hidden key `key`, when it exists. */
  botIssue(key: string): FakeIssue | undefined {
    return [...this.issues.values()].find((issue) => readIssueMarker(issue.body)?.key === key);
  }

  /**
   * The next request matching `method` and `path` fails (`times` times) with `status`; with
   * `acts`, GitHub carries it out first and only the answer is an error.
   */
  fail(
    method: string,
    path: RegExp,
    status: number,
    message = "Server Error",
    times = 1,
    acts = false,
  ): void {
    this.faults.push({ method, path, status, message, times, acts });
  }

  /**
   * People act (`act`, through the helpers above) while GitHub serves the next request matching
   * `method` and `path`, before it answers: a race between the bot's steps.
   */
  during(method: string, path: RegExp, act: () => void): void {
    this.interludes.push({ method, path, act });
  }

  /** The `nth` request from now (1: the next one) goes wrong as `fault` says. */
  failRequest(nth: number, fault: RequestFault): void {
    this.requestFaults.set(this.served + nth, fault);
  }

  /** Requests since the last `reset`, as `METHOD /path` without the query. */
  calls(): string[] {
    return this.log.map((entry) => entry.call.split("?")[0] as string);
  }

  /** Requests since the last `reset` that GitHub counts against the rate limit (not 304s). */
  charged(): string[] {
    return this.log
      .filter((entry) => entry.status !== 304)
      .map((entry) => entry.call.split("?")[0] as string);
  }

  reset(): void {
    this.log.length = 0;
  }

  private iso(): string {
    return this.clock.now().toISOString();
  }

  // ---- routing -------------------------------------------------------------------------------

  private async handle(request: Request): Promise<[number, unknown, Record<string, string>?]> {
    const url = new URL(request.url);
    const path = decodeURIComponent(url.pathname);
    const relative = path.startsWith(REPO_PREFIX) ? path.slice(REPO_PREFIX.length) : path;
    const query = Object.fromEntries(url.searchParams);
    const text = await request.clone().text();
    const body = (text === "" ? {} : JSON.parse(text)) as Json;
    const method = request.method.toUpperCase();
    // A GraphQL request is logged with the fields it asks for: `POST /graphql enablePull…`.
    const asked = relative === "/graphql" ? ` ${graphqlFieldNames(body)}` : "";
    const entry = { call: `${method} ${relative}${url.search}${asked}`, status: 0 };
    this.log.push(entry);
    const fault = this.requestFaults.get(++this.served);
    if (fault) {
      this.requestFaults.delete(this.served);
      if (fault.acts) this.answer(request, method, relative, query, body);
      // No answer: the request stays open until the client gives up (status 0 in the log).
      if (fault.answer === "none") return new Promise<Answer>(() => {});
      entry.status = fault.answer.status;
      return [
        fault.answer.status,
        { message: fault.answer.message, documentation_url: "https://docs.github.com/rest" },
        fault.answer.headers ?? {},
      ];
    }
    const answer = this.answer(request, method, relative, query, body);
    entry.status = answer[0];
    return answer;
  }

  private answer(
    request: Request,
    method: string,
    relative: string,
    query: Record<string, string>,
    body: Json,
  ): Answer {
    const interlude = this.interludes.findIndex(
      (entry) => entry.method === method && entry.path.test(relative),
    );
    if (interlude >= 0) this.interludes.splice(interlude, 1)[0]?.act();
    const fault = this.faults.find(
      (f) => f.method === method && f.path.test(relative) && f.times > 0,
    );
    if (fault) {
      fault.times--;
      if (fault.acts) this.route(method, relative, query, body);
      return [
        fault.status,
        { message: fault.message, documentation_url: "https://docs.github.com/rest" },
      ];
    }
    const answer = this.route(method, relative, query, body);
    if (method !== "GET" || answer[0] !== 200) return answer;
    const etag = `W/"${createHash("sha1").update(JSON.stringify(answer[1])).digest("hex")}"`;
    if (request.headers.get("if-none-match") === etag) return [304, "", { etag }];
    return [200, answer[1], { etag, ...(answer[2] ?? {}) }];
  }

  private route(
    method: string,
    path: string,
    query: Record<string, string>,
    body: Json,
  ): [number, unknown, Record<string, string>?] {
    for (const [verb, pattern, handler] of this.routes()) {
      const found = verb === method ? pattern.exec(path) : null;
      if (found) return handler(found.slice(1) as string[], query, body);
    }
    return [404, { message: `the fake GitHub has no route for ${method} ${path}` }];
  }

  private routes(): [string, RegExp, Handler][] {
    const n = (text: string | undefined) => Number(text);
    const s = (text: string | undefined) => text as string;
    return [
      ["POST", /^\/graphql$/, (_, __, body) => this.graphql(body)],
      ["GET", /^\/app$/, () => [200, { ...example("GET", "/app"), slug: "pr-autoscaler" }]],
      [
        "GET",
        /^\/app\/installations$/,
        () => [200, [{ ...exampleList("GET", "/app/installations"), id: INSTALLATION_ID }]],
      ],
      [
        "POST",
        /^\/app\/installations\/(\d+)\/access_tokens$/,
        ([id]) => [
          201,
          {
            token: `ghs_test${id}`,
            expires_at: new Date(Date.now() + 3_600_000).toISOString(),
            permissions: {},
          },
        ],
      ],
      ["GET", /^\/installation\/repositories$/, () => [200, this.installationRepositories()]],
      [
        "GET",
        /^\/installation$/,
        () => [
          200,
          { ...example("GET", "/repos/{owner}/{repo}/installation"), id: INSTALLATION_ID },
        ],
      ],
      [
        "GET",
        /^$/,
        () => [200, { ...repositoryAnswer("main"), allow_auto_merge: this.allowAutoMerge }],
      ],
      ["GET", /^\/branches\/(.+)$/, ([name]) => this.getBranch(s(name))],
      ["GET", /^\/rules\/branches\/(.+)$/, ([name]) => [200, this.branchRules(s(name))]],
      ["GET", /^\/pulls$/, (_, query) => [200, this.listPulls(query)]],
      ["POST", /^\/pulls$/, (_, __, body) => this.createPull(body)],
      ["GET", /^\/pulls\/(\d+)$/, ([number]) => this.getPull(n(number))],
      ["PATCH", /^\/pulls\/(\d+)$/, ([number], _, body) => this.updatePull(n(number), body)],
      ["GET", /^\/pulls\/(\d+)\/files$/, ([number]) => [200, this.pullFiles(n(number))]],
      ["PUT", /^\/pulls\/(\d+)\/merge$/, ([number], _, body) => this.mergeByApi(n(number), body)],
      [
        "POST",
        /^\/pulls\/(\d+)\/requested_reviewers$/,
        ([number], _, body) => this.requestReviewers(n(number), body),
      ],
      [
        "POST",
        /^\/issues\/(\d+)\/assignees$/,
        ([number], _, body) => this.addAssignees(n(number), body),
      ],
      ["GET", /^\/git\/matching-refs\/(.+)$/, ([prefix]) => [200, this.matchingRefs(s(prefix))]],
      ["GET", /^\/git\/ref\/heads\/(.+)$/, ([name]) => this.getRef(s(name))],
      ["POST", /^\/git\/refs$/, (_, __, body) => this.createRef(body)],
      ["PATCH", /^\/git\/refs\/heads\/(.+)$/, ([name], _, body) => this.moveRef(s(name), body)],
      ["DELETE", /^\/git\/refs\/heads\/(.+)$/, ([name]) => this.deleteRef(s(name))],
      ["POST", /^\/git\/trees$/, (_, __, body) => this.createTree(body)],
      [
        "GET",
        /^\/git\/trees\/([0-9a-f]+)$/,
        ([sha], query) => this.getTree(s(sha), query.recursive !== undefined),
      ],
      ["POST", /^\/git\/commits$/, (_, __, body) => this.createCommit(body)],
      ["GET", /^\/git\/commits\/([0-9a-f]+)$/, ([sha]) => this.getCommit(s(sha))],
      [
        "GET",
        /^\/git\/blobs\/([0-9a-f]+)$/,
        ([sha]) => [200, blobAnswer(s(sha), this.git.blobs.get(s(sha)) ?? "")],
      ],
      ["GET", /^\/contents\/(.+)$/, ([path], query) => this.getContents(s(path), query.ref)],
      ["GET", /^\/commits$/, (_, query) => this.history(query)],
      ["GET", /^\/compare\/(.+?)\.\.\.(.+)$/, ([base, head]) => this.compare(s(base), s(head))],
      [
        "GET",
        /^\/commits\/([^/]+)\/check-runs$/,
        ([ref], query) => [200, this.listCheckRuns(s(ref), query)],
      ],
      ["GET", /^\/commits\/([^/]+)\/status$/, ([ref]) => [200, this.combinedStatus(s(ref))]],
      ["POST", /^\/check-runs$/, (_, __, body) => this.createCheckRun(body)],
      ["PATCH", /^\/check-runs\/(\d+)$/, ([id], _, body) => this.updateCheckRun(n(id), body)],
      ["POST", /^\/statuses\/([0-9a-f]+)$/, ([sha], _, body) => this.createStatus(s(sha), body)],
      ["GET", /^\/issues$/, (_, query) => this.listIssues(query)],
      ["POST", /^\/issues$/, (_, __, body) => this.createIssue(body)],
      ["PATCH", /^\/issues\/(\d+)$/, ([number], _, body) => this.updateIssue(n(number), body)],
      ["GET", /^\/issues\/comments$/, (_, query) => [200, this.listRepoComments(query)]],
      ["DELETE", /^\/issues\/comments\/(\d+)$/, ([id]) => this.deleteComment(n(id))],
      [
        "POST",
        /^\/issues\/comments\/(\d+)\/reactions$/,
        ([id], _, body) => this.react(n(id), body),
      ],
      [
        "GET",
        /^\/issues\/(\d+)\/comments$/,
        ([number], query) => [200, this.listComments(n(number), query)],
      ],
      [
        "POST",
        /^\/issues\/(\d+)\/comments$/,
        ([number], _, body) => this.postComment(n(number), body),
      ],
      [
        "DELETE",
        /^\/issues\/(\d+)\/labels\/(.+)$/,
        ([number, name]) => this.removeLabel(n(number), s(name)),
      ],
      [
        "POST",
        /^\/issues\/(\d+)\/labels$/,
        ([number], _, body) => this.labels("POST", n(number), body),
      ],
      [
        "PUT",
        /^\/issues\/(\d+)\/labels$/,
        ([number], _, body) => this.labels("PUT", n(number), body),
      ],
      [
        "DELETE",
        /^\/issues\/(\d+)\/labels$/,
        ([number], _, body) => this.labels("DELETE", n(number), body),
      ],
      ["GET", /^\/collaborators\/([^/]+)\/permission$/, ([login]) => this.permission(s(login))],
    ];
  }

  // ---- git -----------------------------------------------------------------------------------

  private getBranch(name: string): [number, unknown] {
    const sha = this.git.branches.get(name);
    const commit = sha ? this.git.commits.get(sha) : undefined;
    if (!commit) return [404, { message: "Branch not found" }];
    return [200, { ...branch(name, commit.sha, commit.tree), protected: false }];
  }

  private matchingRefs(prefix: string): Json[] {
    const wanted = prefix.replace(/^heads\//, "");
    return [...this.git.branches]
      .filter(([name]) => name.startsWith(wanted))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, sha]) => refAnswer(name, sha));
  }

  private getRef(name: string): [number, unknown] {
    const sha = this.git.branches.get(name);
    return sha ? [200, refAnswer(name, sha)] : [404, { message: "Not Found" }];
  }

  private createRef(body: Json): [number, unknown] {
    const name = String(body.ref).replace(/^refs\/heads\//, "");
    if (this.git.branches.has(name))
      return [
        422,
        {
          message: "Reference already exists",
          documentation_url: "https://docs.github.com/rest/git/refs#create-a-reference",
          status: "422",
        },
      ];
    this.git.branches.set(name, String(body.sha));
    return [201, refAnswer(name, String(body.sha))];
  }

  private moveRef(name: string, body: Json): [number, unknown] {
    if (!this.git.branches.has(name)) return [422, { message: "Reference does not exist" }];
    this.git.branches.set(name, String(body.sha));
    for (const pull of this.pulls.values()) {
      if (pull.state === "open" && pull.branch === name) pull.headSha = String(body.sha);
    }
    return [200, refAnswer(name, String(body.sha))];
  }

  private deleteRef(name: string): [number, unknown] {
    if (!this.git.branches.delete(name)) return [422, { message: "Reference does not exist" }];
    for (const pull of this.pulls.values()) {
      if (pull.state === "open" && pull.branch === name) {
        pull.state = "closed";
        pull.closedAt = this.iso();
        pull.autoMerge = null;
      }
    }
    return [204, ""];
  }

  private createTree(body: Json): [number, unknown] {
    const entries = (body.tree as { path: string; content: string }[]).map(
      (entry): [string, string] => [entry.path, entry.content],
    );
    const sha = this.git.tree(entries, body.base_tree as string | undefined);
    return [201, treeAnswer(sha)];
  }

  /**
   * A tree as GitHub lists it: its own entries, or with `recursive` (any value, as GitHub takes
   * it) every entry under it, folders too, cut at `treeLimit` entries with `truncated: true`.
   */
  private getTree(sha: string, recursive: boolean): [number, unknown] {
    const own = this.git.folders.get(sha);
    if (!own) return [404, { message: "Not Found" }];
    const example = responseExample(
      "GET",
      "/repos/{owner}/{repo}/git/trees/{tree_sha}",
      200,
    ) as Json;
    const template = (example.tree as Json[])[0] as Json;
    const entries = recursive
      ? this.git.recursiveEntries(sha)
      : own.map((entry) => ({ ...entry, path: entry.name }));
    const truncated = recursive && entries.length > this.treeLimit;
    return [
      200,
      {
        ...example,
        sha,
        truncated,
        tree: entries.slice(0, truncated ? this.treeLimit : undefined).map((entry) => {
          const { size: _, ...shape } = template;
          if (entry.type === "tree")
            return { ...shape, path: entry.path, sha: entry.sha, type: "tree", mode: "040000" };
          const size = this.git.blobs.get(entry.sha)?.length ?? 0;
          return { ...shape, path: entry.path, sha: entry.sha, type: "blob", mode: "100644", size };
        }),
      },
    ];
  }

  private createCommit(body: Json): [number, unknown] {
    const commit = this.git.commit({
      tree: String(body.tree),
      parents: body.parents as string[],
      message: String(body.message),
      date: this.iso(),
    });
    return [201, gitCommit(commit.sha, commit)];
  }

  private getCommit(sha: string): [number, unknown] {
    const commit = this.git.commits.get(sha);
    return commit ? [200, gitCommit(sha, commit)] : [404, { message: "Not Found" }];
  }

  private getContents(path: string, ref = "main"): [number, unknown] {
    const text = this.git.fileAt(ref, path);
    return text === undefined ? [404, { message: "Not Found" }] : [200, fileContent(path, text)];
  }

  /** GitHub's list of commits; a repository without a branch (nothing pushed) has none: 409. */
  private history(query: Record<string, string>): [number, unknown] {
    if (this.git.branches.size === 0)
      return [409, { message: "Git Repository is empty.", status: "409" }];
    const start = this.git.branches.get(query.sha ?? "main") ?? query.sha ?? "";
    const path = query.path;
    const commits =
      path === undefined ? this.git.reachable(start) : this.git.pathHistory(start, path);
    return [
      200,
      commits
        .slice(0, Number(query.per_page ?? 30))
        .map((commit) => commitSummary(commit.sha, commit.message, commit.date, commit.parents)),
    ];
  }

  // ---- pull requests -------------------------------------------------------------------------

  private pullAnswer(pull: FakePull, full: boolean): Json {
    const fields = this.pullFields(pull, full);
    const base = fields.base as Json;
    return {
      ...fields,
      node_id: pull.nodeId,
      auto_merge: this.autoMergeAnswer(pull),
      base: { ...base, repo: { ...(base.repo as Json), allow_auto_merge: this.allowAutoMerge } },
      ...this.people(pull),
    };
  }

  /** Who opened it, who is asked to review and who is assigned, in the shapes of GitHub's example. */
  private people(pull: FakePull): Json {
    const template = responseExample(
      "GET",
      "/repos/{owner}/{repo}/pulls/{pull_number}",
      200,
    ) as Json;
    const user = (template.user ?? {}) as Json;
    const team = ((template.requested_teams as Json[] | undefined)?.[0] ?? {}) as Json;
    const users = (logins: string[]) => logins.map((login) => ({ ...user, login }));
    const assignees = users(pull.assignees);
    return {
      user: { ...user, login: pull.user, type: pull.user.endsWith("[bot]") ? "Bot" : "User" },
      assignee: assignees[0] ?? null,
      assignees,
      requested_reviewers: users(pull.requestedReviewers),
      requested_teams: pull.requestedTeams.map((slug) => ({ ...team, slug, name: slug })),
    };
  }

  private pullFields(pull: FakePull, full: boolean): Json {
    const fields = {
      number: pull.number,
      branch: pull.branch,
      headSha: pull.headSha,
      body: pull.body,
      title: pull.title,
      labels: pull.labels,
      createdAt: pull.createdAt,
      base: pull.base,
      ...(pull.baseSha ? { baseSha: pull.baseSha } : {}),
      ...(pull.headRepo ? { headRepo: pull.headRepo } : {}),
      ...(pull.draft ? { draft: true } : {}),
      state: pull.state,
      closedAt: pull.closedAt,
      mergedAt: pull.mergedAt,
    };
    return full ? fullPullRequest(fields) : pullRequest(fields);
  }

  private listPulls(query: Record<string, string>): Json[] {
    const state = query.state ?? "open";
    let list = [...this.pulls.values()].filter((pull) => state === "all" || pull.state === state);
    if (query.head) list = list.filter((pull) => `${OWNER}:${pull.branch}` === query.head);
    list.sort((a, b) =>
      query.sort === "updated"
        ? (b.closedAt ?? "").localeCompare(a.closedAt ?? "") || b.number - a.number
        : a.number - b.number,
    );
    return this.page(list, query).map((pull) => this.pullAnswer(pull, false));
  }

  private createPull(body: Json): [number, unknown] {
    const long = tooLong("PullRequest", body);
    if (long) return long;
    const head = String(body.head);
    const sha = this.git.branches.get(head);
    if (!sha)
      return [
        422,
        {
          message: "Validation Failed",
          errors: [{ resource: "PullRequest", field: "head", code: "invalid" }],
        },
      ];
    if (this.openPulls().some((pull) => pull.branch === head))
      return [
        422,
        {
          message: "Validation Failed",
          errors: [
            {
              resource: "PullRequest",
              code: "custom",
              message: `A pull request already exists for ${OWNER}:${head}.`,
            },
          ],
        },
      ];
    const number = this.nextNumber++;
    const pull: FakePull = {
      number,
      title: String(body.title),
      body: String(body.body ?? ""),
      branch: head,
      headSha: sha,
      base: String(body.base),
      state: "open",
      labels: [],
      createdAt: this.iso(),
      closedAt: null,
      mergedAt: null,
      user: BOT_LOGIN,
      requestedReviewers: [],
      requestedTeams: [],
      assignees: [],
      ...this.autoMergeFields(number),
    };
    this.pulls.set(pull.number, pull);
    return [201, this.pullAnswer(pull, true)];
  }

  private getPull(number: number): [number, unknown] {
    const pull = this.pulls.get(number);
    if (!pull) return [404, { message: "Not Found" }];
    return [
      200,
      {
        ...this.pullAnswer(pull, true),
        merged: pull.mergedAt !== null,
        draft: pull.draft ?? false,
        mergeable_state: this.mergeState(pull),
      },
    ];
  }

  private updatePull(number: number, body: Json): [number, unknown] {
    const pull = this.pulls.get(number);
    if (!pull) return [404, { message: "Not Found" }];
    const long = tooLong("PullRequest", body);
    if (long) return long;
    if (typeof body.title === "string") pull.title = body.title;
    if (typeof body.body === "string") pull.body = body.body;
    if (body.state === "closed" && pull.state === "open") {
      pull.state = "closed";
      pull.closedAt = this.iso();
      pull.autoMerge = null;
    }
    return [200, this.pullAnswer(pull, true)];
  }

  private pullFiles(number: number): Json[] {
    const pull = this.pull(number);
    const template = (
      responseExample("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", 200) as Json[]
    )[0] as Json;
    const { previous_filename: _, ...entry } = template;
    const diff = this.git.diff(this.git.branches.get(pull.base), pull.headSha);
    // GitHub lists a file moved with its text unchanged once, renamed, under its new path.
    const removed = new Map(
      diff
        .filter((file) => file.status === "removed")
        .map((file) => [this.git.fileAt(pull.base, file.path), file.path]),
    );
    const renamed = new Map<string, string>();
    for (const file of diff) {
      const from =
        file.status === "added" ? removed.get(this.git.fileAt(pull.headSha, file.path)) : undefined;
      if (from !== undefined && ![...renamed.values()].includes(from)) renamed.set(file.path, from);
    }
    const movedAway = new Set(renamed.values());
    return diff.flatMap(({ path, status }): Json[] => {
      if (movedAway.has(path)) return [];
      const from = renamed.get(path);
      if (from === undefined) return [{ ...entry, filename: path, status }];
      return [{ ...entry, filename: path, status: "renamed", previous_filename: from }];
    });
  }

  /**
   * GitHub's comparison `base...head` (commits or branches): the commits `head` has that `base`
   * lacks, oldest first, the merge base, and the files `head` changes on the merge base.
   */
  private compare(baseRef: string, headRef: string): [number, unknown] {
    const base = this.git.branches.get(baseRef) ?? baseRef;
    const head = this.git.branches.get(headRef) ?? headRef;
    if (!this.git.commits.has(base) || !this.git.commits.has(head))
      return [404, { message: "Not Found" }];
    const fromBase = new Set(this.git.reachable(base).map((commit) => commit.sha));
    const fromHead = this.git.reachable(head);
    const mergeBase = fromHead.find((commit) => fromBase.has(commit.sha))?.sha;
    if (mergeBase === undefined) return [404, { message: "No common ancestor" }];
    const inHead = new Set(fromHead.map((commit) => commit.sha));
    return [
      200,
      comparison({
        ahead: fromHead
          .filter((commit) => !fromBase.has(commit.sha))
          .reverse()
          .map((commit) => ({ sha: commit.sha, parents: commit.parents })),
        behindBy: [...fromBase].filter((sha) => !inHead.has(sha)).length,
        mergeBase,
        files: this.git
          .diff(mergeBase, head)
          .map(({ path, blob, status }) => ({ filename: path, status, sha: blob })),
      }),
    ];
  }

  /**
   * Asks for reviews as GitHub does: one name it cannot ask (the pull request's author, someone
   * without access to the repository, a team without it) refuses the whole request with 422.
   */
  private requestReviewers(number: number, body: Json): [number, unknown] {
    const pull = this.pulls.get(number);
    if (!pull) return [404, { message: "Not Found" }];
    const reviewers = (body.reviewers as string[] | undefined) ?? [];
    const teams = (body.team_reviewers as string[] | undefined) ?? [];
    if (reviewers.includes(pull.user))
      return [422, { message: "Review cannot be requested from pull request author." }];
    if (
      reviewers.some((login) => !this.permissions.has(login)) ||
      teams.some((slug) => !this.teams.has(slug))
    )
      return [
        422,
        {
          message: `Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the ${FULL_NAME} repository.`,
        },
      ];
    for (const login of reviewers)
      if (!pull.requestedReviewers.includes(login)) pull.requestedReviewers.push(login);
    for (const slug of teams)
      if (!pull.requestedTeams.includes(slug)) pull.requestedTeams.push(slug);
    return [201, this.pullAnswer(pull, false)];
  }

  /** Adds assignees; like GitHub, it leaves out people without access to the repository. */
  private addAssignees(number: number, body: Json): [number, unknown] {
    const pull = this.pulls.get(number);
    if (!pull) return [404, { message: "Not Found" }];
    for (const login of (body.assignees as string[] | undefined) ?? [])
      if (this.permissions.has(login) && !pull.assignees.includes(login))
        pull.assignees.push(login);
    const answer = issueAnswer({
      number,
      title: pull.title,
      body: pull.body,
      state: pull.state,
      pullRequest: true,
    });
    const user = (answer.user ?? {}) as Json;
    const assignees = pull.assignees.map((login) => ({ ...user, login }));
    return [201, { ...answer, assignee: assignees[0] ?? null, assignees }];
  }

  private mergeByApi(number: number, body: Json): [number, unknown] {
    const pull = this.pulls.get(number);
    if (pull?.state !== "open") return [405, { message: "Pull Request is not mergeable" }];
    if (body.sha !== undefined && body.sha !== pull.headSha)
      return [409, { message: "Head branch was modified. Review and try the merge again." }];
    const sha = this.mergePull(number);
    return [200, { sha, merged: true, message: "Pull Request successfully merged" }];
  }

  // ---- GitHub's auto-merge (GraphQL) ------------------------------------------------------------

  private autoMergeFields(number: number): Pick<FakePull, "nodeId" | "autoMerge"> {
    // Opaque like GitHub's ids, and apart from those of the other fakes of the test.
    return { nodeId: `PR_kwDOFake${this.serial}n${number}`, autoMerge: null };
  }

  /** Whether a GraphQL request names one of this repository's pull requests (by node id). */
  private namesOwnPull(body: Json): boolean {
    const ids = new Set([...this.pulls.values()].map((pull) => pull.nodeId));
    const names = (value: unknown): boolean =>
      typeof value === "string"
        ? ids.has(value)
        : typeof value === "object" && value !== null && Object.values(value).some(names);
    return names(body.variables);
  }

  /**
   * GitHub's GraphQL endpoint for the auto-merge mutations: HTTP 200 with `data`, and `errors`
   * (each with its `type`, `path` and `message`) for a mutation GitHub refuses. A request that
   * does not fit GitHub's schema fails the test.
   */
  private graphql(body: Json): Answer {
    const request = readGraphqlRequest(body);
    if (request.type !== "mutation") {
      const problems = request.problems.length > 0 ? request.problems : ["not a mutation"];
      // Each fails the test it was sent in (test/support/graphql-setup.ts).
      recordGraphqlProblems(problems.map((problem) => `POST /graphql: ${problem}`));
      return [200, { errors: problems.map((message) => ({ message })) }];
    }
    const data: Json = {};
    const errors: Json[] = [];
    for (const field of request.fields) {
      const input = (field.args.input ?? {}) as Json;
      const outcome = this.mutate(field.name, input);
      this.mutations.push({
        name: field.name,
        pullRequestId: input.pullRequestId,
        ...("refused" in outcome ? { refused: outcome.refused.message } : {}),
      });
      if ("refused" in outcome) {
        data[field.name] = null;
        errors.push({ ...outcome.refused, path: [field.name] });
        continue;
      }
      const pullRequest = { id: outcome.pull.nodeId, number: outcome.pull.number };
      data[field.name] = selectFields(field.selections, {
        clientMutationId: input.clientMutationId ?? null,
        pullRequest,
      });
    }
    return [200, errors.length > 0 ? { data, errors } : { data }];
  }

  private mutate(name: string, input: Json): { pull: FakePull } | { refused: Refusal } {
    const id = input.pullRequestId;
    const pull = [...this.pulls.values()].find((entry) => entry.nodeId === id);
    if (!pull)
      return {
        refused: {
          type: "NOT_FOUND",
          message: `Could not resolve to a node with the global id of '${String(id)}'.`,
        },
      };
    if (name === "disablePullRequestAutoMerge") {
      // Turning off what is off is not modelled as a refusal: the fake leaves it off.
      pull.autoMerge = null;
      return { pull };
    }
    const expectedHeadOid =
      typeof input.expectedHeadOid === "string" ? input.expectedHeadOid : undefined;
    const refused = this.autoMergeRefusal(pull, expectedHeadOid);
    if (refused) return { refused };
    const method = String(input.mergeMethod ?? "MERGE").toLowerCase() as FakeAutoMerge["method"];
    // The app is the only client of GitHub's GraphQL API here: the bot turned it on.
    pull.autoMerge = { by: BOT_LOGIN, method };
    return { pull };
  }

  /**
   * Why GitHub will not turn auto-merge on, in its words where public sources quote them
   * (test/merge/fixtures/SOURCES.md): auto-merge waits for something the base branch requires,
   * so a pull request that could merge now is refused ("clean"/"unstable" status), as is one
   * into a branch that requires nothing.
   */
  private autoMergeRefusal(
    pull: FakePull,
    expectedHeadOid: string | undefined,
  ): Refusal | undefined {
    const refuse = (message: string) => ({ type: "UNPROCESSABLE", message });
    if (pull.state !== "open") return refuse("Pull request Pull request is closed");
    if (!this.allowAutoMerge) return refuse("Auto merge is not allowed for this repository");
    // GitHub's wording for a moved head is not on record; the fake's says what happened.
    if (expectedHeadOid !== undefined && expectedHeadOid !== pull.headSha)
      return refuse(`Pull request head ${pull.headSha} is not the expected ${expectedHeadOid}`);
    if (this.requiredChecksOf(pull.base).length === 0)
      return refuse("Pull request Protected branch rules not configured for this branch");
    const state = this.mergeState(pull);
    if (state !== "blocked") return refuse(`Pull request Pull request is in ${state} status`);
    return undefined;
  }

  /** GitHub's auto-merge merges each pull request whose required checks now all pass. */
  private autoMergeOnPassingChecks(): void {
    for (const pull of this.openPulls()) {
      if (!pull.autoMerge || this.mergeState(pull) === "blocked") continue;
      if (pull.autoMerge.method === "merge") this.mergePullWithCommit(pull.number);
      // A rebase of the bot's one commit lands the same change as a squash.
      else this.mergePull(pull.number);
    }
  }

  /**
   * GitHub's mergeable state as far as checks decide it: blocked while a required check has not
   * passed, unstable when another check failed, clean otherwise.
   */
  private mergeState(pull: FakePull): "clean" | "unstable" | "blocked" {
    const states = this.checkStates(pull.headSha);
    if (this.requiredChecksOf(pull.base).some((name) => states.get(name) !== "success"))
      return "blocked";
    return [...states.values()].includes("failure") ? "unstable" : "clean";
  }

  /** Each check of `sha` by name: its latest status and latest check run, the worst state wins. */
  private checkStates(sha: string): Map<string, CheckState> {
    const latest = new Map<string, string>();
    for (const status of this.statuses)
      if (status.sha === sha) latest.set(status.context, status.state);
    const states = new Map<string, CheckState>();
    const record = (name: string, state: CheckState) => {
      const rank = { success: 0, pending: 1, failure: 2 };
      const known = states.get(name);
      if (known === undefined || rank[state] > rank[known]) states.set(name, state);
    };
    for (const [context, state] of latest)
      record(
        context,
        state === "success" ? "success" : state === "pending" ? "pending" : "failure",
      );
    for (const run of this.latestCheckRuns(sha))
      record(run.name, PASSING.has(run.conclusion) ? "success" : "failure");
    return states;
  }

  /**
   * The latest check run of each name on `sha`, as GitHub's `filter=latest` (the default) lists
   * them: a check run re-run hides the one before it. (Every run here belongs to one check suite
   * per name: GitHub keeps the latest per suite.)
   */
  private latestCheckRuns(sha: string): FakeCheckRun[] {
    const latest = new Map<string, FakeCheckRun>();
    for (const run of this.checkRuns) if (run.headSha === sha) latest.set(run.name, run);
    return [...latest.values()];
  }

  private requiredChecksOf(branch: string): string[] {
    return branch === "main" ? this.requiredChecks : [];
  }

  /** The rules that apply to `branch`: one ruleset's required status checks, when there are any. */
  private branchRules(branch: string): Json[] {
    const required = this.requiredChecksOf(branch);
    if (required.length === 0) return [];
    return [
      {
        type: "required_status_checks",
        ruleset_source_type: "Repository",
        ruleset_source: FULL_NAME,
        ruleset_id: 42,
        parameters: {
          strict_required_status_checks_policy: false,
          required_status_checks: required.map((context) => ({ context })),
        },
      },
    ];
  }

  /** GitHub's auto-merge as the REST pulls API shows it (null when off). */
  private autoMergeAnswer(pull: FakePull): Json | null {
    if (!pull.autoMerge) return null;
    const template = responseExample(
      "GET",
      "/repos/{owner}/{repo}/pulls/{pull_number}",
      200,
    ) as Json;
    const by = pull.autoMerge.by;
    return {
      enabled_by: {
        ...(template.user as Json),
        login: by,
        type: by.endsWith("[bot]") ? "Bot" : "User",
      },
      merge_method: pull.autoMerge.method,
      // GitHub's defaults for these are not modelled: null, which its schema allows.
      commit_title: null,
      commit_message: null,
    };
  }

  // ---- checks and statuses -------------------------------------------------------------------

  private listCheckRuns(ref: string, query: Record<string, string>): Json {
    const example = responseExample(
      "GET",
      "/repos/{owner}/{repo}/commits/{ref}/check-runs",
      200,
    ) as Json;
    const template = (example.check_runs as Json[])[0] as Json;
    const listed =
      query.filter === "all"
        ? this.checkRuns.filter((run) => run.headSha === ref)
        : this.latestCheckRuns(ref);
    const runs = listed
      .filter((run) => !query.check_name || run.name === query.check_name)
      .map((run) => ({
        ...template,
        id: run.id,
        head_sha: run.headSha,
        name: run.name,
        status: "completed",
        conclusion: run.conclusion,
        external_id: run.externalId,
      }));
    return { ...example, total_count: runs.length, check_runs: runs };
  }

  private createCheckRun(body: Json): [number, unknown] {
    const output = (body.output ?? {}) as Json;
    const run: FakeCheckRun = {
      id: this.nextId++,
      headSha: String(body.head_sha),
      name: String(body.name),
      conclusion: String(body.conclusion),
      externalId: (body.external_id as string | undefined) ?? null,
      title: String(output.title ?? ""),
      summary: String(output.summary ?? ""),
      annotations: (output.annotations as Json[] | undefined) ?? [],
    };
    this.checkRuns.push(run);
    this.autoMergeOnPassingChecks();
    const example = responseExample(
      "POST",
      "/repos/{owner}/{repo}/check-runs",
      201,
      "example-of-completed-conclusion",
    ) as Json;
    return [
      201,
      { ...example, id: run.id, name: run.name, head_sha: run.headSha, conclusion: run.conclusion },
    ];
  }

  private updateCheckRun(id: number, body: Json): [number, unknown] {
    const run = this.checkRuns.find((entry) => entry.id === id);
    if (!run) return [404, { message: "Not Found" }];
    const output = (body.output ?? {}) as Json;
    run.annotations.push(...((output.annotations as Json[] | undefined) ?? []));
    const example = responseExample(
      "POST",
      "/repos/{owner}/{repo}/check-runs",
      201,
      "example-of-completed-conclusion",
    ) as Json;
    return [200, { ...example, id }];
  }

  /**
   * GitHub's combined status of `ref`: the latest status of each context only (a context that
   * went pending → success shows success alone), and the combined state its description gives.
   */
  private combinedStatus(ref: string): Json {
    const example = responseExample(
      "GET",
      "/repos/{owner}/{repo}/commits/{ref}/status",
      200,
    ) as Json;
    const template = (example.statuses as Json[])[0] as Json;
    const latest = new Map<string, FakeGitHub["statuses"][number]>();
    for (const status of this.statuses)
      if (status.sha === ref) {
        latest.delete(status.context);
        latest.set(status.context, status);
      }
    const statuses = [...latest.values()].reverse().map((status) => ({
      ...template,
      context: status.context,
      state: status.state,
      description: status.description,
      target_url: null,
    }));
    return {
      ...example,
      sha: ref,
      state: combinedState(statuses.map((status) => status.state)),
      total_count: statuses.length,
      statuses,
    };
  }

  private createStatus(sha: string, body: Json): [number, unknown] {
    this.statuses.push({
      sha,
      context: String(body.context ?? "default"),
      state: String(body.state),
      description: String(body.description ?? ""),
    });
    this.autoMergeOnPassingChecks();
    return [201, responseExample("POST", "/repos/{owner}/{repo}/statuses/{sha}", 201)];
  }

  /** A commit status on a commit, as an apply workflow would set it. */
  setStatus(sha: string, context: string, state: string): void {
    this.statuses.push({ sha, context, state, description: state });
    this.autoMergeOnPassingChecks();
  }

  /** A completed check run on a commit, as a workflow's job reports it (again, when re-run). */
  setCheckRun(sha: string, name: string, conclusion: string): void {
    this.checkRuns.push({
      id: this.nextId++,
      headSha: sha,
      name,
      conclusion,
      externalId: null,
      title: name,
      summary: "",
      annotations: [],
    });
    this.autoMergeOnPassingChecks();
  }

  // ---- issues, comments, labels ---------------------------------------------------------------

  private issueAnswer(issue: FakeIssue): Json {
    return {
      ...issueAnswer({
        number: issue.number,
        title: issue.title,
        body: issue.body,
        state: issue.state,
      }),
      labels: labelAnswers(issue.labels),
      created_at: issue.createdAt,
    };
  }

  /** A page of issues, with GitHub's `Link` header naming the next page when there is one. */
  private listIssues(query: Record<string, string>): [number, Json[], Record<string, string>] {
    const wanted = query.labels ? query.labels.split(",") : [];
    const state = query.state ?? "open";
    const list = [...this.issues.values()]
      .filter((issue) => state === "all" || issue.state === state)
      .filter((issue) => wanted.every((label) => issue.labels.includes(label)))
      .sort((a, b) => (query.direction === "asc" ? a.number - b.number : b.number - a.number));
    const size = Number(query.per_page ?? 30);
    const page = Number(query.page ?? 1);
    const headers: Record<string, string> = {};
    if (page * size < list.length) {
      const next = new URLSearchParams({ ...query, page: String(page + 1) });
      headers.link = `<https://api.github.com/repos/${FULL_NAME}/issues?${next}>; rel="next"`;
    }
    return [200, this.page(list, query).map((issue) => this.issueAnswer(issue)), headers];
  }

  private createIssue(body: Json): [number, unknown] {
    const long = tooLong("Issue", body);
    if (long) return long;
    const issue: FakeIssue = {
      number: this.nextNumber++,
      title: String(body.title),
      body: String(body.body ?? ""),
      state: "open",
      labels: (body.labels as string[] | undefined) ?? [],
      createdAt: this.iso(),
    };
    this.issues.set(issue.number, issue);
    return [201, this.issueAnswer(issue)];
  }

  private updateIssue(number: number, body: Json): [number, unknown] {
    const issue = this.issues.get(number);
    if (!issue) return [404, { message: "Not Found" }];
    const long = tooLong("Issue", body);
    if (long) return long;
    if (typeof body.title === "string") issue.title = body.title;
    if (typeof body.body === "string") issue.body = body.body;
    if (body.state === "open" || body.state === "closed") issue.state = body.state;
    return [200, this.issueAnswer(issue)];
  }

  private commentAnswer(comment: FakeComment): Json {
    const template = (
      responseExample("GET", "/repos/{owner}/{repo}/issues/comments", 200) as Json[]
    )[0] as Json;
    return {
      ...template,
      id: comment.id,
      body: comment.body,
      created_at: comment.createdAt,
      updated_at: comment.createdAt,
      issue_url: `https://api.github.com/repos/${FULL_NAME}/issues/${comment.issueNumber}`,
      html_url: `https://github.com/${FULL_NAME}/issues/${comment.issueNumber}#issuecomment-${comment.id}`,
      user: {
        ...(template.user as Json),
        login: comment.login,
        type: comment.bot ? "Bot" : "User",
      },
    };
  }

  private listRepoComments(query: Record<string, string>): Json[] {
    const list = [...this.comments].sort((a, b) =>
      query.direction === "desc" ? b.id - a.id : a.id - b.id,
    );
    return this.page(list, query).map((comment) => this.commentAnswer(comment));
  }

  /** An issue's comments, oldest first; with `since`, those made (here: updated) since then. */
  private listComments(number: number, query: Record<string, string>): Json[] {
    const since = query.since === undefined ? undefined : Date.parse(query.since);
    const list = this.commentsOn(number).filter(
      (comment) => since === undefined || Date.parse(comment.createdAt) >= since,
    );
    return this.page(list, query).map((comment) => this.commentAnswer(comment));
  }

  private deleteComment(id: number): [number, unknown] {
    const index = this.comments.findIndex((comment) => comment.id === id);
    if (index < 0) return [404, { message: "Not Found" }];
    this.comments.splice(index, 1);
    return [204, ""];
  }

  private postComment(number: number, body: Json): [number, unknown] {
    const long = tooLong("IssueComment", body);
    if (long) return long;
    const id = this.comment(number, String(body.body), BOT_LOGIN, true);
    const comment = this.comments.find((entry) => entry.id === id) as FakeComment;
    return [201, this.commentAnswer(comment)];
  }

  private react(commentId: number, body: Json): [number, unknown] {
    const example = responseExample(
      "POST",
      "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
      201,
    ) as Json;
    const content = String(body.content);
    const existing = this.reactions.find(
      (r) => r.commentId === commentId && r.content === content && r.login === BOT_LOGIN,
    );
    if (existing) return [200, { ...example, content }];
    this.reactions.push({ commentId, content, login: BOT_LOGIN });
    return [201, { ...example, content }];
  }

  private labelsOf(number: number): string[] | undefined {
    return this.pulls.get(number)?.labels ?? this.issues.get(number)?.labels;
  }

  private labels(method: string, number: number, body: Json): [number, unknown] {
    const current = this.labelsOf(number);
    if (!current) return [404, { message: "Not Found" }];
    const names = (body.labels as string[] | undefined) ?? [];
    if (method === "POST")
      for (const name of names) if (!current.includes(name)) current.push(name);
    if (method === "PUT") current.splice(0, current.length, ...names);
    if (method === "DELETE") current.splice(0, current.length);
    return [method === "DELETE" ? 204 : 200, method === "DELETE" ? "" : labelAnswers(current)];
  }

  private removeLabel(number: number, name: string): [number, unknown] {
    const current = this.labelsOf(number);
    const index = current?.indexOf(name) ?? -1;
    if (!current || index < 0) return [404, { message: "Label does not exist" }];
    current.splice(index, 1);
    return [200, labelAnswers(current)];
  }

  private permission(login: string): [number, unknown] {
    const permission = this.permissions.get(login);
    if (permission === undefined) return [404, { message: "Not Found" }];
    const example = responseExample(
      "GET",
      "/repos/{owner}/{repo}/collaborators/{username}/permission",
      200,
    ) as Json;
    const legacy =
      permission === "maintain" ? "write" : permission === "triage" ? "read" : permission;
    return [200, { ...example, permission: legacy, role_name: permission }];
  }

  private installationRepositories(): Json {
    const example = responseExample("GET", "/installation/repositories", 200) as Json;
    const repo = (example.repositories as Json[])[0] as Json;
    return {
      ...example,
      total_count: 1,
      repositories: [{ ...repo, name: REPO, full_name: FULL_NAME, default_branch: "main" }],
    };
  }

  private page<T>(list: T[], query: Record<string, string>): T[] {
    const size = Number(query.per_page ?? 30);
    const page = Number(query.page ?? 1);
    return list.slice((page - 1) * size, page * size);
  }
}

/** The root fields a GraphQL request body asks for, comma-separated (for the request log). */
function graphqlFieldNames(body: Json): string {
  return readGraphqlRequest(body)
    .fields.map((field) => field.name)
    .join(",");
}

/**
 * The combined state of a commit's latest statuses, as GitHub's description of the endpoint
 * gives it: failure when one is error or failure, pending when there are none or one is
 * pending, success otherwise.
 */
function combinedState(states: string[]): string {
  if (states.some((state) => state === "error" || state === "failure")) return "failure";
  if (states.length === 0 || states.includes("pending")) return "pending";
  return "success";
}
