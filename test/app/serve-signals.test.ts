/**
 * `pr-autoscaler serve` as a process, stopped by the signal Kubernetes sends a pod it deletes
 * (SIGTERM) or by Ctrl-C (SIGINT): it releases its Lease and exits 0, by itself when nothing is
 * left holding its event loop (a timer, a server, a connection to GitHub or to the Kubernetes
 * API), and a second after the stop when a read the Kubernetes API never answers is still open.
 * A second signal, either one, stops it now: it still releases its Lease, and exits 143 or 130;
 * a third exits at once, without waiting for the release.
 * GitHub is a small server on 127.0.0.1 answering what starting needs (the app's slug, no
 * installation yet); the Kubernetes API is the fake API server, which holds the Lease.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { FakeKubeApiserver } from "../support/fake-kube-apiserver.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const NAMESPACE = "pr-autoscaler";
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });

let dir: string;
let kube: FakeKubeApiserver;
let kubeconfig: string;
let github: Server;
/** Every process started; one still running when the file ends (a failed test) is killed. */
const children: ChildProcessByStdio<null, Readable, Readable>[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-serve-"));
  kube = await FakeKubeApiserver.start();
  kubeconfig = await kube.writeKubeconfig(join(dir, "kubeconfig"));
  github = createServer((request, response) => {
    const answers: Record<string, unknown> = {
      "/api/v3/app": { id: 1, slug: "pr-autoscaler", name: "pr-autoscaler" },
      "/api/v3/app/installations": [],
    };
    const answer = answers[(request.url ?? "").split("?")[0] ?? ""];
    response.writeHead(answer === undefined ? 404 : 200, { "content-type": "application/json" });
    response.end(JSON.stringify(answer ?? { message: "Not Found" }));
  });
  await new Promise<void>((done) => github.listen(0, "127.0.0.1", done));
});

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await new Promise<void>((done) => github.close(() => done()));
  await kube.close();
  await rm(dir, { recursive: true, force: true });
});

/** A port nothing listens on at the moment (PORT takes no 0). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, "127.0.0.1", done));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((done) => probe.close(() => done()));
  return port;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The app as a container runs it, with leader election on; its output collected. */
