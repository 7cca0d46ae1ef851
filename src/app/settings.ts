import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { z } from "zod";
import { UsageError } from "../errors.ts";
import { parseDuration } from "../policy/parse-duration.ts";
import { DEFAULT_SETTINGS, type ReconcileSettings } from "../reconcile/reconcile-types.ts";
import { readFailure } from "../util/read-failure.ts";
import { defaultTiming, jitterFactor, type LeaderElectionTiming } from "./election-timing.ts";

/** Everything the server reads from its environment, checked once at start. */
export interface AppSettings {
  appId: number;
  privateKey: string;
  /** Undefined: no webhook endpoint; the reconcile loop alone keeps the repositories in step. */
  webhookSecret: string | undefined;
  webhookPath: string;
  port: number;
  host: string | undefined;
  /** GitHub Enterprise Server API URL; undefined for github.com. */
  baseUrl: string | undefined;
  /** `owner/name` of each repository to manage; undefined: every repository of every installation. */
  repositories: string[] | undefined;
  intervalMs: number;
  reconcile: ReconcileSettings;
  /** A kubeconfig file given on the command line; undefined: found as kubectl finds it. */
  kubeconfig: string | undefined;
  kubeContext: string | undefined;
  prometheusUrl: string | undefined;
  /** Sent as a bearer token to Prometheus (PROMETHEUS_TOKEN), as the command line does. */
  prometheusToken: string | undefined;
  /** Window of the Prometheus statistics, seconds. */
  prometheusWindowSeconds: number | undefined;
  /** Slack-compatible incoming webhook for notifications (NOTIFY_WEBHOOK_URL); a secret. */
  notifyWebhookUrl?: string | undefined;
  logLevel: "trace" | "debug" | "info" | "warn" | "error" | "fatal";
  /** Undefined: no leader election; this replica runs the reconcile loop by itself. */
  leaderElection?: LeaderElectionSettings | undefined;
}

/** The Lease that picks the one replica running the reconcile loop. */
export interface LeaderElectionSettings {
  /** The Lease's name (LEADER_ELECTION_LEASE, default `pr-autoscaler`). */
  lease: string;
  namespace: string;
  /** This replica's name in the Lease: POD_NAME, else the host name. */
  identity: string;
  /** LEADER_ELECTION_LEASE_DURATION, _RENEW_DEADLINE, _RETRY_PERIOD when set (else client-go's). */
  timing?: LeaderElectionTiming;
}

const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

const Env = z.object({
  APP_ID: z.string().regex(/^\d+$/, { error: "must be the GitHub App's numeric id" }),
  WEBHOOK_SECRET: z.string().min(1).optional(),
  WEBHOOK_PATH: z
    .string()
    .startsWith("/", { error: 'must be a path starting with "/", e.g. /api/github/webhooks' })
    .default("/api/github/webhooks"),
  PORT: z
    .string()
    .regex(/^\d+$/, { error: "must be a port number from 1 to 65535" })
    .refine((port) => Number(port) >= 1 && Number(port) <= 65535, {
      error: "must be a port number from 1 to 65535",
    })
    .default("3000"),
  HOST: z.string().min(1).optional(),
  GHE_HOST: z.string().min(1).optional(),
  GHE_PROTOCOL: z.enum(["https", "http"], { error: "must be https or http" }).default("https"),
  PR_AUTOSCALER_REPOS: z.string().optional(),
  PR_AUTOSCALER_INTERVAL: z.string().default("60s"),
  PR_AUTOSCALER_MAX_OPEN: z.string().optional(),
  PR_AUTOSCALER_MAX_PER_HOUR: z.string().optional(),
  PR_AUTOSCALER_COMMAND_POLL: z.string().optional(),
  PR_AUTOSCALER_MERGE_POLL: z.string().optional(),
  KUBE_CONTEXT: z.string().optional(),
  PROMETHEUS_URL: z
    .url({
      protocol: /^https?$/,
      error: "must be an http(s) URL, e.g. http://prometheus.monitoring:9090",
    })
    .optional(),
  PROMETHEUS_WINDOW: z.string().optional(),
  PROMETHEUS_TOKEN: z.string().optional(),
  // The message never repeats the value: the URL holds the webhook's token.
  NOTIFY_WEBHOOK_URL: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL (a Slack-compatible webhook)" })
    .optional(),
  LOG_LEVEL: z
    .enum(["trace", "debug", "info", "warn", "error", "fatal"], {
      error: "must be one of trace, debug, info, warn, error, fatal",
    })
    .default("info"),
});

/** Whether the environment names a GitHub App at all (else `npm start` shows the demo). */
export function hasAppCredentials(env: Record<string, string | undefined>): boolean {
  return Boolean(env.APP_ID);
}

/**
 * Reads the server's settings from the environment. A wrong or missing value is a UsageError
 * naming the variable and what it should hold; nothing starts half-configured.
 */
