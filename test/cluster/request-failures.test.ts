import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { KubeApiError } from "../../src/cluster/kube-client.ts";
import { loadKubeConfig } from "../../src/cluster/kube-config.ts";
import { kubeRequest } from "../../src/cluster/kube-request.ts";
import { ClusterReadError, readSnapshot } from "../../src/cluster/read-snapshot.ts";
import { FakeKubeApiserver } from "../support/fake-kube-apiserver.ts";

// What a failed read says, by where it failed: getting the credentials, building the request,
// or decoding a complete answer. Each names the request as the server's failures do.

let dir: string;
let fake: FakeKubeApiserver;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-request-failures-"));
  fake = await FakeKubeApiserver.start({ token: "good" });
  fake.add({ kind: "Node", metadata: { name: "n1" }, status: {} });
});

afterAll(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

/** A kubeconfig for `server` whose only user has `user` (YAML lines). */
async function kubeconfig(name: string, server: string, user: string[]): Promise<string> {
  const file = join(dir, name);
  await writeFile(
    file,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: k",
      `  cluster: {server: "${server}", insecure-skip-tls-verify: true}`,
      "users:",
      "- name: u",
      "  user:",
      ...user.map((line) => `    ${line}`),
      "contexts:",
      "- name: c",
      "  context: {cluster: k, user: u}",
      "current-context: c",
      "",
    ].join("\n"),
  );
  return file;
}

async function readFailure(file: string): Promise<ClusterReadError> {
  const error = await readSnapshot({ kubeconfig: file, env: {}, retryDelayMs: 0 }).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof ClusterReadError)) throw new Error(`expected a ClusterReadError`);
  return error;
}

/** A credential plugin that fails as kubelogin does when nobody is logged in; counts its runs. */
async function failingPlugin(): Promise<{ command: string; runs: () => Promise<number> }> {
  const command = join(dir, "get-token");
  const log = join(dir, "get-token.runs");
  await writeFile(log, "");
  await writeFile(
    command,
    `#!/bin/sh\necho run >> '${log}'\necho 'error: you must be logged in' >&2\nexit 1\n`,
  );
  await chmod(command, 0o755);
  const runs = async () => (await readFile(log, "utf8")).split("\n").filter(Boolean).length;
  return { command, runs };
}

function execUser(command: string): string[] {
  return [
    "exec:",
    "  apiVersion: client.authentication.k8s.io/v1",
    `  command: ${command}`,
    "  interactiveMode: Never",
  ];
}

