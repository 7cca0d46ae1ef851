/**
 * What `report` writes, before it is sent: text from a plan cannot break the markdown, GitHub's
 * size limits are kept, and secrets never get through.
 */
import { describe, expect, it } from "@jest/globals";
import { preparePlanReport } from "../../src/apply/report.ts";
import { renderApplyReport } from "../../src/apply/report-apply.ts";
import type { DrainStop } from "../../src/apply/report-drain.ts";
import { code, codeBlock, tail } from "../../src/apply/report-markdown.ts";
import { renderPlanReport } from "../../src/apply/report-plan.ts";
import { redactSecrets } from "../../src/apply/report-redact.ts";
import type { GuardVerdict } from "../../src/apply/report-verdict.ts";
import { MAX_BODY_LENGTH } from "../../src/forge/marker.ts";

const SHA = "0123456789abcdef0123456789abcdef01234567";

function verdict(fields: Partial<GuardVerdict>): GuardVerdict {
  return {
    verdict: "pass",
    expected: { from: 3, to: 4 },
    creates: [],
    destroys: [],
    alsoAllowed: [],
    offending: [],
    warnings: [],
    ...fields,
  };
}

function planBody(v: GuardVerdict, log?: string): string {
  return renderPlanReport({
    pool: "workers",
    sha: SHA,
    runUrl: undefined,
    outcome: { kind: "checked", verdict: v },
    context: "pr-autoscaler/plan-guard",
    log,
  }).body;
}

