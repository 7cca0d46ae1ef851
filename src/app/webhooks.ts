import type { ApplicationFunction, Context, Probot } from "probot";
import { z } from "zod";
import { keyOfBranch } from "../forge/branch-name.ts";
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
  /** The app was installed, uninstalled or given other repositories. */
  installationChanged(): Promise<void>;
}

// The few fields each event's handler reads; the rest of GitHub's payload is ignored.
const Repository = z.object({ full_name: z.string(), default_branch: z.string() });
const Push = z.object({ ref: z.string(), repository: Repository });
const PullRequestEvent = z.object({
  action: z.string(),
  repository: Repository,
  pull_request: z.object({
    number: z.number(),
    head: z.object({
      ref: z.string(),
      sha: z.string(),
      repo: z.object({ full_name: z.string() }).nullable(),
    }),
  }),
});
const CommentEvent = z.object({
  repository: Repository,
  comment: z.object({ body: z.string().nullable().optional() }),
  sender: z.object({ login: z.string(), type: z.string().optional() }),
});
const RepositoryEvent = z.object({ repository: Repository });

const COMMAND = /^\s*\/autoscaler\b/m;

/**
 * The Probot app: each event turns into a reconcile trigger (or a configuration check), never
 * into work done here. Events for repositories the app does not manage are ignored by `trigger`.
 */
export function webhookApp(actions: WebhookActions): ApplicationFunction {
  return (app: Probot) => {
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
    app.on("issue_comment.created", async (context) => onComment(actions, context));
    app.on(["check_suite.completed", "status"], async (context) => onChecks(actions, context));
    app.on(["installation", "installation_repositories"], async () =>
      actions.installationChanged(),
    );
  };
}

function onPush(actions: WebhookActions, context: Context): void {
  const push = Push.parse(context.payload);
  // Only the default branch matters: the configuration and the files the plan reads live there.
  if (push.ref === `refs/heads/${push.repository.default_branch}`)
    actions.trigger(push.repository.full_name, "push");
}

async function onPullRequest(actions: WebhookActions, context: Context): Promise<void> {
  const event = PullRequestEvent.parse(context.payload);
  const repository = event.repository.full_name;
  const { head, number } = event.pull_request;
  const fromFork = head.repo?.full_name.toLowerCase() !== repository.toLowerCase();
  const ours = !fromFork && keyOfBranch(head.ref) !== undefined;
  if (event.action === "closed") {
    // A merge or close changes cooldowns, limits and what is open: plan again now.
    actions.trigger(repository, "pull-request");
    return;
  }
  if (!ours) await actions.checkPullRequest(repository, { number, headSha: head.sha, fromFork });
}

function onComment(actions: WebhookActions, context: Context): void {
  const event = CommentEvent.parse(context.payload);
  const bot = event.sender.type === "Bot" || event.sender.login.endsWith("[bot]");
  if (bot || !COMMAND.test(event.comment.body ?? "")) return;
  actions.trigger(event.repository.full_name, "comment");
}

function onChecks(actions: WebhookActions, context: Context): void {
  const event = RepositoryEvent.parse(context.payload);
  actions.trigger(event.repository.full_name, "checks");
}
