import { describe, expect, it } from "@jest/globals";
import { formatConfigIssues, loadRepoConfig } from "../../src/policy/load-repo-config.ts";
import { defaultRightsizingConfig } from "../../src/policy/rightsizing-config.ts";

describe("the rightsizing config section", () => {
  it("is off when absent, and an empty section takes the documented defaults", () => {
    const absent = loadRepoConfig("pools: []\n");
    expect(absent.ok && absent.config.rightsizing).toBeUndefined();
    expect(defaultRightsizingConfig()).toMatchObject({
      enabled: true,
      minHistory: 7 * 86_400_000,
      tolerance: 20,
      steps: { cpu: 10, memory: 16 * 2 ** 20 },
      resources: ["cpu", "memory"],
      limits: { cpu: "keep", memory: "keep", aboveLimit: "raise" },
      oom: { margin: 20, window: 7 * 86_400_000 },
      group: "workload",
      maxOpenPullRequests: 3,
      discovery: { enabled: true, accept: "likely" },
    });
  });

  it("reads quantities, durations and targets as written", () => {
    const result = loadRepoConfig(
      [
        "rightsizing:",
        "  minHistory: 1d",
        "  steps: { cpu: 5m, memory: 1Mi }",
        "  max: { cpu: 4, memory: 16Gi }",
        "  bounds:",
        "    - workload: media/plex",
        "      min: { memory: 1Gi }",
        "  targets:",
        "    - workload: media/plex",
        "      container: app",
        "      file: kubernetes/apps/media/plex/app/helmrelease.yaml",
        "      path: spec.values.controllers.plex.containers.app.resources",
        "",
      ].join("\n"),
    );
    if (!result.ok) throw new Error(formatConfigIssues(result.issues));
    expect(result.config.rightsizing).toMatchObject({
      minHistory: 86_400_000,
      steps: { cpu: 5, memory: 2 ** 20 },
      max: { cpu: 4000, memory: 16 * 2 ** 30 },
      bounds: [{ workload: "media/plex", min: { memory: 2 ** 30 } }],
      targets: [{ workload: "media/plex", container: "app" }],
    });
  });

  it("reports mistakes at their line, with did-you-mean for keys", () => {
    const result = loadRepoConfig(
      [
        "rightsizing:",
        "  tolerence: 10",
        "  limits:",
        "    memory: scale",
        "  exclude: [plex]",
        "",
      ].join("\n"),
    );
    if (result.ok) throw new Error("expected errors");
    const text = formatConfigIssues(result.issues);
    expect(text).toContain(
      '.github/pr-autoscaler.yml:2:3: rightsizing.tolerence: unknown key "tolerence"; did you mean "tolerance"?',
    );
    expect(text).toMatch(/pr-autoscaler\.yml:4:13: rightsizing\.limits\.memory: /);
    expect(text).toContain(
      ".github/pr-autoscaler.yml:5:13: rightsizing.exclude[0]: write the workload as namespace/name in lower case, e.g. media/plex",
    );
  });

  it("refuses a min above the max", () => {
    const result = loadRepoConfig("rightsizing:\n  min: { cpu: 2 }\n  max: { cpu: 1 }\n");
    if (result.ok) throw new Error("expected errors");
    expect(formatConfigIssues(result.issues)).toBe(
      ".github/pr-autoscaler.yml:2:15: rightsizing.min.cpu: min cpu is greater than max cpu",
    );
  });
});
