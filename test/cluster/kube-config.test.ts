import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { RequestOptions } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { applyKubeCredentials, loadKubeConfig } from "../../src/cluster/kube-config.ts";
import { ClusterReadError, readSnapshot } from "../../src/cluster/read-snapshot.ts";
import { InputError } from "../../src/errors.ts";
import { FakeKubeApiserver } from "../support/fake-kube-apiserver.ts";
import { kubeFixturePath } from "../support/kube-fixtures.ts";

let dir: string;
let one: FakeKubeApiserver;
let two: FakeKubeApiserver;

function nodeNamed(name: string) {
  return {
    kind: "Node",
    metadata: { name },
    status: { conditions: [{ type: "Ready", status: "True" }] },
  };
}

async function nodeNames(options: Parameters<typeof readSnapshot>[0]): Promise<string[]> {
  const snapshot = await readSnapshot({ retryDelayMs: 0, ...options });
  return snapshot.nodes.map((n) => n.name);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-kubeconfig-"));
  one = await FakeKubeApiserver.start({ token: "token-one" });
  two = await FakeKubeApiserver.start({ token: "token-one" });
  one.add(nodeNamed("from-one"));
  two.add(nodeNamed("from-two"));
});

afterAll(async () => {
  await one.close();
  await two.close();
  await rm(dir, { recursive: true, force: true });
});

describe("finding the kubeconfig", () => {
  it("uses --kubeconfig, relative to the working directory", async () => {
    await one.writeKubeconfig(join(dir, "flag.yaml"));
    expect(await nodeNames({ kubeconfig: "flag.yaml", cwd: dir, env: {} })).toEqual(["from-one"]);
    expect(one.requests.at(-1)?.headers.authorization).toBe("Bearer token-one");
  });

  it("selects --context over the current context", async () => {
    const file = await one.writeKubeconfig(join(dir, "contexts.yaml"), {
      extraContexts: [{ name: "other", server: two.url }],
    });
    expect(await nodeNames({ kubeconfig: file, env: {} })).toEqual(["from-one"]);
    expect(await nodeNames({ kubeconfig: file, context: "other", env: {} })).toEqual(["from-two"]);
    const loaded = loadKubeConfig({ kubeconfig: file, context: "other", env: {} });
    expect(loaded).toMatchObject({ context: "other", server: two.url, origin: "flag" });
  });

  it("reads KUBECONFIG, merging its files with the first definition winning", async () => {
    const first = await one.writeKubeconfig(join(dir, "first.yaml"), { context: "shared" });
    const second = await two.writeKubeconfig(join(dir, "second.yaml"), {
      context: "shared",
      currentContext: null,
    });
    const extra = await two.writeKubeconfig(join(dir, "extra.yaml"), { context: "two-only" });
    const env = { KUBECONFIG: [join(dir, "missing.yaml"), first, second, extra].join(":") };
    expect(await nodeNames({ env })).toEqual(["from-one"]);
    expect(await nodeNames({ env, context: "two-only" })).toEqual(["from-two"]);
    expect(loadKubeConfig({ env }).origin).toBe("KUBECONFIG");
  });

  it("falls back to ~/.kube/config", async () => {
    const home = join(dir, "home");
    await mkdir(join(home, ".kube"), { recursive: true });
    await two.writeKubeconfig(join(home, ".kube", "config"));
    expect(await nodeNames({ env: { HOME: home } })).toEqual(["from-two"]);
    expect(loadKubeConfig({ env: { HOME: home } }).origin).toBe("home");
  });

  it("uses the service account in a pod (HTTPS, CA file, token file)", async () => {
    const cert = await readFile(kubeFixturePath("tls/server.crt"), "utf8");
    const key = await readFile(kubeFixturePath("tls/server.key"), "utf8");
    const ca = await readFile(kubeFixturePath("tls/ca.crt"), "utf8");
    const secure = await FakeKubeApiserver.start({ tls: { cert, key, ca }, token: "sa-token" });
    secure.add(nodeNamed("in-cluster"));
    try {
      const accountDir = join(dir, "serviceaccount");
      await mkdir(accountDir, { recursive: true });
      await writeFile(join(accountDir, "token"), "sa-token");
      await writeFile(join(accountDir, "ca.crt"), ca);
      await writeFile(join(accountDir, "namespace"), "pr-autoscaler");
      const env = {
        KUBERNETES_SERVICE_HOST: "127.0.0.1",
        KUBERNETES_SERVICE_PORT: String(secure.port),
        HOME: join(dir, "nowhere"),
      };
      const snapshot = await readSnapshot({ env, serviceAccountDir: accountDir, retryDelayMs: 0 });
      expect(snapshot.nodes.map((n) => n.name)).toEqual(["in-cluster"]);
      expect(snapshot.source).toEqual({
        kind: "kubernetes",
        server: `https://127.0.0.1:${secure.port}`,
      });
      expect(secure.requests.at(-1)?.headers.authorization).toBe("Bearer sa-token");

      // A rotated-away token is refused: the reader reports it instead of inventing a cluster.
      await writeFile(join(accountDir, "token"), "stale-token");
      await expect(
        readSnapshot({ env, serviceAccountDir: accountDir, retryDelayMs: 0 }),
      ).rejects.toThrow(/HTTP 401.*credentials were refused/);

      // Without the CA the server's certificate is not trusted.
      await rm(join(accountDir, "ca.crt"));
      await writeFile(join(accountDir, "token"), "sa-token");
      await expect(
        readSnapshot({ env, serviceAccountDir: accountDir, retryDelayMs: 0 }),
      ).rejects.toThrow(ClusterReadError);
    } finally {
      await secure.close();
    }
  });
});

