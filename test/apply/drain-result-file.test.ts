/** `drain --result-file`: the JSON result in a file, the readable one on stdout. */
import { rmSync } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import type { DrainResult } from "../../src/apply/drain-result.ts";
import { budget, jsonResult, node, pod, useDrainCluster } from "./drain-support.ts";

const cluster = useDrainCluster("drain-result-file");
const { unschedulable, writes } = cluster;

async function readResult(file: string): Promise<DrainResult> {
  return JSON.parse(await readFile(file, "utf8")) as DrainResult;
}

describe("drain --result-file", () => {
  it("writes the same result --json prints, and keeps stdout readable", async () => {
    cluster.fake.add(node("worker-1"), pod("api-1", "worker-1"));
    await mkdir(join(cluster.dir, "out"));
    const run = await cluster.drain(["worker-1", "--result-file", "out/drain.json"]);
    expect(run.code).toBe(0);
    const result = await readResult(join(cluster.dir, "out/drain.json"));
    expect(result.outcome).toBe("drained");
    expect(result.nodes[0]?.evicted).toEqual(["apps/api-1"]);
    expect(run.stdout).toMatch(/Drained worker-1 in /);
    expect(run.stdout).not.toContain('"outcome"');
    // Nothing but the result is left in the folder: the partial file was renamed into place.
    expect(await readdir(join(cluster.dir, "out"))).toEqual(["drain.json"]);
  });

  it("with --json too, the file holds what stdout holds", async () => {
    cluster.fake.add(node("worker-1"), pod("api-1", "worker-1"));
    const file = join(cluster.dir, "drain.json");
    const run = await cluster.drain(["worker-1", "--json", "--result-file", file]);
    expect(run.code).toBe(0);
    expect(await readResult(file)).toEqual(jsonResult(run));
  });

  it("writes a refused drain's result too, and exits 1", async () => {
    cluster.fake.add(
      node("worker-1"),
      pod("db-1", "worker-1", { labels: { app: "db" } }),
      budget("db-a", "db", 1),
      budget("db-b", "db", 1),
    );
    const file = join(cluster.dir, "drain.json");
    const run = await cluster.drain(["worker-1", "--result-file", file]);
    expect(run.code).toBe(1);
    expect((await readResult(file)).outcome).toBe("refused");
    expect(unschedulable("worker-1")).toBe(false);
  });

  it("refuses a file in a folder that does not exist before it touches any node", async () => {
    cluster.fake.add(node("worker-1"), pod("api-1", "worker-1"));
    const run = await cluster.drain(["worker-1", "--result-file", "missing/drain.json"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `--result-file missing/drain.json: the folder ${join(cluster.dir, "missing")} does not exist`,
    );
    expect(writes()).toEqual([]);
  });

  it("refuses a folder as the file", async () => {
    cluster.fake.add(node("worker-1"));
    const run = await cluster.drain(["worker-1", "--result-file", "."]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--result-file . is a folder");
    expect(writes()).toEqual([]);
  });

  it("tells on stderr when the result cannot be written, and keeps the drain's exit code", async () => {
    cluster.fake.add(node("worker-1"), pod("api-1", "worker-1"));
    const folder = join(cluster.dir, "gone");
    await mkdir(folder);
    // The folder disappears while the drain runs: it was there when the flag was checked.
    cluster.fake.onRequest = (request) => {
      if (request.path.endsWith("/eviction")) rmSync(folder, { recursive: true });
    };
    const run = await cluster.drain(["worker-1", "--result-file", join(folder, "drain.json")]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      new RegExp(`could not write the result to ${folder}/drain\\.json: ENOENT`),
    );
  });
});
