import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { hasAppCredentials, readAppSettings } from "../../src/app/settings.ts";
import { serveCommand } from "../../src/cli/serve-command.ts";
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

  it.each([
    [{ PORT: "70000" }, "PORT must be a port number from 1 to 65535"],
    [{ PORT: "0" }, "PORT must be a port number from 1 to 65535"],
    [{ PORT: "http" }, "PORT must be a port number from 1 to 65535"],
    [
      { WEBHOOK_PATH: "hooks" },
      'WEBHOOK_PATH must be a path starting with "/", e.g. /api/github/webhooks',
    ],
    [{ GHE_PROTOCOL: "ftp" }, "GHE_PROTOCOL must be https or http"],
    [{ LOG_LEVEL: "verbose" }, "LOG_LEVEL must be one of trace, debug, info, warn, error, fatal"],
    [
      { PROMETHEUS_URL: "kube-prometheus-stack-prometheus.monitoring.svc:9090" },
      "PROMETHEUS_URL must be an http(s) URL, e.g. http://prometheus.monitoring:9090",
    ],
    [
      { PROMETHEUS_TOKEN: "t0ken" },
      "PROMETHEUS_TOKEN is set without PROMETHEUS_URL: set the URL it is for",
    ],
  ])("refuses %j in the operator's words", (env, message) => {
    expect(() => readAppSettings({ ...base, ...env }, "/")).toThrow(new UsageError(message));
  });

  describe("leader election", () => {
    // No service account mount: the machine running the tests might be a pod.
    const election = (env: Record<string, string>, serviceAccountDir = "/nonexistent/sa") =>
      readAppSettings({ ...base, ...env }, "/", { serviceAccountDir }).leaderElection;

    it("finds the namespace in the pod's service account mount when no variable gives it", () => {
      const dir = mkdtempSync(join(tmpdir(), "sa-"));
      writeFileSync(join(dir, "namespace"), "autoscaling\n");
      expect(election({ LEADER_ELECTION: "true", POD_NAME: "p" }, dir)).toEqual({
        lease: "pr-autoscaler",
        namespace: "autoscaling",
        identity: "p",
      });
      expect(election({ LEADER_ELECTION: "true", POD_NAMESPACE: "ns" }, dir)?.namespace).toBe("ns");
      writeFileSync(join(dir, "namespace"), "Not_A_Namespace");
      expect(() => election({ LEADER_ELECTION: "true" }, dir)).toThrow(
        `${join(dir, "namespace")} must be a namespace name`,
      );
      rmSync(dir, { recursive: true, force: true });
    });

    it("is on in a pod that knows its name and namespace, as deploy/ sets them", () => {
      expect(
        election({ POD_NAME: "pr-autoscaler-7d9f-x2", POD_NAMESPACE: "pr-autoscaler" }),
      ).toEqual({
        lease: "pr-autoscaler",
        namespace: "pr-autoscaler",
        identity: "pr-autoscaler-7d9f-x2",
      });
    });

    it("is off without them, or when switched off", () => {
      expect(election({})).toBeUndefined();
      expect(election({ POD_NAME: "p" })).toBeUndefined();
      expect(election({ POD_NAMESPACE: "ns" })).toBeUndefined();
      expect(election({ POD_NAME: "p", POD_NAMESPACE: "ns", LEADER_ELECTION: "false" })).toBe(
        undefined,
      );
    });

    it("when switched on, takes the Lease's name and namespace, and the host name as identity", () => {
      expect(
        election({
          LEADER_ELECTION: "TRUE",
          LEADER_ELECTION_NAMESPACE: "ops",
          LEADER_ELECTION_LEASE: "pr-autoscaler.lab",
          POD_NAMESPACE: "ignored",
        }),
      ).toEqual({ lease: "pr-autoscaler.lab", namespace: "ops", identity: hostname() });
      expect(election({ LEADER_ELECTION: "true", POD_NAMESPACE: "ns", POD_NAME: "" })).toEqual({
        lease: "pr-autoscaler",
        namespace: "ns",
        identity: hostname(),
      });
    });

    it("names the variable that is wrong", () => {
      expect(() => election({ LEADER_ELECTION: "yes" })).toThrow(
        new UsageError('LEADER_ELECTION must be true or false, not "yes"'),
      );
      expect(() => election({ LEADER_ELECTION: "true" })).toThrow(
        "leader election needs the Lease's namespace: set POD_NAMESPACE",
      );
      expect(() => election({ LEADER_ELECTION: "true", LEADER_ELECTION_NAMESPACE: "Ops" })).toThrow(
        "LEADER_ELECTION_NAMESPACE must be a namespace name (lower-case letters, digits and '-'), not \"Ops\"",
      );
      expect(() => election({ POD_NAME: "p", POD_NAMESPACE: "a".repeat(64) })).toThrow(
        "POD_NAMESPACE must be a namespace name",
      );
      expect(() =>
        election({ POD_NAME: "p", POD_NAMESPACE: "ns", LEADER_ELECTION_LEASE: "my_lease" }),
      ).toThrow(
        "LEADER_ELECTION_LEASE must be a Kubernetes object name (lower-case letters, digits, '-' and '.'), not \"my_lease\"",
      );
    });

    it("takes the Lease's timing from the environment, checked as client-go checks it", () => {
      const pod = { POD_NAME: "p", POD_NAMESPACE: "ns" };
      expect(election(pod)?.timing).toBeUndefined();
      expect(
        election({
          ...pod,
          LEADER_ELECTION_LEASE_DURATION: "60s",
          LEADER_ELECTION_RENEW_DEADLINE: "40s",
          LEADER_ELECTION_RETRY_PERIOD: "5s",
        })?.timing,
      ).toEqual({ leaseDurationSeconds: 60, renewDeadlineMs: 40_000, retryPeriodMs: 5_000 });
      expect(election({ ...pod, LEADER_ELECTION_LEASE_DURATION: "1m" })?.timing).toEqual({
        leaseDurationSeconds: 60,
      });
      expect(() => election({ ...pod, LEADER_ELECTION_LEASE_DURATION: "10s" })).toThrow(
        new UsageError(
          "the Lease duration (10s) must be longer than the renew deadline (10s): LEADER_ELECTION_LEASE_DURATION, LEADER_ELECTION_RENEW_DEADLINE",
        ),
      );
      expect(() => election({ ...pod, LEADER_ELECTION_RETRY_PERIOD: "9s" })).toThrow(
        "the renew deadline (10s) must be longer than 1.2 × the retry period (9s)",
      );
      expect(() => election({ ...pod, LEADER_ELECTION_RENEW_DEADLINE: "soon" })).toThrow(
        'LEADER_ELECTION_RENEW_DEADLINE must be a duration such as 60s, 5m or 1h, not "soon"',
      );
    });
  });

  it("tells whether an app is configured at all", () => {
    expect(hasAppCredentials({})).toBe(false);
    expect(hasAppCredentials({ APP_ID: "" })).toBe(false);
    expect(hasAppCredentials(base)).toBe(true);
  });
});

describe("serve --help", () => {
  it("names every variable docs/app.md's table of settings lists", () => {
    const doc = readFileSync(join(import.meta.dirname, "..", "..", "docs", "app.md"), "utf8");
    const table = doc.slice(doc.indexOf("| Variable | Default | Meaning |"));
    const rows = table.slice(0, table.indexOf("\n\n")).split("\n").slice(2);
    const variables = rows.flatMap((row) =>
      [...(row.split(" | ")[0] ?? "").matchAll(/`([A-Z_]+)`/g)].map((match) => match[1]),
    );
    expect(variables).toContain("PROMETHEUS_TOKEN");
    expect(variables).toContain("LEADER_ELECTION_RETRY_PERIOD");
    for (const variable of variables)
      expect(serveCommand.usage).toMatch(new RegExp(`\\b${variable}\\b`));
  });
});
