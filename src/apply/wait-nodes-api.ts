import { createKubeClient, KubeApiError } from "../cluster/kube-client.ts";
import type { LoadedKubeConfig } from "../cluster/kube-config.ts";
import { listAll, type ReadDeadline, type RetryClock } from "../cluster/kube-list.ts";
import { type KubeRequest, kubeRequest, responseError } from "../cluster/kube-request.ts";
import { type ReadOptions, readLimits, readTimeoutMs } from "./drain-api.ts";
import { deadlineError } from "./drain-deadline.ts";
import { type LingeringNode, type PoolNode, toPoolNode } from "./wait-nodes-state.ts";

/** How a look at the nodes is sent. */
export interface ListNodesOptions {
  /**
   * Asked just before each request of the look (each page, each retry): the wait gives the
   * time left before its deadline (`timeLeft` of drain-deadline.ts). A request that got no
   * answer within it throws `DeadlineReached`, naming the look.
   */
  limit?: () => ReadOptions;
  /** No retry of a throttled request waits past this time, on `clock`. */
  deadline?: ReadDeadline;
  clock?: RetryClock;
}

/** The API calls the wait makes. */
export interface WaitNodesApi {
  listNodes(options?: ListNodesOptions): Promise<PoolNode[]>;
  /**
   * Deletes the Node object if it is still the one that was looked at (same UID and
   * resourceVersion). Returns false when it changed meanwhile (409), true when it is gone.
   * `options.timeoutMs` caps the wait for the answer (the time left before the wait's
   * deadline), within the delete's own limits.
   */
  deleteNode(node: LingeringNode, options?: ReadOptions): Promise<boolean>;
  close(): void;
}

/** Lists nodes through the shared client; deletes through {@link kubeRequest}. */
export function createWaitNodesApi(loaded: LoadedKubeConfig): WaitNodesApi {
  const client = createKubeClient(loaded, { timeoutMs: readTimeoutMs });
  return {
    async listNodes(options = {}) {
      const { limit, deadline, clock } = options;
      /** The options of the last request sent, to tell whether the time left cut it short. */
      let sent: ReadOptions = {};
      const result = await listAll(client, {
        path: "/api/v1/nodes",
        pageSize: 500,
        convert: toPoolNode,
        retries: 0,
        retryDelayMs: 0,
        maxRestarts: 2,
        ...(deadline ? { deadline } : {}),
        ...(clock ? { clock } : {}),
        ...(limit
          ? {
              limits: () => {
                sent = limit();
                return readLimits(sent);
              },
            }
          : {}),
      });
      if (!result.complete) {
        const error =
          result.error ?? new KubeApiError("GET /api/v1/nodes: incomplete", "/api/v1/nodes");
        throw deadlineError(error, sent, "listing the nodes");
      }
      return result.items;
    },
    async deleteNode(node, options = {}) {
      const limits = readLimits(options);
      const request: KubeRequest = {
        ...(limits ? { timeoutMs: limits.timeoutMs, deadlineMs: limits.deadlineMs } : {}),
        method: "DELETE",
        path: `/api/v1/nodes/${encodeURIComponent(node.name)}`,
        body: {
          apiVersion: "v1",
          kind: "DeleteOptions",
          preconditions: { uid: node.uid, resourceVersion: node.resourceVersion },
        },
      };
      const response = await kubeRequest(loaded, request);
      if ((response.status >= 200 && response.status < 300) || response.status === 404) return true;
      if (response.status === 409) return false;
      throw responseError(request, response);
    },
    close: () => client.close(),
  };
}
