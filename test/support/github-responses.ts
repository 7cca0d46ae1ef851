/**
 * GitHub answers for tests, each made from the example GitHub publishes for that operation in its
 * REST API description, with the fields a scenario needs set. Real shapes, not hand-made ones.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { responseExample } from "./github-openapi.ts";

type Json = Record<string, unknown>;

export const OWNER = "octocat";
export const REPO = "Hello-World";
const FULL_NAME = `${OWNER}/${REPO}`;

/** A 40-hex sha from a short readable name, e.g. sha("head1"). */
export function sha(name: string): string {
  const hex = Buffer.from(name).toString("hex");
  return (hex + "0".repeat(40)).slice(0, 40);
}

function example(method: string, template: string, status: number, name?: string): Json {
  return responseExample(method, template, status, name) as Json;
}

function first(method: string, template: string, status: number): Json {
  const list = responseExample(method, template, status) as Json[];
  if (!list[0]) throw new Error(`empty example list for ${method} ${template}`);
  return list[0];
}

export function repository(defaultBranch: string): Json {
  return { ...example("GET", "/repos/{owner}/{repo}", 200), default_branch: defaultBranch };
}

export function branch(name: string, commitSha: string, treeSha: string): Json {
  const answer = example("GET", "/repos/{owner}/{repo}/branches/{branch}", 200);
  const commit = answer.commit as Json;
  const inner = commit.commit as Json;
  return {
    ...answer,
    name,
    commit: {
      ...commit,
      sha: commitSha,
      commit: { ...inner, tree: { ...(inner.tree as Json), sha: treeSha } },
    },
  };
}

export function ref(name: string, commitSha: string): Json {
  const answer = example("GET", "/repos/{owner}/{repo}/git/ref/{ref}", 200);
  return {
    ...answer,
    ref: `refs/heads/${name}`,
    object: { ...(answer.object as Json), sha: commitSha },
  };
}

export function tree(treeSha: string): Json {
  return { ...example("POST", "/repos/{owner}/{repo}/git/trees", 201), sha: treeSha };
}

export function gitCommit(
  commitSha: string,
  options: { tree: string; parents: string[]; message: string },
): Json {
  const answer = example("GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}", 200);
  return {
    ...answer,
    sha: commitSha,
    message: options.message,
    tree: { ...(answer.tree as Json), sha: options.tree },
    parents: options.parents.map((parent) => ({ sha: parent, url: "", html_url: "" })),
  };
}

