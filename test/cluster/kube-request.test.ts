import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { formatTimeout } from "../../src/cluster/kube-client.ts";
import { loadKubeConfig } from "../../src/cluster/kube-config.ts";
import { kubeRequest } from "../../src/cluster/kube-request.ts";

describe("kubeRequest against a server that never answers, or never finishes", () => {
  let server: Server;
  let dir: string;
  let kubeconfig: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      // Anything but pods: accepted and kept open, what an overloaded API server looks like.
      if (request.url !== "/api/v1/pods") return;
      // Pods: an answer whose body never ends, a space every 20 ms.
      response.writeHead(200, { "Content-Type": "application/json" });
      response.write('{"kind":"PodList","items":[');
      const timer = setInterval(() => response.write(" "), 20);
      request.socket.once("close", () => clearInterval(timer));
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const { port } = server.address() as AddressInfo;
    dir = await mkdtemp(join(tmpdir(), "kube-request-"));
    kubeconfig = join(dir, "kubeconfig");
    await writeFile(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        `- cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}`,
        "  name: slow",
        "contexts:",
        "- context: {cluster: slow, user: slow}",
        "  name: slow",
        "current-context: slow",
        "users:",
        "- name: slow",
        "  user: {token: abc}",
      ].join("\n"),
    );
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
    await rm(dir, { recursive: true, force: true });
  });

  it("gives up after its timeout and says how long it waited, also under a second", async () => {
    const loaded = loadKubeConfig({ kubeconfig, env: {} });
    await expect(
      kubeRequest(loaded, { method: "GET", path: "/api/v1/nodes", timeoutMs: 250 }),
    ).rejects.toThrow("GET /api/v1/nodes: no response within 250 ms");
  });

  it("gives up on a body that keeps arriving at three times its timeout, the limit for one request", async () => {
    // The body must never look stopped: a stall of this process as long as the timeout, the
    // server's spaces unread, would end the request on it. A one-second stall happens on a
    // loaded machine, so the timeout is 3 s, not 1.
    const loaded = loadKubeConfig({ kubeconfig, env: {} });
    await expect(
      kubeRequest(loaded, { method: "GET", path: "/api/v1/pods", timeoutMs: 3_000 }),
    ).rejects.toThrow(
      "GET /api/v1/pods: the response did not end within 9 s, the limit for one request (it kept arriving, too slowly)",
    );
  });
});

describe("formatTimeout", () => {
  it("writes milliseconds under a second and seconds above", () => {
    expect([250, 1000, 1500, 30_000].map(formatTimeout)).toEqual([
      "250 ms",
      "1 s",
      "1.5 s",
      "30 s",
    ]);
  });
});
