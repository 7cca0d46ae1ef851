/**
 * A kube-apiserver stand-in: a real HTTP(S) server on 127.0.0.1 that serves real-shaped
 * objects from in-memory state, for the cluster readers, the drain command and the
 * benchmarks.
 *
 * What it does like the real one: discovery (/api, /apis, group versions) enough for kubectl
 * and client-node; list with `limit`/`continue` (410 Gone with reason Expired for an expired
 * token), `labelSelector` and `fieldSelector`; GET, DELETE and PATCH (merge and
 * strategic-merge, which coincide for maps such as `spec.unschedulable`) of single objects;
 * create (POST, 409 AlreadyExists) and update (PUT, 409 Conflict when the body's
 * resourceVersion is not the stored one), as leader election uses on coordination.k8s.io
 * Leases; a new resourceVersion on every write; the policy/v1 eviction subresource, which honours PodDisruptionBudgets (429 when none is
 * allowed, 500 when several PDBs match) for pods that are neither finished nor Pending; 404 for API groups that are not installed; Status
 * objects for errors; bearer-token authentication when asked for.
 *
 * What it simplifies: continuing a list reads the current state after the token's position
 * instead of the snapshot at the token's resourceVersion (each page says the token's
 * resourceVersion, as the real one does); terminal pods (Succeeded, Failed)
 * are evicted without consulting PDBs, other pods always consult them.
 *
 * Tests seed state with `put`/`add`, inspect it with `get`/`list`, steer it with
 * `uninstall`, `expireContinueTokens`, `injectFault` and `onRequest`, and read `requests`.
 */
import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { fieldsMatch, labelsMatch, parseLabelSelector, selectorMatches } from "./kube-selectors.ts";

type Raw = Record<string, unknown>;

export type FakeResource =
  | "nodes"
  | "pods"
  | "persistentvolumes"
  | "persistentvolumeclaims"
  | "poddisruptionbudgets"
  | "horizontalpodautoscalers"
  | "verticalpodautoscalers"
  | "daemonsets"
  | "runtimeclasses"
  | "storageclasses"
  | "csinodes"
  | "namespaces"
  | "leases"
  | "nodemetrics"
  | "podmetrics";

interface ResourceType {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  /** metrics-server ignores `limit`; so does this fake for metrics. */
  paginated: boolean;
  shortNames?: string[];
  verbs: string[];
}

const readVerbs = ["get", "list"];
const allVerbs = ["create", "delete", "get", "list", "patch", "update", "watch"];

export const resourceTypes: Record<FakeResource, ResourceType> = {
  nodes: {
    group: "",
    version: "v1",
    plural: "nodes",
    singular: "node",
    kind: "Node",
    namespaced: false,
    paginated: true,
    shortNames: ["no"],
    verbs: allVerbs,
  },
  pods: {
    group: "",
    version: "v1",
    plural: "pods",
    singular: "pod",
    kind: "Pod",
    namespaced: true,
    paginated: true,
    shortNames: ["po"],
    verbs: allVerbs,
  },
  persistentvolumes: {
    group: "",
    version: "v1",
    plural: "persistentvolumes",
    singular: "persistentvolume",
    kind: "PersistentVolume",
    namespaced: false,
    paginated: true,
    shortNames: ["pv"],
    verbs: allVerbs,
  },
  persistentvolumeclaims: {
    group: "",
    version: "v1",
    plural: "persistentvolumeclaims",
    singular: "persistentvolumeclaim",
    kind: "PersistentVolumeClaim",
    namespaced: true,
    paginated: true,
    shortNames: ["pvc"],
    verbs: allVerbs,
  },
  poddisruptionbudgets: {
    group: "policy",
    version: "v1",
    plural: "poddisruptionbudgets",
    singular: "poddisruptionbudget",
    kind: "PodDisruptionBudget",
    namespaced: true,
    paginated: true,
    shortNames: ["pdb"],
    verbs: allVerbs,
  },
  horizontalpodautoscalers: {
    group: "autoscaling",
    version: "v2",
    plural: "horizontalpodautoscalers",
    singular: "horizontalpodautoscaler",
    kind: "HorizontalPodAutoscaler",
    namespaced: true,
    paginated: true,
    shortNames: ["hpa"],
    verbs: allVerbs,
  },
  verticalpodautoscalers: {
    group: "autoscaling.k8s.io",
    version: "v1",
    plural: "verticalpodautoscalers",
    singular: "verticalpodautoscaler",
    kind: "VerticalPodAutoscaler",
    namespaced: true,
    paginated: true,
    shortNames: ["vpa"],
    verbs: allVerbs,
  },
  daemonsets: {
    group: "apps",
    version: "v1",
    plural: "daemonsets",
    singular: "daemonset",
    kind: "DaemonSet",
    namespaced: true,
    paginated: true,
    shortNames: ["ds"],
    verbs: allVerbs,
  },
  runtimeclasses: {
    group: "node.k8s.io",
    version: "v1",
    plural: "runtimeclasses",
    singular: "runtimeclass",
    kind: "RuntimeClass",
    namespaced: false,
    paginated: true,
    verbs: allVerbs,
  },
  storageclasses: {
    group: "storage.k8s.io",
    version: "v1",
    plural: "storageclasses",
    singular: "storageclass",
    kind: "StorageClass",
    namespaced: false,
    paginated: true,
    shortNames: ["sc"],
    verbs: allVerbs,
  },
  csinodes: {
    group: "storage.k8s.io",
    version: "v1",
    plural: "csinodes",
    singular: "csinode",
    kind: "CSINode",
    namespaced: false,
    paginated: true,
    verbs: allVerbs,
  },
  namespaces: {
    group: "",
    version: "v1",
    plural: "namespaces",
    singular: "namespace",
    kind: "Namespace",
    namespaced: false,
    paginated: true,
    shortNames: ["ns"],
    verbs: allVerbs,
  },
  leases: {
    group: "coordination.k8s.io",
    version: "v1",
    plural: "leases",
    singular: "lease",
    kind: "Lease",
    namespaced: true,
    paginated: true,
    verbs: allVerbs,
  },
  nodemetrics: {
    group: "metrics.k8s.io",
    version: "v1beta1",
    plural: "nodes",
    singular: "",
    kind: "NodeMetrics",
    namespaced: false,
    paginated: false,
    verbs: readVerbs,
  },
  podmetrics: {
    group: "metrics.k8s.io",
    version: "v1beta1",
    plural: "pods",
    singular: "",
    kind: "PodMetrics",
    namespaced: true,
    paginated: false,
    verbs: readVerbs,
  },
};

