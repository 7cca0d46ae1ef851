import { ProbotOctokit } from "probot";

/**
 * Statuses Octokit's retry plugin gives up on at once: its own list plus 429, which GitHub
 * answers only for rate limits. Retrying those after a second or two, as the plugin would, is
 * what GitHub asks integrations not to do; the rate-limit guard waits as GitHub says instead.
 */
export const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451];

/** The throttling plugin's handlers: they decline, so a rate limit reaches the guard at once. */
const declineRetry = () => false;

/**
 * Requests GitHub carries out anew each time it gets them: opening an issue (the dashboard) and
 * commenting. A 5xx or a lost answer does not say that GitHub did not act (a proxy's 502 after
 * it did, an answer later than the app waits), and sent again they would leave a second
 * dashboard or say the same thing twice. They are not retried: the step fails, and the next
 * reconcile reads what GitHub holds before it writes. The app's other writes may be sent again:
 * GitHub refuses a second branch or pull request for the same head (422), a tree, a commit, a
 * label or a reaction sent twice is the same one, and a check run or a status sent twice is
 * superseded by the later one.
 */
const SENT_ONCE = [
  /^\/repos\/[^/]+\/[^/]+\/issues$/,
  /^\/repos\/[^/]+\/[^/]+\/issues\/[^/]+\/comments$/,
];

interface HookedOctokit {
  hook: {
    before(
      name: "request",
      hook: (options: { method: string; url: string; request?: object }) => void,
    ): void;
  };
}

/** Sets the retry plugin's `retries` to 0 for the requests of {@link SENT_ONCE}. */
function createsSentOnce(octokit: HookedOctokit): void {
  octokit.hook.before("request", (options) => {
    if (options.method === "POST" && SENT_ONCE.some((path) => path.test(options.url)))
      options.request = { ...options.request, retries: 0 };
  });
}

/**
 * Probot's Octokit with its retry and throttling plugins set for the app: 5xx answers and lost
 * connections are still retried (with the plugin's back-off), rate limits are not retried by
 * either plugin but left to the rate-limit guard, and an issue or a comment is never sent twice.
 * The throttling plugin still spaces writes out.
 * Probot's own options (its throttle handlers among them) come in as `options` and ours win.
 */
export const AppOctokit = ProbotOctokit.plugin(createsSentOnce).defaults(
  (options: Record<string, unknown>) => ({
    ...options,
    retry: { ...(options.retry as object | undefined), doNotRetry: DO_NOT_RETRY },
    throttle: {
      ...(options.throttle as object | undefined),
      onRateLimit: declineRetry,
      onSecondaryRateLimit: declineRetry,
    },
  }),
);

/**
 * Told of one answer GitHub gave; `installation` undefined: a request of the app itself, made
 * with its JWT (among them those for installation tokens).
 */
export type AnswerListener = (
  installation: number | undefined,
  status: number,
  headers: Record<string, string>,
) => void;

/** The fetch each tapped one calls, so that a tapped fetch is never tapped twice. */
const untapped = new WeakMap<typeof fetch, typeof fetch>();

/**
 * The app's Octokit, telling `onAnswer` of every answer GitHub gives to its requests, each
 * attempt of a request the retry plugin repeats included. The answers are seen at `fetch`,
 * below every plugin: a hook added to a made Octokit wraps the retry plugin's, and would see a
 * retried request once, with its last answer's headers.
 */
export function answeringOctokit(onAnswer: AnswerListener) {
  return AppOctokit.defaults((options: Record<string, unknown>) => {
    const request = options.request as { fetch?: typeof fetch } | undefined;
    // An installation's Octokit is made from the app's options, whose fetch is tapped already.
    const given = request?.fetch;
    const base: typeof fetch = given
      ? (untapped.get(given) ?? given)
      : // Looked up at each call, as Octokit does when given none.
        (input, init) => globalThis.fetch(input, init);
    const installation = installationOf(options.auth);
    const tapped: typeof fetch = async (input, init) => {
      const response = await base(input, init);
      onAnswer(
        // An installation's token is asked for with the app's JWT, counted against the app.
        sentWithJwt(init) ? undefined : installation,
        response.status,
        Object.fromEntries(response.headers),
      );
      return response;
    };
    untapped.set(tapped, base);
    return { ...options, request: { ...request, fetch: tapped } };
  });
}

/** The installation an Octokit's `auth` options authenticate as; undefined: the app itself. */
function installationOf(auth: unknown): number | undefined {
  const id = (auth as { installationId?: unknown } | undefined)?.installationId;
  const number = Number(id);
  return id === undefined || !Number.isInteger(number) ? undefined : number;
}

/** Whether a request is authenticated with a JSON Web Token (the app's own, not a token). */
function sentWithJwt(init: RequestInit | undefined): boolean {
  const authorization = new Headers(init?.headers).get("authorization") ?? "";
  return /^bearer [\w-]+\.[\w-]+\.[\w-]+$/i.test(authorization);
}
