import type { z } from "zod";
import { ForgeError } from "../forge-error.ts";
import { type BoundedCache, createBoundedCache } from "./bounded-cache.ts";

/**
 * The part of Octokit the forge uses: `request(route, parameters)`. Probot's `ProbotOctokit` and
 * `@octokit/rest`'s `Octokit` both fit; their retry and throttling plugins, when present, apply.
 */
export interface OctokitLike {
  request(route: string, parameters?: Record<string, unknown>): Promise<OctokitResponseLike>;
}

export interface OctokitResponseLike {
  status: number;
  headers: Record<string, unknown>;
  data: unknown;
}

export interface GitHubRepository {
  owner: string;
  repo: string;
}

type Parameters = Record<string, unknown>;

/** An answer to a conditional GET: `changed` is false when GitHub said 304 Not Modified. */
export interface ConditionalAnswer<T> {
  data: T;
  changed: boolean;
  /** The Link header announced a next page. */
  hasNextPage: boolean;
}

/** Requests against one repository, with step names on every failure and an ETag cache. */
export interface GitHubClient {
  readonly repository: GitHubRepository;
  /** Sends a request and parses its answer with `schema`. */
  call<T>(step: string, route: string, parameters: Parameters, schema: z.ZodType<T>): Promise<T>;
  /** Sends a request whose answer is not needed. */
  send(step: string, route: string, parameters: Parameters): Promise<void>;
  /**
   * A GET with If-None-Match from the last answer's ETag: a 304 costs no rate limit, and the
   * cached data is returned with `changed: false`.
   */
  conditional<T>(
    step: string,
    route: string,
    parameters: Parameters,
    schema: z.ZodType<T>,
  ): Promise<ConditionalAnswer<T>>;
}

interface CachedAnswer<T> {
  etag: string;
  data: T;
  hasNextPage: boolean;
}

/** How many conditional answers one forge keeps (a few per reconcile; restarts only cost 200s). */
const ETAG_CACHE_ENTRIES = 200;

/** Creates the client; the ETag cache belongs to it and lives in memory. */
export function createGitHubClient(
  octokit: OctokitLike,
  repository: GitHubRepository,
): GitHubClient {
  const etags: BoundedCache<CachedAnswer<unknown>> = createBoundedCache(ETAG_CACHE_ENTRIES);

  async function request(step: string, route: string, parameters: Parameters) {
    try {
      return await octokit.request(route, { ...repository, ...parameters });
    } catch (error) {
      throw toForgeError(step, error);
    }
  }

  return {
    repository,
    async call(step, route, parameters, schema) {
      const response = await request(step, route, parameters);
      return parse(step, schema, response.data);
    },
    async send(step, route, parameters) {
      await request(step, route, parameters);
    },
    async conditional<T>(
      step: string,
      route: string,
      parameters: Parameters,
      schema: z.ZodType<T>,
    ): Promise<ConditionalAnswer<T>> {
      const key = `${route} ${JSON.stringify(parameters)}`;
      // Each key is only ever read with the same schema, so the cached data has its type.
      const cached = etags.get(key) as CachedAnswer<T> | undefined;
      const headers = cached ? { "if-none-match": cached.etag } : {};
      try {
        const response = await octokit.request(route, { ...repository, ...parameters, headers });
        const data = parse(step, schema, response.data);
        const hasNextPage = linkHasNext(response.headers.link);
        const etag = response.headers.etag;
        if (typeof etag === "string") etags.set(key, { etag, data, hasNextPage });
        return { data, changed: true, hasNextPage };
      } catch (error) {
        if (cached && statusOf(error) === 304) {
          return { data: cached.data, changed: false, hasNextPage: cached.hasNextPage };
        }
        if (error instanceof ForgeError) throw error;
        throw toForgeError(step, error);
      }
    },
  };
}

/** Whether `error` is a forge failure with this HTTP status (and message, when given). */
export function failedWith(error: unknown, status: number, message?: RegExp): boolean {
  return (
    error instanceof ForgeError &&
    error.status === status &&
    (message === undefined || message.test(error.message))
  );
}

function parse<T>(step: string, schema: z.ZodType<T>, data: unknown): T {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
  throw new ForgeError(step, `unexpected answer from GitHub${where}: ${issue?.message ?? ""}`);
}

function linkHasNext(link: unknown): boolean {
  return typeof link === "string" && /rel="next"/.test(link);
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("status" in error)) return undefined;
  return typeof error.status === "number" ? error.status : undefined;
}

/** Octokit's RequestError, by shape (Probot may bundle another copy of the class). */
function toForgeError(step: string, error: unknown): ForgeError {
  const status = statusOf(error);
  if (status === undefined) {
    const message = error instanceof Error ? error.message : String(error);
    return new ForgeError(step, message, undefined, { cause: error });
  }
  // Octokit gives a request that got no answer (a timeout, a refused connection, the app
  // stopping) status 500 too: it must not read as GitHub's answer.
  if (!answered(error))
    return new ForgeError(step, `no answer from GitHub: ${githubMessage(error)}`, status, {
      cause: error,
    });
  return new ForgeError(step, `GitHub answered ${status}: ${githubMessage(error)}`, status, {
    cause: error,
  });
}

/**
 * False for Octokit's error of a request GitHub never answered: a RequestError without a
 * response, or the AbortError of an aborted request, which Octokit passes on as it is.
 */
function answered(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return true;
  const failure = error as { name?: unknown; request?: unknown; response?: unknown };
  if (failure.response !== undefined) return true;
  return !(failure.name === "AbortError" || failure.request !== undefined);
}

/** GitHub's own message plus the messages of its validation errors, when it gave them. */
export function githubMessage(error: unknown): string {
  const data = (error as { response?: { data?: unknown } }).response?.data;
  const parts: string[] = [];
  if (typeof data === "object" && data !== null) {
    const { message, errors } = data as { message?: unknown; errors?: unknown };
    if (typeof message === "string") parts.push(message);
    if (Array.isArray(errors)) {
      for (const item of errors) {
        const text = (item as { message?: unknown }).message;
        if (typeof text === "string") parts.push(text);
      }
    }
  }
  if (parts.length === 0 && error instanceof Error) parts.push(error.message);
  return parts.join("; ");
}