/** Git's name for a file's content, as GitHub lists it: the sha-1 of `blob <size>\0<bytes>`. */
export function gitBlobSha(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/** A commit as a comparison lists it: its sha and its parents. */
export interface ComparedCommit {
  sha: string;
  parents: string[];
}

/** A file a comparison lists: its path, how it changed, the blob at the head (none: removed). */
export interface ComparedFile {
  filename: string;
  status: "added" | "removed" | "modified";
  sha: string | null;
}

/**
 * GitHub's comparison `base...head`: the commits the head has that the base lacks (`ahead`,
 * oldest first), those it lacks (`behindBy`), their merge base, and the files the head changes on
 * the merge base.
 */
export function comparison(fields: {
  ahead: ComparedCommit[];
  behindBy: number;
  mergeBase: string;
  files: ComparedFile[];
}): Json {
  const answer = example("GET", "/repos/{owner}/{repo}/compare/{basehead}", 200);
  const commit = answer.merge_base_commit as Json;
  const parent = ((commit.parents as Json[] | undefined)?.[0] ?? {}) as Json;
  const file = ((answer.files as Json[] | undefined)?.[0] ?? {}) as Json;
  const listed = (item: ComparedCommit) => ({
    ...commit,
    sha: item.sha,
    parents: item.parents.map((sha) => ({ ...parent, sha })),
  });
  const aheadBy = fields.ahead.length;
  return {
    ...answer,
    status: compareStatus(aheadBy, fields.behindBy),
    ahead_by: aheadBy,
    behind_by: fields.behindBy,
    total_commits: aheadBy,
    merge_base_commit: { ...commit, sha: fields.mergeBase },
    commits: fields.ahead.map(listed),
    files: fields.files.map((item) => ({ ...file, ...item })),
  };
}

function compareStatus(ahead: number, behind: number): string {
  if (ahead === 0) return behind === 0 ? "identical" : "behind";
  return behind === 0 ? "ahead" : "diverged";
}

export interface PullRequestFields {
  number: number;
  branch: string;
  headSha: string;
  body: string;
  title?: string;
  labels?: string[];
  createdAt?: string;
  base?: string;
  /** The base branch commit (GitHub's `base.sha`); absent: the example's. */
  baseSha?: string;
  state?: "open" | "closed";
  closedAt?: string | null;
  mergedAt?: string | null;
  /** The repository the head branch lives in (a fork's name for fork pull requests). */
  headRepo?: string;
  /** A draft; absent: the example's (not one). */
  draft?: boolean;
}

/** A pull request as the list endpoint returns it ("Pull Request Simple"). */
export function pullRequest(fields: PullRequestFields): Json {
  return pullRequestFrom(first("GET", "/repos/{owner}/{repo}/pulls", 200), fields);
}

/** A pull request as create and update return it ("Pull Request"). */
export function fullPullRequest(fields: PullRequestFields): Json {
  return pullRequestFrom(example("POST", "/repos/{owner}/{repo}/pulls", 201), fields);
}

function pullRequestFrom(answer: Json, fields: PullRequestFields): Json {
  const head = answer.head as Json;
  const base = answer.base as Json;
  return {
    ...answer,
    number: fields.number,
    html_url: `https://github.com/${FULL_NAME}/pull/${fields.number}`,
    title: fields.title ?? `Pull request ${fields.number}`,
    body: fields.body,
    state: fields.state ?? "open",
    created_at: fields.createdAt ?? "2025-03-01T10:00:00Z",
    closed_at: fields.closedAt ?? null,
    merged_at: fields.mergedAt ?? null,
    ...(fields.draft !== undefined ? { draft: fields.draft } : {}),
    labels: (fields.labels ?? []).map((name, index) => ({ ...label(name), id: index + 1 })),
    head: {
      ...head,
      ref: fields.branch,
      label: `${OWNER}:${fields.branch}`,
      sha: fields.headSha,
      repo: { ...(head.repo as Json), full_name: fields.headRepo ?? FULL_NAME },
    },
    base: {
      ...base,
      ref: fields.base ?? "main",
      ...(fields.baseSha ? { sha: fields.baseSha } : {}),
      repo: { ...(base.repo as Json), full_name: FULL_NAME },
    },
  };
}

function label(name: string): Json {
  const labels = responseExample("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", 200);
  return { ...((labels as Json[])[0] as Json), name };
}

export function labels(names: string[]): Json[] {
  return names.map(label);
}

export function fileContent(path: string, text: string): Json {
  const answer = example(
    "GET",
    "/repos/{owner}/{repo}/contents/{path}",
    200,
    "response-if-content-is-a-file",
  );
  return {
    ...answer,
    path,
    name: path.split("/").at(-1),
    size: Buffer.byteLength(text),
    encoding: "base64",
    content: chunked(Buffer.from(text).toString("base64")),
  };
}

/** GitHub wraps base64 content at 60 characters. */
function chunked(base64: string): string {
  return (base64.match(/.{1,60}/g) ?? []).join("\n");
}

export function blob(blobSha: string, text: string): Json {
  return {
    ...example("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}", 200),
    sha: blobSha,
    size: Buffer.byteLength(text),
    encoding: "base64",
    content: chunked(Buffer.from(text).toString("base64")),
  };
}

export function issue(fields: {
  number: number;
  title: string;
  body: string;
  state?: "open" | "closed";
  pullRequest?: boolean;
}): Json {
  const answer = first("GET", "/repos/{owner}/{repo}/issues", 200);
  const { pull_request: _, ...withoutPullRequest } = answer;
  return {
    ...(fields.pullRequest ? answer : withoutPullRequest),
    number: fields.number,
    title: fields.title,
    body: fields.body,
    state: fields.state ?? "open",
    html_url: `https://github.com/${FULL_NAME}/issues/${fields.number}`,
  };
}

export function comment(id: number, body: string): Json {
  return { ...first("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", 200), id, body };
}

export function commitSummary(
  commitSha: string,
  message: string,
  date: string,
  parents: string[] = [],
): Json {
  const answer = first("GET", "/repos/{owner}/{repo}/commits", 200);
  const commit = answer.commit as Json;
  const parent = ((answer.parents as Json[] | undefined)?.[0] ?? {}) as Json;
  return {
    ...answer,
    sha: commitSha,
    parents: parents.map((parentSha) => ({ ...parent, sha: parentSha })),
    commit: {
      ...commit,
      message,
      author: { ...(commit.author as Json), date },
      committer: { ...(commit.committer as Json), date },
    },
  };
}

export function checkRuns(runs: { id: number; externalId: string; status?: string }[]): Json {
  const answer = example("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs", 200);
  const template = (answer.check_runs as Json[])[0] as Json;
  return {
    ...answer,
    total_count: runs.length,
    check_runs: runs.map((run) => ({
      ...template,
      id: run.id,
      external_id: run.externalId,
      status: run.status ?? "completed",
    })),
  };
}

export function checkRun(id: number): Json {
  return {
    ...example("POST", "/repos/{owner}/{repo}/check-runs", 201, "example-of-completed-conclusion"),
    id,
  };
}

export function combinedStatus(
  statuses: { context: string; state: string; description: string }[],
): Json {
  const answer = example("GET", "/repos/{owner}/{repo}/commits/{ref}/status", 200);
  const template = (answer.statuses as Json[])[0] as Json;
  return {
    ...answer,
    statuses: statuses.map((status) => ({ ...template, ...status, target_url: null })),
  };
}

export function status(): Json {
  return example("POST", "/repos/{owner}/{repo}/statuses/{sha}", 201);
}

/** The 422 GitHub answers when a branch to create exists (recorded; see fixtures SOURCES.md). */
export function referenceExists(): Json {
  return fixture("reference-already-exists.json");
}

/** The 422 GitHub answers to a second pull request for the same head, for `branchName`. */
export function pullRequestExists(branchName: string): Json {
  const answer = fixture("pull-request-already-exists.json");
  const [error] = answer.errors as Json[];
  return {
    ...answer,
    errors: [{ ...error, message: `A pull request already exists for ${OWNER}:${branchName}.` }],
  };
}

function fixture(name: string): Json {
  const file = new URL(`../fixtures/github/${name}`, import.meta.url);
  return JSON.parse(readFileSync(file, "utf8")) as Json;
}
