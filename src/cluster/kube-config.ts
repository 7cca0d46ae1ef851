import { existsSync, readFileSync } from "node:fs";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { parseDocument } from "yaml";
import { InputError } from "../errors.ts";

/** Where a pod finds its service account credentials. */
export const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface KubeConfigOptions {
  /** `--kubeconfig`: one file, used alone. */
  kubeconfig?: string;
  /** `--context`: overrides the file's current-context. */
  context?: string;
  /** Environment to read KUBECONFIG, HOME and KUBERNETES_SERVICE_* from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Directory relative paths are resolved against (default process.cwd()). */
  cwd?: string;
  /** Service account directory for in-cluster credentials (default {@link serviceAccountDir}). */
  serviceAccountDir?: string;
}

export interface LoadedKubeConfig {
  kubeConfig: KubeConfig;
  /** API server URL of the selected context. */
  server: string;
  /** Selected context; absent in-cluster. */
  context?: string;
  /** Where the configuration came from. */
  origin: "flag" | "KUBECONFIG" | "home" | "in-cluster";
  files: string[];
}

/**
 * Finds and loads the Kubernetes client configuration the way kubectl does: `--kubeconfig`,
 * else the files in KUBECONFIG (merged, first wins), else ~/.kube/config, else the pod's
 * service account when running in a cluster. Then selects `--context` or the current context.
 * @throws InputError (exit 2) when nothing is found or the configuration is unusable.
 */
export function loadKubeConfig(options: KubeConfigOptions = {}): LoadedKubeConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  if (options.kubeconfig !== undefined) {
    const file = resolve(cwd, options.kubeconfig);
    if (!existsSync(file)) throw new InputError(`kubeconfig file not found`, { file });
    return select(readFiles([file]), options.context, "flag", [file]);
  }
  const listed = (env.KUBECONFIG ?? "")
    .split(delimiter)
    .filter((entry) => entry !== "")
    .map((entry) => resolve(cwd, entry));
  if (listed.length > 0) {
    const files = listed.filter((file) => existsSync(file));
    if (files.length === 0) {
      throw new InputError(
        `none of the files in KUBECONFIG exist (${listed.join(delimiter)}); fix KUBECONFIG or pass --kubeconfig`,
      );
    }
    return select(readFiles(files), options.context, "KUBECONFIG", files);
  }
  const home = env.HOME ?? env.USERPROFILE;
  const homeFile = home ? join(home, ".kube", "config") : undefined;
  if (homeFile && existsSync(homeFile)) {
    return select(readFiles([homeFile]), options.context, "home", [homeFile]);
  }
  const inCluster = loadInCluster(env, options.serviceAccountDir ?? serviceAccountDir);
  if (inCluster) {
    if (options.context !== undefined) {
      throw new InputError("--context needs a kubeconfig; none was found (running in-cluster)");
    }
    return inCluster;
  }
  throw new InputError(
    "no Kubernetes configuration found: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, " +
      "or run in a pod with a service account",
  );
}

/** Loads the files, merging them as kubectl does: the first definition of a name wins. */
function readFiles(files: string[]): KubeConfig {
  const merged = new KubeConfig();
  merged.loadFromOptions({ clusters: [], users: [], contexts: [], currentContext: "" });
  for (const file of files) {
    const one = parseKubeConfigFile(file);
    if (!merged.currentContext && one.currentContext) merged.currentContext = one.currentContext;
    addMissing(merged.clusters, one.clusters);
    addMissing(merged.users, one.users);
    addMissing(merged.contexts, one.contexts);
  }
  return merged;
}

function parseKubeConfigFile(file: string): KubeConfig {
  const text = readFileSync(file, "utf8");
  const document = parseDocument(text);
  const [syntax] = document.errors;
  if (syntax) {
    const position = syntax.linePos?.[0];
    throw new InputError(`kubeconfig is not valid YAML: ${firstLine(syntax.message)}`, {
      file,
      ...(position ? { line: position.line, column: position.col } : {}),
    });
  }
  const data: unknown = document.toJS();
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new InputError("not a kubeconfig: expected a mapping with clusters, users and contexts", {
      file,
    });
  }
  const one = new KubeConfig();
  try {
    one.loadFromString(text);
  } catch (error) {
    throw new InputError(
      `not a usable kubeconfig: ${firstLine(String((error as Error).message))}`,
      {
        file,
      },
    );
  }
  one.makePathsAbsolute(dirname(file));
  return one;
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}

function addMissing<T extends { name: string }>(target: T[], source: readonly T[]): void {
  for (const item of source) {
    if (!target.some((existing) => existing.name === item.name)) target.push(item);
  }
}

function select(
  kubeConfig: KubeConfig,
  context: string | undefined,
  origin: LoadedKubeConfig["origin"],
  files: string[],
): LoadedKubeConfig {
  const where = { file: files[0] };
  const names = kubeConfig.contexts.map((c) => c.name);
  const chosen = context ?? kubeConfig.currentContext;
  if (!chosen) {
    throw new InputError(
      `no current-context is set; pass --context (one of: ${names.join(", ") || "none defined"})`,
      where,
    );
  }
  if (!names.includes(chosen)) {
    throw new InputError(
      `context ${JSON.stringify(chosen)} is not defined (defined: ${names.join(", ") || "none"})`,
      where,
    );
  }
  kubeConfig.setCurrentContext(chosen);
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster?.server) {
    throw new InputError(
      `context ${JSON.stringify(chosen)} has no cluster with a server URL`,
      where,
    );
  }
  if (!kubeConfig.getCurrentUser()) {
    throw new InputError(
      `context ${JSON.stringify(chosen)} names a user that is not defined`,
      where,
    );
  }
  checkServer(cluster.server, cluster.skipTLSVerify, chosen, where);
  return { kubeConfig, server: cluster.server, context: chosen, origin, files };
}

function checkServer(
  server: string,
  skipTlsVerify: boolean | undefined,
  context: string,
  where: { file?: string | undefined },
): void {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new InputError(
      `context ${JSON.stringify(context)}: server ${JSON.stringify(server)} is not a URL`,
      where,
    );
  }
  if (url.protocol === "http:" && !skipTlsVerify) {
    throw new InputError(
      `context ${JSON.stringify(context)}: server ${server} is plain http; set insecure-skip-tls-verify: true on its cluster to allow it`,
      where,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InputError(
      `context ${JSON.stringify(context)}: unsupported server URL ${server}`,
      where,
    );
  }
}

/**
 * In-cluster credentials: the API server from KUBERNETES_SERVICE_HOST/PORT, the service
 * account's CA and token files (the token is re-read as the kubelet rotates it).
 */
function loadInCluster(
  env: Record<string, string | undefined>,
  directory: string,
): LoadedKubeConfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = join(directory, "token");
  if (!host || !port || !existsSync(tokenFile)) return undefined;
  const hostPart = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const server = `https://${hostPart}:${port}`;
  const caFile = join(directory, "ca.crt");
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name: "in-cluster",
        server,
        skipTLSVerify: false,
        ...(existsSync(caFile) ? { caFile: isAbsolute(caFile) ? caFile : resolve(caFile) } : {}),
      },
    ],
    users: [
      { name: "service-account", authProvider: { name: "tokenFile", config: { tokenFile } } },
    ],
    contexts: [{ name: "in-cluster", cluster: "in-cluster", user: "service-account" }],
    currentContext: "in-cluster",
  });
  return { kubeConfig, server, origin: "in-cluster", files: [] };
}
