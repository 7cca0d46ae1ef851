import { createHash } from "node:crypto";
import { z } from "zod";
import type { CountChange } from "./forge.ts";

/**
 * What the bot records in a pull request body, hidden in an HTML comment. The repository is the
 * bot's only memory: a restarted replica reads this back to tell its own commits from people's.
 */
export const PullRequestMarker = z.object({
  key: z.string(),
  fingerprint: z.string().optional(),
  /** The commit the bot put on the branch. */
  sha: z.string().optional(),
  /** The default-branch head that commit was built on. */
  base: z.string().optional(),
  /** The branch head before the bot's last update; equal to the head when that update stopped
   * before moving the branch, which is still the bot's own state. */
  previous: z.string().optional(),
  /** Labels the bot set, so it removes only its own when the plan changes. */
  labels: z.array(z.string()).optional(),
  /** Set once the bot has said it leaves the pull request to people (the head it saw then). */
  handsOff: z.string().optional(),
  /** A node pull request's count change: the default branch's count and the one proposed. */
  from: z.number().int().nonnegative().optional(),
  to: z.number().int().nonnegative().optional(),
  /**
   * A hash of the values the pull request writes (each value's file, path, value before and
   * after): an update that writes other values changes it; one that changes only the verdict,
   * the body's numbers, or rebuilds the same values on a moved default branch does not.
   */
  valuesFingerprint: z.string().optional(),
  /**
   * When an update last wrote other values than the pull request had (ISO time). Absent while
   * it holds the values it opened with, and in markers written before this was recorded: the
   * grace period of a merge rule counts from the later of this and the opening.
   */
  changedAt: z.string().optional(),
  /**
   * A right-sizing pull request's workloads, as `namespace/Kind/name`: those whose changes it
   * carries. Absent in markers written before it was recorded, and in node pull requests.
   */
  workloads: z.array(z.string()).optional(),
  /**
   * A right-sizing pull request's containers whose values it changes, as
   * `namespace/Kind/name/container`. Absent where `workloads` is.
   */
  containers: z.array(z.string()).optional(),
  /**
   * A right-sizing pull request's requests that it changes, as
   * `namespace/Kind/name/container/resource` (`cpu`, `memory`). Absent in markers written
   * before it was recorded: only their containers are known.
   */
  requests: z.array(z.string()).optional(),
  /**
   * Set once the bot has said in a comment why it keeps the pull request as it is (a change in
   * it that cannot be judged): a digest of what is kept (see `noticeDigest`). Taken off once the
   * plan wants the pull request as it is again, so that a later keep is said again.
   */
  kept: z.string().optional(),
  /**
   * How many comments saying why it is kept the bot has posted on it; each is tagged with its
   * number, so one said again, after the plan wanted the pull request in between, is not taken
   * for the earlier one. Kept when `kept` is taken off.
   */
  keptSaid: z.number().int().positive().optional(),
  /**
   * Written by the request that closes it when the bot closes the pull request itself: a closed
   * pull request without it was closed by people, which needs no extra request to tell.
   */
  closedBy: z.literal("bot").optional(),
  /**
   * How many times people reopened it after the bot closed it: counted when the bot takes its
   * close mark off (in that request), so closing it again says why once per reopening.
   */
  reopened: z.number().int().positive().optional(),
});
export type PullRequestMarker = z.infer<typeof PullRequestMarker>;

/** A short digest of what a notice the bot posts once is about: it is not said twice. */
export function noticeDigest(message: string): string {
  return createHash("sha256").update(message).digest("hex").slice(0, 16);
}

export const IssueMarker = z.object({
  key: z.string(),
  /**
   * The dashboard's: the last comment taken as a command, also in its command state block.
   * Kept here as well, because people who remove or break that block leave this one, which finds
   * the issue: the comments already taken are known all the same.
   */
  lastComment: z.number().int().nonnegative().optional(),
});
export type IssueMarker = z.infer<typeof IssueMarker>;

/** GitHub refuses issue and pull request bodies longer than this many characters. */
export const MAX_BODY_LENGTH = 65_536;

const PR_TAG = "pr-autoscaler:pull-request";
const ISSUE_TAG = "pr-autoscaler:issue";
const TRUNCATED = "\n\n… (shortened: the full text is longer than GitHub allows)";

/**
 * At most this many characters of a body go to the hidden marker: the rest is left to the text
 * people read (shortened beyond it).
 */
export const MAX_MARKER_LENGTH = MAX_BODY_LENGTH - 16_384;

/**
 * The body followed by the hidden marker, shortened if GitHub would refuse it. A right-sizing
 * pull request over so many workloads that their lists would not fit (see MAX_MARKER_LENGTH)
 * has its marker written without `requests`, else without `workloads`, `containers` and
 * `requests`, as one written before they were recorded, which is read as such; a note in the body
 * says so.
 */
export function withPullRequestMarker(body: string, marker: PullRequestMarker): string {
  const { fitted, note } = fittedMarker(marker);
  return appendHidden(body, PR_TAG, fitted, note === undefined ? "" : `\n\n${note}`);
}

