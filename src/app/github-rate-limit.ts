/** Which of GitHub's limits refused a request: the hourly quota, or one against bursts. */
export type RateLimitKind = "primary" | "secondary";

/** A refusal for a rate limit, read from GitHub's answer. */
export interface RateLimit {
  kind: RateLimitKind;
  /** How long GitHub asks for no request, from the moment of the answer (ms). */
  waitMs: number;
  /**
   * Where the wait comes from, as people read it: the header and its value as GitHub sent it
   * (`x-ratelimit-reset` in epoch seconds; the texts that quote it say the time in UTC beside
   * it), or the default.
   */
  source: string;
  /** GitHub's message. */
  message: string;
}

/** GitHub: without retry-after nor an exhausted quota, wait "at least one minute". */
export const DEFAULT_WAIT_MS = 60_000;

/** Octokit's RequestError by shape (Probot may bundle another copy of the class). */
interface AnsweredError {
  status?: unknown;
  message?: unknown;
  response?: { status?: unknown; headers?: Record<string, unknown>; data?: unknown };
}

/**
 * The rate limit behind a failed request, or undefined for any other failure. GitHub refuses
 * with 403 or 429: an exhausted quota says `x-ratelimit-remaining: 0` and when it resets
 * (`x-ratelimit-reset`, epoch seconds); a secondary limit says so in its message and may give
 * `retry-after` (seconds). A GraphQL quota is answered 200 with an error of type RATE_LIMITED.
 */
export function rateLimitOf(error: unknown, nowMs: number): RateLimit | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const failed = error as AnsweredError;
  const response = failed.response;
  const headers = response?.headers ?? {};
  const message = githubMessage(failed);
  const status = typeof failed.status === "number" ? failed.status : response?.status;
  const exhausted = String(headers["x-ratelimit-remaining"]) === "0";
  if (graphqlRateLimited(response?.data)) return primary(headers, nowMs, message);
  if (status !== 403 && status !== 429) return undefined;
  const retryAfter = seconds(headers["retry-after"]);
  if (exhausted) {
    const limit = primary(headers, nowMs, message);
    // Both given: the later of the two is the one that holds.
    if (retryAfter !== undefined && retryAfter * 1000 > limit.waitMs)
      return { ...limit, waitMs: retryAfter * 1000, source: `retry-after: ${retryAfter}` };
    return limit;
  }
  if (retryAfter !== undefined)
    return {
      kind: "secondary",
      waitMs: retryAfter * 1000,
      source: `retry-after: ${retryAfter}`,
      message,
    };
  // A 429 is a rate limit whatever it says; a 403 only when it says so (else: a permission).
  if (status === 429 || /secondary rate limit|abuse detection/i.test(message))
    return { kind: "secondary", waitMs: DEFAULT_WAIT_MS, source: "no retry-after", message };
  if (/rate limit exceeded/i.test(message))
    return { kind: "primary", waitMs: DEFAULT_WAIT_MS, source: "no x-ratelimit-reset", message };
  return undefined;
}

/** The quota's refusal: until its reset, plus a second (the reset is rounded down). */
function primary(headers: Record<string, unknown>, nowMs: number, message: string): RateLimit {
  const reset = seconds(headers["x-ratelimit-reset"]);
  if (reset === undefined)
    return { kind: "primary", waitMs: DEFAULT_WAIT_MS, source: "no x-ratelimit-reset", message };
  return {
    kind: "primary",
    waitMs: Math.max(0, reset * 1000 - nowMs) + 1000,
    source: `x-ratelimit-reset: ${reset}`,
    message,
  };
}

function graphqlRateLimited(data: unknown): boolean {
  const errors = (data as { errors?: unknown } | undefined)?.errors;
  return (
    Array.isArray(errors) &&
    errors.some((item) => (item as { type?: unknown } | null)?.type === "RATE_LIMITED")
  );
}

/** A whole, non-negative number of seconds from a header; undefined otherwise. */
function seconds(value: unknown): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const number = Number(value);
  return Number.isInteger(number) && number >= 0 ? number : undefined;
}

function githubMessage(error: AnsweredError): string {
  const data = error.response?.data as { message?: unknown } | undefined;
  if (typeof data?.message === "string") return data.message;
  return typeof error.message === "string" ? error.message : "";
}
