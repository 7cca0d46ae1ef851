/**
 * The GitHub App settings the app's tests start it with: a fresh RSA key (Probot signs its JWTs
 * with it), a webhook secret, an ephemeral port on 127.0.0.1, and nothing else configured.
 */
import { generateKeyPairSync } from "node:crypto";
import type { AppSettings } from "../../../src/app/settings.ts";
import { DEFAULT_SETTINGS } from "../../../src/reconcile/reconcile-types.ts";

export const WEBHOOK_SECRET = "It's a Secret to Everybody";

export const { privateKey: PRIVATE_KEY } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs1", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
});

/** Settings for a test server; `overrides` set what the test is about. */
export function testAppSettings(overrides: Partial<AppSettings> = {}): AppSettings {
  return {
    appId: 1,
    privateKey: PRIVATE_KEY,
    webhookSecret: WEBHOOK_SECRET,
    webhookPath: "/api/github/webhooks",
    port: 0,
    host: "127.0.0.1",
    baseUrl: undefined,
    repositories: undefined,
    intervalMs: 60_000,
    reconcile: DEFAULT_SETTINGS,
    kubeconfig: undefined,
    kubeContext: undefined,
    prometheusUrl: undefined,
    prometheusToken: undefined,
    prometheusWindowSeconds: undefined,
    logLevel: "info",
    ...overrides,
  };
}
