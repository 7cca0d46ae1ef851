/**
 * `pr-autoscaler report` with secrets in the job's log that never went through the report step's
 * environment (a provider echoing its token, a backend URL, a key printed by mistake), and a
 * chat webhook whose error page repeats its address: nothing of them reaches the comment, the
 * status or the CI log.
 */

import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import nock from "nock";
import { mockGitHub, REPO_PATH } from "../support/github.ts";
import { sha, status } from "../support/github-responses.ts";
import { runReport, tempDir, WORKFLOW_ENV } from "./report-support.ts";

const HEAD = sha("head");
const MERGE = sha("merge-of-pr-12");

let dir: string;

beforeAll(async () => {
  dir = await tempDir();
});

/** `report plan --dry-run` for a failed `terraform init` whose log is `log`: what it would post. */
async function planReportOf(log: string): Promise<string> {
  const file = join(dir, `log-${Math.random().toString(36).slice(2)}.txt`);
  await writeFile(file, log);
  const run = await runReport(
    ["plan", "--pr", "7", "--sha", HEAD, "--failed-step", "init", "--details", file, "--dry-run"],
    WORKFLOW_ENV,
  );
  expect(run.code).toBe(0);
  return run.stdout;
}

describe("report plan: secrets in the job's log", () => {
  it.each<[string, string, string]>([
    [
      "a tfvars token",
      `proxmox_api_token = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"`,
      "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    ],
    [
      "the provider's environment variable",
      "PROXMOX_VE_API_TOKEN=ci-token-s3cr3t-value-99",
      "ci-token-s3cr3t-value-99",
    ],
    [
      "a Proxmox token",
      "terraform@pve!apply=12345678-90ab-cdef-1234-567890abcdef",
      "12345678-90ab-cdef-1234-567890abcdef",
    ],
    [
      "a postgres backend URL",
      `conn_str = "postgres://terraform:Pg-Pa55word-xyz@db.home.arpa/tf"`,
      "Pg-Pa55word-xyz",
    ],
    [
      "a bare bearer token",
      "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl",
      "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9",
    ],
    ["an OAuth token", "access_token=ya29.a0AfH6SMBxyzxyzxyzxyz", "ya29.a0AfH6SMBxyzxyzxyzxyz"],
    ["a client secret", "client_secret: oidc-client-secret-123456", "oidc-client-secret-123456"],
    [
      "an S3 backend's secret key",
      "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ],
    [
      "a talosconfig key",
      "    key: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUJvZ3VzCi0tLS0tRU5EIEVDIFBSSVZBVEUgS0VZLS0tLS0K",
      "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUJvZ3Vz",
    ],
    ["an API key header", "x-api-key: pk_live_abcdefghijklmnop", "pk_live_abcdefghijklmnop"],
  ])("%s", async (_, line, secret) => {
    const posted = await planReportOf(`step output\n${line}\nmore\n`);
    expect(posted).toContain("step output\n");
    expect(posted).toContain("***");
    expect(posted).not.toContain(secret);
  });

  it("removes a private key the log's quoted tail starts inside", async () => {
    const body = Array.from(
      { length: 26 },
      (_, i) =>
        `MIIEv${String(i).padStart(2, "0")}QIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj`,
    );
    const key = ["-----BEGIN RSA PRIVATE KEY-----", ...body, "-----END RSA PRIVATE KEY-----"];
    // The comment quotes the last 12,000 characters of a log: the lines after the key take
    // about 11,500, so a cut of this log falls among the key's lines, after its BEGIN line.
    const after = Array.from({ length: 150 }, (_, i) => `drain: line ${i} ${"-".repeat(60)}`);
    const before = Array.from({ length: 50 }, (_, i) => `before ${i}`);
    const posted = await planReportOf(`${[...before, ...key, ...after].join("\n")}\n`);
    expect(posted).toContain("drain: line 149");
    expect(body.filter((line) => posted.includes(line.slice(0, 20)))).toEqual([]);
    expect(posted).not.toContain("PRIVATE KEY");
  });

  it("removes a private key the tail starts inside, whatever prefixes its lines", async () => {
    // Lines as a downloaded Actions log has them, each after its timestamp: without its BEGIN
    // line, nothing says the key's lines are one.
    const at = (i: number) => `2025-01-10T08:00:${String(i % 60).padStart(2, "0")}.1234567Z`;
    const body = Array.from(
      { length: 26 },
      (_, i) => `MIIEv${String(i).padStart(2, "0")}${"Q".repeat(59)}`,
    );
    const key = ["-----BEGIN RSA PRIVATE KEY-----", ...body, "-----END RSA PRIVATE KEY-----"];
    const after = Array.from({ length: 150 }, (_, i) => `drain: line ${i} ${"-".repeat(30)}`);
    const lines = [...key, ...after].map((line, i) => `${at(i)} ${line}`);
    const posted = await planReportOf(`${lines.join("\n")}\n`);
    expect(posted).toContain("drain: line 149");
    expect(body.filter((line) => posted.includes(line))).toEqual([]);
  });
});

describe("report apply: a chat webhook whose error page repeats its address", () => {
  const HOOK_TOKEN = "hooksecretQ7w8e9r0t1y2u3i4";
  let chat: Server;
  let url: string;

  beforeAll(async () => {
    nock.enableNetConnect("127.0.0.1");
    chat = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        response.writeHead(404, { "content-type": "text/html" });
        response.end(`<pre>Cannot POST ${request.url}</pre>`);
      });
    });
    await new Promise<void>((resolve) => chat.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(chat.address() as AddressInfo).port}/hooks/${HOOK_TOKEN}`;
  });

  afterAll(async () => {
    chat.closeAllConnections();
    await new Promise((resolve) => chat.close(resolve));
  });

  it("says the chat was not told, without the webhook's token", async () => {
    const github = mockGitHub();
    github.scope.get(`${REPO_PATH}/commits/${MERGE}/pulls`).reply(200, []);
    github.scope.post(`${REPO_PATH}/statuses/${MERGE}`).reply(201, status());
    const run = await runReport(
      ["apply", "--sha", MERGE, "--result", "failed", "--failed-step", "drain"],
      { ...WORKFLOW_ENV, NOTIFY_WEBHOOK_URL: url },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "could not tell the chat: the notification webhook answered 404: <pre>Cannot POST ***</pre>",
    );
    expect(run.stdout + run.stderr).not.toContain(HOOK_TOKEN.slice(0, 12));
  });
});