/** The marker as it fits, and what the body should say of the lists left out of it. */
function fittedMarker(marker: PullRequestMarker): { fitted: PullRequestMarker; note?: string } {
  const fits = (candidate: PullRequestMarker) =>
    hiddenComment(PR_TAG, candidate).length <= MAX_MARKER_LENGTH;
  if (fits(marker)) return { fitted: marker };
  const { requests: _requests, ...withoutRequests } = marker;
  if (fits(withoutRequests))
    return {
      fitted: withoutRequests,
      note: `_${TOO_MANY} the requests it changes, naming only their containers. Should one request of a container come to be not judged while the other still changes, the pull request is updated as the plan says, and that request's change is not kept as it was._`,
    };
  const { workloads: _workloads, containers: _containers, ...withoutLists } = withoutRequests;
  return {
    fitted: withoutLists,
    note: `_${TOO_MANY} the workloads, containers and requests it changes. Should a change in it come to be not judged, the pull request is updated as the plan says, and that change is not kept as it was._`,
  };
}

const TOO_MANY =
  "Note: this pull request changes too many requests for the hidden record pr-autoscaler keeps in its description to name them all: the record leaves out";

export function withIssueMarker(body: string, marker: IssueMarker): string {
  return appendHidden(body, ISSUE_TAG, marker);
}

/** The marker of a pull request body; undefined when it is missing or unreadable. */
export function readPullRequestMarker(
  body: string | null | undefined,
): PullRequestMarker | undefined {
  return readHidden(body, PR_TAG, PullRequestMarker);
}

export function readIssueMarker(body: string | null | undefined): IssueMarker | undefined {
  return readHidden(body, ISSUE_TAG, IssueMarker);
}

/** The count change a marker records, when it records both ends. */
export function markedChange(marker: PullRequestMarker | undefined): CountChange | undefined {
  if (marker?.from === undefined || marker.to === undefined) return undefined;
  return { from: marker.from, to: marker.to };
}

/** The body with its pull request marker (if any) replaced by `marker`. */
export function replacePullRequestMarker(body: string, marker: PullRequestMarker): string {
  return withPullRequestMarker(withoutHidden(body, PR_TAG), marker);
}

/** The body as the author wrote it, without the bot's marker. */
export function visibleBody(body: string): string {
  return withoutHidden(body, PR_TAG);
}

/**
 * A comment as GitHub takes it: one longer than it allows (the limit of a description) is
 * shortened before the hidden tag it ends with, which is kept, so that what it stands for is
 * still found.
 */
export function withinCommentLimit(body: string): string {
  if (body.length <= MAX_BODY_LENGTH) return body;
  const at = body.lastIndexOf("\n\n<!-- pr-autoscaler:");
  const tag = at >= 0 && body.length - at < MAX_BODY_LENGTH / 2 ? body.slice(at) : "";
  const room = MAX_BODY_LENGTH - tag.length - TRUNCATED.length;
  return `${body.slice(0, room)}${TRUNCATED}${tag}`;
}

/** A hidden tag for comments, so the bot can find what it already said. */
export function commentTag(name: string, data: Record<string, string>): string {
  return hiddenComment(`pr-autoscaler:${name}`, data);
}

/** A comment as GitHub lists it: its text and who wrote it (`null`: a deleted account). */
export interface ListedComment {
  body?: string | null;
  user?: { login: string } | null;
}

/**
 * Whether `login` wrote the comment (GitHub's logins are case-insensitive). A hidden tag counts
 * only in the account's own comments: anyone who may comment can write one, and would otherwise
 * keep the bot from saying what the tag stands for.
 */
export function writtenBy(comment: ListedComment, login: string): boolean {
  return comment.user?.login.toLowerCase() === login.toLowerCase();
}

/** Whether `login` wrote one of `comments` with the tag `name` and exactly `data`. */
export function saidBy(
  comments: readonly ListedComment[],
  login: string,
  name: string,
  data: Record<string, string>,
): boolean {
  return comments.some(
    (comment) => writtenBy(comment, login) && hasCommentTag(comment.body, name, data),
  );
}

/** Whether `body` carries the comment tag `name` with exactly `data`. */
export function hasCommentTag(
  body: string | null | undefined,
  name: string,
  data: Record<string, string>,
): boolean {
  return body?.includes(commentTag(name, data)) ?? false;
}

/** BODY, shortened to leave room for TAIL (never shortened) and the hidden comment after it. */
function appendHidden(body: string, tag: string, data: object, tail = ""): string {
  const hidden = `${tail}\n\n${hiddenComment(tag, data)}`;
  const room = MAX_BODY_LENGTH - hidden.length;
  const text = body.length > room ? body.slice(0, room - TRUNCATED.length) + TRUNCATED : body;
  return `${text}${hidden}`;
}

/** `<!-- tag {json} -->`, with < and > escaped so no value can end the comment early. */
function hiddenComment(tag: string, data: object): string {
  const json = JSON.stringify(data).replaceAll("<", "\\u003c").replaceAll(">", "\\u003e");
  return `<!-- ${tag} ${json} -->`;
}

function hiddenPattern(tag: string): RegExp {
  return new RegExp(`\\n*<!-- ${tag} (\\{[^\\n]*?\\}) -->`, "g");
}

function readHidden<T>(
  body: string | null | undefined,
  tag: string,
  schema: z.ZodType<T>,
): T | undefined {
  if (!body) return undefined;
  const matches = [...body.matchAll(hiddenPattern(tag))];
  const json = matches.at(-1)?.[1];
  if (json === undefined) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function withoutHidden(body: string, tag: string): string {
  return body.replace(hiddenPattern(tag), "");
}