describe("kubeconfig errors (exit 2)", () => {
  function inputError(run: () => unknown): InputError {
    try {
      run();
    } catch (error) {
      if (error instanceof InputError) return error;
      throw error;
    }
    throw new Error("expected an InputError");
  }

  it("says when nothing is found", () => {
    const error = inputError(() =>
      loadKubeConfig({ env: { HOME: join(dir, "nowhere") }, serviceAccountDir: join(dir, "none") }),
    );
    expect(error.message).toContain("no Kubernetes configuration found");
    expect(error.exitCode).toBe(2);
  });

  it("names a missing --kubeconfig file", () => {
    const error = inputError(() =>
      loadKubeConfig({ kubeconfig: join(dir, "absent.yaml"), env: {} }),
    );
    expect(error.message).toBe("kubeconfig file not found");
    expect(error.location?.file).toBe(join(dir, "absent.yaml"));
  });

  it("points at the line of a YAML syntax error", async () => {
    const file = join(dir, "broken.yaml");
    await writeFile(file, "apiVersion: v1\nclusters:\n  - name: a\n   cluster: {server: x}\n");
    const error = inputError(() => loadKubeConfig({ kubeconfig: file, env: {} }));
    // The position is given once, as the location, not again at the end of the message.
    expect(error.message).toBe("kubeconfig is not valid YAML: Sequence item without - indicator");
    expect(error.location).toMatchObject({ file, line: 4 });
  });

  it("refuses a file that is not a kubeconfig", async () => {
    const file = join(dir, "list.yaml");
    await writeFile(file, "- a\n- b\n");
    expect(inputError(() => loadKubeConfig({ kubeconfig: file, env: {} })).message).toContain(
      "not a kubeconfig",
    );
    await writeFile(file, "clusters:\n- name: a\n  cluster: {}\n");
    expect(inputError(() => loadKubeConfig({ kubeconfig: file, env: {} })).message).toContain(
      "clusters[0].cluster.server is missing",
    );
  });

  it("lists the contexts when --context names none of them", async () => {
    const file = await one.writeKubeconfig(join(dir, "ctx.yaml"), {
      extraContexts: [{ name: "b", server: two.url }],
    });
    const error = inputError(() => loadKubeConfig({ kubeconfig: file, context: "prod", env: {} }));
    expect(error.message).toBe('context "prod" is not defined (defined: fake, b)');
  });

  it("asks for --context when no current-context is set", async () => {
    const file = await one.writeKubeconfig(join(dir, "nocurrent.yaml"), { currentContext: null });
    expect(inputError(() => loadKubeConfig({ kubeconfig: file, env: {} })).message).toContain(
      "no current-context is set; pass --context (one of: fake)",
    );
  });

  it("says which cluster a context names that is not defined, as it does for a user", async () => {
    const file = join(dir, "ghost-cluster.yaml");
    await writeFile(
      file,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- {name: homelab, cluster: {server: 'https://10.0.0.10:6443'}}",
        "contexts:",
        "- {name: admin@homelab, context: {cluster: homelb, user: admin}}",
        "current-context: admin@homelab",
        "users:",
        "- {name: admin, user: {token: t}}",
        "",
      ].join("\n"),
    );
    expect(inputError(() => loadKubeConfig({ kubeconfig: file, env: {} })).message).toBe(
      'context "admin@homelab" names cluster "homelb", which is not defined',
    );
  });

  it("says no context is defined, rather than to pass one, when the file has none", async () => {
    const file = join(dir, "nocontexts.yaml");
    await writeFile(file, "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n");
    expect(inputError(() => loadKubeConfig({ kubeconfig: file, env: {} })).message).toBe(
      "no current-context is set, and no context is defined: a kubeconfig needs one, naming the cluster and user to use (kubectl config set-context)",
    );
  });

  it("refuses plain http unless insecure-skip-tls-verify is set", async () => {
    const file = join(dir, "http.yaml");
    const text = one.kubeconfig().replace("    insecure-skip-tls-verify: true\n", "");
    await writeFile(file, text);
    expect(inputError(() => loadKubeConfig({ kubeconfig: file, env: {} })).message).toContain(
      "set insecure-skip-tls-verify: true",
    );
  });
});