export function readAppSettings(
  env: Record<string, string | undefined>,
  cwd: string,
  options: { serviceAccountDir?: string } = {},
): AppSettings {
  const parsed = Env.safeParse(withoutEmpty(env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? "environment");
    const message =
      issue?.code === "invalid_type" ? "is not set" : (issue?.message ?? "is invalid");
    throw new UsageError(`${name} ${message}`);
  }
  const values = parsed.data;
  // A token with nowhere to go means the URL was forgotten: usage would come from metrics-server.
  if (values.PROMETHEUS_TOKEN !== undefined && values.PROMETHEUS_URL === undefined)
    throw new UsageError("PROMETHEUS_TOKEN is set without PROMETHEUS_URL: set the URL it is for");
  return {
    appId: Number(values.APP_ID),
    privateKey: privateKey(env, cwd),
    webhookSecret: values.WEBHOOK_SECRET,
    webhookPath: values.WEBHOOK_PATH,
    port: Number(values.PORT),
    host: values.HOST,
    baseUrl: values.GHE_HOST ? `${values.GHE_PROTOCOL}://${values.GHE_HOST}/api/v3` : undefined,
    repositories: repositories(values.PR_AUTOSCALER_REPOS),
    intervalMs: duration("PR_AUTOSCALER_INTERVAL", values.PR_AUTOSCALER_INTERVAL, 10_000),
    reconcile: {
      maxOpen: count(
        "PR_AUTOSCALER_MAX_OPEN",
        values.PR_AUTOSCALER_MAX_OPEN,
        DEFAULT_SETTINGS.maxOpen,
      ),
      maxPerHour: count(
        "PR_AUTOSCALER_MAX_PER_HOUR",
        values.PR_AUTOSCALER_MAX_PER_HOUR,
        DEFAULT_SETTINGS.maxPerHour,
      ),
      commandPollMs: values.PR_AUTOSCALER_COMMAND_POLL
        ? duration("PR_AUTOSCALER_COMMAND_POLL", values.PR_AUTOSCALER_COMMAND_POLL, 0)
        : DEFAULT_SETTINGS.commandPollMs,
      mergePollMs: values.PR_AUTOSCALER_MERGE_POLL
        ? duration("PR_AUTOSCALER_MERGE_POLL", values.PR_AUTOSCALER_MERGE_POLL, 0)
        : DEFAULT_SETTINGS.mergePollMs,
    },
    // KUBECONFIG, ~/.kube/config or the in-cluster service account, as kubectl finds them.
    kubeconfig: undefined,
    kubeContext: values.KUBE_CONTEXT,
    prometheusUrl: values.PROMETHEUS_URL,
    prometheusToken: values.PROMETHEUS_TOKEN,
    prometheusWindowSeconds: values.PROMETHEUS_WINDOW
      ? duration("PROMETHEUS_WINDOW", values.PROMETHEUS_WINDOW, 60_000) / 1000
      : undefined,
    notifyWebhookUrl: values.NOTIFY_WEBHOOK_URL,
    logLevel: values.LOG_LEVEL,
    leaderElection: leaderElection(env, options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR),
  };
}

/** RFC 1123 names, as the API server checks them: a namespace is a label, a Lease a subdomain. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Leader election is on when LEADER_ELECTION says so, or, unset, when the pod's name and
 * namespace come from the downward API (POD_NAME and POD_NAMESPACE, as deploy/ sets them).
 */
function leaderElection(
  env: Record<string, string | undefined>,
  serviceAccountDir: string,
): LeaderElectionSettings | undefined {
  const value = (name: string) => env[name]?.trim() || undefined;
  const switched = value("LEADER_ELECTION")?.toLowerCase();
  if (switched !== undefined && switched !== "true" && switched !== "false")
    throw new UsageError(
      `LEADER_ELECTION must be true or false, not ${JSON.stringify(value("LEADER_ELECTION"))}`,
    );
  const on =
    switched === undefined
      ? Boolean(value("POD_NAME") && value("POD_NAMESPACE"))
      : switched === "true";
  if (!on) return undefined;
  const namespaceFile = join(serviceAccountDir, "namespace");
  const namespace =
    value("LEADER_ELECTION_NAMESPACE") ?? value("POD_NAMESPACE") ?? podNamespace(namespaceFile);
  if (namespace === undefined)
    throw new UsageError(
      "leader election needs the Lease's namespace: set POD_NAMESPACE (from the downward API, as deploy/base/deployment.yaml does) or LEADER_ELECTION_NAMESPACE",
    );
  const variable = value("LEADER_ELECTION_NAMESPACE")
    ? "LEADER_ELECTION_NAMESPACE"
    : value("POD_NAMESPACE")
      ? "POD_NAMESPACE"
      : namespaceFile;
  if (namespace.length > 63 || !DNS_LABEL.test(namespace))
    throw new UsageError(
      `${variable} must be a namespace name (lower-case letters, digits and '-'), not ${JSON.stringify(namespace)}`,
    );
  const lease = value("LEADER_ELECTION_LEASE") ?? "pr-autoscaler";
  if (lease.length > 253 || !DNS_SUBDOMAIN.test(lease))
    throw new UsageError(
      `LEADER_ELECTION_LEASE must be a Kubernetes object name (lower-case letters, digits, '-' and '.'), not ${JSON.stringify(lease)}`,
    );
  const timing = electionTiming(value);
  return {
    lease,
    namespace,
    identity: value("POD_NAME") ?? hostname(),
    ...(Object.keys(timing).length > 0 ? { timing } : {}),
  };
}

