import { existsSync, readFileSync } from "node:fs";
import type { RequestOptions } from "node:https";
import { createRequire } from "node:module";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { parseDocument } from "yaml";
import { InputError } from "../errors.ts";
import { readFailure } from "../util/read-failure.ts";
import {
  type KubeCluster,
  type KubeConfigEntries,
  type KubeUser,
  readKubeConfigEntries,
  tokenFileOf,
} from "./kube-config-entries.ts";
import {
  type ApplyCredentials,
  CredentialsError,
  clientNodeFeature,
  messageOf,
  plainCredentials,
  readTokenFile,
} from "./kube-credentials.ts";

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
  /**
   * @kubernetes/client-node's view of the same configuration. Reading it loads client-node
   * (about a second and 85 MB) unless the context needed it already; requests need only
   * {@link applyKubeCredentials}.
   */
  kubeConfig: KubeConfig;
  /** API server URL of the selected context. */
  server: string;
  /** Selected context; absent in-cluster. */
  context?: string;
  /** Where the configuration came from. */
  origin: "flag" | "KUBECONFIG" | "home" | "in-cluster";
  files: string[];
  /**
   * Applies TLS settings and credentials to a request's options (see
   * {@link applyKubeCredentials}); absent on configurations built by hand, which then go
   * through `kubeConfig`.
   */
  applyToRequest?: ApplyCredentials;
  /** The cluster's `proxy-url`, when it has one. */
  proxyUrl?: string;
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

/** One kubeconfig file: its path and text (kept for client-node, which parses it itself). */
interface KubeConfigSource {
  file: string;
  text: string;
}

interface MergedEntries extends KubeConfigEntries {
  sources: KubeConfigSource[];
}

/** Loads the files, merging them as kubectl does: the first definition of a name wins. */
function readFiles(files: string[]): MergedEntries {
  const merged: MergedEntries = { clusters: [], users: [], contexts: [], sources: [] };
  for (const file of files) {
    const text = readKubeConfigFile(file);
    const one = parseKubeConfigFile(file, text);
    merged.sources.push({ file, text });
    if (merged.currentContext === undefined && one.currentContext !== undefined) {
      merged.currentContext = one.currentContext;
    }
    addMissing(merged.clusters, one.clusters);
    addMissing(merged.users, one.users);
    addMissing(merged.contexts, one.contexts);
  }
  return merged;
}

/**
 * A kubeconfig file's text; one that exists but cannot be read (a folder, a file only its owner
 * may read) is an unusable kubeconfig naming it, not a crash.
 */
function readKubeConfigFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new InputError(`cannot read the kubeconfig: ${readFailure(error)}`, { file });
  }
}

