/**
 * Why the pods of the node a decrease would remove find no other node, against a served
 * cluster: the explanation names what is missing (a GPU, disk, any node to go to) rather than
 * "no room" where every node has cpu and memory to spare.
 */
import { describe, expect, it } from "@jest/globals";
import { type NodeOptions, pod, type Raw } from "./served-cluster.ts";
import {
  apps,
  cluster,
  everyWorker,
  OVER_MAX,
  onWorker4,
  plan,
  poolNote,
  WORKERS,
} from "./served-plan.ts";

const FOUR = [...WORKERS, "talos-worker-4"];

/** A light app pod on talos-worker-4 whose app container also asks for `requests`. */
function podOnWorker4(name: string, requests: Record<string, string> = {}): Raw {
  const raw = pod("media", name, onWorker4);
  const container = ((raw.spec as Raw).containers as Raw[])[0] as Raw;
  const resources = container.resources as Raw;
  resources.requests = { ...(resources.requests as Raw), ...requests };
  if (requests["nvidia.com/gpu"])
    resources.limits = { "nvidia.com/gpu": requests["nvidia.com/gpu"] };
  return raw;
}

/** Plans four workers where the repo allows three, with `objects` besides. */
function aboveMax(objects: Raw[], options: Record<string, NodeOptions> = {}) {
  return plan([...cluster(FOUR, options), ...apps(WORKERS), ...objects], OVER_MAX);
}

/** The causes the pods-fit condition of the pool's decision gives. */
function causes(output: Awaited<ReturnType<typeof plan>>): unknown {
  const decision = output.notes.find((note) => note.subject === "pool/workers")?.decision as
    | { scaleDown: { conditions: { kind: string; causes?: unknown }[] } }
    | undefined;
  return decision?.scaleDown.conditions.find((condition) => condition.kind === "pods-fit")?.causes;
}

describe("plan against a served cluster: why a removed node's pods fit nowhere", () => {
  it("names the GPU no other node has free", async () => {
    const output = await aboveMax([
      podOnWorker4("whisper-6c8d9f7b5-gpu01", { "nvidia.com/gpu": "1" }),
    ]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "not removed: not every pod of talos-worker-4 fits on the other nodes (no room for media/whisper-6c8d9f7b5-gpu01: it needs more nvidia.com/gpu than any other node of the pool has free)",
    );
    expect(causes(output)).toEqual([
      { pod: "media/whisper-6c8d9f7b5-gpu01", cause: "room", resources: ["nvidia.com/gpu"] },
    ]);
  });

  it("names the ephemeral storage no other node has free", async () => {
    // Each node's disk is 58623335106 bytes (54.6 GiB) allocatable.
    const output = await aboveMax([
      podOnWorker4("scratch-7d9c6f5b8-eph01", { "ephemeral-storage": "60Gi" }),
    ]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "no room for media/scratch-7d9c6f5b8-eph01: it needs more ephemeral-storage than any other node of the pool has free",
    );
  });

  it("says when no other node of the pool takes pods at all", async () => {
    const output = await aboveMax(
      [podOnWorker4("sonarr-5f6d7c8b9-crd01")],
      everyWorker({ unschedulable: true }),
    );
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "media/sonarr-5f6d7c8b9-crd01: no other node of the pool is Ready, not cordoned and of known room",
    );
    // The pods of the other cordoned nodes, which a drain would move, have nowhere to go either.
    expect(causes(output)).toEqual(
      [
        "default/echo-server-5d8f7c9b6-ap0xx",
        "default/echo-server-5d8f7c9b6-ap1xx",
        "default/echo-server-5d8f7c9b6-ap2xx",
        "media/sonarr-5f6d7c8b9-crd01",
      ].map((pod) => ({ pod, cause: "no-node" })),
    );
  });

  it("gives no resource when each one is free somewhere but not all on one node", async () => {
    const busy = (node: string, cpu: string, memory: string) =>
      pod("media", `plex-7d9c65958-${node.slice(-1)}bsyx`, { node, cpu, memory });
    const output = await aboveMax([
      // talos-worker-1 has the memory but 100m cpu free, talos-worker-2 the cpu but 1 GiB.
      busy("talos-worker-1", "3500m", "2Gi"),
      busy("talos-worker-2", "2500m", "14Gi"),
      busy("talos-worker-3", "3500m", "14Gi"),
      pod("media", "tdarr-6d8c7f5b49-both1", { node: "talos-worker-4", cpu: "1", memory: "2Gi" }),
    ]);
    expect(output.proposals).toEqual([]);
    expect(causes(output)).toEqual([{ pod: "media/tdarr-6d8c7f5b49-both1", cause: "room" }]);
    expect(poolNote(output)).toContain("(no room for media/tdarr-6d8c7f5b49-both1)");
  });
});