/** Where a pod's service account token and namespace are mounted. */
const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The namespace of the pod this runs in, from its service account mount; undefined outside one. */
function podNamespace(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  return readFileSync(file, "utf8").trim() || undefined;
}

/**
 * The election's timing from the environment, checked as client-go checks it: the Lease lasts
 * longer than the renew deadline, which is longer than a retry with its jitter (1.2 × period).
 */
function electionTiming(value: (name: string) => string | undefined): LeaderElectionTiming {
  const read = (name: string) => {
    const text = value(name);
    return text === undefined ? undefined : duration(name, text, 1000);
  };
  const lease = read("LEADER_ELECTION_LEASE_DURATION");
  const renew = read("LEADER_ELECTION_RENEW_DEADLINE");
  const retry = read("LEADER_ELECTION_RETRY_PERIOD");
  const leaseMs = lease ?? defaultTiming.leaseDurationSeconds * 1000;
  const renewMs = renew ?? defaultTiming.renewDeadlineMs;
  const retryMs = retry ?? defaultTiming.retryPeriodMs;
  if (leaseMs % 1000 !== 0)
    throw new UsageError("LEADER_ELECTION_LEASE_DURATION must be a whole number of seconds");
  if (leaseMs <= renewMs)
    throw new UsageError(
      `the Lease duration (${leaseMs / 1000}s) must be longer than the renew deadline (${renewMs / 1000}s): LEADER_ELECTION_LEASE_DURATION, LEADER_ELECTION_RENEW_DEADLINE`,
    );
  if (renewMs <= jitterFactor * retryMs)
    throw new UsageError(
      `the renew deadline (${renewMs / 1000}s) must be longer than 1.2 × the retry period (${retryMs / 1000}s): LEADER_ELECTION_RENEW_DEADLINE, LEADER_ELECTION_RETRY_PERIOD`,
    );
  return {
    ...(lease !== undefined ? { leaseDurationSeconds: lease / 1000 } : {}),
    ...(renew !== undefined ? { renewDeadlineMs: renew } : {}),
    ...(retry !== undefined ? { retryPeriodMs: retry } : {}),
  };
}

function withoutEmpty(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1].trim() !== "",
    ),
  );
}

/** PRIVATE_KEY (the PEM text, or base64 of it) or PRIVATE_KEY_PATH. */
function privateKey(env: Record<string, string | undefined>, cwd: string): string {
  const inline = env.PRIVATE_KEY;
  if (inline?.trim()) {
    if (inline.includes("-----BEGIN")) return inline.replaceAll("\\n", "\n");
    const decoded = Buffer.from(inline.trim(), "base64").toString("utf8");
    if (decoded.includes("-----BEGIN")) return decoded;
    throw new UsageError("PRIVATE_KEY is neither a PEM private key nor base64 of one");
  }
  const path = env.PRIVATE_KEY_PATH?.trim();
  if (!path)
    throw new UsageError(
      "PRIVATE_KEY or PRIVATE_KEY_PATH must be set to the GitHub App's private key",
    );
  try {
    return readFileSync(resolve(cwd, path), "utf8");
  } catch (error) {
    throw new UsageError(`PRIVATE_KEY_PATH: cannot read ${path}: ${readFailure(error)}`);
  }
}

function repositories(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const names = text.split(/[\s,]+/).filter((name) => name !== "");
  const wrong = names.find((name) => !REPOSITORY.test(name));
  if (wrong)
    throw new UsageError(`PR_AUTOSCALER_REPOS: ${JSON.stringify(wrong)} is not owner/name`);
  return names.length > 0 ? names : undefined;
}

function duration(name: string, text: string, minimum: number): number {
  const ms = parseDuration(text);
  if (ms === undefined)
    throw new UsageError(
      `${name} must be a duration such as 60s, 5m or 1h, not ${JSON.stringify(text)}`,
    );
  if (ms < minimum) throw new UsageError(`${name} must be at least ${minimum / 1000}s`);
  return ms;
}

function count(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new UsageError(`${name} must be a whole number of at least 1`);
  return Number(text);
}
