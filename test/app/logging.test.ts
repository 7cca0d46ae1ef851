import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "@jest/globals";
import { RequestError } from "@octokit/request-error";
import nock from "nock";
import { createAppLogger, settingsSecrets } from "../../src/app/app-logger.ts";
import type { AppSettings } from "../../src/app/settings.ts";
import { type RunningApp, startApp } from "../../src/app/start-app.ts";
import { FakeGitHub } from "../reconcile/support/fake-github.ts";
import { infraFiles, NOW } from "../reconcile/support/infra.ts";
import { mockGitHub } from "../support/github.ts";
import { PRIVATE_KEY, testAppSettings } from "./support/app-settings.ts";

const privateKey = PRIVATE_KEY;
const WEBHOOK_SECRET = "whsec-It's a Secret to Everybody";
const PROMETHEUS_TOKEN = "prom-bearer-7f3a9c1e5b2d4f60";
const NOTIFY_URL = "https://hooks.slack.com/services/T0001/B0002/hooksecretZZZZZZZZZZZZZZ";
const INSTALLATION_TOKEN = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";

function settings(overrides: Partial<AppSettings> = {}): AppSettings {
  return testAppSettings({
    webhookSecret: WEBHOOK_SECRET,
    prometheusUrl: "http://prometheus.monitoring:9090",
    prometheusToken: PROMETHEUS_TOKEN,
    notifyWebhookUrl: NOTIFY_URL,
    logLevel: "trace",
    ...overrides,
  });
}

/** Every secret value, and each line of the private key on its own. */
function secretValues(): string[] {
  const keyLines = privateKey
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length >= 8 && !line.startsWith("-----"));
  return [
    privateKey,
    ...keyLines,
    WEBHOOK_SECRET,
    PROMETHEUS_TOKEN,
    NOTIFY_URL,
    "hooksecretZZZZZZZZZZZZZZ",
    INSTALLATION_TOKEN,
  ];
}

function collector(): { stream: Writable; text: () => string; lines: () => LogLine[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const text = () => chunks.join("");
  return {
    stream,
    text,
    lines: () =>
      text()
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as LogLine),
  };
}

interface LogLine {
  msg: string;
  level: number;
  [field: string]: unknown;
}

function expectNoSecret(output: string): void {
  for (const secret of secretValues()) {
    expect({ secret, found: output.includes(secret) }).toEqual({ secret, found: false });
  }
  // Nor in the JSON-escaped form a multi-line value takes inside a log line.
  expect(output).not.toContain(JSON.stringify(privateKey).slice(1, -1));
}

describe("the server's logger", () => {
  it("keeps secrets out of errors, headers, settings and messages", () => {
    const out = collector();
    const s = settings();
    const log = createAppLogger({ level: "trace", secrets: settingsSecrets(s) }, out.stream);

    // Octokit's error as thrown for a refused installation token.
    const octokitError = new RequestError("Bad credentials", 401, {
      request: {
        method: "GET",
        url: "https://api.github.com/installation/repositories?per_page=100",
        headers: { authorization: `token ${INSTALLATION_TOKEN}`, "user-agent": "probot" },
      },
      response: {
        status: 401,
        url: "https://api.github.com/installation/repositories?per_page=100",
        headers: { "x-github-request-id": "0400:1234" },
        data: { message: "Bad credentials" },
      },
    });
    log.error({ err: octokitError }, "could not list the repositories the app is installed on");
    // An error some other client made, headers as given, capitalised.
    const clientError = Object.assign(new Error("request failed"), {
      request: { headers: { Authorization: `Bearer ${INSTALLATION_TOKEN}` } },
      config: { headers: { authorization: `Bearer ${PROMETHEUS_TOKEN}` } },
    });
    log.warn({ err: clientError }, "could not read usage from Prometheus");
    // The settings, logged whole by mistake.
    log.info({ settings: s }, "settings");
    log.info(
      { repository: "octocat/infra", options: { privateKey, token: INSTALLATION_TOKEN } },
      "x",
    );
    // The Prometheus request's headers.
    log.debug(
      { url: s.prometheusUrl, headers: { authorization: `Bearer ${PROMETHEUS_TOKEN}` } },
      "querying Prometheus",
    );
    // Secrets inside free text: an error's message and a reason field.
    log.error(
      { err: new Error(`POST ${NOTIFY_URL} failed: connect ETIMEDOUT`) },
      "could not deliver a notification",
    );
    log.warn({ reason: `signature made with ${WEBHOOK_SECRET} does not match` }, "bad delivery");
    log.error(
      { err: new Error(`cannot parse the private key:\n${privateKey}`) },
      "cannot authenticate",
    );

    const output = out.text();
    expectNoSecret(output);
    const lines = out.lines();
    expect(lines).toHaveLength(8);
    // The messages are the fixed strings given; the fields are still there, censored.
    expect(lines[0]).toMatchObject({
      msg: "could not list the repositories the app is installed on",
      err: { status: 401, message: "Bad credentials", request: "***" },
    });
    expect(lines[2]?.settings).toBe("***");
    expect(lines[4]).toMatchObject({
      url: "http://prometheus.monitoring:9090",
      headers: { authorization: "***" },
    });
    expect(lines[5]).toMatchObject({ err: { message: "POST *** failed: connect ETIMEDOUT" } });
  });

  it("logs a running app's start and failures without a secret", async () => {
    nock.enableNetConnect("127.0.0.1");
    const out = collector();
    const s = settings({ repositories: undefined });
    const github = new FakeGitHub(infraFiles(), NOW, mockGitHub().scope);
    // Listing the repositories fails once: the Octokit error is logged.
    github.fail(
      "GET",
      /^\/installation\/repositories$/,
      403,
      "Resource not accessible by integration",
    );
    app = await startApp({
      settings: s,
      log: createAppLogger({ level: "trace", secrets: settingsSecrets(s) }, out.stream),
      observe: async () => {
        throw new Error(
          `cannot reach Prometheus with Authorization: Bearer ${PROMETHEUS_TOKEN} at ${s.prometheusUrl}`,
        );
      },
      timer: false,
    });
    await app.stop();
    app = undefined;
    const output = out.text();
    const messages = out.lines().map((line) => line.msg);
    expect(messages).toContain(
      "could not list the repositories of an installation; those found before are kept",
    );
    expect(messages).toContain("could not read the cluster");
    expect(messages).toContain("pr-autoscaler is running");
    expectNoSecret(output);
    expect(output).not.toContain("ghs_test");
    // The env-derived settings never appear whole: none of their field names is logged.
    for (const field of ["privateKey", "webhookSecret", "prometheusToken", "notifyWebhookUrl"])
      expect(output).not.toContain(`"${field}"`);
  });
});

let app: RunningApp | undefined;

afterEach(async () => {
  await app?.stop();
  app = undefined;
});
