import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { runCli } from "../support/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "edit-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TFVARS = `# Cluster size
worker_count   = 3 # workers
worker_memory  = 16384
cluster_name   = "homelab"
nodes = {
  "k3s-worker-1" = { cores = 4 }
}
`;
const VALUES =
  "controllers:\r\n  main:\r\n    containers:\r\n      app:\r\n        image: plex # the app\r\n";

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("pr-autoscaler get", () => {
  it("prints scalars as they read and maps as JSON", async () => {
    const tfvars = file("get.tfvars", TFVARS);
    expect(await runCli(["get", tfvars, "worker_count"])).toEqual({
      code: 0,
      stdout: "3\n",
      stderr: "",
    });
    expect((await runCli(["get", tfvars, "cluster_name"])).stdout).toBe("homelab\n");
    expect(JSON.parse((await runCli(["get", tfvars, 'nodes["k3s-worker-1"]'])).stdout)).toEqual({
      cores: 4,
    });
  });

  it("prints an expression as its source text", async () => {
    const tfvars = file("expr.tfvars", "worker_count = var.base + 1\n");
    expect((await runCli(["get", tfvars, "worker_count"])).stdout).toBe("var.base + 1\n");
  });

  it("names the file and the missing step, exit 2", async () => {
    const tfvars = file("missing.tfvars", TFVARS);
    const run = await runCli(["get", tfvars, "worker_pools.general.count"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("missing.tfvars");
    expect(run.stderr).toContain("worker_pools");
  });
});

describe("pr-autoscaler edit", () => {
  it("prints the whole edited file with only the value's bytes changed", async () => {
    const tfvars = file("print.tfvars", TFVARS);
    const run = await runCli(["edit", tfvars, "worker_count", "4"]);
    expect(run).toEqual({ code: 0, stdout: TFVARS.replace("= 3 #", "= 4 #"), stderr: "" });
    expect(readFileSync(tfvars, "utf8")).toBe(TFVARS);
  });

  it("with --write replaces the file atomically, keeps its mode, prints nothing and leaves no temporary file", async () => {
    const values = file("values.yaml", VALUES);
    chmodSync(values, 0o640);
    const run = await runCli([
      "edit",
      values,
      "controllers.main.containers.app.resources.requests.memory",
      "2Gi",
      "--write",
    ]);
    expect(run).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(readFileSync(values, "utf8")).toBe(
      `${VALUES}        resources:\r\n          requests:\r\n            memory: 2Gi\r\n`,
    );
    expect(statSync(values).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("refuses an expression target with file and line, exit 2, and leaves the file untouched", async () => {
    const text = "a = 1\nworker_count = max(2, var.n)\n";
    const tfvars = file("refuse.tfvars", text);
    const run = await runCli(["edit", tfvars, "worker_count", "4", "--write"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/refuse\.tfvars:2(:\d+)?: /);
    expect(readFileSync(tfvars, "utf8")).toBe(text);
  });

  it("refuses a file that does not parse, saying where", async () => {
    const values = file("broken.yaml", "a: [1, 2\nb: 3\n");
    const run = await runCli(["edit", values, "b", "4"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/broken\.yaml:\d+:\d+: /);
  });

  it("keeps a string a string when VALUE is quoted, and takes --format for other names", async () => {
    const config = file("stack.conf", 'config:\n  talos:workerCount: "3"\n');
    const run = await runCli([
      "edit",
      config,
      'config."talos:workerCount"',
      '"4"',
      "--format",
      "yaml",
    ]);
    expect(run.stdout).toBe('config:\n  talos:workerCount: "4"\n');
  });

  it("reports usage errors with exit 2", async () => {
    expect((await runCli(["edit", "x.tfvars", "a"])).code).toBe(2);
    expect((await runCli(["edit", "x.tfvars", "a", "1", "--bogus"])).code).toBe(2);
    const unknown = await runCli(["edit", file("x.conf", "a = 1\n"), "a", "1"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--format");
    const format = await runCli(["get", file("y.tfvars", "a = 1\n"), "a", "--format", "json"]);
    expect(format.code).toBe(2);
    const document = await runCli(["get", file("z.tfvars", "a = 1\n"), "a", "--document", "1"]);
    expect(document.stderr).toContain("YAML files only");
  });

  it("refuses a file that is not UTF-8 instead of rewriting its bytes", async () => {
    const path = join(dir, "latin1.tfvars");
    writeFileSync(path, Buffer.from([0x61, 0x20, 0x3d, 0x20, 0x31, 0x20, 0x23, 0xe9, 0x0a]));
    const run = await runCli(["edit", path, "a", "2", "--write"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("not valid UTF-8 text (byte 0xe9 at line 1, column 8)");
  });

  it("says where the first byte that is not UTF-8 lies, past a replacement character written as such", async () => {
    // Line 1 holds U+FFFD as UTF-8 (EF BF BD), which is text; line 2 a Latin-1 "é" after "€".
    const path = join(dir, "mixed.tfvars");
    const line1 = Buffer.from('a = "\uFFFD"\n', "utf8");
    const line2 = Buffer.concat([Buffer.from("b = 1 # \u20AC", "utf8"), Buffer.from([0xe9, 0x0a])]);
    writeFileSync(path, Buffer.concat([line1, line2]));
    const run = await runCli(["edit", path, "a", '"x"', "--write"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("not valid UTF-8 text (byte 0xe9 at line 2, column 10)");
  });
});