describe("credentials without @kubernetes/client-node", () => {
  const caPem = () => readFile(kubeFixturePath("tls/ca.crt"));
  const certPem = () => readFile(kubeFixturePath("tls/server.crt"));
  const keyPem = () => readFile(kubeFixturePath("tls/server.key"));

  /** A kubeconfig with one context `c` on cluster `k` and user `u`. */
  function kubeconfig(cluster: string[], user: string[]): string {
    return [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: k",
      "  cluster:",
      ...cluster.map((line) => `    ${line}`),
      "users:",
      "- name: u",
      "  user:",
      ...(user.length > 0 ? user.map((line) => `    ${line}`) : ["    {}"]),
      "contexts:",
      "- name: c",
      "  context: {cluster: k, user: u}",
      "current-context: c",
      "",
    ].join("\n");
  }

  /** The options our request gets, and the ones client-node's applyToHTTPSOptions gives. */
  async function bothWays(loaded: ReturnType<typeof loadKubeConfig>) {
    const ours: RequestOptions = { method: "GET", headers: { Accept: "application/json" } };
    await applyKubeCredentials(loaded, ours);
    const theirs: RequestOptions = { method: "GET", headers: { Accept: "application/json" } };
    await loaded.kubeConfig.applyToHTTPSOptions(theirs);
    // client-node also creates an agent; ours brings its own keep-alive one.
    delete theirs.agent;
    return { ours, theirs };
  }

  async function fromFile(name: string, text: string) {
    const file = join(dir, name);
    await writeFile(file, text);
    return bothWays(loadKubeConfig({ kubeconfig: file, env: {} }));
  }

  it("applies a token and insecure-skip-tls-verify as client-node does", async () => {
    const { ours, theirs } = await fromFile(
      "plain-token.yaml",
      kubeconfig(
        ["server: https://127.0.0.1:6443", "insecure-skip-tls-verify: true"],
        ["token: abc"],
      ),
    );
    expect(ours).toEqual(theirs);
    expect(ours).toMatchObject({
      rejectUnauthorized: false,
      headers: { Accept: "application/json", Authorization: "Bearer abc" },
    });
  });

  it("applies CA, client certificate and key files (relative to the kubeconfig) and tls-server-name", async () => {
    const tls = join(dir, "tls-files");
    await mkdir(tls, { recursive: true });
    await writeFile(join(tls, "ca.crt"), await caPem());
    await writeFile(join(tls, "client.crt"), await certPem());
    await writeFile(join(tls, "client.key"), await keyPem());
    const { ours, theirs } = await fromFile(
      "tls-files/config",
      kubeconfig(
        [
          "server: https://10.0.0.1:6443",
          "certificate-authority: ca.crt",
          "tls-server-name: kube.lan",
        ],
        ["client-certificate: client.crt", "client-key: ./client.key"],
      ),
    );
    expect(ours).toEqual(theirs);
    expect(ours.ca).toEqual(await caPem());
    expect(ours.cert).toEqual(await certPem());
    expect(ours.key).toEqual(await keyPem());
    expect(ours.servername).toBe("kube.lan");
    expect(ours.headers).toEqual({ Accept: "application/json" });
  });

  it("applies inline CA, certificate and key data", async () => {
    const base64 = async (read: () => Promise<Buffer>) => (await read()).toString("base64");
    const { ours, theirs } = await fromFile(
      "inline.yaml",
      kubeconfig(
        ["server: https://10.0.0.1:6443", `certificate-authority-data: ${await base64(caPem)}`],
        [
          `client-certificate-data: ${await base64(certPem)}`,
          `client-key-data: ${await base64(keyPem)}`,
        ],
      ),
    );
    expect(ours).toEqual(theirs);
    expect(ours.key).toEqual(await keyPem());
  });

  it("applies basic auth, impersonation and a token file as client-node does", async () => {
    const tokenFile = join(dir, "token.txt");
    await writeFile(tokenFile, "from-file");
    const basic = await fromFile(
      "basic.yaml",
      kubeconfig(["server: https://10.0.0.1:6443"], ["username: admin", "password: s3cret"]),
    );
    expect(basic.ours).toEqual(basic.theirs);
    expect(basic.ours.auth).toBe("admin:s3cret");
    const impersonating = await fromFile(
      "as.yaml",
      kubeconfig(["server: https://10.0.0.1:6443"], [`token-file: ${tokenFile}`, "as: alice"]),
    );
    expect(impersonating.ours).toEqual(impersonating.theirs);
    expect(impersonating.ours.headers).toEqual({
      Accept: "application/json",
      Authorization: "Bearer from-file",
      "Impersonate-User": "alice",
    });
  });

  it("gives client-node a token file as it is read here: trimmed, relative to the kubeconfig", async () => {
    const folder = join(dir, "token-compare");
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, "token"), "from-file\n");
    const { ours, theirs } = await fromFile(
      "token-compare/config",
      kubeconfig(["server: https://10.0.0.1:6443"], ["token-file: token"]),
    );
    expect(ours).toEqual(theirs);
    expect(ours.headers).toEqual({ Accept: "application/json", Authorization: "Bearer from-file" });
    // kubectl's name for the field, which client-node does not know, is given to it the same way.
    const kubectl = await fromFile(
      "token-compare/kubectl-config",
      kubeconfig(["server: https://10.0.0.1:6443"], ["tokenFile: token"]),
    );
    expect(kubectl.ours).toEqual(kubectl.theirs);
    expect(kubectl.ours.headers).toEqual({
      Accept: "application/json",
      Authorization: "Bearer from-file",
    });
  });

  it("applies the cluster's CA to a context without a user, client-node too", async () => {
    const ca = (await caPem()).toString("base64");
    const { ours, theirs } = await fromFile(
      "anonymous-compare.yaml",
      [
        "apiVersion: v1",
        "clusters:",
        "- name: k",
        `  cluster: {server: "https://10.0.0.1:6443", certificate-authority-data: ${ca}}`,
        "contexts:",
        "- name: c",
        "  context: {cluster: k}",
        "current-context: c",
        "",
      ].join("\n"),
    );
    expect(ours).toEqual(theirs);
    expect(ours.ca).toEqual(await caPem());
    expect(ours.headers).toEqual({ Accept: "application/json" });
  });

  it("applies the in-cluster service account as client-node does", async () => {
    const accountDir = join(dir, "account-compare");
    await mkdir(accountDir, { recursive: true });
    await writeFile(join(accountDir, "token"), "sa-token");
    await writeFile(join(accountDir, "ca.crt"), await caPem());
    const loaded = loadKubeConfig({
      env: { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" },
      serviceAccountDir: accountDir,
    });
    const { ours, theirs } = await bothWays(loaded);
    expect(ours).toEqual(theirs);
    expect(ours.headers).toMatchObject({ Authorization: "Bearer sa-token" });
  });

  it("leaves client-node unloaded for a plain configuration", async () => {
    // A separate process, so that nothing another test loaded counts: it records every
    // module resolved while a snapshot is read through a token kubeconfig.
    const file = await one.writeKubeconfig(join(dir, "unloaded.yaml"));
    const readSnapshotModule = fileURLToPath(
      new URL("../../src/cluster/read-snapshot.ts", import.meta.url),
    );
    const script = [
      'import { registerHooks } from "node:module";',
      "const resolved = [];",
      "registerHooks({ resolve: (specifier, context, next) => { resolved.push(specifier); return next(specifier, context); } });",
      `const { readSnapshot } = await import(${JSON.stringify(readSnapshotModule)});`,
      `const snapshot = await readSnapshot({ kubeconfig: ${JSON.stringify(file)}, env: {}, retries: 0, timeoutMs: 10000 });`,
      "console.log(JSON.stringify({ nodes: snapshot.nodes.length, clientNode: resolved.some((s) => s.includes('client-node')) }));",
    ].join("\n");
    // Asynchronously: the fake API server answers from this process.
    const child = await promisify(execFile)(
      process.execPath,
      ["--input-type=module", "-e", script],
      {
        encoding: "utf8",
      },
    );
    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout)).toEqual({ nodes: 1, clientNode: false });
  });

  it("uses client-node for an exec credential plugin", async () => {
    const plugin = join(dir, "credential-plugin.mjs");
    await writeFile(
      plugin,
      `process.stdout.write(JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status: { token: "token-one" } }));\n`,
    );
    const file = join(dir, "exec.yaml");
    await writeFile(
      file,
      kubeconfig(
        [`server: ${one.url}`, "insecure-skip-tls-verify: true"],
        [
          "exec:",
          "  apiVersion: client.authentication.k8s.io/v1",
          `  command: ${JSON.stringify(process.execPath)}`,
          `  args: [${JSON.stringify(plugin)}]`,
          "  interactiveMode: Never",
        ],
      ),
    );
    expect(await nodeNames({ kubeconfig: file, env: {} })).toEqual(["from-one"]);
    expect(one.requests.at(-1)?.headers.authorization).toBe("Bearer token-one");
  });
});