describe("failures before the request goes out", () => {
  it("says a credential plugin failed, naming it, and does not run it again", async () => {
    const plugin = await failingPlugin();
    const file = await kubeconfig("exec.yaml", fake.url, execUser(plugin.command));
    const before = fake.requests.length;
    const error = await readFailure(file);
    expect(error.message).toBe(
      `cannot list nodes: GET ${fake.url}/api/v1/nodes: the credential plugin "${plugin.command}" of user "u" failed: error: you must be logged in`,
    );
    expect(fake.requests.length).toBe(before);
    // Once per list, not once per retry: what failed would fail again. Nodes, PVs, PVCs, PDBs,
    // HPAs, VPAs, DaemonSets, RuntimeClasses, StorageClasses, Namespaces, CSINodes and the node
    // metrics are asked for at once.
    const lists = 12;
    expect(await plugin.runs()).toBe(lists);
    expect((error.cause as KubeApiError).stage).toBe("credentials");
  });

  it("gives a plugin's installHint when the plugin is not installed, as kubectl does", async () => {
    const command = join(dir, "kubectl-oidc_login");
    const hint = "kubelogin is not installed: brew install int128/kubelogin/kubelogin";
    const user = [...execUser(command), `  installHint: "${hint}"`];
    const error = await readFailure(await kubeconfig("exec-missing.yaml", fake.url, user));
    expect(error.message).toBe(
      `cannot list nodes: GET ${fake.url}/api/v1/nodes: the credential plugin "${command}" of user "u" failed: spawn ${command} ENOENT; its installHint says: ${hint}`,
    );
    // A plugin that ran and failed says what it printed, not how to install it.
    const plugin = await failingPlugin();
    const ran = [...execUser(plugin.command), `  installHint: "${hint}"`];
    const failed = await readFailure(await kubeconfig("exec-ran.yaml", fake.url, ran));
    expect(failed.message).toMatch(/failed: error: you must be logged in$/);
  });

  it("stops waiting for a credential plugin that never answers at the read's limit", async () => {
    // As kubelogin waits for a browser login where nobody can give one.
    const command = join(dir, "wait-for-login");
    await writeFile(command, "#!/bin/sh\nexec sleep 5\n");
    await chmod(command, 0o755);
    const file = await kubeconfig("exec-waits.yaml", fake.url, execUser(command));
    const error = await readSnapshot({ kubeconfig: file, env: {}, readDeadlineMs: 1_000 }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ClusterReadError);
    expect((error as ClusterReadError).message).toBe(
      `cannot list nodes: GET ${fake.url}/api/v1/nodes: the kubeconfig's credentials were not ready before the read's limit of 1 s was reached (a credential plugin waiting for a login?)`,
    );
    expect((error as ClusterReadError).cause).toMatchObject({
      stage: "credentials",
      retryable: false,
    });
  });

  it("says a request could not be built when a header cannot be sent", async () => {
    const file = await kubeconfig("newline-token.yaml", fake.url, ['token: "good\\nmore"']);
    const before = fake.requests.length;
    const error = await readFailure(file);
    expect(error.message).toBe(
      `cannot list nodes: GET ${fake.url}/api/v1/nodes: the request could not be built: Invalid character in header content ["Authorization"]`,
    );
    expect(fake.requests.length).toBe(before);
  });

  it("reports the same failures from a single request (kubeRequest)", async () => {
    const plugin = await failingPlugin();
    const exec = loadKubeConfig({
      kubeconfig: await kubeconfig("exec-request.yaml", fake.url, execUser(plugin.command)),
      env: {},
    });
    const failed = kubeRequest(exec, { method: "GET", path: "/api/v1/nodes" });
    await expect(failed).rejects.toThrow(
      `GET /api/v1/nodes: the credential plugin "${plugin.command}" of user "u" failed: error: you must be logged in`,
    );
    await expect(failed).rejects.toMatchObject({ stage: "credentials", retryable: false });
    const newline = loadKubeConfig({
      kubeconfig: await kubeconfig("newline-request.yaml", fake.url, ['token: "good\\nmore"']),
      env: {},
    });
    await expect(kubeRequest(newline, { method: "GET", path: "/api/v1/nodes" })).rejects.toThrow(
      'GET /api/v1/nodes: the request could not be built: Invalid character in header content ["Authorization"]',
    );
  });
});

describe("answers that are not a list", () => {
  let server: Server;
  let url: string;
  let body = "";

  beforeAll(async () => {
    server = createServer((_request, response) => {
      const html = body.startsWith("<");
      response.writeHead(200, { "content-type": html ? "text/html" : "application/json" });
      response.end(body);
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  });

  it("says an HTML page is not JSON, naming the server", async () => {
    body = "<!doctype html><html><body>Sign in</body></html>";
    const error = await readFailure(await kubeconfig("login-page.yaml", url, ["token: t"]));
    expect(error.message).toBe(
      `cannot list nodes: GET ${url}/api/v1/nodes: the response is not JSON (it starts "<!doctype html><html><body>Sign in</body"): is the server URL a Kubernetes API server, and not a proxy's login page?`,
    );
    expect((error.cause as KubeApiError).stage).toBe("decode");
  });

  it("says JSON of another shape is not a list, naming the server", async () => {
    body = '{"kind":"NodeList","items":"none"}';
    const error = await readFailure(await kubeconfig("not-a-list.yaml", url, ["token: t"]));
    expect(error.message).toBe(
      `cannot list nodes: GET ${url}/api/v1/nodes: the response is not a list (not a Kubernetes list: expected an object with an items array)`,
    );
  });
});