function parseKubeConfigFile(file: string, text: string): KubeConfigEntries {
  // Merge keys (`<<:`) as client-node's YAML reader resolves them.
  const document = parseDocument(text, { merge: true });
  const [syntax] = document.errors;
  if (syntax) {
    const position = syntax.linePos?.[0];
    // The parser's message ends with the position, which the location already gives.
    const message = firstLine(syntax.message).replace(/ at line \d+, column \d+:?$/, "");
    throw new InputError(`kubeconfig is not valid YAML: ${message}`, {
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
  try {
    return readKubeConfigEntries(data as Record<string, unknown>, dirname(file));
  } catch (error) {
    throw unusable(error, file);
  }
}

function unusable(error: unknown, file: string | undefined): InputError {
  return new InputError(`not a usable kubeconfig: ${firstLine(String((error as Error).message))}`, {
    file,
  });
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
  merged: MergedEntries,
  context: string | undefined,
  origin: LoadedKubeConfig["origin"],
  files: string[],
): LoadedKubeConfig {
  const where = { file: files[0] };
  const names = merged.contexts.map((c) => c.name);
  const chosen = context ?? merged.currentContext;
  if (!chosen) {
    throw new InputError(
      names.length === 0
        ? "no current-context is set, and no context is defined: a kubeconfig needs one, naming the cluster and user to use (kubectl config set-context)"
        : `no current-context is set; pass --context (one of: ${names.join(", ")})`,
      where,
    );
  }
  const selected = merged.contexts.find((c) => c.name === chosen);
  if (!selected) {
    throw new InputError(
      `context ${JSON.stringify(chosen)} is not defined (defined: ${names.join(", ") || "none"})`,
      where,
    );
  }
  const cluster = merged.clusters.find((c) => c.name === selected.cluster);
  if (!cluster && selected.cluster !== undefined) {
    throw new InputError(
      `context ${JSON.stringify(chosen)} names cluster ${JSON.stringify(selected.cluster)}, which is not defined`,
      where,
    );
  }
  if (!cluster?.server) {
    throw new InputError(
      `context ${JSON.stringify(chosen)} has no cluster with a server URL`,
      where,
    );
  }
  // A context without a user reads anonymously, as kubectl does (behind `kubectl proxy`, say).
  const user =
    selected.user === undefined ? anonymous : merged.users.find((u) => u.name === selected.user);
  if (!user) {
    throw new InputError(
      `context ${JSON.stringify(chosen)} names user ${JSON.stringify(selected.user)}, which is not defined`,
      where,
    );
  }
  checkServer(cluster.server, cluster.skipTLSVerify, chosen, where);
  checkCaData(cluster, where);
  checkCertificateFiles(cluster, user, where);
  checkTokenFile(user, where);
  const build = () => clientNodeConfig(merged.sources, chosen);
  const loaded = withLazyClientNode(
    {
      server: cluster.server,
      context: chosen,
      origin,
      files,
      applyToRequest: plainCredentials(cluster, user),
    },
    build,
  );
  if (cluster.proxyUrl !== undefined) loaded.proxyUrl = cluster.proxyUrl;
  if (clientNodeFeature(cluster, user) !== undefined) {
    // Exec plugins, auth providers and proxies: client-node does the work, as it always did.
    const kubeConfig = loaded.kubeConfig;
    const source = credentialSource(user);
    loaded.applyToRequest = async (options) => {
      try {
        await kubeConfig.applyToHTTPSOptions(options);
      } catch (error) {
        throw new CredentialsError(
          `${source} failed: ${failureText(error)}${installHint(user, error)}`,
          error,
        );
      }
    };
  }
  return loaded;
}

/** The user of a context that names none: no credentials, the cluster's TLS settings only. */
const anonymous: KubeUser = { name: "" };

/**
 * The selected cluster's inline CA must hold a PEM certificate, as kubectl requires; TLS
 * would otherwise fail on every request with a message that does not point here.
 */
function checkCaData(cluster: KubeCluster, where: { file?: string | undefined }): void {
  if (cluster.caData === undefined) return;
  const decoded = Buffer.from(cluster.caData, "base64").toString("latin1");
  if (!decoded.includes("-----BEGIN CERTIFICATE-----")) {
    throw new InputError(
      `cluster ${JSON.stringify(cluster.name)}: certificate-authority-data holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
      where,
    );
  }
}

/**
 * Reads the selected cluster's and user's certificate files once, as kubectl does when it loads
 * a kubeconfig, so that a missing one is a kubeconfig error naming it and its entry (exit 2)
 * rather than a failed read of the cluster; requests read them again, as they may be renewed.
 */
function checkCertificateFiles(
  cluster: KubeCluster,
  user: KubeUser,
  where: { file?: string | undefined },
): void {
  const entries: [file: string | undefined, what: string][] = [
    [cluster.caFile, `cluster ${JSON.stringify(cluster.name)}: certificate-authority`],
    [user.certFile, `user ${JSON.stringify(user.name)}: client-certificate`],
    [user.keyFile, `user ${JSON.stringify(user.name)}: client-key`],
  ];
  for (const [file, what] of entries) {
    if (file === undefined) continue;
    try {
      readFileSync(file);
    } catch (error) {
      throw new InputError(`${what}: cannot read ${file}: ${readFailure(error)}`, where);
    }
  }
}

/**
 * Reads the selected user's token file once, so that a missing or empty one is a kubeconfig
 * error (exit 2) naming it rather than a failed read; requests read it again as it rotates.
 */
function checkTokenFile(user: KubeUser, where: { file?: string | undefined }): void {
  if (user.tokenFile === undefined || user.token) return;
  try {
    readTokenFile(user.tokenFile);
  } catch (error) {
    throw new InputError(`user ${JSON.stringify(user.name)}: ${(error as Error).message}`, where);
  }
}

/** What supplies a client-node context's credentials, for messages. */
function credentialSource(user: KubeUser): string {
  const exec = user.exec as { command?: unknown } | undefined;
  if (exec !== undefined) {
    return `the credential plugin ${JSON.stringify(String(exec.command ?? ""))} of user ${JSON.stringify(user.name)}`;
  }
  const provider = user.authProvider as { name?: unknown } | undefined;
  if (provider !== undefined) {
    return `the auth provider ${JSON.stringify(String(provider.name ?? ""))} of user ${JSON.stringify(user.name)}`;
  }
  return "applying the kubeconfig's credentials";
}

/**
 * The exec plugin's `installHint`, for a plugin that could not be started (not installed, or
 * not on the PATH), as kubectl prints it; empty otherwise.
 */
function installHint(user: KubeUser, error: unknown): string {
  const hint = (user.exec as { installHint?: unknown } | undefined)?.installHint;
  if (typeof hint !== "string" || hint.trim() === "") return "";
  if ((error as { code?: unknown } | null)?.code !== "ENOENT") return "";
  return `; its installHint says: ${failureText(hint)}`;
}

/** A failure's message without the plugin's trailing newline, on one line. */
function failureText(error: unknown): string {
  const message = messageOf(error).trim();
  return message === "" ? "no message" : message.replace(/\s*\n\s*/g, " / ");
}

/**
 * Adds `kubeConfig` as a property that loads @kubernetes/client-node when first read. Loading
 * it costs about a second and 85 MB, which plain configurations never need.
 */
function withLazyClientNode(
  fields: Omit<LoadedKubeConfig, "kubeConfig">,
  build: () => KubeConfig,
): LoadedKubeConfig {
  let built: KubeConfig | undefined;
  return Object.defineProperty(fields, "kubeConfig", {
    enumerable: true,
    get: () => {
      built ??= build();
      return built;
    },
  }) as LoadedKubeConfig;
}

type ClientNode = typeof import("@kubernetes/client-node");

/** Loaded synchronously so that `kubeConfig` can stay a plain property. */
function clientNode(): ClientNode {
  return createRequire(import.meta.url)("@kubernetes/client-node") as ClientNode;
}

/** client-node's own reading of the files, merged the same way, on the selected context. */
function clientNodeConfig(sources: readonly KubeConfigSource[], context: string): KubeConfig {
  const { KubeConfig } = clientNode();
  const merged = new KubeConfig();
  merged.loadFromOptions({ clusters: [], users: [], contexts: [], currentContext: "" });
  for (const { file, text } of sources) {
    const one = new KubeConfig();
    try {
      one.loadFromString(withTokenFilesRead(text, dirname(file)));
    } catch (error) {
      throw unusable(error, file);
    }
    one.makePathsAbsolute(dirname(file));
    if (!merged.currentContext && one.currentContext) merged.currentContext = one.currentContext;
    addMissing(merged.clusters, one.clusters);
    addMissing(merged.users, one.users);
    addMissing(merged.contexts, one.contexts);
  }
  merged.setCurrentContext(context);
  withAnonymousUser(merged);
  return merged;
}

/**
 * Gives a selected context that names no user an empty one: client-node applies a cluster's
 * CA and TLS settings only when there is a user, kubectl (and {@link plainCredentials}) always.
 */
function withAnonymousUser(config: KubeConfig): void {
  const current = config.getContextObject(config.getCurrentContext()) as { user?: string } | null;
  if (!current || current.user) return;
  // No user of a kubeconfig has an empty name (readKubeConfigEntries refuses it).
  config.users.push({ name: anonymous.name });
  current.user = anonymous.name;
}

/**
 * The file's text with each user's token file (`tokenFile`, or `token-file`: see
 * {@link tokenFileOf}) replaced by the token it holds, read as
 * {@link plainCredentials} reads it (relative to the kubeconfig's folder, trimmed): client-node
 * would read every user's file at once, relative to the working directory, and keep its
 * newline. A file that cannot be read is dropped: the selected user's was checked already.
 */
function withTokenFilesRead(text: string, directory: string): string {
  if (!/token-file|tokenFile/.test(text)) return text;
  const data = parseDocument(text, { merge: true }).toJS() as { users?: unknown };
  if (!Array.isArray(data.users)) return text;
  for (const entry of data.users as { user?: Record<string, unknown> }[]) {
    const user = entry?.user;
    if (typeof user !== "object" || user === null) continue;
    const named = tokenFileOf(user);
    if (!named) continue;
    const file = String(named);
    delete user.tokenFile;
    delete user["token-file"];
    if (user.token) continue;
    try {
      user.token = readTokenFile(isAbsolute(file) ? file : join(directory, file));
    } catch {
      // Not this context's user (its file was read when the context was selected).
    }
  }
  // JSON is YAML: client-node reads it as it would the file.
  return JSON.stringify(data);
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
  const cluster: KubeCluster = { name: "in-cluster", server, skipTLSVerify: false };
  if (existsSync(caFile)) cluster.caFile = isAbsolute(caFile) ? caFile : resolve(caFile);
  const user: KubeUser = { name: "service-account", tokenFile };
  const build = () => {
    const kubeConfig = new (clientNode().KubeConfig)();
    kubeConfig.loadFromOptions({
      clusters: [{ ...cluster }],
      users: [{ name: user.name, authProvider: { name: "tokenFile", config: { tokenFile } } }],
      contexts: [{ name: "in-cluster", cluster: cluster.name, user: user.name }],
      currentContext: "in-cluster",
    });
    return kubeConfig;
  };
  return withLazyClientNode(
    {
      server,
      origin: "in-cluster",
      files: [],
      applyToRequest: plainCredentials(cluster, user),
    },
    build,
  );
}

/**
 * Applies the selected context's TLS settings and credentials to a request's options, as
 * `kubeConfig.applyToHTTPSOptions` does, but loading @kubernetes/client-node only when the
 * context needs it (exec plugins, auth providers, proxies). A plain context sets no agent;
 * one handled by client-node gets client-node's, which must be kept when it goes through a
 * proxy ({@link usesProxy}).
 */
export function applyKubeCredentials(
  loaded: LoadedKubeConfig,
  options: RequestOptions,
): Promise<void> {
  if (loaded.applyToRequest) return loaded.applyToRequest(options);
  return loaded.kubeConfig.applyToHTTPSOptions(options);
}

/** True when requests must go through client-node's proxy agent. */
export function usesProxy(loaded: LoadedKubeConfig): boolean {
  if (loaded.applyToRequest) return loaded.proxyUrl !== undefined;
  return Boolean(loaded.kubeConfig.getCurrentCluster()?.proxyUrl);
}
