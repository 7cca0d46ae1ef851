/**
 * The container image, without a container engine: the test follows the Dockerfile, copying
 * what its COPY lines copy (through .dockerignore) and running what its build stages run, then
 * runs the final stage's ENTRYPOINT with the project's Node.js 24 (the image's Node.js
 * version), from the image's files only, as the image's user would on a read-only root
 * filesystem: Node's permission model refuses every write outside TMPDIR.
 *
 * Slow (two `npm ci` from the local npm cache and a `tsc` build): everything is prepared once.
 */
import { execFile, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import {
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  realpath,
  rm,
  symlink,
} from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { homedir, tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { commitEverything } from "../support/git-repo.ts";
import { dockerIgnoreAllows, type Instruction, parseDockerfile, type Stage } from "./dockerfile.ts";
import { projectRoot } from "./kube-objects.ts";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Where each stage's WORKDIR lives on this machine. */
const stageDirs = new Map<string, string>();
const workdirs = new Map<string, string>();
let workspace: string;
/** A directory whose only program is `node`: the Node.js the image runs. */
let nodeBin: string;
let imageDir: string;
let tmp: string;
let home: string;
let repo: string;
let stages: Stage[];
let dockerignore: string;
const imageEnv: Record<string, string> = {};
const finalRuns: string[] = [];

const nodeBinary = join(projectRoot, "node_modules/node/bin/node");
const now = "2026-11-27T14:30:00Z";

function final(): Stage {
  return stages.at(-1) as Stage;
}

function instructions(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}

function lastArgs(stage: Stage, keyword: string): string[] | undefined {
  return instructions(stage, keyword).at(-1)?.args;
}

function exec(
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<Run> {
  return new Promise((done) => {
    execFile(
      command,
      args,
      { ...options, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/**
 * The environment a build stage's RUN has: the image's Node.js first on the PATH, this
 * machine's npm settings (cache, registry), and npm kept off the network.
 */
function buildEnv(): Record<string, string> {
  const npmSettings = Object.entries(process.env).filter(
    (entry): entry is [string, string] => /^npm_config_/i.test(entry[0]) && entry[1] !== undefined,
  );
  return {
    ...Object.fromEntries(npmSettings),
    PATH: `${nodeBin}:/usr/bin:/bin`,
    HOME: homedir(),
    npm_config_offline: "true",
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
    npm_config_loglevel: "error",
  };
}

/** Maps an absolute path of the stage's filesystem under its WORKDIR to this machine. */
function inStage(stage: string, path: string): string {
  const workdir = workdirs.get(stage);
  const dir = stageDirs.get(stage);
  if (workdir === undefined || dir === undefined) throw new Error(`no stage ${stage}`);
  const inside = path.startsWith("/") ? relative(workdir, path) : path;
  if (inside.startsWith("..")) {
    throw new Error(`${path} is outside ${stage}'s WORKDIR ${workdir}: the test cannot follow it`);
  }
  return join(dir, inside);
}

async function copy(stage: string, instruction: Instruction): Promise<void> {
  const sources = instruction.args.slice(0, -1);
  const destination = instruction.args.at(-1) as string;
  const from = instruction.flags.from;
  const target = inStage(stage, destination);
  for (const source of sources) {
    const origin = from === undefined ? join(projectRoot, source) : inStage(from, source);
    if (from === undefined && !dockerIgnoreAllows(dockerignore, source)) {
      throw new Error(`COPY ${source}: .dockerignore keeps it out of the build context`);
    }
    const isDir = (await lstat(origin)).isDirectory();
    // Docker copies a directory's contents; a file into a destination ending in "/" keeps its name.
    const to = isDir || !destination.endsWith("/") ? target : join(target, basename(source));
    await cp(origin, to, {
      recursive: true,
      filter: (path) =>
        from !== undefined || dockerIgnoreAllows(dockerignore, relative(projectRoot, path)),
    });
  }
}

async function buildStage(stage: Stage, isFinal: boolean): Promise<void> {
  const dir = join(workspace, `stage-${stage.name}`);
  await mkdir(dir, { recursive: true });
  stageDirs.set(stage.name, dir);
  for (const instruction of stage.instructions) {
    switch (instruction.keyword) {
      case "WORKDIR":
        if (workdirs.has(stage.name)) throw new Error("one WORKDIR per stage, please");
        workdirs.set(stage.name, instruction.args[0] as string);
        break;
      case "COPY":
        await copy(stage.name, instruction);
        break;
      case "RUN":
        // The final stage's RUN changes the base image (checked below), not the app's files.
        if (isFinal) finalRuns.push(instruction.text);
        else {
          const run = await exec("sh", ["-c", instruction.text], { cwd: dir, env: buildEnv() });
          if (run.code !== 0) throw new Error(`RUN ${instruction.text}: ${run.stderr}`);
        }
        break;
      case "ENV":
        for (const pair of instruction.args) {
          const [name, ...value] = pair.split("=");
          if (isFinal) imageEnv[name as string] = value.join("=");
        }
        break;
      case "USER":
      case "EXPOSE":
      case "HEALTHCHECK":
      case "ENTRYPOINT":
      case "CMD":
      case "LABEL":
      case "ARG":
        break;
      default:
        throw new Error(`the image test does not know ${instruction.keyword}`);
    }
  }
}

/** Paths, sizes and modification times of every file under `dir`. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const lines: string[] = [];
  for (const entry of entries) {
    const path = join(entry.parentPath, entry.name);
    const stat = await lstat(path);
    lines.push(`${relative(dir, path)} ${stat.size} ${stat.mtimeMs}`);
  }
  return lines.sort();
}

/**
 * Runs the image's ENTRYPOINT with `args`, as the image would: its files only, its ENV, its
 * Node.js first on a PATH without the project's tools, an unwritable HOME and working
 * directory, and writes refused everywhere but TMPDIR.
 */
function runImage(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const [command, ...entryArgs] = lastArgs(final(), "ENTRYPOINT") as string[];
  return exec(command as string, [...readOnly(), ...entryArgs, ...args], {
    cwd: imageDir,
    env: { PATH: `${nodeBin}:/usr/bin:/bin`, HOME: home, TMPDIR: tmp, ...imageEnv, ...env },
  });
}

function readOnly(): string[] {
  return ["--permission", "--allow-fs-read=*", `--allow-fs-write=${tmp}`];
}

beforeAll(async () => {
  workspace = await mkdtemp(join(tmpdir(), "pr-autoscaler-image-"));
  nodeBin = join(workspace, "node-bin");
  await mkdir(nodeBin);
  await symlink(await realpath(nodeBinary), join(nodeBin, "node"));
  tmp = join(workspace, "tmp");
  home = join(workspace, "home");
  repo = join(workspace, "talos-proxmox");
  await mkdir(tmp);
  await mkdir(home);
  await cp(join(projectRoot, "examples/talos-proxmox"), repo, { recursive: true });
  // A checkout, as users plan from: the image, without git, cannot read its history, and the
  // example's decision (a scale-up) does not rest on it.
  commitEverything(repo, "2026-11-20T14:30:00Z", "talos-proxmox");
  dockerignore = await readFile(join(projectRoot, ".dockerignore"), "utf8");
  stages = parseDockerfile(await readFile(join(projectRoot, "Dockerfile"), "utf8"));
  for (const [index, stage] of stages.entries()) {
    await buildStage(stage, index === stages.length - 1);
  }
  imageDir = stageDirs.get(final().name) as string;
}, 600_000);

afterAll(async () => {
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

describe("the Dockerfile", () => {
  it("builds in stages on the official Node.js 24 image and keeps only the last", () => {
    expect(stages.map((stage) => stage.name)).toEqual(["build", "production-deps", "2"]);
    for (const stage of stages) expect(stage.base).toMatch(/^node:24-[a-z]+-slim$/);
  });

  it("compiles with tsc in the build stage and installs production dependencies apart", () => {
    const runs = (name: string) =>
      instructions(stages.find((s) => s.name === name) as Stage, "RUN").map((r) => r.text);
    expect(runs("build")).toEqual(["npm ci --ignore-scripts", "npx tsc -p tsconfig.build.json"]);
    expect(runs("production-deps")).toEqual(["npm ci --omit=dev --ignore-scripts"]);
  });

  it("runs as a numeric non-root user, the server command, with a health check in Node.js", () => {
    const [user, group] = (lastArgs(final(), "USER")?.[0] ?? "").split(":");
    expect(Number(user)).toBeGreaterThan(0);
    expect(Number(group)).toBeGreaterThan(0);
    expect(lastArgs(final(), "ENTRYPOINT")).toEqual(["node", "bin/pr-autoscaler.js"]);
    expect(lastArgs(final(), "CMD")).toEqual(["serve"]);
    expect(instructions(final(), "CMD")[0]?.exec).toBe(true);
    expect(lastArgs(final(), "EXPOSE")).toEqual(["3000"]);
    const healthcheck = instructions(final(), "HEALTHCHECK")[0];
    expect(healthcheck?.exec).toBe(true);
    expect(healthcheck?.args[0]).toBe("node");
  });

  it("removes the base image's package managers in the final stage, and only changes that", () => {
    const removed = finalRuns.join(" && ");
    for (const command of finalRuns.flatMap((run) => run.split("&&"))) {
      expect(command.trim()).toMatch(/^rm -r?f /);
    }
    for (const tool of [
      "/usr/local/bin/npm",
      "/usr/local/bin/npx",
      "/usr/local/bin/corepack",
      "/usr/local/bin/yarn",
      "/usr/local/lib/node_modules",
      "/usr/bin/apt-*",
      "/usr/bin/dpkg",
    ]) {
      expect(removed.split(/\s+/)).toContain(tool);
    }
    expect(removed).not.toMatch(/\/app\b/);
  });

  it("copies only what .dockerignore lets into the context, and no sources or tests", async () => {
    const copied = stages
      .flatMap((stage) => instructions(stage, "COPY"))
      .filter((copy) => copy.flags.from === undefined)
      .flatMap((copy) => copy.args.slice(0, -1));
    for (const source of copied)
      expect([source, dockerIgnoreAllows(dockerignore, source)]).toEqual([source, true]);
    for (const kept of [
      "node_modules",
      "test/cli",
      ".git",
      "examples",
      ".env",
      "key.pem",
      "dist",
    ]) {
      expect([kept, dockerIgnoreAllows(dockerignore, kept)]).toEqual([kept, false]);
    }
    expect((await readdir(imageDir)).sort()).toEqual([
      "app.yml",
      "bin",
      "dist",
      "node_modules",
      "package.json",
      "policies",
    ]);
  });
});

describe("the image's files", () => {
  it("hold production dependencies only: no compiler, test runner, linter or package manager", async () => {
    const bins = await readdir(join(imageDir, "node_modules/.bin")).catch(() => []);
    for (const tool of ["tsc", "jest", "biome", "swc", "npm", "npx", "node"]) {
      expect(bins).not.toContain(tool);
    }
    const packages = await readdir(join(imageDir, "node_modules"));
    for (const name of ["typescript", "jest", "fast-check", "nock", "node", "kubernetes-models"]) {
      expect(packages).not.toContain(name);
    }
    expect(packages).toEqual(expect.arrayContaining(["probot", "yaml", "zod", "pino"]));
  });

  it("hold the compiled program and no TypeScript sources", async () => {
    const files = await tree(imageDir);
    expect(files.some((line) => line.startsWith("dist/cli/main.js "))).toBe(true);
    expect(files.filter((line) => /^(src|dist)\/.*\.ts /.test(line))).toEqual([]);
    expect(files.filter((line) => line.startsWith("src/"))).toEqual([]);
  });
});

describe("running the image", () => {
  it("has Node.js 24 first on its PATH", async () => {
    const run = await exec("node", ["--version"], {
      cwd: imageDir,
      env: { PATH: `${nodeBin}:/usr/bin:/bin` },
    });
    expect(run.stdout).toMatch(/^v24\./);
  });

  it("refuses writes outside TMPDIR, as a read-only root filesystem does", async () => {
    const write = (path: string) =>
      exec(
        "node",
        [...readOnly(), "-e", `require("node:fs").writeFileSync(${JSON.stringify(path)}, "x")`],
        {
          cwd: imageDir,
          env: { PATH: `${nodeBin}:/usr/bin:/bin`, HOME: home, TMPDIR: tmp },
        },
      );
    const refused = await write(join(imageDir, "probe"));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("ERR_ACCESS_DENIED");
    expect((await write(join(home, "probe"))).code).not.toBe(0);
    expect(await write(join(tmp, "probe"))).toMatchObject({ code: 0, stderr: "" });
    await rm(join(tmp, "probe"));
  });

  it("--help lists the commands", async () => {
    const run = await runImage(["--help"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(/^pr-autoscaler: scales a Kubernetes cluster/);
    expect(run.stdout).toMatch(/^ {2}plan /m);
  });

  it("plans for the example repo exactly as the checkout does, writing nothing", async () => {
    const args = [
      "plan",
      "--repo",
      repo,
      "--snapshot",
      join(repo, "cluster/snapshot.json"),
      "--now",
      now,
    ];
    const watched = [imageDir, repo, home];
    const before = await Promise.all(watched.map(tree));
    const run = await runImage(args);
    // The image has no git (and the permission model starts no process): no history, and
    // plan says so; the example's decision, a scale-up, does not rest on it.
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /^warning: git could not be started .*the time of the last change is unknown/,
    );
    expect(run.stdout).toContain("pool/workers: scale up 3 → 4 nodes");
    const checkout = await exec(nodeBinary, [join(projectRoot, "bin/pr-autoscaler.js"), ...args], {
      cwd: projectRoot,
      env: { PATH: "/usr/bin:/bin", HOME: home },
    });
    expect(checkout.code).toBe(0);
    expect(run.stdout).toBe(checkout.stdout);
    expect(await Promise.all(watched.map(tree))).toEqual(before);
  });

  it("reports bad input with exit code 2 and no stack trace", async () => {
    const run = await runImage(["plan", "--repo", repo, "--snapshot", join(repo, "README.md")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("README.md");
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it("serves the GitHub App with its CMD, on a read-only filesystem, and stops on SIGTERM", async () => {
    // GitHub as far as starting needs it: the app's slug, and no installation yet.
    const github = createServer((request, response) => {
      const answers: Record<string, unknown> = {
        "/api/v3/app": { id: 1, slug: "pr-autoscaler", name: "pr-autoscaler" },
        "/api/v3/app/installations": [],
      };
      const answer = answers[(request.url ?? "").split("?")[0] ?? ""];
      response.writeHead(answer === undefined ? 404 : 200, { "content-type": "application/json" });
      response.end(JSON.stringify(answer ?? { message: "Not Found" }));
    });
    await new Promise<void>((done) => github.listen(0, "127.0.0.1", done));
    const port = await freePort();
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const [command, ...entryArgs] = lastArgs(final(), "ENTRYPOINT") as string[];
    const server = spawn(
      command as string,
      [...readOnly(), ...entryArgs, ...(lastArgs(final(), "CMD") ?? [])],
      {
        cwd: imageDir,
        env: {
          PATH: `${nodeBin}:/usr/bin:/bin`,
          HOME: home,
          TMPDIR: tmp,
          ...imageEnv,
          APP_ID: "1",
          PRIVATE_KEY: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
          GHE_HOST: `127.0.0.1:${(github.address() as AddressInfo).port}`,
          GHE_PROTOCOL: "http",
          HOST: "127.0.0.1",
          PORT: String(port),
        },
      },
    );
    let output = "";
    server.stdout.on("data", (chunk) => {
      output += chunk;
    });
    server.stderr.on("data", (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((done) => server.once("exit", (code) => done(code)));
    try {
      const health = await poll(`http://127.0.0.1:${port}/healthz`, () => output);
      expect(health).toBe(200);
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(await metrics.text()).toContain("pr_autoscaler_");
      expect(output).toContain("pr-autoscaler is running");
      server.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      server.kill("SIGKILL");
      await new Promise<void>((done) => github.close(() => done()));
    }
  });

  describe("its HEALTHCHECK", () => {
    let server: Server;
    let status = 200;
    let port: number;

    beforeAll(async () => {
      server = createServer((request, response) => {
        response.writeHead(request.url === "/healthz" ? status : 404).end();
      });
      await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
      port = (server.address() as AddressInfo).port;
    });

    afterAll(async () => {
      await new Promise<void>((done) => server.close(() => done()));
    });

    function healthcheck(env: Record<string, string>): Promise<Run> {
      const [command, ...args] = instructions(final(), "HEALTHCHECK")[0]?.args ?? [];
      return exec(command as string, [...readOnly(), ...args], {
        cwd: imageDir,
        env: { PATH: `${nodeBin}:/usr/bin:/bin`, HOME: home, TMPDIR: tmp, ...imageEnv, ...env },
      });
    }

    it("passes when /healthz answers 200 on PORT", async () => {
      status = 200;
      expect((await healthcheck({ PORT: String(port) })).code).toBe(0);
    });

    it("fails when /healthz answers 503, or nothing listens", async () => {
      status = 503;
      expect((await healthcheck({ PORT: String(port) })).code).toBe(1);
      const closed = createServer();
      await new Promise<void>((done) => closed.listen(0, "127.0.0.1", done));
      const free = (closed.address() as AddressInfo).port;
      await new Promise<void>((done) => closed.close(() => done()));
      expect((await healthcheck({ PORT: String(free) })).code).toBe(1);
    });
  });
});

/** A port nothing listens on at the moment. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, "127.0.0.1", done));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((done) => probe.close(() => done()));
  return port;
}

/** The status of `url` once something answers there (the server is starting); its output if never. */
async function poll(url: string, output: () => string): Promise<number> {
  for (let attempt = 0; attempt < 300; attempt++) {
    try {
      return (await fetch(url)).status;
    } catch {
      await new Promise((done) => setTimeout(done, 100));
    }
  }
  throw new Error(`nothing answered at ${url}; the server said:\n${output()}`);
}