describe("connecting as kubectl does", () => {
  /** A kubeconfig with context `c` on cluster `k`; the context names `contextUser` if given. */
  function config(cluster: string[], users: string, contextUser?: string): string {
    return [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: k",
      "  cluster:",
      ...cluster.map((line) => `    ${line}`),
      users,
      "contexts:",
      "- name: c",
      "  context:",
      "    cluster: k",
      ...(contextUser === undefined ? [] : [`    user: ${contextUser}`]),
      "current-context: c",
      "",
    ].join("\n");
  }

  function withUser(lines: string[]): string {
    return ["users:", "- name: u", "  user:", ...lines.map((line) => `    ${line}`)].join("\n");
  }

  const plainHttp = () => [`server: ${one.url}`, "insecure-skip-tls-verify: true"];

  async function secureServer(token?: string): Promise<FakeKubeApiserver> {
    const cert = await readFile(kubeFixturePath("tls/server.crt"), "utf8");
    const key = await readFile(kubeFixturePath("tls/server.key"), "utf8");
    const ca = await readFile(kubeFixturePath("tls/ca.crt"), "utf8");
    const secure = await FakeKubeApiserver.start({ tls: { cert, key, ca }, token });
    secure.add(nodeNamed("secure"));
    return secure;
  }

  function inputError(run: () => unknown): InputError {
    try {
      run();
    } catch (error) {
      if (error instanceof InputError) return error;
      throw error;
    }
    throw new Error("expected an InputError");
  }

  it("reads a token file written with a trailing newline (kubectl create token > file)", async () => {
    const tokenFile = join(dir, "created-token");
    await writeFile(tokenFile, "token-one\n");
    const file = join(dir, "token-newline.yaml");
    await writeFile(file, config(plainHttp(), withUser([`token-file: ${tokenFile}`]), "u"));
    expect(await nodeNames({ kubeconfig: file, env: {} })).toEqual(["from-one"]);
    expect(one.requests.at(-1)?.headers.authorization).toBe("Bearer token-one");
  });

  it("resolves a relative token file against the kubeconfig's folder, not the working directory", async () => {
    const folder = join(dir, "relative-token");
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, "sa-token"), "token-one");
    const file = join(folder, "config");
    await writeFile(file, config(plainHttp(), withUser(["token-file: sa-token"]), "u"));
    expect(await nodeNames({ kubeconfig: file, cwd: dir, env: {} })).toEqual(["from-one"]);
    expect(one.requests.at(-1)?.headers.authorization).toBe("Bearer token-one");
  });

  it("refuses an empty or missing token file, naming it and the kubeconfig (exit 2)", async () => {
    const empty = join(dir, "empty-token");
    await writeFile(empty, " \n");
    const file = join(dir, "empty-token.yaml");
    await writeFile(file, config(plainHttp(), withUser([`token-file: ${empty}`]), "u"));
    const error = inputError(() => loadKubeConfig({ kubeconfig: file, env: {} }));
    expect(error.message).toBe(`user "u": the token file ${empty} is empty`);
    expect(error.location?.file).toBe(file);
    expect(error.exitCode).toBe(2);
    await writeFile(file, config(plainHttp(), withUser(["token-file: gone"]), "u"));
    expect(inputError(() => loadKubeConfig({ kubeconfig: file, env: {} })).message).toContain(
      `cannot read the token file ${join(dir, "gone")}`,
    );
  });

  it("refuses a certificate file that cannot be read, naming it and its entry (exit 2)", async () => {
    const folder = join(dir, "missing-certificates");
    await mkdir(folder, { recursive: true });
    const file = join(folder, "config");
    const cases = [
      {
        cluster: ["server: https://127.0.0.1:6443", "certificate-authority: ca.crt"],
        user: ["token: abc"],
        says: `cluster "k": certificate-authority: cannot read ${join(folder, "ca.crt")}: no such file`,
      },
      {
        cluster: plainHttp(),
        user: ["client-certificate: client.crt", "client-key: client.key"],
        says: `user "u": client-certificate: cannot read ${join(folder, "client.crt")}: no such file`,
      },
    ];
    for (const { cluster, user, says } of cases) {
      await writeFile(file, config(cluster, withUser(user), "u"));
      const error = inputError(() => loadKubeConfig({ kubeconfig: file, env: {} }));
      expect(error.message).toContain(says);
      expect(error.location?.file).toBe(file);
      expect(error.exitCode).toBe(2);
    }
  });

  it("reads kubectl's tokenFile field, relative to the kubeconfig, and refuses a missing one", async () => {
    // client-go names the field `tokenFile` (AuthInfo.TokenFile); only client-node says
    // `token-file`. Ignored, it would leave the requests anonymous.
    const folder = join(dir, "kubectl-token-file");
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, "sa-token"), "token-one\n");
    const file = join(folder, "config");
    await writeFile(file, config(plainHttp(), withUser(["tokenFile: sa-token"]), "u"));
    expect(await nodeNames({ kubeconfig: file, cwd: dir, env: {} })).toEqual(["from-one"]);
    expect(one.requests.at(-1)?.headers.authorization).toBe("Bearer token-one");
    await writeFile(file, config(plainHttp(), withUser(["tokenFile: gone"]), "u"));
    const error = inputError(() => loadKubeConfig({ kubeconfig: file, env: {} }));
    expect(error.message).toContain(`cannot read the token file ${join(folder, "gone")}`);
    expect(error.exitCode).toBe(2);
  });

  it("reads anonymously through a context that names no user, with the cluster's CA", async () => {
    const open = await FakeKubeApiserver.start();
    open.add(nodeNamed("open"));
    const secure = await secureServer();
    try {
      const file = join(dir, "anonymous.yaml");
      await writeFile(
        file,
        config([`server: ${open.url}`, "insecure-skip-tls-verify: true"], "users: []"),
      );
      expect(await nodeNames({ kubeconfig: file, env: {} })).toEqual(["open"]);
      expect(open.requests.at(-1)?.headers.authorization).toBeUndefined();
      // Over HTTPS, the cluster's CA is trusted although there is no user.
      const ca = (await readFile(kubeFixturePath("tls/ca.crt"))).toString("base64");
      await writeFile(
        file,
        config([`server: ${secure.url}`, `certificate-authority-data: ${ca}`], "users: []"),
      );
      expect(await nodeNames({ kubeconfig: file, env: {} })).toEqual(["secure"]);
      // A user the context names must exist.
      await writeFile(file, config(plainHttp(), "users: []", "ghost"));
      expect(inputError(() => loadKubeConfig({ kubeconfig: file, env: {} })).message).toBe(
        'context "c" names user "ghost", which is not defined',
      );
    } finally {
      await open.close();
      await secure.close();
    }
  });

  it("refuses certificate-authority-data that is not base64 or holds no certificate", async () => {
    const file = join(dir, "bad-ca.yaml");
    await writeFile(
      file,
      config(
        ["server: https://127.0.0.1:6443", "certificate-authority-data: 'not base64!!'"],
        withUser(["token: t"]),
        "u",
      ),
    );
    const error = inputError(() => loadKubeConfig({ kubeconfig: file, env: {} }));
    expect(error.message).toBe(
      'not a usable kubeconfig: clusters[0].cluster.certificate-authority-data (cluster "k") is not base64',
    );
    expect(error.location?.file).toBe(file);
    await writeFile(
      file,
      config(
        ["server: https://127.0.0.1:6443", "certificate-authority-data: aGVsbG8="],
        withUser(["token: t"]),
        "u",
      ),
    );
    expect(inputError(() => loadKubeConfig({ kubeconfig: file, env: {} })).message).toBe(
      'cluster "k": certificate-authority-data holds no PEM certificate (-----BEGIN CERTIFICATE-----)',
    );
  });

  it("says which kubeconfig setting to check when the server's certificate is not trusted", async () => {
    const secure = await secureServer("token-one");
    try {
      const file = join(dir, "untrusted.yaml");
      await writeFile(file, config([`server: ${secure.url}`], withUser(["token: token-one"]), "u"));
      const error = await readSnapshot({ kubeconfig: file, env: {}, retries: 0 }).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(ClusterReadError);
      const message = (error as ClusterReadError).message;
      expect(message).toContain(`GET ${secure.url}/api/v1/nodes: UNABLE_TO_VERIFY_LEAF_SIGNATURE`);
      expect(message).toContain(
        "the server's certificate is not signed by a CA this context trusts; check certificate-authority or certificate-authority-data",
      );
      expect(message).not.toContain("--use-system-ca");
    } finally {
      await secure.close();
    }
  });

  it("reads the service account token without its trailing newline, and names its CA when untrusted", async () => {
    const secure = await secureServer("sa-token");
    try {
      const accountDir = join(dir, "serviceaccount-newline");
      await mkdir(accountDir, { recursive: true });
      await writeFile(join(accountDir, "token"), "sa-token\n");
      await writeFile(
        join(accountDir, "ca.crt"),
        await readFile(kubeFixturePath("tls/ca.crt"), "utf8"),
      );
      const env = {
        KUBERNETES_SERVICE_HOST: "127.0.0.1",
        KUBERNETES_SERVICE_PORT: String(secure.port),
      };
      const read = () => readSnapshot({ env, serviceAccountDir: accountDir, retries: 0 });
      expect((await read()).nodes.map((n) => n.name)).toEqual(["secure"]);
      expect(secure.requests.at(-1)?.headers.authorization).toBe("Bearer sa-token");
      await rm(join(accountDir, "ca.crt"));
      await expect(read()).rejects.toThrow("check the service account's ca.crt");
    } finally {
      await secure.close();
    }
  });
});
