import { isAbsolute, join } from "node:path";

// The kubeconfig's clusters, users and contexts as @kubernetes/client-node reads them
// (config_types.js: the same field names, the same checks and messages, relative paths made
// absolute the same way), so that the common configurations can be used without loading
// client-node while behaving as it would. Where client-node departs from kubectl, kubectl is
// followed: a user's token file is read from `tokenFile`, kubectl's field (client-node knows only
// `token-file`, which is read too), resolved against the kubeconfig's folder like the
// certificate files (client-node reads it from the working directory), and only the selected
// user's is read, when requests are made; inline certificate data that is not base64 is refused.

/** A `clusters[]` entry. */
export interface KubeCluster {
  name: string;
  server: string;
  caData?: string;
  caFile?: string;
  skipTLSVerify: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
}

/** A `users[]` entry; fields hold what the file says (a token may be a YAML number). */
export interface KubeUser {
  name: string;
  authProvider?: unknown;
  certData?: unknown;
  certFile?: string;
  exec?: unknown;
  keyData?: unknown;
  keyFile?: string;
  token?: unknown;
  /** The token file (`tokenFile` or `token-file`), made absolute; read when requests are made. */
  tokenFile?: string;
  password?: unknown;
  username?: unknown;
  impersonateUser?: unknown;
}

/** A `contexts[]` entry. */
export interface KubeContext {
  name: string;
  cluster: string;
  user?: string;
  namespace?: string;
}

/** One kubeconfig file's entries. */
export interface KubeConfigEntries {
  clusters: KubeCluster[];
  users: KubeUser[];
  contexts: KubeContext[];
  currentContext?: string;
}

type Entry = Record<string, unknown>;

/**
 * Reads the entries of a parsed kubeconfig file, with paths relative to `directory`.
 * @throws Error naming the entry (`clusters[0].cluster.server is missing`) when one is unusable.
 */
export function readKubeConfigEntries(data: Entry, directory: string): KubeConfigEntries {
  const entries: KubeConfigEntries = {
    clusters: entriesOf(data.clusters, "clusters").map((entry, index) =>
      readCluster(entry, index, directory),
    ),
    contexts: entriesOf(data.contexts, "contexts").map(readContext),
    users: entriesOf(data.users, "users").map((entry, index) => readUser(entry, index, directory)),
  };
  const current = data["current-context"];
  if (typeof current === "string" && current !== "") entries.currentContext = current;
  return entries;
}

function entriesOf(value: unknown, what: string): Entry[] {
  if (!Array.isArray(value)) return [];
  return value.map((item, index) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      throw new Error(`${what}[${index}] is not a mapping`);
    }
    return item as Entry;
  });
}

function section(entry: Entry, key: string): Entry | undefined {
  const value = entry[key];
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Entry)
    : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** client-node's makePathsAbsolute: relative to the file's directory. */
function absolute(directory: string, file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  return isAbsolute(file) ? file : join(directory, file);
}

function nameOf(entry: Entry, what: string, index: number): string {
  const name = entry.name;
  if (!name) throw new Error(`${what}[${index}].name is missing`);
  // client-node compares names as YAML gave them; a numeric name still matches itself.
  return String(name);
}

function readCluster(entry: Entry, index: number, directory: string): KubeCluster {
  const name = nameOf(entry, "clusters", index);
  const cluster = section(entry, "cluster");
  if (!cluster) throw new Error(`clusters[${index}].cluster is missing`);
  const server = cluster.server;
  if (!server) throw new Error(`clusters[${index}].cluster.server is missing`);
  if (typeof server !== "string") {
    throw new Error(`clusters[${index}].cluster.server is not a string`);
  }
  const result: KubeCluster = {
    name,
    server: server.replace(/\/$/, ""),
    skipTLSVerify: cluster["insecure-skip-tls-verify"] === true,
  };
  const caData = text(cluster["certificate-authority-data"]);
  if (caData !== undefined) {
    checkBase64(
      caData,
      `clusters[${index}].cluster.certificate-authority-data (cluster ${JSON.stringify(name)})`,
    );
    result.caData = caData;
  }
  const caFile = absolute(directory, text(cluster["certificate-authority"]));
  if (caFile !== undefined) result.caFile = caFile;
  const tlsServerName = text(cluster["tls-server-name"]);
  if (tlsServerName !== undefined) result.tlsServerName = tlsServerName;
  const proxyUrl = text(cluster["proxy-url"]);
  if (proxyUrl !== undefined) result.proxyUrl = proxyUrl;
  return result;
}

function readContext(entry: Entry, index: number): KubeContext {
  const name = nameOf(entry, "contexts", index);
  const context = section(entry, "context");
  if (!context) throw new Error(`contexts[${index}].context is missing`);
  const cluster = context.cluster;
  if (!cluster) throw new Error(`contexts[${index}].context.cluster is missing`);
  const result: KubeContext = { name, cluster: String(cluster) };
  if (context.user) result.user = String(context.user);
  if (context.namespace) result.namespace = String(context.namespace);
  return result;
}

function readUser(entry: Entry, index: number, directory: string): KubeUser {
  const name = nameOf(entry, "users", index);
  const user = section(entry, "user") ?? {};
  const result: KubeUser = { name };
  const set = (key: keyof KubeUser, value: unknown) => {
    if (value !== undefined && value !== null) (result as unknown as Entry)[key] = value;
  };
  for (const key of ["client-certificate-data", "client-key-data"]) {
    const data = user[key];
    if (typeof data === "string" && data !== "") {
      checkBase64(data, `users[${index}].user.${key} (user ${JSON.stringify(name)})`);
    }
  }
  set("authProvider", user["auth-provider"]);
  set("exec", user.exec);
  set("certData", user["client-certificate-data"]);
  set("certFile", absolute(directory, text(user["client-certificate"])));
  set("keyData", user["client-key-data"]);
  set("keyFile", absolute(directory, text(user["client-key"])));
  set("token", user.token || undefined);
  const tokenFile = tokenFileOf(user);
  if (!user.token && tokenFile) set("tokenFile", absolute(directory, String(tokenFile)));
  set("password", user.password);
  set("username", user.username);
  set("impersonateUser", user.as);
  return result;
}

/**
 * The token file a `users[].user` entry names: `tokenFile`, as kubectl writes and reads it
 * (client-go's `AuthInfo.TokenFile`), else `token-file`, the name client-node reads.
 */
export function tokenFileOf(user: Entry): unknown {
  return user.tokenFile || user["token-file"] || undefined;
}

/**
 * Refuses inline data that is not standard base64 (line breaks allowed), as kubectl does;
 * decoding it anyway would hand TLS a few stray bytes and fail far from the cause.
 */
function checkBase64(data: string, where: string): void {
  const compact = data.replace(/[\r\n]/g, "");
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
    throw new Error(`${where} is not base64`);
  }
}
