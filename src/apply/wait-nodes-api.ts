import { createKubeClient, KubeApiError } from "../cluster/kube-client.ts";
import type { LoadedKubeConfig } from "../cluster/kube-config.ts";
import { listAll } from "../cluster/kube-list.ts";
import { type KubeRequest, kubeRequest, responseError } from "../cluster/kube-request.ts";
import { type LingeringNode, type PoolNode, toPoolNode } from "./wait-nodes-state.ts";

/** The API calls the wait makes. */
export interface WaitNodesApi {
  listNodes(): Promise<PoolNode[]>;
  /**
   * Deletes the Node object if it is still the one that was looked at (same UID and
   * resourceVersion). Returns false when it changed meanwhile (409), true when it is gone.
   */
  deleteNode(node: LingeringNode): Promise<boolean>;
  close(): void;
}

/** Lists nodes through the shared client; deletes through {@link kubeRequest}. */
export function createWaitNodesApi(loaded: LoadedKubeConfig): WaitNodesApi {
  const client = createKubeClient(loaded, { timeoutMs: 30_000 });
  return {
    async listNodes() {
      const result = await listAll(client, {
        path: "/api/v1/nodes",
        pageSize: 500,
        convert: toPoolNode,
        retries: 0,
        retryDelayMs: 0,
        maxRestarts: 2,
      });
      if (!result.complete) {
        throw result.error ?? new KubeApiError("GET /api/v1/nodes: incomplete", "/api/v1/nodes");
      }
      return result.items;
    },
    async deleteNode(node) {
      const request: KubeRequest = {
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