/** The cells of a markdown table row, split at unescaped pipes as GitHub does. */
function cells(row: string): string[] {
  return row
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

describe("comment markdown", () => {
  it("keeps a hostile address and reason inside their cells and out of HTML", () => {
    const address = 'proxmox_virtual_environment_vm.worker["a|b`c<img src=x onerror=alert(1)>"]';
    const body = planBody(
      verdict({
        verdict: "refuse",
        offending: [
          { address, actions: ["create"], reason: "a | b <script>alert(1)</script> & more" },
        ],
      }),
    );
    const row = body.split("\n").find((line) => line.includes("onerror"));
    expect(row).toBeDefined();
    expect(cells(row ?? "")).toEqual([
      '`` proxmox_virtual_environment_vm.worker["a\\|b`c<img src=x onerror=alert(1)>"] ``',
      "create",
      "a \\| b &lt;script&gt;alert(1)&lt;/script&gt; &amp; more",
    ]);
    expect(body).not.toContain("<script>");
  });

  it("shows inline code exactly, whatever backticks it holds", () => {
    expect(code("worker[0]")).toBe("`worker[0]`");
    expect(code("a`b")).toBe("`` a`b ``");
    expect(code("a``b")).toBe("``` a``b ```");
    expect(code("two\nlines")).toBe("`two lines`");
  });

  it("fences a log that itself holds a fence", () => {
    expect(codeBlock("before\n```\ninside\n```\n")).toBe(
      "````text\nbefore\n```\ninside\n```\n````",
    );
  });

  it("quotes the end of a long log, cut at a line start", () => {
    const log = Array.from({ length: 5000 }, (_, i) => `line ${i}`).join("\n");
    const cut = tail(log, 100);
    expect(cut.cut).toBe(true);
    expect(cut.text.startsWith("line ")).toBe(true);
    expect(cut.text.endsWith("line 4999")).toBe(true);
    expect(cut.text.length).toBeLessThanOrEqual(100);
    expect(planBody(verdict({}), log)).toContain("<details><summary>Log (last lines)</summary>");
  });
});

describe("GitHub's limits", () => {
  it("keeps a status description within 140 characters however many VMs change", () => {
    const destroys = Array.from({ length: 30 }, (_, i) => ({
      address: `proxmox_virtual_environment_vm.worker[${i + 10}]`,
      name: `a-rather-long-worker-name-${i + 11}`,
      node: `a-rather-long-worker-name-${i + 11}`,
    }));
    const report = renderPlanReport({
      pool: "workers",
      sha: SHA,
      runUrl: undefined,
      outcome: { kind: "checked", verdict: verdict({ expected: { from: 40, to: 10 }, destroys }) },
      context: "pr-autoscaler/plan-guard",
      log: undefined,
    });
    expect(report.status.description).toBe(
      "Passed: 40 → 10 workers, 0 VMs created, 30 VMs destroyed",
    );
    const apply = renderApplyReport({
      pool: "workers",
      sha: SHA,
      runUrl: undefined,
      result: "failed",
      verdict: verdict({ expected: { from: 40, to: 10 }, destroys }),
      failedStep: "apply",
      uncordon: "failed",
      context: "pr-autoscaler/apply",
      log: undefined,
    });
    expect(apply.status.description.length).toBeLessThanOrEqual(140);
  });

  it("shortens a comment GitHub would refuse, keeping the marker that finds it again", () => {
    const offending = Array.from({ length: 2000 }, (_, i) => ({
      address: `proxmox_virtual_environment_vm.other[${i}]`,
      actions: ["update"],
      reason: "would be updated in place (changes: cpu), but it is not a worker VM of the pool",
    }));
    const report = preparePlanReport(
      {
        pool: "workers",
        sha: SHA,
        runUrl: undefined,
        outcome: { kind: "checked", verdict: verdict({ verdict: "refuse", offending }) },
        context: "pr-autoscaler/plan-guard",
        log: undefined,
      },
      {},
    );
    expect(report.body.length).toBeLessThanOrEqual(MAX_BODY_LENGTH);
    expect(report.body).toContain("(shortened: the full report is longer than GitHub allows)");
    expect(report.body.endsWith('\n\n<!-- pr-autoscaler:plan-guard {"pool":"workers"} -->')).toBe(
      true,
    );
    expect(report.status.description).toBe(
      "Refused: 2000 changes are not the expected worker change (3 → 4 workers)",
    );
  });
});

describe("secrets", () => {
  it("removes the values of secret-looking variables, each line of a kubeconfig too", () => {
    const kubeconfig = [
      "apiVersion: v1",
      "users:",
      "- name: drain",
      "  user:",
      "    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0t",
    ].join("\n");
    const env = {
      DRAIN_KUBECONFIG_SECRET: kubeconfig,
      GITHUB_TOKEN: "gho_abc",
      HOME: "/home/runner",
    };
    const text = `failed with\n    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0t\nin /home/runner`;
    const out = redactSecrets(text, env);
    expect(out).not.toContain("LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0t");
    // HOME is not secret-named, so it stays.
    expect(out).toContain("in /home/runner");
    // Like GitHub's masking of multi-line secrets: every line of 8 characters or more goes,
    // shorter ones ("users:") and short values ("gho_abc") are too common to replace.
    expect(redactSecrets("the apiVersion: v1 line, users: and gho_abc", env)).toBe(
      "the *** line, users: and gho_abc",
    );
  });

  it("removes secrets by their shape even when they did not come through the environment", () => {
    const text = [
      "token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
      "pat github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
      "api_token = terraform@pve!ci=0b9a6c1e-2f4d-4c7a-9e3b-5d8f1a2b3c4d",
      'password: "hunter2hunter2"',
    ].join("\n");
    expect(redactSecrets(text, {})).toBe(
      ["token ***", "pat ***", "***", "api_token = terraform@pve!ci=***", 'password: "***"'].join(
        "\n",
      ),
    );
  });

  it("removes the password of a URL's user information, and only that", () => {
    const line = JSON.stringify({
      url: "http://prom:s3cret-basic-pass@prometheus.monitoring:9090/prom",
      next: "octocat@infra",
      plain: "http://prometheus.monitoring:9090",
    });
    expect(redactSecrets(line, {})).toBe(
      JSON.stringify({
        url: "http://prom:***@prometheus.monitoring:9090/prom",
        next: "octocat@infra",
        plain: "http://prometheus.monitoring:9090",
      }),
    );
    expect(redactSecrets("git fetch https://oauth2:abc@def@gitlab.example/o/r", {})).toBe(
      "git fetch https://oauth2:***@gitlab.example/o/r",
    );
  });

  it("finds a Proxmox token where a long run of name characters starts, not inside it", () => {
    // 20 kB without a space (a hex dump, a base64url blob). The pattern only starts where a
    // name starts; the run is read once (measured: 100 kB in 2 ms, where trying every
    // position took 24 s).
    const run = "a".repeat(20_000);
    expect(redactSecrets(`data=${run} end`, {})).toBe(`data=${run} end`);
    expect(redactSecrets(`${run}@pve!ci=0b9a6c1e-2f4d`, {})).toBe(`${run}@pve!ci=***`);
    expect(redactSecrets(`x.${run}@pve!ci=0b9a6c1e-2f4d`, {})).toBe(`x.${run}@pve!ci=***`);
  });

  it("leaves the guard's own words alone", () => {
    const body = planBody(
      verdict({
        creates: [{ address: "proxmox_virtual_environment_vm.worker[3]", name: "talos-worker-4" }],
      }),
    );
    expect(redactSecrets(body, { GITHUB_TOKEN: "ghs_16C7e42F292c6912E7710c838347Ae178B4a" })).toBe(
      body,
    );
  });
});

describe("the apply report after a drain that did not finish", () => {
  function drainFailed(v: GuardVerdict | undefined, drain?: DrainStop) {
    return renderApplyReport({
      pool: "workers",
      sha: SHA,
      runUrl: undefined,
      result: "failed",
      verdict: v,
      failedStep: "drain",
      uncordon: undefined,
      drain,
      context: "pr-autoscaler/apply",
      log: undefined,
    });
  }

  function stopped(outcome: DrainStop["outcome"], fields: Partial<DrainStop> = {}): DrainStop {
    return { outcome, dryRun: false, leftCordoned: [], uncordonErrors: [], ...fields };
  }

  const scaleDown = verdict({
    expected: { from: 4, to: 3 },
    destroys: [
      {
        address: "proxmox_virtual_environment_vm.worker[3]",
        name: "talos-worker-4",
        node: "talos-worker-4",
      },
    ],
  });

  // The workflow passes a cancelled drain as a failed one: neither may be taken for uncordoned.
  it("claims no uncordon, and says how to find a node left cordoned", () => {
    const report = drainFailed(scaleDown);
    expect(report.status).toMatchObject({
      state: "failure",
      description: "Failed at drain: nothing applied; check for cordoned nodes",
    });
    expect(report.body).toContain("| Drain | ❌ failed |\n| terraform apply | — not run |");
    expect(report.body).toContain(
      "**What changed:** nothing was applied. Draining `talos-worker-4` did not finish: a PodDisruptionBudget allowed no eviction, the timeout came, or the run was cancelled. `pr-autoscaler drain` uncordons the nodes it cordoned when it stops, a cancel included, and the log says what it uncordoned; a drain killed before it could, or whose uncordon failed, leaves them cordoned.",
    );
    expect(report.body).toContain(
      "**What to do:** check `kubectl get nodes` for `talos-worker-4` shown SchedulingDisabled, and `kubectl uncordon` any that was schedulable before the drain.",
    );
    expect(report.body).not.toMatch(/nodes uncordoned|uncordoned the nodes/);
  });

  it("says the nodes are uncordoned when the drain's result says it was cancelled and did so", () => {
    const report = drainFailed(scaleDown, stopped("cancelled"));
    expect(report.status).toMatchObject({
      state: "failure",
      description:
        "Cancelled during the drain: nothing applied; the drain uncordoned the nodes it had cordoned (its log says which)",
    });
    expect(report.body).toContain("### ⏹️ pr-autoscaler apply: cancelled during the drain");
    expect(report.body).toContain(
      "| Drain | ❌ cancelled; cordoned nodes uncordoned |\n| terraform apply | — not run |",
    );
    expect(report.body).toContain(
      "**What changed:** nothing was applied. The run was cancelled while draining `talos-worker-4`, and the drain uncordoned the nodes it had cordoned (its log says which); a node cordoned before the drain stays cordoned.",
    );
    expect(report.body).toContain("**What to do:** nothing to undo. Re-run the workflow");
    expect(report.body).not.toContain("SchedulingDisabled");
  });

  it.each([
    [
      "a cancelled drain that left a node cordoned",
      stopped("cancelled", { leftCordoned: ["talos-worker-4"] }),
    ],
    [
      "a cancelled drain whose uncordon failed",
      stopped("cancelled", { uncordonErrors: ["talos-worker-4: no answer to the uncordon"] }),
    ],
    ["a drain that timed out", stopped("timed-out")],
    ["a drain refused before cordoning", stopped("refused")],
    ["a cancelled dry run", stopped("cancelled", { dryRun: true })],
  ])("keeps to 'check for cordoned nodes' after %s", (_, drain) => {
    const report = drainFailed(scaleDown, drain);
    expect(report.status.description).toBe(
      "Failed at drain: nothing applied; check for cordoned nodes",
    );
    expect(report.body).toContain("### ❌ pr-autoscaler apply: failed");
    expect(report.body).toContain("| Drain | ❌ failed |");
    expect(report.body).not.toContain("Cancelled during the drain");
  });

  it("without the guard's verdict, speaks of the nodes", () => {
    const report = drainFailed(undefined);
    expect(report.body).toContain("Draining the nodes did not finish");
    expect(report.body).toContain(
      "check `kubectl get nodes` for the nodes shown SchedulingDisabled",
    );
  });
});
