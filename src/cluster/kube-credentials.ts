import { readFileSync } from "node:fs";
import type { RequestOptions } from "node:https";
import type { KubeCluster, KubeUser } from "./kube-config-entries.ts";

/** Puts TLS material and credentials on one request's options. */
export type ApplyCredentials = (options: RequestOptions) => Promise<void>;

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

/** How long a service account token read from its file is used before it is read again. */
const tokenFileSeconds = 60;

/**
 * Credentials for a plain context, applied as @kubernetes/client-node's
 * `KubeConfig.applyToHTTPSOptions` applies them (the same options, in the same order, files
 * read at each request), without its agent: the caller brings a keep-alive one.
 * `tokenFile` is the in-cluster service account token, re-read every minute as the kubelet
 * rotates it (as client-node and client-go do).
 */
export function plainCredentials(
  cluster: KubeCluster,
  user: KubeUser,
  tokenFile?: string,
): ApplyCredentials {
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
    if (tokenFile !== undefined) {
      if (fileToken === undefined || Date.now() - readAt > tokenFileSeconds * 1000) {
        fileToken = readFileSync(tokenFile).toString("utf-8");
        readAt = Date.now();
      }
      if (fileToken) headers.Authorization = `Bearer ${fileToken}`;
    }
    if (user.token) headers.Authorization = `Bearer ${String(user.token)}`;
    if (user.username) options.auth = `${String(user.username)}:${String(user.password)}`;
  };
}

function fileOrData(file: string | undefined, data: unknown): Buffer | undefined {
  if (file) return readFileSync(file);
  if (data) return Buffer.from(String(data), "base64");
  return undefined;
}
