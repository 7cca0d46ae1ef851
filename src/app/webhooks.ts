import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApplicationFunction, ApplicationFunctionOptions, Context, Probot } from "probot";
import { z } from "zod";
import { parseCommands } from "../control/command.ts";
import { keyOfBranch } from "../forge/branch-name.ts";
import type { BranchPush } from "../forge/forge.ts";
import type { TriggerReason } from "../reconcile/reconcile-types.ts";

/** What the webhooks may ask of the app. Webhooks only make things happen sooner. */
export interface WebhookActions {
  /** Reconcile the repository soon (coalesced), if the app manages it. */
  trigger(repository: string, reason: TriggerReason): void;
  /** Validate the configuration at a pull request's head and report it as a check. */
  checkPullRequest(
    repository: string,
    pull: { number: number; headSha: string; fromFork: boolean },
  ): Promise<void>;
  /**
   * Someone pushed to the branch of one of the bot's pull requests: unless it was the bot, GitHub's
   * auto-merge the bot turned on goes off at once, and the repository is reconciled soon.
   */
  botBranchPushed(repository: string, push: BranchPush): Promise<void>;
  /** The app was installed, uninstalled or given other repositories. */
  installationChanged(): Promise<void>;
}

/**
 * `owner/name` as GitHub allows them (an owner of letters, digits, '-' and, for managed users,
 * '_'; a name of letters, digits, '.', '_' and '-', never "." or ".."): anything else is not a
 * repository the app could manage, so no reconcile is ever asked for it.
 */
const REPOSITORY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}\/(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/;
const FullName = z.string().regex(REPOSITORY_NAME, { error: "expected owner/name" });
/** A commit id: SHA-1, or SHA-256 in repositories that use it. */
const CommitSha = z
  .string()
  .regex(/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/, { error: "expected a commit id" });

// The few fields each event's handler reads; the rest of GitHub's payload is ignored.
const Repository = z.object({ full_name: FullName });
const Push = z.object({
  ref: z.string(),
  repository: Repository.extend({ default_branch: z.string() }),
});
const PullRequestEvent = z.object({
  repository: Repository,
  pull_request: z.object({
    number: z.number().int().positive(),
    head: z.object({
      ref: z.string(),
      sha: CommitSha,
      repo: z.object({ full_name: z.string() }).nullable(),
    }),
  }),
});
/** What a push to a pull request's branch tells: who pushed, and whose auto-merge is on. */
const SynchronizeEvent = z.object({
  pull_request: z.object({
    node_id: z.string(),
    auto_merge: z
      .object({ enabled_by: z.object({ login: z.string() }).nullable().optional() })
      .nullable()
      .optional(),
  }),
  sender: z.object({ login: z.string() }),
});
const CommentEvent = z.object({
  repository: Repository,
  comment: z.object({ body: z.string().nullable().optional() }),
  sender: z.object({ login: z.string(), type: z.string().optional() }),
});
const RepositoryEvent = z.object({ repository: Repository });
const Installation = z
  .object({ id: z.number().int().positive() }, { error: "expected an object with an id" })
  .nullable()
  .optional();

/** GitHub caps webhook payloads at 25 MB; a larger body is not GitHub's and is not read. */
export const MAX_PAYLOAD_BYTES = 25 * 1024 * 1024;

/**
 * The Probot app: each event turns into a reconcile trigger (or a configuration check), never
 * into work done here. Events for repositories the app does not manage are ignored by `trigger`.
 */
export function webhookApp(actions: WebhookActions): ApplicationFunction {
  return (app: Probot, options?: ApplicationFunctionOptions) => {
    // Runs before Probot's middleware: what Probot itself cannot take is answered 4xx here.
    options?.addHandler((request, response) => screenDelivery(app, request, response));
    app.on("push", async (context) => onPush(actions, context));
    app.on(
      [
        "pull_request.opened",
        "pull_request.reopened",
        "pull_request.synchronize",
        "pull_request.closed",
      ],
      async (context) => onPullRequest(actions, context),
    );
    app.on("pull_request_review.submitted", async (context) => onReview(actions, context));
    app.on("issue_comment.created", async (context) => onComment(actions, context));
    app.on(["check_suite.completed", "status"], async (context) => onChecks(actions, context));
    app.on(["installation", "installation_repositories"], async () =>
      actions.installationChanged(),
    );
  };
}

/**
 * Reads a delivery's body (at most MAX_PAYLOAD_BYTES) and answers 413 or 400 for one that no
 * handler could take: too large, JSON that is not an object, or an `installation` without a
 * numeric id (Probot authenticates with it before any handler runs). Everything else goes on to
 * Probot's middleware, which checks the signature and parses the JSON itself; the body is left
 * for it as `request.body`.
 */
async function screenDelivery(
  app: Probot,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<boolean> {
  const event = request.headers["x-github-event"];
  if (request.method !== "POST" || typeof event !== "string") return false;
  const body = await readBody(request);
  if (body === undefined) {
    refuse(response, 413, `the payload is larger than ${MAX_PAYLOAD_BYTES / 1024 / 1024} MB`);
    // The rest is read and dropped, never kept: closing with it unread would reset the
    // connection and lose the answer; the server's request timeout bounds a client that never
    // stops. Read to its end, the connection serves the client's next request.
    request.resume();
    return true;
  }
  (request as IncomingMessage & { body?: string }).body = body;
  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch {
    return false; // Probot answers 400 "Invalid JSON", after the signature check.
  }
  const problem =
    typeof payload !== "object" || payload === null || Array.isArray(payload)
      ? "the payload is not a JSON object"
      : installationProblem(payload);
  if (problem === undefined) return false;
  app.log.warn(
    { event, delivery: request.headers["x-github-delivery"] },
    `refused a ${event} webhook: ${problem}`,
  );
  refuse(response, 400, `${event} webhook: ${problem}`);
  return true;
}

function installationProblem(payload: object): string | undefined {
  const parsed = Installation.safeParse((payload as { installation?: unknown }).installation);
  return parsed.success ? undefined : `installation.id: ${parsed.error.issues[0]?.message}`;
}

/**
 * The body as text, or undefined when it is (or says it is) larger than MAX_PAYLOAD_BYTES. Past
 * the limit reading stops, and the request is paused rather than destroyed: destroying it would
 * reset the connection before the 413 is sent.
 */
function readBody(request: IncomingMessage): Promise<string | undefined> {
  if (Number(request.headers["content-length"]) > MAX_PAYLOAD_BYTES)
    return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_PAYLOAD_BYTES) {
        chunks.push(chunk);
        return;
      }
      request.off("data", onData).pause();
      resolve(undefined);
    };
    request.on("data", onData);
    request.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.once("error", reject);
  });
}