const kindToResource = new Map<string, FakeResource>(
  Object.entries(resourceTypes).map(([resource, type]) => [type.kind, resource as FakeResource]),
);

function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
}

/** A failure to inject into matching requests. */
export interface FakeFault {
  method?: string;
  /** Matched against the request path (without query). */
  path: string | RegExp;
  /** Only requests that carry a `continue` token (true) or none (false). */
  continued?: boolean;
  /** Let this many matching requests through first. */
  after?: number;
  /** How many requests to fail (default 1; Infinity for all). */
  times?: number;
  /** Respond with this status and a Status body... */
  status?: number;
  reason?: string;
  message?: string;
  /** ...or with this raw body (e.g. an aggregated API's plain-text 503). */
  body?: string;
  /** Headers to send with that answer, e.g. `Retry-After`. */
  headers?: Record<string, string>;
  /** Or send the real response's headers and half its body, then cut the connection. */
  truncate?: boolean;
  /** Or send the real response's headers and half its body, then nothing more (a stall). */
  stall?: boolean;
  /**
   * Or send the real response's headers and half its body, then a space every this many ms for
   * ever (until the client goes): a server that is never silent for long, and never done.
   */
  trickleMs?: number;
  /**
   * Answer only after this many ms (a slow server): with the fields above, that answer; with
   * none of them, the real one. A client that gave up meanwhile gets nothing.
   */
  delayMs?: number;
  /**
   * Answer only once this settles (a server holding its answers until the test lets them go),
   * as `delayMs` does; the two together wait for both.
   */
  until?: Promise<unknown>;
}

interface ActiveFault extends FakeFault {
  seen: number;
  used: number;
}

interface Entry {
  namespace: string;
  name: string;
  json: string | undefined;
  object: Raw | undefined;
}

class Collection {
  readonly entries = new Map<string, Entry>();
  #sorted: string[] | undefined;
  /** Bumped on every change; cached pages carry it. */
  version = 0;
  readonly pages = new Map<string, Buffer>();

  keys(): string[] {
    this.#sorted ??= [...this.entries.keys()].sort();
    return this.#sorted;
  }

  changed(): void {
    this.#sorted = undefined;
    this.version++;
    this.pages.clear();
  }
}

export interface FakeKubeApiserverOptions {
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: string; key: string; ca?: string };
  /** Require `Authorization: Bearer <token>`; 401 otherwise. */
  token?: string;
  /** API groups not served (404), e.g. `["autoscaling.k8s.io"]`. */
  uninstalled?: string[];
}

export interface KubeconfigOptions {
  /** Context (and cluster and user) name; default "fake". */
  context?: string;
  /** Bearer token to put in the user entry (default: the server's token, if any). */
  token?: string;
  /** More contexts pointing at other servers, e.g. to test `--context`. */
  extraContexts?: { name: string; server: string }[];
  /** current-context; null leaves it unset. Default: `context`. */
  currentContext?: string | null;
}

function key(namespace: string, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function statusBody(code: number, reason: string, message: string, details?: Raw): string {
  return JSON.stringify({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  });
}

const reasons: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "Conflict",
  410: "Expired",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

class HttpError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: Raw | undefined;

  constructor(code: number, message: string, details?: Raw, reason = reasons[code] ?? "Unknown") {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }
}

