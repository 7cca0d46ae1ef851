/**
 * The world the fault scenarios run in: the stateful fake GitHub of the scenario tests behind
 * nock (every request checked against GitHub's REST API description), app processes that reach
 * it through an Octokit which gives up on a request after a short time and can be killed before
 * any request, and the picture of a repository that two runs are compared by.
 */
import { Octokit } from "@octokit/rest";
import nock from "nock";
import { createGitHubTarget } from "../src/app/github-target.ts";
import { keyOfBranch } from "../src/forge/branch-name.ts";
import { readBotTrailers } from "../src/forge/commit-message.ts";
import { readPullRequestMarker } from "../src/forge/marker.ts";
import type { MergeOctokit } from "../src/merge/merge-octokit.ts";
import type { Snapshot } from "../src/planning/snapshot.ts";
import { DEFAULT_SETTINGS, type ReconcileTarget } from "../src/reconcile/reconcile-types.ts";
import { BOT_LOGIN, FakeGitHub } from "../test/reconcile/support/fake-github.ts";
import { NOW } from "../test/reconcile/support/infra.ts";
import { checkRequest } from "../test/support/github-openapi.ts";
import { OWNER, REPO } from "../test/support/github-responses.ts";

/** How long a process waits for GitHub's answer before it gives up on the request. */
export const REQUEST_TIMEOUT_MS = 250;

/** One app process's way to GitHub: counts what it sends, and can die before a request. */
export interface ProcessLine {
  /** Requests sent so far. */
  sent: number;
  /** The process dies when it is about to send this request (1-based, counted like `sent`). */
  killAt?: number;
  /** Resolves when the process died. */
  killed: Promise<void>;
}

/** An app process: its reconcile target (own caches and memory) and its line to GitHub. */
export interface AppProcess {
  target: ReconcileTarget;
  line: ProcessLine;
}

export interface GitHubWorld {
  github: FakeGitHub;
  /** Requests GitHub's REST API description does not allow, as they were made. */
  problems: string[];
  /** Starts an app process (nothing carried over from any other). */
  start(): AppProcess;
}

/** A fake GitHub with the infra repository `files`, on a fresh nock scope. */
export function gitHubWorld(
  files: Map<string, string>,
  observe: () => Promise<Snapshot>,
): GitHubWorld {
  nock.cleanAll();
  const scope = nock("https://api.github.com");
  const problems: string[] = [];
  scope.on("request", (request: Request, _interceptor: unknown, body: string) => {
    problems.push(...checkRequest({ method: request.method, url: request.url, body }).problems);
  });
  const github = new FakeGitHub(files, NOW, scope);
  return {
    github,
    problems,
    start: () => {
      const line = processLine();
      const target = createGitHubTarget({
        octokit: processOctokit(line) as unknown as MergeOctokit,
        owner: OWNER,
        repo: REPO,
        defaultBranch: "main",
        botLogin: BOT_LOGIN,
        observe,
        settings: DEFAULT_SETTINGS,
        now: () => github.now(),
      });
      return { target, line };
    },
  };
}

function processLine(): ProcessLine & { die(): void } {
  let die = () => {};
  const killed = new Promise<void>((resolve) => {
    die = resolve;
  });
  return { sent: 0, killed, die: () => die() };
}

/**
 * `@octokit/rest` as the command line uses it, without retries (a retry would only hide the
 * fault from the reconcile), whose requests give up after {@link REQUEST_TIMEOUT_MS}. A killed
 * process sends nothing more: its request never settles, so its reconcile stops where it is.
 */