function serve(port: number): {
  child: ChildProcessByStdio<null, Readable, Readable>;
  exited: Promise<Exit>;
  output: () => string;
} {
  const child = spawn(
    join(repoRoot, "node_modules/.bin/node"),
    [join(repoRoot, "bin/pr-autoscaler.js"), "serve", "--kubeconfig", kubeconfig],
    {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        APP_ID: "1",
        PRIVATE_KEY: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
        WEBHOOK_SECRET: "It's a Secret to Everybody",
        GHE_HOST: `127.0.0.1:${(github.address() as AddressInfo).port}`,
        GHE_PROTOCOL: "http",
        HOST: "127.0.0.1",
        PORT: String(port),
        LEADER_ELECTION: "true",
        POD_NAME: "pr-autoscaler-0",
        POD_NAMESPACE: NAMESPACE,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  children.push(child);
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  const exited = new Promise<Exit>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => output };
}

/** Who holds the Lease, as the fake API server stores it. */
function holder(): string | undefined {
  const spec = kube.get("leases", "pr-autoscaler", NAMESPACE)?.spec as
    | { holderIdentity?: string }
    | undefined;
  return spec?.holderIdentity;
}

/** Resolves once the process leads (it holds the Lease); fails if it exits first. */
async function leading(app: ReturnType<typeof serve>): Promise<void> {
  let exit: Exit | undefined;
  void app.exited.then((ended) => {
    exit = ended;
  });
  while (holder() !== "pr-autoscaler-0") {
    if (exit) throw new Error(`serve exited (${JSON.stringify(exit)}):\n${app.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("pr-autoscaler serve, stopped by a signal", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`releases the Lease and exits 0 by itself after ${signal}`, async () => {
      const port = await freePort();
      const app = serve(port);
      await leading(app);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      app.child.kill(signal);
      // Nothing here kills it after the signal: it exits by itself.
      expect(await app.exited).toEqual({ code: 0, signal: null });
      expect(app.output()).toContain("stopping: waiting for running reconciles");
      // Nothing was left open that had to be ended with the process.
      expect(app.output()).not.toContain("stopped: a request still open");
      expect(holder()).toBe("");
    }, 60_000);
  }

  for (const [second, code] of [
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const) {
    it(`stops now at a ${second} after SIGTERM: still releases the Lease, and exits ${code}`, async () => {
      // The read the app starts with (for readiness) is never answered, so the first stop waits
      // its 40 s for it: what the second signal cuts short.
      let answer = () => {};
      kube.injectFault({
        path: /\/nodes$/,
        times: Number.POSITIVE_INFINITY,
        until: new Promise<void>((resolve) => {
          answer = resolve;
        }),
      });
      try {
        const port = await freePort();
        const seen = kube.requests.length;
        const app = serve(port);
        await leading(app);
        while (!kube.requests.slice(seen).some((request) => request.path.endsWith("/nodes")))
          await new Promise((resolve) => setTimeout(resolve, 50));
        app.child.kill("SIGTERM");
        while (!app.output().includes("stopping: waiting for running reconciles"))
          await new Promise((resolve) => setTimeout(resolve, 50));
        app.child.kill(second);
        // Not killed by the signal (that would leave the Lease held for 15 s): it stops itself.
        expect(await app.exited).toEqual({ code, signal: null });
        expect(app.output()).toContain("stopping now (a second signal)");
        expect(app.output()).toContain(
          "stopping: a read of the cluster or GitHub for readiness is still running; the Lease is released anyway",
        );
        expect(holder()).toBe("");
      } finally {
        answer();
        kube.clearFaults();
      }
    }, 60_000);
  }

  it("exits at once at a third signal, while the Lease's release is still waited for", async () => {
    const port = await freePort();
    const app = serve(port);
    await leading(app);
    // Writes of the Lease held until the test ends: the renewal, then the release, wait each
    // for its request's timeout (5 s), and the stop told to hurry waits 5 s for the release.
    let answer = () => {};
    kube.injectFault({
      method: "PUT",
      path: /\/leases\/pr-autoscaler$/,
      times: Number.POSITIVE_INFINITY,
      until: new Promise<void>((resolve) => {
        answer = resolve;
      }),
    });
    try {
      const writes = kube.requestCount({ method: "PUT" });
      while (kube.requestCount({ method: "PUT" }) === writes)
        await new Promise((resolve) => setTimeout(resolve, 50));
      app.child.kill("SIGTERM");
      while (!app.output().includes("stopping: waiting for running reconciles"))
        await new Promise((resolve) => setTimeout(resolve, 50));
      app.child.kill("SIGTERM");
      while (!app.output().includes("stopping now (a second signal)"))
        await new Promise((resolve) => setTimeout(resolve, 50));
      app.child.kill("SIGTERM");
      expect(await app.exited).toEqual({ code: 143, signal: null });
      expect(app.output()).toContain("stopped at once (a third signal)");
      // It did not wait for the release: neither the release nor the stop told to hurry ended.
      expect(app.output()).not.toContain("released the Lease");
      expect(app.output()).not.toContain("could not release the Lease");
      expect(app.output()).not.toContain("the Lease is not released yet");
      expect(holder()).toBe("pr-autoscaler-0");
    } finally {
      answer();
      kube.clearFaults();
    }
  }, 60_000);

  it("exits 0 after SIGTERM though the Kubernetes API never answers its read of the nodes", async () => {
    // Held until the test ends: the read the app starts with (for readiness) stays open, and
    // the client's own timeout (a minute, then tries again) is past the pod's grace period.
    let answer = () => {};
    kube.injectFault({
      path: /\/nodes$/,
      times: Number.POSITIVE_INFINITY,
      until: new Promise<void>((resolve) => {
        answer = resolve;
      }),
    });
    try {
      const port = await freePort();
      const seen = kube.requests.length;
      const app = serve(port);
      await leading(app);
      while (!kube.requests.slice(seen).some((request) => request.path.endsWith("/nodes")))
        await new Promise((resolve) => setTimeout(resolve, 50));
      app.child.kill("SIGTERM");
      // After the stop's wait (40 s), the Lease is released and the process ends, the read open.
      expect(await app.exited).toEqual({ code: 0, signal: null });
      expect(app.output()).toContain(
        "stopping: a read of the cluster or GitHub for readiness is still running; the Lease is released anyway",
      );
      expect(app.output()).toContain(
        "stopped: a request still open (a read no one answered) ends with the process",
      );
      expect(holder()).toBe("");
    } finally {
      answer();
      kube.clearFaults();
    }
  }, 120_000);
});
