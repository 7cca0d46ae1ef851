import { readFileSync } from "node:fs";
import type { RequestOptions } from "node:https";
import type { KubeCluster, KubeUser } from "./kube-config-entries.ts";

/** Puts TLS material and credentials on one request's options. */
export type ApplyCredentials = (options: RequestOptions) => Promise<void>;

/**
 * Credentials that could not be had for a request: a credential plugin or auth provider
 * failed, or a token file could not be read. The message says which.
 */
export class CredentialsError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = "CredentialsError";
  }
}

/** An error's message; Node's own errors may come from another realm, so no instanceof. */
export function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : String(error);
}

/**
 * What in a context only @kubernetes/client-node can handle, or undefined when the context
 * is plain: a token, a token file, a client certificate, basic auth, a CA, TLS settings.
 */
export function clientNodeFeature(cluster: KubeCluster, user: KubeUser): string | undefined {
  if (user.exec !== undefined) return "an exec credential plugin";
  if (user.authProvider !== undefined) return "an auth provider";
  if (cluster.proxyUrl !== undefined) return "a proxy";
  return undefined;
}

/** How long a token read from its file is used before it is read again. */
const tokenFileSeconds = 60;

/**
 * Credentials for a plain context, applied as @kubernetes/client-node's
 * `KubeConfig.applyToHTTPSOptions` applies them (the same options, in the same order, files
 * read at each request), without its agent: the caller brings a keep-alive one. Unlike
 * client-node, a context without a user still gets its cluster's TLS settings (as kubectl),
 * and a token file (`user.tokenFile`: a kubeconfig's `tokenFile` or `token-file`, or the
 * in-cluster service account token) is read without surrounding whitespace (as client-go),
 * re-read every minute as the kubelet rotates it; a `token` takes precedence over it.
 * @throws CredentialsError (from the returned function) when the token file cannot be read
 * or is empty.
 */
export function plainCredentials(cluster: KubeCluster, user: KubeUser): ApplyCredentials {
  let fileToken: string | undefined;
  let readAt = 0;
  return async (options) => {
    if (cluster.skipTLSVerify) options.rejectUnauthorized = false;
    if (cluster.tlsServerName) options.servername = cluster.tlsServerName;
    const ca = fileOrData(cluster.caFile, cluster.caData);
    if (ca) options.ca = ca;
    const cert = fileOrData(user.certFile, user.certData);
    if (cert) options.cert = cert;
    const key = fileOrData(user.keyFile, user.keyData);
    if (key) options.key = key;
    options.headers ??= {};
    const headers = options.headers as Record<string, string>;
    if (user.impersonateUser !== undefined)
      headers["Impersonate-User"] = String(user.impersonateUser);
    if (user.tokenFile !== undefined && !user.token) {
      if (fileToken === undefined || Date.now() - readAt > tokenFileSeconds * 1000) {
        fileToken = readTokenFile(user.tokenFile);
        readAt = Date.now();
      }
      headers.Authorization = `Bearer ${fileToken}`;
    }
    if (user.token) headers.Authorization = `Bearer ${String(user.token)}`;
    if (user.username) options.auth = `${String(user.username)}:${String(user.password)}`;
  };
}

/**
 * The token in `file`, without the whitespace around it (`kubectl create token … > file`
 * ends it with a newline, which no header may carry).
 * @throws CredentialsError naming the file when it cannot be read or holds no token.
 */
export function readTokenFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new CredentialsError(
      `cannot read the token file ${file}: ${messageOf(error).split("\n")[0]}`,
      error,
    );
  }
  const token = text.trim();
  if (token === "") throw new CredentialsError(`the token file ${file} is empty`);
  return token;
}

function fileOrData(file: string | undefined, data: unknown): Buffer | undefined {
  if (file) return readFileSync(file);
  if (data) return Buffer.from(String(data), "base64");
  return undefined;
}