function refuse(response: ServerResponse, status: number, error: string): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error }));
}

/**
 * The fields a handler reads, or undefined (and a warning naming the event and the fields) when
 * they are not GitHub's shape: such a delivery is acknowledged and does nothing.
 */
function read<T>(schema: z.ZodType<T>, context: Context): T | undefined {
  const parsed = schema.safeParse(context.payload);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.map(
    (issue) => `${issue.path.join(".") || "(payload)"}: ${issue.message}`,
  );
  context.log.warn(
    { event: context.name, fields },
    `ignored a ${context.name} webhook whose payload is not GitHub's: ${fields.join("; ")}`,
  );
  return undefined;
}

function onPush(actions: WebhookActions, context: Context): void {
  const push = read(Push, context);
  if (!push) return;
  // Only the default branch matters: the configuration and the files the plan reads live there.
  if (push.ref === `refs/heads/${push.repository.default_branch}`)
    actions.trigger(push.repository.full_name, "push");
}

async function onPullRequest(actions: WebhookActions, context: Context): Promise<void> {
  const event = read(PullRequestEvent, context);
  if (!event) return;
  const repository = event.repository.full_name;
  const { head, number } = event.pull_request;
  const fromFork = head.repo?.full_name.toLowerCase() !== repository.toLowerCase();
  const ours = !fromFork && keyOfBranch(head.ref) !== undefined;
  const action = (context.payload as { action?: unknown }).action;
  // A merge or close changes cooldowns, limits and what is open: plan again now. The bot's own
  // pull request reopened is proposed again, and the bot's close mark must come off before
  // people can close it a second time, or that close would read as the bot's.
  if (action === "closed" || (ours && action === "reopened")) {
    actions.trigger(repository, "pull-request");
    return;
  }
  if (!ours) await actions.checkPullRequest(repository, { number, headSha: head.sha, fromFork });
  else if (action === "synchronize") await onBotBranchPush(actions, context, repository, number);
}

/**
 * A push to one of the bot's branches. GitHub turns auto-merge off only for a push by someone
 * without write access: auto-merge the bot turned on is turned off now, not at the next
 * reconcile, or GitHub could merge the commit pushed before the bot looks at it.
 */
async function onBotBranchPush(
  actions: WebhookActions,
  context: Context,
  repository: string,
  number: number,
): Promise<void> {
  const event = read(SynchronizeEvent, context);
  if (!event) return;
  await actions.botBranchPushed(repository, {
    number,
    nodeId: event.pull_request.node_id,
    pusher: event.sender.login,
    autoMergeBy: event.pull_request.auto_merge?.enabled_by?.login,
  });
}

/**
 * A review of one of the bot's pull requests: an approval may be what a merge GitHub refused was
 * waiting for, so the pull request is looked at now rather than at the next hourly try.
 */
function onReview(actions: WebhookActions, context: Context): void {
  const event = read(PullRequestEvent, context);
  if (!event) return;
  const repository = event.repository.full_name;
  const { head } = event.pull_request;
  const fromFork = head.repo?.full_name.toLowerCase() !== repository.toLowerCase();
  if (!fromFork && keyOfBranch(head.ref) !== undefined) actions.trigger(repository, "pull-request");
}

function onComment(actions: WebhookActions, context: Context): void {
  const event = read(CommentEvent, context);
  if (!event) return;
  const bot = event.sender.type === "Bot" || event.sender.login.endsWith("[bot]");
  // The reconcile takes the commands; a comment without one (or only quoting one) is talk.
  if (bot || parseCommands(event.comment.body ?? "").length === 0) return;
  actions.trigger(event.repository.full_name, "comment");
}

function onChecks(actions: WebhookActions, context: Context): void {
  const event = read(RepositoryEvent, context);
  if (event) actions.trigger(event.repository.full_name, "checks");
}
