import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { loadKubeConfig } from "../../src/cluster/kube-config.ts";
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
    expect(error.message).toMatch(/^kubeconfig is not valid YAML/);
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

  it("refuses plain http unless insecure-skip-tls-verify is set", async () => {
    const file = join(dir, "http.yaml");
    const text = one.kubeconfig().replace("    insecure-skip-tls-verify: true\n", "");
    await writeFile(file, text);
    expect(inputError(() => loadKubeConfig({ kubeconfig: file, env: {} })).message).toContain(
      "set insecure-skip-tls-verify: true",
    );
  });
});