/** Where a page starts, how long it is, and the resourceVersion the list is read at. */
interface PageAt {
  start: number;
  limit: number;
  rv: number;
}

interface ContinueToken {
  epoch: number;
  rv: number;
  start: string;
}

/** JSON merge patch (RFC 7386). */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const result: Raw =
    typeof target === "object" && target !== null && !Array.isArray(target)
      ? { ...(target as Raw) }
      : {};
  for (const [name, value] of Object.entries(patch as Raw)) {
    if (value === null) delete result[name];
    else result[name] = mergePatch(result[name], value);
  }
  return result;
}

export class FakeKubeApiserver {
  readonly #server: http.Server;
  readonly #collections = new Map<FakeResource, Collection>();
  readonly #uninstalled: Set<string>;
  readonly #faults: ActiveFault[] = [];
  readonly #token: string | undefined;
  readonly #ca: string | undefined;
  #resourceVersion = 1000;
  #epoch = 0;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];
  /** Called for each request before it is handled (e.g. to expire tokens mid-list). */
  onRequest: ((request: RecordedRequest) => void) | undefined;
  /** Keep request records (turn off for benchmarks with huge request counts). */
  recordRequests = true;
  url = "";

  private constructor(options: FakeKubeApiserverOptions) {
    this.#token = options.token;
    this.#ca = options.tls?.ca ?? options.tls?.cert;
    this.#uninstalled = new Set(options.uninstalled ?? []);
    for (const resource of Object.keys(resourceTypes) as FakeResource[]) {
      this.#collections.set(resource, new Collection());
    }
    const handler = (request: http.IncomingMessage, response: http.ServerResponse) => {
      this.#handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) {
          this.#send(response, 500, statusBody(500, "InternalError", String(error)));
        } else response.destroy();
      });
    };
    this.#server = options.tls
      ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, handler)
      : http.createServer(handler);
    this.#server.keepAliveTimeout = 30_000;
  }

  /** Starts a server on 127.0.0.1 with a random port. */
  static async start(options: FakeKubeApiserverOptions = {}): Promise<FakeKubeApiserver> {
    const fake = new FakeKubeApiserver(options);
    await new Promise<void>((resolve) => fake.#server.listen(0, "127.0.0.1", resolve));
    const { port } = fake.#server.address() as AddressInfo;
    fake.url = `${options.tls ? "https" : "http"}://127.0.0.1:${port}`;
    return fake;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  // ---- state -------------------------------------------------------------------------------

  #collection(resource: FakeResource): Collection {
    return this.#collections.get(resource) as Collection;
  }

  /**
   * Stores an object (a copy), filling in uid, creationTimestamp and a new resourceVersion
   * as the API server would. Replaces an object of the same name.
   */
  put(resource: FakeResource, object: Raw): Raw {
    const copy = structuredClone(object);
    copy.metadata ??= {};
    const metadata = copy.metadata as Raw;
    const name = metadata.name;
    if (typeof name !== "string" || name === "")
      throw new Error(`${resource}: metadata.name is required`);
    const type = resourceTypes[resource];
    const namespace = type.namespaced ? String(metadata.namespace ?? "default") : "";
    if (type.namespaced) metadata.namespace = namespace;
    metadata.uid ??= randomUUID();
    metadata.creationTimestamp ??= "2025-01-10T08:00:00Z";
    metadata.resourceVersion = String(++this.#resourceVersion);
    const collection = this.#collection(resource);
    collection.entries.set(key(namespace, name), {
      namespace,
      name,
      json: undefined,
      object: copy,
    });
    collection.changed();
    return copy;
  }

  /** Stores objects by their `kind` (Node, Pod, PodDisruptionBudget, VerticalPodAutoscaler, …). */
  add(...objects: Raw[]): void {
    for (const object of objects) {
      const resource = kindToResource.get(String(object.kind));
      if (!resource) throw new Error(`no fake resource serves kind ${String(object.kind)}`);
      this.put(resource, object);
    }
  }

  /** Stores already serialised objects as they are (benchmarks: no parsing, no copying). */
  putSerialized(
    resource: FakeResource,
    items: { namespace?: string; name: string; json: string }[],
  ): void {
    const collection = this.#collection(resource);
    for (const item of items) {
      const namespace = item.namespace ?? "";
      collection.entries.set(key(namespace, item.name), {
        namespace,
        name: item.name,
        json: item.json,
        object: undefined,
      });
    }
    collection.changed();
  }

  #object(entry: Entry): Raw {
    entry.object ??= JSON.parse(entry.json as string) as Raw;
    return entry.object;
  }

  #json(entry: Entry): string {
    entry.json ??= JSON.stringify(entry.object);
    return entry.json;
  }

  /** A copy of one stored object, or undefined. */
  get(resource: FakeResource, name: string, namespace = ""): Raw | undefined {
    const type = resourceTypes[resource];
    const entry = this.#collection(resource).entries.get(
      key(type.namespaced ? namespace || "default" : "", name),
    );
    return entry ? structuredClone(this.#object(entry)) : undefined;
  }

  /** Copies of all stored objects of a resource, in list order. */
  list(resource: FakeResource): Raw[] {
    const collection = this.#collection(resource);
    return collection
      .keys()
      .map((k) => structuredClone(this.#object(collection.entries.get(k) as Entry)));
  }

  count(resource: FakeResource): number {
    return this.#collection(resource).entries.size;
  }

  remove(resource: FakeResource, name: string, namespace = ""): boolean {
    const type = resourceTypes[resource];
    const collection = this.#collection(resource);
    const removed = collection.entries.delete(
      key(type.namespaced ? namespace || "default" : "", name),
    );
    if (removed) {
      collection.changed();
      this.#resourceVersion++;
    }
    return removed;
  }

  clear(resource?: FakeResource): void {
    for (const [name, collection] of this.#collections) {
      if (resource !== undefined && name !== resource) continue;
      collection.entries.clear();
      collection.changed();
    }
  }

  /** Stops serving an API group (404 and absent from discovery), e.g. `autoscaling.k8s.io`. */
  uninstall(group: string): void {
    this.#uninstalled.add(group);
  }

  install(group: string): void {
    this.#uninstalled.delete(group);
  }

  /** Makes every continue token issued so far expired (410 Gone, reason Expired). */
  expireContinueTokens(): void {
    this.#epoch++;
  }

  injectFault(fault: FakeFault): void {
    this.#faults.push({ ...fault, seen: 0, used: 0 });
  }

  clearFaults(): void {
    this.#faults.length = 0;
  }

  /** Requests whose method and path match (path: exact string or pattern). */
  requestCount(filter: { method?: string; path?: string | RegExp } = {}): number {
    return this.requests.filter(
      (request) =>
        (filter.method === undefined || request.method === filter.method) &&
        (filter.path === undefined ||
          (typeof filter.path === "string"
            ? request.path === filter.path
            : filter.path.test(request.path))),
    ).length;
  }

  /** Builds list pages for `limit` ahead of time so that serving them is only copying bytes. */
  prebuildPages(limit: number): void {
    for (const [resource, collection] of this.#collections) {
      const type = resourceTypes[resource];
      const size = type.paginated ? limit : 0;
      let start = 0;
      const keys = collection.keys();
      do {
        this.#page(resource, collection, keys, { start, limit: size, rv: this.#resourceVersion });
        start += size;
      } while (size > 0 && start < keys.length);
    }
  }

  // ---- kubeconfig ----------------------------------------------------------------------------

  /** A kubeconfig (YAML) pointing at this server. */
  kubeconfig(options: KubeconfigOptions = {}): string {
    const name = options.context ?? "fake";
    const token = options.token ?? this.#token;
    const clusterLines = this.url.startsWith("https:")
      ? [`    certificate-authority-data: ${Buffer.from(this.#ca ?? "").toString("base64")}`]
      : ["    insecure-skip-tls-verify: true"];
    const lines = [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      `- name: ${name}`,
      "  cluster:",
      `    server: ${this.url}`,
      ...clusterLines,
    ];
    for (const extra of options.extraContexts ?? []) {
      lines.push(
        `- name: ${extra.name}`,
        "  cluster:",
        `    server: ${extra.server}`,
        "    insecure-skip-tls-verify: true",
      );
    }
    lines.push("users:", `- name: ${name}`, "  user:", token ? `    token: ${token}` : "    {}");
    lines.push(
      "contexts:",
      `- name: ${name}`,
      "  context:",
      `    cluster: ${name}`,
      `    user: ${name}`,
    );
    for (const extra of options.extraContexts ?? []) {
      lines.push(
        `- name: ${extra.name}`,
        "  context:",
        `    cluster: ${extra.name}`,
        `    user: ${name}`,
      );
    }
    const current = options.currentContext === undefined ? name : options.currentContext;
    if (current !== null) lines.push(`current-context: ${current}`);
    return `${lines.join("\n")}\n`;
  }

  /** Writes {@link kubeconfig} to `file` and returns the file name. */
  async writeKubeconfig(file: string, options: KubeconfigOptions = {}): Promise<string> {
    await writeFile(file, this.kubeconfig(options));
    return file;
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  async #handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://fake");
    const recorded: RecordedRequest = {
      method: request.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: request.headers,
    };
    if (this.recordRequests) this.requests.push(recorded);
    this.onRequest?.(recorded);
    const body = await readBody(request);
    if (this.#token !== undefined && request.headers.authorization !== `Bearer ${this.#token}`) {
      this.#send(response, 401, statusBody(401, "Unauthorized", "Unauthorized"));
      return;
    }
    const fault = this.#matchFault(recorded);
    if (fault?.delayMs !== undefined) {
      const { delayMs } = fault;
      // A client that gives up closes the connection: nothing is left waiting after it.
      await new Promise<void>((resolve) => {
        const closed = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          request.socket.off("close", closed);
          resolve();
        }, delayMs);
        request.socket.once("close", closed);
      });
      if (request.socket.destroyed) return;
    }
    if (fault?.until !== undefined) {
      const { until } = fault;
      // As for delayMs: a client that gives up closes the connection.
      await new Promise<void>((resolve) => {
        const closed = () => resolve();
        request.socket.once("close", closed);
        const settled = () => {
          request.socket.off("close", closed);
          resolve();
        };
        until.then(settled, settled);
      });
      if (request.socket.destroyed) return;
    }
    const onlyLate =
      (fault?.delayMs !== undefined || fault?.until !== undefined) &&
      fault.status === undefined &&
      fault.body === undefined;
    const partial = fault?.truncate || fault?.stall || fault?.trickleMs !== undefined;
    if (fault && !partial && !onlyLate) {
      const code = fault.status ?? 500;
      const text =
        fault.body ??
        statusBody(
          code,
          fault.reason ?? reasons[code] ?? "Unknown",
          fault.message ?? "injected failure",
        );
      this.#send(
        response,
        code,
        text,
        fault.body !== undefined ? "text/plain" : "application/json",
        fault.headers,
      );
      return;
    }
    let result: { code: number; body: string | Buffer; contentType?: string };
    try {
      result = this.#route(recorded, body, request.headers["content-type"] ?? "");
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      result =
        error === pageNotFound
          ? { code: 404, body: "404 page not found\n", contentType: "text/plain; charset=utf-8" }
          : {
              code: error.code,
              body: statusBody(error.code, error.reason, error.message, error.details),
            };
    }
    if (fault && partial) {
      const bytes = Buffer.isBuffer(result.body) ? result.body : Buffer.from(result.body);
      const half = bytes.subarray(0, Math.floor(bytes.length / 2));
      if (fault.trickleMs !== undefined) {
        response.writeHead(result.code, { "Content-Type": "application/json" });
        response.write(half);
        const timer = setInterval(() => response.write(" "), fault.trickleMs);
        request.socket.once("close", () => clearInterval(timer));
        return;
      }
      response.writeHead(result.code, {
        "Content-Type": "application/json",
        "Content-Length": bytes.length,
      });
      if (fault.truncate) response.write(half, () => response.destroy());
      else response.write(half);
      return;
    }
    this.#send(response, result.code, result.body, result.contentType);
  }

  #send(
    response: http.ServerResponse,
    code: number,
    body: string | Buffer,
    contentType = "application/json",
    headers: Record<string, string> = {},
  ): void {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
    response.writeHead(code, {
      ...headers,
      "Content-Type": contentType,
      "Content-Length": bytes.length,
    });
    response.end(bytes);
  }

  #matchFault(request: RecordedRequest): ActiveFault | undefined {
    for (const fault of this.#faults) {
      if (fault.method !== undefined && fault.method !== request.method) continue;
      const pathMatches =
        typeof fault.path === "string"
          ? fault.path === request.path
          : fault.path.test(request.path);
      if (!pathMatches) continue;
      if (fault.continued !== undefined && fault.continued !== "continue" in request.query)
        continue;
      fault.seen++;
      if (fault.seen <= (fault.after ?? 0)) continue;
      if (fault.used >= (fault.times ?? 1)) continue;
      fault.used++;
      return fault;
    }
    return undefined;
  }

  #route(
    request: RecordedRequest,
    body: string,
    contentType: string,
  ): { code: number; body: string | Buffer; contentType?: string } {
    const path = request.path.replace(/\/$/, "");
    const segments = path.split("/").filter((s) => s !== "");
    if (path === "/version") return ok(versionInfo());
    if (path === "/api")
      return ok(
        JSON.stringify({ kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] }),
      );
    if (path === "/apis") return ok(this.#groupList());
    let group = "";
    let version: string;
    let rest: string[];
    if (segments[0] === "api") {
      version = segments[1] ?? "";
      rest = segments.slice(2);
      if (version !== "v1") throw notFoundPage();
    } else if (segments[0] === "apis") {
      group = segments[1] ?? "";
      if (this.#uninstalled.has(group) || !this.#groupVersions(group).length) throw notFoundPage();
      if (segments.length === 2) return ok(JSON.stringify(this.#groupInfo(group)));
      version = segments[2] ?? "";
      if (!this.#groupVersions(group).includes(version)) throw notFoundPage();
      rest = segments.slice(3);
    } else throw notFoundPage();
    if (rest.length === 0) return ok(this.#resourceList(group, version));
    let namespace = "";
    if (rest[0] === "namespaces" && rest.length >= 3) {
      namespace = rest[1] as string;
      rest = rest.slice(2);
    }
    const [plural, name, subresource] = rest;
    const resource = this.#resourceFor(group, version, plural ?? "");
    const type = resourceTypes[resource];
    if (namespace && !type.namespaced) throw notFoundPage();
    if (name === undefined) {
      if (request.method === "POST") return this.#create(resource, namespace, body, contentType);
      if (request.method !== "GET")
        throw new HttpError(405, `${request.method} is not supported on a collection here`);
      return { code: 200, body: this.#listResponse(resource, namespace, request.query) };
    }
    if (subresource === "eviction" && resource === "pods" && request.method === "POST") {
      return this.#evict(namespace, name, body);
    }
    if (subresource !== undefined) throw notFoundPage();
    switch (request.method) {
      case "GET":
        return ok(this.#json(this.#entry(resource, namespace, name)));
      case "DELETE": {
        const entry = this.#entry(resource, namespace, name);
        this.remove(resource, name, namespace);
        return ok(this.#json(entry));
      }
      case "PATCH":
        return ok(JSON.stringify(this.#patch(resource, namespace, name, body, contentType)));
      case "PUT":
        return ok(JSON.stringify(this.#update(resource, namespace, name, body, contentType)));
      default:
        throw new HttpError(405, `${request.method} is not supported here`);
    }
  }

  #groupVersions(group: string): string[] {
    const versions = new Set<string>();
    for (const type of Object.values(resourceTypes))
      if (type.group === group) versions.add(type.version);
    return [...versions];
  }

  #groupInfo(group: string): Raw {
    const versions = this.#groupVersions(group).map((version) => ({
      groupVersion: `${group}/${version}`,
      version,
    }));
    return {
      kind: "APIGroup",
      apiVersion: "v1",
      name: group,
      versions,
      preferredVersion: versions[0],
    };
  }

  #groupList(): string {
    const groups = new Set<string>();
    for (const type of Object.values(resourceTypes)) {
      if (type.group && !this.#uninstalled.has(type.group)) groups.add(type.group);
    }
    return JSON.stringify({
      kind: "APIGroupList",
      apiVersion: "v1",
      groups: [...groups].map((group) => this.#groupInfo(group)),
    });
  }

  #resourceList(group: string, version: string): string {
    const resources: Raw[] = [];
    for (const type of Object.values(resourceTypes)) {
      if (type.group !== group || type.version !== version) continue;
      resources.push({
        name: type.plural,
        singularName: type.singular,
        namespaced: type.namespaced,
        kind: type.kind,
        verbs: type.verbs,
        ...(type.shortNames ? { shortNames: type.shortNames } : {}),
      });
      if (type.kind === "Pod") {
        resources.push({
          name: "pods/eviction",
          singularName: "",
          namespaced: true,
          group: "policy",
          version: "v1",
          kind: "Eviction",
          verbs: ["create"],
        });
      }
    }
    return JSON.stringify({
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: group ? `${group}/${version}` : version,
      resources,
    });
  }

  #resourceFor(group: string, version: string, plural: string): FakeResource {
    for (const [resource, type] of Object.entries(resourceTypes)) {
      if (type.group === group && type.version === version && type.plural === plural)
        return resource as FakeResource;
    }
    throw notFoundPage();
  }

  #entry(resource: FakeResource, namespace: string, name: string): Entry {
    const entry = this.#collection(resource).entries.get(key(namespace, name));
    if (!entry) {
      const type = resourceTypes[resource];
      throw new HttpError(404, `${type.plural} "${name}" not found`, { name, kind: type.plural });
    }
    return entry;
  }

  #listResponse(resource: FakeResource, namespace: string, query: Record<string, string>): Buffer {
    const type = resourceTypes[resource];
    const collection = this.#collection(resource);
    let keys = collection.keys();
    if (namespace) keys = keys.filter((k) => k.startsWith(`${namespace}/`));
    const labelSelector = query.labelSelector;
    const fieldSelector = query.fieldSelector;
    if (labelSelector || fieldSelector) {
      let requirements: ReturnType<typeof parseLabelSelector> = [];
      try {
        requirements = labelSelector ? parseLabelSelector(labelSelector) : [];
      } catch (error) {
        throw new HttpError(400, (error as Error).message);
      }
      keys = keys.filter((k) => {
        const object = this.#object(collection.entries.get(k) as Entry);
        const labels = ((object.metadata as Raw | undefined)?.labels ?? {}) as Record<
          string,
          string
        >;
        return (
          labelsMatch(labels, requirements) &&
          (!fieldSelector || fieldsMatch(object, fieldSelector))
        );
      });
    }
    const limit = type.paginated ? Number(query.limit ?? 0) : 0;
    let start = 0;
    let rv = this.#resourceVersion;
    if (query.continue && type.paginated) {
      const token = decodeToken(query.continue);
      if (token.epoch !== this.#epoch) {
        throw new HttpError(
          410,
          "the continue token has expired; start the list again without it",
          undefined,
          "Expired",
        );
      }
      start = lowerBound(keys, token.start);
      rv = token.rv;
    }
    const cacheable = !labelSelector && !fieldSelector && !namespace;
    if (cacheable) return this.#page(resource, collection, keys, { start, limit, rv });
    return this.#buildPage(resource, collection, keys, { start, limit, rv });
  }

  #page(resource: FakeResource, collection: Collection, keys: string[], at: PageAt): Buffer {
    const cacheKey = `${at.start}|${at.limit}|${at.rv}|${this.#epoch}`;
    let page = collection.pages.get(cacheKey);
    if (!page) {
      page = this.#buildPage(resource, collection, keys, at);
      collection.pages.set(cacheKey, page);
    }
    return page;
  }

  #buildPage(resource: FakeResource, collection: Collection, keys: string[], at: PageAt): Buffer {
    const type = resourceTypes[resource];
    const { start, limit, rv } = at;
    const end = limit > 0 ? Math.min(keys.length, start + limit) : keys.length;
    const parts: string[] = [];
    for (let index = start; index < end; index++)
      parts.push(this.#json(collection.entries.get(keys[index] as string) as Entry));
    const metadata: Raw = { resourceVersion: String(rv) };
    if (end < keys.length) {
      const token: ContinueToken = {
        epoch: this.#epoch,
        rv,
        start: keys[end] as string,
      };
      metadata.continue = Buffer.from(JSON.stringify(token)).toString("base64url");
      metadata.remainingItemCount = keys.length - end;
    }
    const head = `{"kind":"${type.kind}List","apiVersion":"${apiVersionOf(type)}","metadata":${JSON.stringify(metadata)},"items":[`;
    return Buffer.from(`${head}${parts.join(",")}]}`);
  }

  #patch(
    resource: FakeResource,
    namespace: string,
    name: string,
    body: string,
    contentType: string,
  ): Raw {
    const type = contentType.split(";")[0]?.trim();
    if (
      type !== "application/merge-patch+json" &&
      type !== "application/strategic-merge-patch+json"
    ) {
      throw new HttpError(
        415,
        `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json`,
      );
    }
    const entry = this.#entry(resource, namespace, name);
    let patch: unknown;
    try {
      patch = JSON.parse(body);
    } catch (error) {
      throw new HttpError(400, `invalid patch: ${(error as Error).message}`);
    }
    const patched = mergePatch(this.#object(entry), patch) as Raw;
    const metadata = patched.metadata as Raw;
    metadata.name = name;
    if (namespace) metadata.namespace = namespace;
    return this.put(resource, patched);
  }

  /** POST on a collection: 201 with the stored object, 409 AlreadyExists for a taken name. */
  #create(
    resource: FakeResource,
    namespace: string,
    body: string,
    contentType: string,
  ): { code: number; body: string } {
    const type = resourceTypes[resource];
    const object = writtenObject(type, body, contentType);
    const metadata = object.metadata as Raw;
    const name = metadata.name;
    if (typeof name !== "string" || name === "")
      throw new HttpError(
        422,
        `${type.kind} is invalid: metadata.name: Required value: name is required`,
      );
    checkNamespace(type, namespace, metadata);
    if (this.#collection(resource).entries.has(key(namespace, name))) {
      throw new HttpError(
        409,
        `${qualified(type)} "${name}" already exists`,
        { name, group: type.group, kind: type.plural },
        "AlreadyExists",
      );
    }
    delete metadata.resourceVersion;
    delete metadata.uid;
    metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    return { code: 201, body: JSON.stringify(this.put(resource, object)) };
  }

  /**
   * PUT of one object: replaces it whole. A resourceVersion in the body must be the stored one
   * (409 Conflict otherwise, as optimistic concurrency wants); without one the update is
   * unconditional. uid and creationTimestamp stay the stored ones.
   */
  #update(
    resource: FakeResource,
    namespace: string,
    name: string,
    body: string,
    contentType: string,
  ): Raw {
    const type = resourceTypes[resource];
    const object = writtenObject(type, body, contentType);
    const metadata = object.metadata as Raw;
    if (metadata.name !== name) {
      throw new HttpError(
        400,
        `the name of the object (${String(metadata.name)}) does not match the name on the URL (${name})`,
      );
    }
    checkNamespace(type, namespace, metadata);
    const stored = this.#object(this.#entry(resource, namespace, name)).metadata as Raw;
    const expected = metadata.resourceVersion;
    if (expected !== undefined && expected !== "" && expected !== stored.resourceVersion) {
      throw new HttpError(
        409,
        `Operation cannot be fulfilled on ${qualified(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, group: type.group, kind: type.plural },
        "Conflict",
      );
    }
    metadata.uid = stored.uid;
    metadata.creationTimestamp = stored.creationTimestamp;
    return this.put(resource, object);
  }

  #evict(namespace: string, name: string, body: string): { code: number; body: string } {
    let eviction: Raw;
    try {
      eviction = JSON.parse(body) as Raw;
    } catch {
      throw new HttpError(400, "the eviction body is not JSON");
    }
    if (eviction.kind !== "Eviction")
      throw new HttpError(400, `expected kind Eviction, got ${String(eviction.kind)}`);
    const pod = this.#object(this.#entry("pods", namespace, name));
    const phase = (pod.status as Raw | undefined)?.phase;
    // As the real server: a finished or Pending pod is deleted without a look at its budgets.
    if (phase !== "Succeeded" && phase !== "Failed" && phase !== "Pending") {
      const labels = ((pod.metadata as Raw).labels ?? {}) as Record<string, string>;
      const budgets = this.list("poddisruptionbudgets").filter(
        (pdb) =>
          (pdb.metadata as Raw).namespace === namespace &&
          selectorMatches((pdb.spec as Raw | undefined)?.selector, labels),
      );
      if (budgets.length > 1) {
        throw new HttpError(
          500,
          "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
        );
      }
      const budget = budgets[0];
      if (budget) {
        budget.status ??= {};
        const status = budget.status as Raw;
        const allowed =
          typeof status.disruptionsAllowed === "number" ? status.disruptionsAllowed : 0;
        const budgetName = String((budget.metadata as Raw).name);
        if (allowed <= 0) {
          throw new HttpError(
            429,
            "Cannot evict pod as it would violate the pod's disruption budget.",
            {
              causes: [
                {
                  reason: "DisruptionBudget",
                  message: `The disruption budget ${budgetName} allows no more disruptions right now`,
                },
              ],
            },
          );
        }
        status.disruptionsAllowed = allowed - 1;
        this.put("poddisruptionbudgets", budget);
      }
    }
    this.remove("pods", name, namespace);
    this.remove("podmetrics", name, namespace);
    return {
      code: 201,
      body: JSON.stringify({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Success",
        code: 201,
      }),
    };
  }
}

/** `leases.coordination.k8s.io`, as the API server names a resource in its messages. */
function qualified(type: ResourceType): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}

/** The JSON body of a create or update, checked to be an object of the right kind. */
function writtenObject(type: ResourceType, body: string, contentType: string): Raw {
  const media = contentType.split(";")[0]?.trim();
  if (media !== "application/json") {
    throw new HttpError(
      415,
      `the body of the request was in an unknown format - accepted media types include: application/json`,
    );
  }
  let object: unknown;
  try {
    object = JSON.parse(body);
  } catch (error) {
    throw new HttpError(400, `the body is not JSON: ${(error as Error).message}`);
  }
  if (typeof object !== "object" || object === null || Array.isArray(object))
    throw new HttpError(400, "the body is not a JSON object");
  const raw = object as Raw;
  if (raw.kind !== type.kind || raw.apiVersion !== apiVersionOf(type)) {
    throw new HttpError(
      400,
      `expected ${apiVersionOf(type)} ${type.kind}, got ${String(raw.apiVersion)} ${String(raw.kind)}`,
    );
  }
  if (typeof raw.metadata !== "object" || raw.metadata === null) raw.metadata = {};
  return raw;
}

/** A namespaced object's namespace is the URL's; one in the body must agree with it. */
function checkNamespace(type: ResourceType, namespace: string, metadata: Raw): void {
  if (!type.namespaced) return;
  if (!namespace) throw new HttpError(405, `${type.plural} are written through a namespace`);
  if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
    throw new HttpError(
      400,
      `the namespace of the provided object does not match the namespace sent on the request`,
    );
  }
  metadata.namespace = namespace;
}

function ok(body: string): { code: number; body: string } {
  return { code: 200, body };
}

/** Unknown paths (an API group that is not installed) get Go's plain-text 404, as for real. */
const pageNotFound = new HttpError(404, "404 page not found");

function notFoundPage(): HttpError {
  return pageNotFound;
}

function versionInfo(): string {
  return JSON.stringify({
    major: "1",
    minor: "32",
    gitVersion: "v1.32.0",
    gitCommit: "0000000000000000000000000000000000000000",
    gitTreeState: "clean",
    buildDate: "2024-12-11T00:00:00Z",
    goVersion: "go1.23.3",
    compiler: "gc",
    platform: "linux/amd64",
  });
}

function decodeToken(text: string): ContinueToken {
  try {
    const token = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as ContinueToken;
    if (typeof token.start !== "string" || typeof token.epoch !== "number")
      throw new Error("bad token");
    return token;
  } catch {
    throw new HttpError(400, "invalid continue token");
  }
}

/** Index of the first key not less than `start`. */
function lowerBound(keys: string[], start: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((keys[middle] as string) < start) low = middle + 1;
    else high = middle;
  }
  return low;
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}