function processOctokit(line: ProcessLine & { die(): void }): Octokit {
  const quiet = () => {};
  const send = async (url: string, init: RequestInit): Promise<Response> => {
    line.sent++;
    if (line.killAt !== undefined && line.sent >= line.killAt) {
      line.die();
      return new Promise<Response>(() => {});
    }
    // The client gives up and the request is left hanging (aborting a request nock holds
    // trips undici, and which of the two the client does makes no difference to the app).
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)),
        REQUEST_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([fetch(url, init), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  return new Octokit({
    auth: "reliability",
    log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    request: { fetch: send },
  });
}

// ---- judging -----------------------------------------------------------------------------------

/** What a repository holds, without what differs between equal runs (numbers, ids). */
export interface RepoPicture {
  pulls: {
    branch: string;
    state: string;
    merged: boolean;
    title: string;
    body: string;
    labels: string[];
    files: Record<string, string>;
  }[];
  branches: Record<string, Record<string, string>>;
  issues: { title: string; state: string; labels: string[]; body: string }[];
  comments: { on: string; login: string; body: string }[];
}

/**
 * The repository's picture: issue and pull request numbers in texts become `N`, and an issue's
 * lines are compared in any order.
 */
export function picture(github: FakeGitHub): RepoPicture {
  const files = (sha: string) => {
    const commit = github.git.commits.get(sha);
    const tree = github.git.trees.get(commit?.tree ?? "") ?? new Map<string, string>();
    return Object.fromEntries([...tree].map(([path, blob]) => [path, github.git.blobs.get(blob)]));
  };
  const names = new Map<number, string>();
  for (const pull of github.pulls.values()) names.set(pull.number, `pull ${pull.branch}`);
  for (const issue of github.issues.values()) names.set(issue.number, `issue ${issue.title}`);
  const pulls = [...github.pulls.values()]
    .map((pull) => ({
      branch: pull.branch,
      state: pull.state,
      merged: pull.mergedAt !== null,
      title: pull.title,
      body: withoutNumbers(pull.body),
      labels: [...pull.labels].sort(),
      files: files(pull.headSha) as Record<string, string>,
    }))
    .sort((a, b) => order(`${a.branch} ${a.state}`, `${b.branch} ${b.state}`));
  const branches = Object.fromEntries(
    [...github.git.branches]
      .sort(([a], [b]) => order(a, b))
      .map(([name, sha]) => [name, files(sha) as Record<string, string>]),
  );
  const issues = [...github.issues.values()]
    .map((issue) => ({
      title: issue.title,
      state: issue.state,
      labels: [...issue.labels].sort(),
      // The dashboard lists pull requests by number, which a retried one changes.
      body: withoutNumbers(issue.body).split("\n").sort().join("\n"),
    }))
    .sort((a, b) => order(a.title, b.title));
  const comments = github.comments.map((comment) => ({
    on: names.get(comment.issueNumber) ?? "unknown",
    login: comment.login,
    body: withoutNumbers(comment.body),
  }));
  return { pulls, branches, issues, comments };
}

function withoutNumbers(text: string): string {
  return text.replace(/#\d+/g, "#N").replace(/\/(pull|pulls|issues)\/\d+/g, "/$1/N");
}

function order(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface Judgement {
  /** Open pull requests beyond one per key. */
  duplicatePRs: number;
  /** Bot branches without a pull request, and open bot pull requests unlike the expected ones. */
  halfMade: number;
  /** The repository equals the expected picture. */
  recovered: boolean;
  /** What differs, for the report. */
  differences: string[];
}

/**
 * Judges the repository: a bot branch must have its pull request, an open bot pull request its
 * marker, the labels the marker names and a head the bot made; with `expected` (the picture of
 * the same story told without faults), everything must be as there.
 */
export function judge(github: FakeGitHub, expected?: RepoPicture): Judgement {
  const open = github.openPulls().filter((pull) => keyOfBranch(pull.branch) !== undefined);
  const perKey = new Map<string, number>();
  for (const pull of open) {
    const key = keyOfBranch(pull.branch) as string;
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
  }
  const duplicatePRs = [...perKey.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
  const differences: string[] = [];
  const actual = picture(github);
  for (const [name] of github.git.branches) {
    if (keyOfBranch(name) === undefined) continue;
    const strayThere =
      expected !== undefined &&
      name in expected.branches &&
      !expected.pulls.some((pull) => pull.branch === name && pull.state === "open");
    if (!open.some((pull) => pull.branch === name) && !strayThere)
      differences.push(`half-made: branch ${name} without a pull request`);
  }
  for (const pull of open) {
    const want = expected?.pulls.find((p) => p.branch === pull.branch && p.state === "open");
    const got = actual.pulls.find((p) => p.branch === pull.branch && p.state === "open");
    const head = github.git.commits.get(pull.headSha);
    const marker = readPullRequestMarker(pull.body);
    if (readBotTrailers(head?.message ?? "")?.key !== keyOfBranch(pull.branch))
      differences.push(`half-made: #${pull.number} has a head the bot did not make`);
    else if (!marker) differences.push(`half-made: #${pull.number} has no marker`);
    else if (!(marker.labels ?? []).every((label) => pull.labels.includes(label)))
      differences.push(`half-made: #${pull.number} lacks labels`);
    else if (want && got && JSON.stringify(want) !== JSON.stringify(got))
      differences.push(`half-made: #${pull.number} differs in ${fieldsThatDiffer(want, got)}`);
  }
  const halfMade = differences.length;
  for (const part of ["pulls", "branches", "issues", "comments"] as const) {
    if (expected && JSON.stringify(actual[part]) !== JSON.stringify(expected[part]))
      differences.push(`${part} differ from the run without faults`);
  }
  return { duplicatePRs, halfMade, recovered: differences.length === 0, differences };
}

function fieldsThatDiffer(a: object, b: object): string {
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  return Object.keys(left)
    .filter((field) => JSON.stringify(left[field]) !== JSON.stringify(right[field]))
    .join(", ");
}
