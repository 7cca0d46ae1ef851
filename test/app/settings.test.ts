import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { hasAppCredentials, readAppSettings } from "../../src/app/settings.ts";
import { UsageError } from "../../src/errors.ts";

const { privateKey } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs1", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
});

const base = { APP_ID: "123456", PRIVATE_KEY: privateKey };

describe("readAppSettings", () => {
  it("takes GitHub's variables and the app's own, with defaults", () => {
    const settings = readAppSettings(
      { ...base, WEBHOOK_SECRET: "s", PR_AUTOSCALER_REPOS: "me/infra, me/lab" },
      "/",
    );
    expect(settings).toMatchObject({
      appId: 123456,
      webhookSecret: "s",
      webhookPath: "/api/github/webhooks",
      port: 3000,
      repositories: ["me/infra", "me/lab"],
      intervalMs: 60_000,
      reconcile: { maxOpen: 5, maxPerHour: 3, commandPollMs: 300_000, mergePollMs: 300_000 },
      logLevel: "info",
    });
    expect(settings.privateKey).toBe(privateKey);
  });

  it("runs without webhooks when there is no secret", () => {
    expect(readAppSettings({ ...base, WEBHOOK_SECRET: "" }, "/").webhookSecret).toBeUndefined();
  });

  it("reads the key from a file, or base64 of it, or with escaped newlines", () => {
    const dir = mkdtempSync(join(tmpdir(), "pr-autoscaler-"));
    writeFileSync(join(dir, "app.pem"), privateKey);
    const { PRIVATE_KEY: _, ...noKey } = base;
    expect(readAppSettings({ ...noKey, PRIVATE_KEY_PATH: "app.pem" }, dir).privateKey).toBe(
      privateKey,
    );
    const base64 = Buffer.from(privateKey).toString("base64");
    expect(readAppSettings({ ...noKey, PRIVATE_KEY: base64 }, dir).privateKey).toBe(privateKey);
    const escaped = privateKey.replaceAll("\n", "\\n");
    expect(readAppSettings({ ...noKey, PRIVATE_KEY: escaped }, dir).privateKey).toBe(privateKey);
  });

  it("names the variable that is wrong", () => {
    const wrong = (env: Record<string, string>) => () => readAppSettings({ ...base, ...env }, "/");
    expect(wrong({ APP_ID: "my-app" })).toThrow(
      new UsageError("APP_ID must be the GitHub App's numeric id"),
    );
    expect(wrong({ PR_AUTOSCALER_REPOS: "infra" })).toThrow(
      'PR_AUTOSCALER_REPOS: "infra" is not owner/name',
    );
    expect(wrong({ PR_AUTOSCALER_INTERVAL: "a minute" })).toThrow(
      'PR_AUTOSCALER_INTERVAL must be a duration such as 60s, 5m or 1h, not "a minute"',
    );
    expect(wrong({ PR_AUTOSCALER_INTERVAL: "1s" })).toThrow(
      "PR_AUTOSCALER_INTERVAL must be at least 10s",
    );
    expect(wrong({ PR_AUTOSCALER_MAX_OPEN: "0" })).toThrow(
      "PR_AUTOSCALER_MAX_OPEN must be a whole number of at least 1",
    );
    expect(() => readAppSettings({ APP_ID: "1" }, "/")).toThrow(
      "PRIVATE_KEY or PRIVATE_KEY_PATH must be set",
    );
  });

  it("tells whether an app is configured at all", () => {
    expect(hasAppCredentials({})).toBe(false);
    expect(hasAppCredentials({ APP_ID: "" })).toBe(false);
    expect(hasAppCredentials(base)).toBe(true);
  });
});
