import type { Logger } from "pino";
import { redactSecrets } from "../apply/report-redact.ts";
import type { ReconcileResult } from "../reconcile/reconcile-types.ts";

/** What a chat message is about. */
export type NotificationEvent =
  | "opened"
  | "merged"
  | "failing"
  | "recovered"
  | "applied"
  | "apply-failed";

export interface Notification {
  event: NotificationEvent;
  /** One line, with the pull request's address at the end when there is one. */
  text: string;
}

/** A delivery gives up after this long, so a hung webhook cannot hold anything up. */
export const NOTIFY_TIMEOUT_MS = 10_000;
/** Reconciles that fail in a row before people are told (a single blip says nothing). */
export const FAILURES_BEFORE_NOTIFYING = 3;
const MAX_REASON = 300;
/** How much of a webhook's answer to a failed delivery is quoted. */
const MAX_ANSWER = 200;

export interface PostOptions {
  timeoutMs?: number;
  /** Gives the delivery up when aborted (the app stops). */
  signal?: AbortSignal;
}

/**
 * Posts `{"text": …}` to a Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat,
 * Discord's `/slack` endpoint), `text` escaped as Slack asks (see {@link escapeChatText}).
 * Throws when the webhook does not answer 2xx in time; the error never contains the URL, which
 * is itself a secret, nor the parts of it that hold the token when the answer quotes them.
 */
export async function postNotification(
  url: string,
  text: string,
  options: PostOptions = {},
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: escapeChatText(text) }),
      signal: withTimeout(options.timeoutMs ?? NOTIFY_TIMEOUT_MS, options.signal),
    });
  } catch (error) {
    throw new Error(`the notification webhook could not be reached: ${describeFailure(error)}`);
  }
  if (response.ok) return;
  // Secrets out before the cut: a cut first could keep the start of one.
  const answer = withoutSecrets((await response.text().catch(() => "")).trim(), url, []);
  throw new Error(
    `the notification webhook answered ${response.status}${answer ? `: ${cut(answer, MAX_ANSWER)}` : ""}`,
  );
}

/** A signal aborted after `ms`, or sooner with `signal`. */
function withTimeout(ms: number, signal: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([timeout, signal]) : timeout;
}

/**
 * `text` without the webhook URL and the parts of it that hold its token (the path, the query,
 * long path segments: a server's error page may repeat them, "Cannot POST /hooks/…"), without
 * each of `secrets` (whole, and each line of one) and without secret-shaped strings.
 */
function withoutSecrets(text: string, url: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.replaceAll(secret, "***");
  const named = Object.fromEntries(secrets.map((secret, i) => [`SECRET_${i}`, secret]));
  return redactSecrets(out, { ...named, NOTIFY_WEBHOOK_URL: url });
}

