/**
 * Bad input to `plan` against a Kubernetes API server on 127.0.0.1, as an operator gives it: a
 * config under the name that is not read, values written as another tool writes them, windows
 * that cannot be told apart, a --now on a day the calendar lacks, a flag left empty, a kubeconfig
 * without a context. Each is refused (exit 2) with what is wrong and where, and prints no plan;
 * or, for the misnamed config, leaves the repo alone with a warning that says why.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { FakeKubeApiserver } from "../support/fake-kube-apiserver.ts";
import { CONFIG, type PlanJson, runPlan, writeInfraRepo } from "./served-cluster.ts";
import { cluster, config, serveForTest, tempDir } from "./served-plan.ts";

describe("plan against a served cluster refuses bad input, saying what and where", () => {
  it("warns that a config named .github/pr-autoscaler.yaml is there and not read", async () => {
    const served = await serveForTest(cluster());
    const run = await served.run(["--json"], {
      config: null,
      other: { ".github/pr-autoscaler.yaml": CONFIG },
    });
    expect(run.code).toBe(0);
    const output = JSON.parse(run.stdout) as PlanJson;
    expect(output.proposals).toEqual([]);
    expect(output.notes).toEqual([
      expect.objectContaining({
        level: "warning",
        subject: "repo",
        message: expect.stringMatching(
          /: the repo is left alone; \.github\/pr-autoscaler\.yaml is there, but only \.github\/pr-autoscaler\.yml is read: rename it$/,
        ),
      }),
    ]);
  });

  it("refuses a threshold written as cluster-autoscaler's fraction, saying the percent meant", async () => {
    const served = await serveForTest(cluster());
    const run = await served.run(["--json"], {
      config: config({ "max: 6": "max: 6\n    scaleDown:\n      requests: 0.5" }),
    });
    expect(run).toMatchObject({ code: 2, stdout: "" });
    expect(run.stderr).toContain(
      ".github/pr-autoscaler.yml:13:17: pools[0].scaleDown.requests: must be at least 1 %: 0.5 reads as 0.5 %, not as a fraction; write 50 for 50 %",
    );
  });

  it("refuses a provisionTimeout of 0, which would not mean no deadline", async () => {
    const served = await serveForTest(cluster());
    const run = await served.run(["--json"], {
      config: config({ "max: 6": "max: 6\n    provisionTimeout: 0" }),
    });
    expect(run).toMatchObject({ code: 2, stdout: "" });
    expect(run.stderr).toContain(
      ".github/pr-autoscaler.yml:12:23: pools[0].provisionTimeout: must be at least 1m",
    );
  });

  it("refuses two windows of a pool under one name, at the second's line", async () => {
    const served = await serveForTest(cluster());
    const window = (cron: string) =>
      `      - name: evening\n        cron: "${cron}"\n        duration: 6h\n        min: 4`;
    const run = await served.run(["--json"], {
      config: config({
        "max: 6": `max: 6\n    schedules:\n${window("0 18 * * 5")}\n${window("0 18 * * 6")}`,
      }),
    });
    expect(run).toMatchObject({ code: 2, stdout: "" });
    expect(run.stderr).toContain(
      ".github/pr-autoscaler.yml:17:15: pools[0].schedules[1].name: schedules[0] is named evening too",
    );
  });

  it("refuses a --now on a day its month does not have, rather than planning for the next month", async () => {
    const served = await serveForTest(cluster());
    const run = await served.run(["--json", "--now", "2026-02-30T18:00:00Z"]);
    expect(run).toMatchObject({ code: 2, stdout: "" });
    expect(run.stderr).toContain("--now expects an ISO 8601 time with its offset, such as");
    expect(run.stderr).toContain('got "2026-02-30T18:00:00Z"');
  });

  it("refuses an empty --repo, which would have planned the current directory", async () => {
    const served = await serveForTest(cluster());
    const run = await served.run(["--json", "--repo", ""]);
    expect(run).toMatchObject({ code: 2, stdout: "" });
    expect(run.stderr).toBe("pr-autoscaler plan: --repo expects a value, got an empty one\n");
  });

  it("exits 1 on a server that refuses connections, naming the address once, with what to check", async () => {
    const fake = await FakeKubeApiserver.start();
    const repo = writeInfraRepo(tempDir());
    const kubeconfig = await fake.writeKubeconfig(join(repo, "kubeconfig"));
    await fake.close();
    const run = await runPlan(repo, kubeconfig, ["--json"]);
    expect(run).toMatchObject({ code: 1, stdout: "" });
    const address = fake.url.replace("http://", "");
    expect(run.stderr).toBe(
      `pr-autoscaler plan: cannot list nodes: GET ${fake.url}/api/v1/nodes: connect ECONNREFUSED ${address}: nothing accepts connections there; check that the API server is up and the kubeconfig's server URL\n`,
    );
  });

  it("says a kubeconfig defines no context, rather than to pick one among none", async () => {
    const repo = writeInfraRepo(tempDir());
    const kubeconfig = join(repo, "kubeconfig");
    writeFileSync(
      kubeconfig,
      "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n",
    );
    const run = await runPlan(repo, kubeconfig, ["--json"]);
    expect(run).toMatchObject({ code: 2, stdout: "" });
    expect(run.stderr).toBe(
      `pr-autoscaler plan: ${kubeconfig}: no current-context is set, and no context is defined: a kubeconfig needs one, naming the cluster and user to use (kubectl config set-context)\n`,
    );
  });
});
