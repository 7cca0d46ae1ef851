/**
 * The floor for reading a cluster: fetch every list the snapshot reader fetches, page by
 * page over the same kind of keep-alive connection, and JSON.parse each page, with no other
 * processing. Anything the reader does beyond this costs time on top of it.
 *
 *   node bench/observe-floor.ts --server URL [--page-size N]
 */
import http from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { server: { type: "string" }, "page-size": { type: "string", default: "500" } },
});
if (!values.server) throw new Error("--server URL is required");
const server = values.server;
const pageSize = Number(values["page-size"]);
const agent = new http.Agent({ keepAlive: true });

/** The collections read by readSnapshot, in its order; metrics are not paginated. */
const lists: [path: string, paginated: boolean][] = [
  ["/api/v1/nodes", true],
  ["/api/v1/persistentvolumes", true],
  ["/api/v1/persistentvolumeclaims", true],
  ["/apis/policy/v1/poddisruptionbudgets", true],
  ["/apis/autoscaling/v2/horizontalpodautoscalers", true],
  ["/apis/autoscaling.k8s.io/v1/verticalpodautoscalers", true],
  ["/apis/apps/v1/daemonsets", true],
  ["/apis/node.k8s.io/v1/runtimeclasses", true],
  ["/apis/storage.k8s.io/v1/storageclasses", true],
  ["/apis/metrics.k8s.io/v1beta1/nodes", false],
  ["/apis/metrics.k8s.io/v1beta1/pods", false],
  ["/api/v1/pods", true],
];

function get(url: URL): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers: { Accept: "application/json" } }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve(Buffer.concat(chunks)));
        response.on("error", reject);
      })
      .on("error", reject);
  });
}

let bytes = 0;
let items = 0;
for (const [path, paginated] of lists) {
  let token: string | undefined;
  do {
    const url = new URL(server + path);
    if (paginated) url.searchParams.set("limit", String(pageSize));
    if (token) url.searchParams.set("continue", token);
    const body = await get(url);
    bytes += body.length;
    const page = JSON.parse(body.toString("utf8")) as {
      metadata?: { continue?: string };
      items?: unknown[];
    };
    items += page.items?.length ?? 0;
    token = page.metadata?.continue || undefined;
  } while (token);
}
agent.destroy();
process.stderr.write(`floor: ${items} items, ${(bytes / 1e6).toFixed(0)} MB\n`);
