import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeKubeApiserver, type FakeKubeApiserverOptions } from "./fake-kube-apiserver.ts";
import { loadKubeObjects, nodeMetrics, podMetrics } from "./kube-fixtures.ts";

/** The clock the homelab's metrics are fresh against. */
export const homelabNow = new Date("2025-01-12T00:00:00Z");
const fresh = "2025-01-11T23:59:40Z";
const stale = "2025-01-11T23:00:00Z";

export interface Homelab {
  fake: FakeKubeApiserver;
  dir: string;
  kubeconfig: string;
  close(): Promise<void>;
}

/**
 * A fake API server holding test/fixtures/kube/cluster/homelab.yaml, the VPA fixtures and
 * metrics-server samples: fresh for talos-cp-1 and talos-worker-1, stale for talos-worker-2,
 * none for talos-worker-3 and legacy-master; fresh for three of the six running pods.
 */
export async function startHomelab(options: FakeKubeApiserverOptions = {}): Promise<Homelab> {
  const fake = await FakeKubeApiserver.start(options);
  fake.add(...loadKubeObjects("cluster/homelab.yaml"));
  for (const file of ["vpa/cache-vpa.yaml", "vpa/api-vpa.yaml", "vpa/hamster-vpa.yaml"]) {
    fake.add(...loadKubeObjects(file));
  }
  fake.add(
    nodeMetrics("talos-cp-1", { cpu: "487558164n", memory: "2748180Ki" }, fresh),
    nodeMetrics("talos-worker-1", { cpu: "2250m", memory: "6Gi" }, fresh, "30s"),
    nodeMetrics("talos-worker-2", { cpu: "100m", memory: "1Gi" }, stale),
    podMetrics(
      "media",
      "plex-7d9c65958-ghrmp",
      {
        plex: { cpu: "1200000000n", memory: "900Mi" },
        "log-shipper": { cpu: "5m", memory: "40Mi" },
      },
      fresh,
    ),
    podMetrics("kube-system", "cilium-x7k2p", { "cilium-agent": { cpu: "0", memory: "0" } }, fresh),
    podMetrics(
      "kube-system",
      "kube-apiserver-talos-cp-1",
      { "kube-apiserver": { cpu: "74m", memory: "343Mi" } },
      fresh,
    ),
  );
  const dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-kube-"));
  const kubeconfig = await fake.writeKubeconfig(join(dir, "kubeconfig"));
  return {
    fake,
    dir,
    kubeconfig,
    async close() {
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const homelabTimes = { fresh, stale };
