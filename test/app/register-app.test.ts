import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "@jest/globals";
import nock from "nock";
import { registerApp } from "../../src/app/register-app.ts";
import { mockGitHub } from "../support/github.ts";
import { responseExample } from "../support/github-openapi.ts";

beforeAll(() => {
  nock.enableNetConnect("127.0.0.1");
});

/** Opens the local page, reads the form GitHub would receive, and follows GitHub's redirect. */
async function register(options: { org?: string; webhookUrl?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "pr-autoscaler-register-"));
  const github = mockGitHub();
  const conversion = {
    ...(responseExample("POST", "/app-manifests/{code}/conversions", 201) as Record<
      string,
      unknown
    >),
    id: 424242,
    slug: "pr-autoscaler-homelab",
    html_url: "https://github.com/apps/pr-autoscaler-homelab",
    pem: "-----BEGIN RSA PRIVATE KEY-----\nnot a real key\n-----END RSA PRIVATE KEY-----\n",
    webhook_secret: "generated-secret",
  };
  github.scope.post("/app-manifests/one-time-code/conversions").reply(201, conversion);
  let page = "";
  const done = registerApp({
    dir,
    port: 0,
    ...options,
    onListening: (url) => {
      page = url;
    },
  });
  while (page === "") await new Promise((resolve) => setImmediate(resolve));
  const html = await (await fetch(page)).text();
  const action = /action="([^"]+)"/.exec(html)?.[1] ?? "";
  const manifest = JSON.parse(
    (/name="manifest" value="([^"]+)"/.exec(html)?.[1] ?? "")
      .replaceAll("&quot;", '"')
      .replaceAll("&lt;", "<")
      .replaceAll("&gt;", ">")
      .replaceAll("&amp;", "&"),
  );
  const state = new URL(action.replaceAll("&amp;", "&")).searchParams.get("state");
  const callback = await fetch(`${page}/callback?code=one-time-code&state=${state}`);
  return { dir, action, manifest, callback, registered: await done };
}

describe("registerApp: GitHub's manifest flow", () => {
  it("posts app.yml's manifest to GitHub and writes the credentials it gets back", async () => {
    const { dir, action, manifest, callback, registered } = await register({
      webhookUrl: "https://smee.io/abc",
    });
    expect(action).toMatch(/^https:\/\/github\.com\/settings\/apps\/new\?state=[0-9a-f]{32}$/);
    expect(manifest.default_permissions).toEqual({
      contents: "write",
      pull_requests: "write",
      issues: "write",
      checks: "write",
      statuses: "read",
      metadata: "read",
    });
    expect(manifest.default_events).toEqual([
      "pull_request",
      "pull_request_review",
      "issue_comment",
      "push",
      "check_suite",
      "status",
    ]);
    expect(manifest.hook_attributes).toEqual({ url: "https://smee.io/abc", active: true });
    expect(manifest.redirect_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(callback.status).toBe(200);
    expect(registered).toMatchObject({ appId: 424242, slug: "pr-autoscaler-homelab" });
    const env = readFileSync(join(dir, ".env"), "utf8");
    expect(env).toContain("APP_ID=424242\n");
    expect(env).toContain(
      `PRIVATE_KEY_PATH=${join(dir, "pr-autoscaler-homelab.private-key.pem")}\n`,
    );
    expect(env).toContain("WEBHOOK_SECRET=generated-secret\n");
    expect(statSync(join(dir, ".env")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "pr-autoscaler-homelab.private-key.pem")).mode & 0o777).toBe(0o600);
  });

  it("registers an app without webhooks when there is no public address, under an organization", async () => {
    const { action, manifest } = await register({ org: "homelab-org" });
    expect(action).toMatch(
      /^https:\/\/github\.com\/organizations\/homelab-org\/settings\/apps\/new\?state=/,
    );
    expect(manifest.hook_attributes).toEqual({
      url: "https://example.invalid/api/github/webhooks",
      active: false,
    });
  });

  it("never overwrites an existing .env", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pr-autoscaler-register-"));
    writeFileSync(join(dir, ".env"), "APP_ID=1\n");
    await expect(registerApp({ dir, port: 0 })).rejects.toThrow(
      "already exists: move it away to register another app",
    );
  });
});
