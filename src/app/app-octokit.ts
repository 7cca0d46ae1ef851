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
 * Probot's Octokit with its retry and throttling plugins set for the app: 5xx answers and lost
 * connections are still retried (with the plugin's back-off), rate limits are not retried by
 * either plugin but left to the rate-limit guard. The throttling plugin still spaces writes out.
 * Probot's own options (its throttle handlers among them) come in as `options` and ours win.
 */
export const AppOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  retry: { ...(options.retry as object | undefined), doNotRetry: DO_NOT_RETRY },
  throttle: {
    ...(options.throttle as object | undefined),
    onRateLimit: declineRetry,
    onSecondaryRateLimit: declineRetry,
  },
}));
