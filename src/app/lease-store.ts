import http from "node:http";
import https from "node:https";
import { z } from "zod";
import { KubeApiError } from "../cluster/kube-client.ts";
import type { LoadedKubeConfig } from "../cluster/kube-config.ts";
import { type KubeResponse, kubeRequest } from "../cluster/kube-request.ts";

/** The leader-election fields of a coordination.k8s.io/v1 Lease's spec. */
export interface LeaseRecord {
  /** Who holds the Lease; "" when nobody does (released). */
  holderIdentity: string;
  leaseDurationSeconds: number;
  /** MicroTime (RFC 3339 with microseconds); absent on a Lease never acquired. */
  acquireTime: string | undefined;
  renewTime: string | undefined;
  leaseTransitions: number;
}

/** A Lease as read or written: its record and the resourceVersion a next update must name. */
export interface StoredLease {
  record: LeaseRecord;
  resourceVersion: string;
  /** The whole object as the API server sent it: an update keeps what it does not change. */
  object: Record<string, unknown>;
}

/** Reads and writes one Lease. Failures other than the ones named below throw. */
export interface LeaseStore {
  /** `namespace/name`, for messages. */
  readonly description: string;
  /** The Lease, or undefined when it does not exist (404). */
  get(): Promise<StoredLease | undefined>;
  /** Creates the Lease; undefined when another replica created it first (409 AlreadyExists). */
  create(record: LeaseRecord): Promise<StoredLease | undefined>;
  /**
   * Replaces the record of `current` if the Lease is still at its resourceVersion; undefined
   * when it changed meanwhile (409 Conflict): someone else wrote first.
   */
  update(current: StoredLease, record: LeaseRecord): Promise<StoredLease | undefined>;
  /** Releases pooled connections. */
  close(): void;
}

export interface KubeLeaseStoreOptions {
  loaded: LoadedKubeConfig;
  namespace: string;
  name: string;
  /** Per-request timeout (default 5 s: half of the default renew deadline). */
  timeoutMs?: number;
}

const Lease = z.object({
  metadata: z.object({ resourceVersion: z.string() }),
  spec: z
    .object({
      holderIdentity: z.string().nullish(),
      leaseDurationSeconds: z.number().int().nullish(),
      acquireTime: z.string().nullish(),
      renewTime: z.string().nullish(),
      leaseTransitions: z.number().int().nullish(),
    })
    .optional(),
});

const apiVersion = "coordination.k8s.io/v1";

/**
 * A {@link LeaseStore} on the Kubernetes API with the kubeconfig's credentials. It sends its
 * own requests (src/cluster/kube-request.ts, as drain does) so that the server does not load
 * @kubernetes/client-node, about 85 MB, for three verbs: get, create and update (PUT), the
 * ones deploy/base/role.yaml grants.
 */
export function kubeLeaseStore(options: KubeLeaseStoreOptions): LeaseStore {
  const { loaded, namespace, name } = options;
  const collection = `/apis/${apiVersion}/namespaces/${encodeURIComponent(namespace)}/leases`;
  const item = `${collection}/${encodeURIComponent(name)}`;
  const secure = new URL(loaded.server).protocol === "https:";
  // A renewal every two seconds: keep the connection (and its TLS session) instead of
  // handshaking each time.
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: 2 })
    : new http.Agent({ keepAlive: true, maxSockets: 2 });
  const timeoutMs = options.timeoutMs ?? 5_000;

  function call(method: "GET" | "POST" | "PUT", path: string, body?: unknown) {
    return kubeRequest(loaded, { method, path, body, timeoutMs, agent });
  }

  function stored(method: string, path: string, status: number, text: string): StoredLease {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new KubeApiError(`${method} ${path}: HTTP ${status} but the body is not JSON`, path);
    }
    const parsed = Lease.safeParse(json);
    if (!parsed.success)
      throw new KubeApiError(`${method} ${path}: the answer is not a Lease`, path, status);
    const spec = parsed.data.spec ?? {};
    return {
      record: {
        holderIdentity: spec.holderIdentity ?? "",
        leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
        acquireTime: spec.acquireTime ?? undefined,
        renewTime: spec.renewTime ?? undefined,
        leaseTransitions: spec.leaseTransitions ?? 0,
      },
      resourceVersion: parsed.data.metadata.resourceVersion,
      object: json as Record<string, unknown>,
    };
  }

  return {
    description: `${namespace}/${name}`,
    async get() {
      const response = await call("GET", item);
      if (response.status === 404 && response.reason === "NotFound") return undefined;
      if (response.status !== 200) throw failure("GET", item, response);
      return stored("GET", item, response.status, response.text);
    },
    async create(record) {
      const lease = {
        apiVersion,
        kind: "Lease",
        metadata: { name, namespace },
        spec: specOf(record),
      };
      const response = await call("POST", collection, lease);
      if (response.status === 409) return undefined;
      if (response.status !== 201 && response.status !== 200)
        throw failure("POST", collection, response);
      return stored("POST", collection, response.status, response.text);
    },
    async update(current, record) {
      const metadata = (current.object.metadata ?? {}) as Record<string, unknown>;
      const lease = {
        ...current.object,
        apiVersion,
        kind: "Lease",
        metadata: { ...metadata, name, namespace, resourceVersion: current.resourceVersion },
        spec: { ...((current.object.spec ?? {}) as Record<string, unknown>), ...specOf(record) },
      };
      const response = await call("PUT", item, lease);
      if (response.status === 409) return undefined;
      if (response.status !== 200) throw failure("PUT", item, response);
      return stored("PUT", item, response.status, response.text);
    },
    close: () => agent.destroy(),
  };
}

/** The spec as the API wants it: absent times left out rather than sent as null. */
function specOf(record: LeaseRecord): Record<string, unknown> {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    ...(record.acquireTime ? { acquireTime: record.acquireTime } : {}),
    ...(record.renewTime ? { renewTime: record.renewTime } : {}),
    leaseTransitions: record.leaseTransitions,
  };
}

/** What went wrong, with what to do for the usual causes. */
function failure(method: string, path: string, answer: KubeResponse): KubeApiError {
  const detail = answer.message ?? answer.text.trim().slice(0, 200);
  const hint =
    answer.status === 403
      ? " (the ServiceAccount needs get, create and update on this Lease: deploy/base/role.yaml)"
      : answer.status === 404
        ? " (is coordination.k8s.io/v1 served, and does the namespace exist?)"
        : "";
  return new KubeApiError(
    `${method} ${path}: HTTP ${answer.status}${answer.reason ? ` ${answer.reason}` : ""}${detail ? `: ${detail}` : ""}${hint}`,
    path,
    answer.status,
    answer.reason,
  );
}
