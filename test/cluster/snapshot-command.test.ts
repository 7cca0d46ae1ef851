import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { loadSnapshot } from "../../src/cluster/snapshot-file.ts";
import { runCli } from "../support/cli.ts";
import { FakeKubeApiserver } from "../support/fake-kube-apiserver.ts";
import { type Homelab, startHomelab } from "../support/kube-homelab.ts";

let lab: Homelab;

beforeAll(async () => {
  lab = await startHomelab();
});

afterAll(async () => {
  await lab.close();
});

describe("pr-autoscaler snapshot", () => {
  it("prints the snapshot as JSON with warnings on stderr (exit 0)", async () => {
    // The homelab's metrics are from January 2025: stale for the real clock.
    const run = await runCli(["snapshot", "--kubeconfig", lab.kubeconfig]);
    expect(run.code).toBe(0);
    const snapshot = loadSnapshot(run.stdout, "stdout");
    expect(snapshot.nodes).toHaveLength(lab.fake.count("nodes"));
    expect(snapshot.pods).toHaveLength(lab.fake.count("pods"));
    expect(snapshot.metrics.nodes).toBe("unavailable");
    expect(run.stderr).toContain("[metrics-stale]");
    expect(run.stderr).toContain(
      'pod/apps/broken-requests: spec.containers[0].resources.requests.cpu: invalid quantity "2 cores"',
    );
  });

  it("accepts --metrics-max-age and --page-size", async () => {
    lab.fake.requests.length = 0;
    const run = await runCli([
      "snapshot",
      "--kubeconfig",
      lab.kubeconfig,
      "--metrics-max-age",
      "999999999",
      "--page-size",
      "4",
    ]);
    expect(run.code).toBe(0);
    const snapshot = loadSnapshot(run.stdout, "stdout");
    expect(snapshot.metrics.nodes).toBe("partial");
    expect(
      lab.fake.requests
        .filter((r) => r.path === "/api/v1/pods")
        .every((r) => r.query.limit === "4"),
    ).toBe(true);
  });

  it("says on stderr when the server asks it to wait, how long and why", async () => {
    lab.fake.injectFault({
      path: "/api/v1/nodes",
      status: 429,
      reason: "TooManyRequests",
      message: "Too many requests, please try again later.",
      headers: { "Retry-After": "0" },
      times: 1,
    });
    const run = await runCli(["snapshot", "--kubeconfig", lab.kubeconfig]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /^note: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/nodes: HTTP 429 TooManyRequests: Too many requests, please try again later\.; trying again in 0 ms, as its Retry-After asks \(retry 1 of 10\)$/m,
    );
  });

  it("writes --out atomically and prints nothing on stdout", async () => {
    const run = await runCli(
      ["snapshot", "--kubeconfig", "kubeconfig", "--out", "snap.json"],
      lab.dir,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("");
    const saved = loadSnapshot(await readFile(join(lab.dir, "snap.json"), "utf8"), "snap.json");
    expect(saved.source.server).toBe(lab.fake.url);
    expect((await readdir(lab.dir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("refuses an --out it could not write before reading the cluster, exit 2", async () => {
    const before = lab.fake.requests.length;
    for (const [out, says] of [
      [
        "no-such-folder/snap.json",
        `its directory ${join(lab.dir, "no-such-folder")} does not exist`,
      ],
      [".", "a directory, not a file: name the file to write"],
    ]) {
      const run = await runCli(
        ["snapshot", "--kubeconfig", "kubeconfig", "--out", out as string],
        lab.dir,
      );
      expect(run).toEqual({
        code: 2,
        stdout: "",
        stderr: `pr-autoscaler snapshot: --out ${out}: ${says}\n`,
      });
    }
    expect(lab.fake.requests.length).toBe(before);
  });

  it("exits 1 without writing --out when the API cannot be read", async () => {
    const gone = await FakeKubeApiserver.start();
    const file = await gone.writeKubeconfig(join(lab.dir, "gone.kubeconfig"));
    await gone.close();
    const run = await runCli(["snapshot", "--kubeconfig", file, "--out", "never.json"], lab.dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^pr-autoscaler snapshot: cannot list nodes: .*ECONNREFUSED/);
    expect(await readdir(lab.dir)).not.toContain("never.json");
  });

  it("exits 1 when the account may not list pods", async () => {
    lab.fake.injectFault({ path: "/api/v1/pods", status: 403 });
    const run = await runCli(["snapshot", "--kubeconfig", lab.kubeconfig]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      '(forbidden: the account needs "list" on pods in all namespaces; check with kubectl auth can-i list pods --all-namespaces)',
    );
    expect(run.stdout).toBe("");
  });

  it.each([
    [["--bogus"], "Unknown option '--bogus'"],
    [["extra"], 'snapshot takes no arguments, got "extra"'],
    [
      ["--metrics-max-age", "soon"],
      '--metrics-max-age expects a whole number of at least 1, got "soon"',
    ],
    [["--page-size", "0"], "--page-size expects a whole number of at least 1"],
  ])("exits 2 on bad flags %j", async (args, message) => {
    const run = await runCli(["snapshot", "--kubeconfig", lab.kubeconfig, ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it("exits 2 on a bad kubeconfig or context", async () => {
    const missing = await runCli(["snapshot", "--kubeconfig", "nope.yaml"], lab.dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      `pr-autoscaler snapshot: ${join(lab.dir, "nope.yaml")}: kubeconfig file not found\n`,
    );
    const context = await runCli(["snapshot", "--kubeconfig", lab.kubeconfig, "--context", "prod"]);
    expect(context.code).toBe(2);
    expect(context.stderr).toContain('context "prod" is not defined (defined: fake)');
  });

  it("exits 2 when no kubeconfig can be found at all", async () => {
    // runCli passes an empty environment: no KUBECONFIG, no HOME, not in a pod.
    const run = await runCli(["snapshot"], lab.dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("no Kubernetes configuration found");
  });
});
