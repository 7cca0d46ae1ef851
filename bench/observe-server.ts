/**
 * Serves a generated cluster from the fake kube-apiserver in its own process, so that the
 * measured client's memory is its own. Prints `ready <url>` once every page is prebuilt.
 *
 *   node bench/observe-server.ts --kubeconfig FILE [--nodes N] [--pods N] [--vpas N] [--page-size N]
 */
import { parseArgs } from "node:util";
import { FakeKubeApiserver } from "../test/support/fake-kube-apiserver.ts";
import { generateCluster } from "./observe-cluster.ts";

const { values } = parseArgs({
  options: {
    kubeconfig: { type: "string" },
    nodes: { type: "string", default: "5000" },
    pods: { type: "string", default: "150000" },
    vpas: { type: "string", default: "10000" },
    pdbs: { type: "string", default: "2000" },
    hpas: { type: "string", default: "2000" },
    namespaces: { type: "string", default: "500" },
    "page-size": { type: "string", default: "500" },
  },
});
if (!values.kubeconfig) throw new Error("--kubeconfig FILE is required");

const started = performance.now();
const cluster = generateCluster({
  nodes: Number(values.nodes),
  pods: Number(values.pods),
  vpas: Number(values.vpas),
  pdbs: Number(values.pdbs),
  hpas: Number(values.hpas),
  namespaces: Number(values.namespaces),
});
// No token: kubectl does not send bearer tokens to a plain-http server.
const fake = await FakeKubeApiserver.start();
fake.recordRequests = false;
fake.putSerialized("nodes", cluster.nodes);
fake.putSerialized("pods", cluster.pods);
fake.putSerialized("verticalpodautoscalers", cluster.vpas);
fake.putSerialized("poddisruptionbudgets", cluster.pdbs);
fake.putSerialized("horizontalpodautoscalers", cluster.hpas);
fake.putSerialized("nodemetrics", cluster.nodemetrics);
fake.putSerialized("podmetrics", cluster.podmetrics);
fake.prebuildPages(Number(values["page-size"]));
await fake.writeKubeconfig(values.kubeconfig);
const bytes = (items: { json: string }[]) => items.reduce((sum, item) => sum + item.json.length, 0);
process.stderr.write(
  `generated in ${((performance.now() - started) / 1000).toFixed(1)}s: ` +
    `pods ${(bytes(cluster.pods) / 1e6).toFixed(0)} MB, nodes ${(bytes(cluster.nodes) / 1e6).toFixed(0)} MB, ` +
    `vpas ${(bytes(cluster.vpas) / 1e6).toFixed(0)} MB, pod metrics ${(bytes(cluster.podmetrics) / 1e6).toFixed(0)} MB\n`,
);
process.stdout.write(`ready ${fake.url}\n`);
process.on("SIGTERM", () => {
  fake.close().then(() => process.exit(0));
});
