import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";
import { redactSecrets } from "../apply/report-redact.ts";
import type { AppSettings } from "./settings.ts";

/** Field names whose values are secrets wherever they appear in a log line's fields. */
const SECRET_FIELDS = [
  "authorization",
  "Authorization",
  "cookie",
  "privateKey",
  "private_key",
  "webhookSecret",
  "prometheusToken",
  "notifyWebhookUrl",
  "token",
  "secret",
  "password",
  "client_secret",
  "clientSecret",
  "access_token",
];

// The same mark the value-based pass leaves, so a reader sees one sign for "removed".
const CENSOR = "***";

/**
 * pino redaction paths: each secret field at the top and up to three levels down (where an
 * Octokit error keeps `err.request.headers.authorization`), and whole objects that carry
 * credentials: an Octokit error's `request` (headers and body as sent), a settings object.
 */
export const REDACT_PATHS: string[] = [
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`, `*.*.*.${field}`]),
  "err.request",
  "error.request",
  "settings",
  "*.settings",
];

/** The values of `settings` that must never reach a log line, named as their variables. */
export function settingsSecrets(
  settings: Pick<
    AppSettings,
    "privateKey" | "webhookSecret" | "prometheusToken" | "notifyWebhookUrl"
  >,
): Record<string, string | undefined> {
  return {
    PRIVATE_KEY: settings.privateKey,
    WEBHOOK_SECRET: settings.webhookSecret,
    PROMETHEUS_TOKEN: settings.prometheusToken,
    NOTIFY_WEBHOOK_SECRET: settings.notifyWebhookUrl,
  };
}

/**
 * The server's logger: JSON lines with a fixed message and fields. Secrets are kept out twice:
 * by field (REDACT_PATHS), and by value on every written line, where the settings' secrets
 * (each line of the private key too) and secret-shaped strings (GitHub tokens, PEM keys,
 * `authorization: …`) become `***`, wherever a message or an error's text carried them.
 */
export function createAppLogger(
  options: {
    level: AppSettings["logLevel"];
    secrets: Record<string, string | undefined>;
  },
  destination?: DestinationStream,
): Logger {
  const secrets = withJsonForms(options.secrets);
  const config: LoggerOptions = {
    level: options.level,
    base: { app: "pr-autoscaler" },
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    hooks: { streamWrite: (line) => redactSecrets(line, secrets) },
  };
  return destination ? pino(config, destination) : pino(config);
}

/** Each secret also as it appears inside a JSON string (quotes and backslashes escaped). */
function withJsonForms(
  secrets: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const all: Record<string, string | undefined> = { ...secrets };
  for (const [name, value] of Object.entries(secrets)) {
    if (value !== undefined) all[`${name}_JSON`] = JSON.stringify(value).slice(1, -1);
  }
  return all;
}