/** `text` cut to `limit` characters, with an ellipsis when it was longer. */
function cut(text: string, limit: number): string {
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

/**
 * `text` with `&`, `<` and `>` written `&amp;`, `&lt;` and `&gt;`, Slack's escaping for message
 * text: what comes from a repository or an error (a title, a reason) then shows as written, and
 * cannot mention everyone (`<!channel>`) or hide a link behind other words (`<https://…|click>`).
 */
export function escapeChatText(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** Why a fetch failed, from its message and its cause's code, without the address asked. */
function describeFailure(error: unknown): string {
  // Duck-typed: fetch's errors may come from another realm than this module's Error.
  const failure = error as { name?: unknown; cause?: { code?: unknown } } | undefined;
  if (failure?.name === "TimeoutError") return "no answer in time";
  const code = failure?.cause?.code;
  if (typeof code === "string") return code;
  return typeof failure?.name === "string" ? failure.name : "unknown error";
}

/** The label of a pull request key for people: scale-up, scale-down or right-sizing. */
function changeName(result: ReconcileResult, key: string): string {
  const proposal = result.proposals.find((p) => p.key === key);
  if (key.startsWith("nodes-")) {
    if (proposal?.direction === "up") return "scale-up";
    if (proposal?.direction === "down") return "scale-down";
    return "node count";
  }
  return "right-sizing";
}

/** The messages a reconcile's result calls for: pull requests the bot opened and merged. */
export function reconcileNotifications(result: ReconcileResult): Notification[] {
  const messages: Notification[] = [];
  const line = (
    what: string,
    title: string | undefined,
    number: number | undefined,
    url?: string,
  ) =>
    [
      `${result.repository}: ${what}`,
      number === undefined ? undefined : `#${number}`,
      title === undefined ? undefined : `"${title}"`,
      url,
    ]
      .filter((part) => part !== undefined)
      .join(" ");
  for (const outcome of result.pullRequests) {
    if (outcome.action !== "created") continue;
    messages.push({
      event: "opened",
      text: line(
        `${changeName(result, outcome.key)} pull request opened`,
        outcome.title,
        outcome.number,
        outcome.url,
      ),
    });
  }
  for (const merge of result.merges) {
    if (merge.action !== "merged") continue;
    const outcome = result.pullRequests.find((o) => o.number === merge.number);
    const name = outcome ? changeName(result, outcome.key) : "pull request";
    messages.push({
      event: "merged",
      text: line(
        `${outcome ? `${name} pull request` : name} merged`,
        outcome?.title,
        merge.number,
        outcome?.url,
      ),
    });
  }
  return messages;
}

/**
 * How a finished reconcile counts in a repository's run of failures:
 * - `failed`: it could not read the cluster, or a step failed (`reason`: the first error);
 * - `worked`: status `ok` without errors, which alone ends a run of failures;
 * - `retired`: no configuration any more (the bot leaves the repository): the run ends, and
 *   nothing is said to work again;
 * - `unknown`: a configuration error stops the run before the cluster is read, so it says
 *   nothing of whether the failures went on: the run is left as it was.
 */
export type ReconcileHealth =
  | { kind: "failed"; reason: string }
  | { kind: "worked" }
  | { kind: "retired" }
  | { kind: "unknown" };

/** What `result` says of a run of failures (see {@link ReconcileHealth}). */
export function reconcileHealth(result: ReconcileResult): ReconcileHealth {
  if (result.status === "cluster-error" || result.errors.length > 0)
    return { kind: "failed", reason: result.errors[0] ?? result.status };
  switch (result.status) {
    case "ok":
      return { kind: "worked" };
    case "no-config":
      return { kind: "retired" };
    case "config-error":
      return { kind: "unknown" };
  }
}

export interface NotifierOptions {
  /** The incoming webhook's URL (a secret: it is never logged). */
  url: string;
  log: Logger;
  /**
   * Values never to send (the private key, tokens); secret-shaped strings and the parts of
   * `url` that hold its token are removed too.
   */
  secrets?: readonly string[];
  timeoutMs?: number;
  failuresBeforeNotifying?: number;
  /**
   * Whether this replica tells of failing and recovered streaks (default: yes). Every replica
   * reconciles on the webhooks it receives, so under leader election only the leader should,
   * or each replica would tell its own streak of the same failure.
   */
  tellsHealth?: () => boolean;
  /** Counts each delivery (the app's metrics). */
  onDelivery?: (event: NotificationEvent, outcome: "sent" | "failed") => void;
}

export interface Notifier {
  /** Sends what a finished reconcile calls for; never throws. */
  reconciled(result: ReconcileResult): Promise<void>;
  /** A reconcile that threw; never throws. */
  failed(repository: string, error: unknown): Promise<void>;
  /** Resolves when every delivery so far has ended. */
  idle(): Promise<void>;
  /**
   * Sends nothing more: the delivery under way is given up and those queued are dropped, each
   * counted as failed. Returns what was dropped (with its text as it would have been sent),
   * empty when every delivery had ended.
   */
  close(): Notification[];
}

/**
 * Tells a chat what the app did: pull requests opened and merged, and a repository whose
 * reconciles keep failing (once, after several in a row, and once when it recovers).
 * Deliveries go one after the other; a failed one is logged and dropped. `close` (the app
 * stops) gives up what is left.
 */
export function createNotifier(options: NotifierOptions): Notifier {
  const after = options.failuresBeforeNotifying ?? FAILURES_BEFORE_NOTIFYING;
  const streaks = new Map<string, number>();
  let queue: Promise<void> = Promise.resolve();
  // Aborted by `close`: what is still undelivered then is dropped, not sent.
  const closed = new AbortController();
  /** Queued or under way, in order, as they are sent. */
  const undelivered: Notification[] = [];

  const clean = (text: string) => withoutSecrets(text, options.url, options.secrets ?? []);
  const ended = (notification: Notification) => {
    const at = undelivered.indexOf(notification);
    if (at >= 0) undelivered.splice(at, 1);
  };

  function send(notification: Notification): Promise<void> {
    const cleaned = { event: notification.event, text: clean(notification.text) };
    if (closed.signal.aborted) {
      options.onDelivery?.(cleaned.event, "failed");
      options.log.warn(
        { event: cleaned.event, notice: cleaned.text },
        "notification not sent: the app has stopped",
      );
      return queue;
    }
    undelivered.push(cleaned);
    queue = queue.then(async () => {
      // Closed meanwhile: `close` dropped it and told whoever stopped the app.
      if (closed.signal.aborted) return;
      try {
        await postNotification(options.url, cleaned.text, {
          ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
          signal: closed.signal,
        });
        ended(cleaned);
        options.onDelivery?.(notification.event, "sent");
      } catch (error) {
        if (closed.signal.aborted) return;
        ended(cleaned);
        options.onDelivery?.(notification.event, "failed");
        options.log.warn(
          { event: notification.event, reason: (error as Error).message },
          "could not deliver a notification",
        );
      }
    });
    return queue;
  }

  function streak(repository: string, health: ReconcileHealth): Notification | undefined {
    const before = streaks.get(repository) ?? 0;
    switch (health.kind) {
      case "unknown":
        return undefined;
      case "retired":
        // Nothing to reconcile any more: the streak ends, but nothing "works again".
        streaks.delete(repository);
        return undefined;
      case "worked":
        streaks.delete(repository);
        return before >= after
          ? { event: "recovered", text: `${repository}: reconciles work again` }
          : undefined;
      case "failed":
        break;
    }
    streaks.set(repository, before + 1);
    if (before + 1 !== after) return undefined;
    // Secrets out before the cut: a secret the cut halves would not be found afterwards.
    const reason = cut(clean(health.reason), MAX_REASON);
    return {
      event: "failing",
      text: `${repository}: reconcile failed ${after} times in a row: ${reason}`,
    };
  }

  return {
    async reconciled(result) {
      const messages = reconcileNotifications(result);
      const health = streak(result.repository, reconcileHealth(result));
      if (health && (options.tellsHealth?.() ?? true)) messages.push(health);
      await Promise.all(messages.map(send));
    },
    async failed(repository, error) {
      const reason = error instanceof Error ? error.message : String(error);
      const health = streak(repository, { kind: "failed", reason });
      if (health && (options.tellsHealth?.() ?? true)) await send(health);
    },
    idle: () => queue,
    close() {
      closed.abort();
      const dropped = undelivered.splice(0);
      for (const notification of dropped) options.onDelivery?.(notification.event, "failed");
      return dropped;
    },
  };
}
