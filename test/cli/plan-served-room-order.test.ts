/**
 * Pending pods, and the pods of a node to remove, on the free room already there, against a
 * served cluster of two pools (apps, media) and an untainted control plane: a pod that only a few
 * nodes take gets their room before a pod that could go elsewhere takes it, as the scheduler,
 * which binds each pod to any node that admits it, would leave both running.
 */
import { describe, expect, it } from "@jest/globals";
import { pod, type Raw } from "./served-cluster.ts";
import { APPS_AND_MEDIA_FILES, appsAndMedia, filler, plan, poolNote } from "./served-plan.ts";

/**
 * Each node runs Cilium (100m) and an app: 2500m on talos-worker-1 and talos-media-1 (1200m
 * free), 3 cores on talos-worker-2 and talos-media-2 (700m free). The control plane runs nothing
 * and has 1950m free.
 */
function busyPools(): Raw[] {
  return [
    ...appsAndMedia(),
    filler("talos-worker-1", 0, "2500m"),
    filler("talos-worker-2", 1, "3"),
    filler("talos-media-1", 2, "2500m"),
    filler("talos-media-2", 3, "3"),
  ];
}

describe("plan against a served cluster: pending pods on the room already there", () => {
  it("gives a pool's room to the pod held to the pool, and the control plane's to the other", async () => {
    // paperless (1100m) is the larger and would go first, onto the apps pool's one room
    // (talos-worker-1), where jellyfin (1 cpu, held to apps by its nodeSelector) could only go:
    // the apps pool would add a node for it. Jellyfin, which one node takes, goes there first;
    // paperless, which three take, goes to the control plane. Nothing is added.
    const output = await plan(
      [
        ...busyPools(),
        pod("docs", "paperless-6c9d8f7b5-pl01x", { cpu: "1100m", memory: "1Gi" }),
        pod("media", "jellyfin-7d9c65958-jf01x", {
          cpu: "1",
          memory: "1Gi",
          nodeSelector: { "node.kubernetes.io/pool": "apps" },
        }),
      ],
      APPS_AND_MEDIA_FILES,
    );
    expect(output.proposals).toEqual([]);
    const apps = poolNote(output, "apps");
    expect(apps).toContain(
      "pending pods: 2 considered, 2 fit free room on existing nodes, 0 go on 0 new nodes",
    );
    expect(apps).toContain(
      "pending: media/jellyfin-7d9c65958-jf01x (cpu 1, memory 1 GiB) fits on talos-worker-1",
    );
    expect(apps).toContain(
      "pending: docs/paperless-6c9d8f7b5-pl01x (cpu 1100m, memory 1 GiB) fits on talos-cp-1",
    );
  });

  it("still adds a node when the pod held to the pool finds its room taken by one that needs it as much", async () => {
    // Both are held to apps now: only talos-worker-1 takes either. The larger goes there, and
    // the apps pool adds a node for jellyfin.
    const toApps = { "node.kubernetes.io/pool": "apps" };
    const output = await plan(
      [
        ...busyPools(),
        pod("docs", "paperless-6c9d8f7b5-pl01x", {
          cpu: "1100m",
          memory: "1Gi",
          nodeSelector: toApps,
        }),
        pod("media", "jellyfin-7d9c65958-jf01x", { cpu: "1", memory: "1Gi", nodeSelector: toApps }),
      ],
      APPS_AND_MEDIA_FILES,
    );
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["apps", 2, 3],
    ]);
    const text = output.proposals[0]?.reasons.join("\n") ?? "";
    expect(text).toContain(
      "pending: docs/paperless-6c9d8f7b5-pl01x (cpu 1100m, memory 1 GiB) fits on talos-worker-1",
    );
    expect(text).toContain(
      "pending: media/jellyfin-7d9c65958-jf01x (cpu 1, memory 1 GiB) → new-1 (existing nodes: talos-cp-1 and 2 more do not match its nodeSelector; talos-worker-1 and 1 more have too little cpu free once the pending pods placed before it take theirs)",
    );
  });
});

describe("plan against a served cluster: pending replicas that must share a node", () => {
  it("gives them the one pool node with room for both, and the control plane to the other pod", async () => {
    // Two Tika replicas (1 cpu each, held to apps) must share a node: each one's required pod
    // affinity selects the other. talos-worker-1 has 2200m free, the control plane 1950m, the
    // other nodes 700m. paperless (1600m) is the larger and would go first, onto
    // talos-worker-1, and the apps pool would add a node for the two replicas. The replicas,
    // which one node takes, go there together; paperless goes to the control plane.
    const together = {
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            labelSelector: { matchLabels: { "app.kubernetes.io/name": "tika" } },
            topologyKey: "kubernetes.io/hostname",
          },
        ],
      },
    };
    const tika = (suffix: string) =>
      pod("docs", `tika-7b8c9d6f5-${suffix}`, {
        cpu: "1",
        memory: "1Gi",
        labels: { "app.kubernetes.io/name": "tika" },
        nodeSelector: { "node.kubernetes.io/pool": "apps" },
        affinity: together,
      });
    const output = await plan(
      [
        ...appsAndMedia(undefined, { cpu: "200m", memory: "1Gi" }),
        filler("talos-worker-1", 0, "1500m"),
        filler("talos-worker-2", 1, "3"),
        filler("talos-media-1", 2, "3"),
        filler("talos-media-2", 3, "3"),
        pod("docs", "paperless-6c9d8f7b5-pl01x", { cpu: "1600m", memory: "1Gi" }),
        tika("tk01x"),
        tika("tk02x"),
      ],
      APPS_AND_MEDIA_FILES,
    );
    expect(output.proposals).toEqual([]);
    const apps = poolNote(output, "apps");
    expect(apps).toContain(
      "pending pods: 3 considered, 3 fit free room on existing nodes, 0 go on 0 new nodes",
    );
    for (const suffix of ["tk01x", "tk02x"])
      expect(apps).toContain(
        `pending: docs/tika-7b8c9d6f5-${suffix} (cpu 1, memory 1 GiB) fits on talos-worker-1`,
      );
    expect(apps).toContain(
      "pending: docs/paperless-6c9d8f7b5-pl01x (cpu 1600m, memory 1 GiB) fits on talos-cp-1",
    );
  });
});

describe("plan against a served cluster: a pending pod and the pending cache its affinity needs", () => {
  it("puts both on the node the server's anti-affinity admits, not the cache on the first node", async () => {
    // Both apps nodes have 3200m free, room for the cache (1 cpu) and the server (2 cpu) beside
    // it; the control plane's 1950m and the media nodes' 700m are too little. The server's
    // required anti-affinity keeps it off talos-worker-1, which runs a batch pod: the cache
    // placed there, first of the two, would leave the server no node at all. Both go on
    // talos-worker-2, and nothing is said never to fit.
    const output = await plan(
      [
        ...appsAndMedia(undefined, { cpu: "200m", memory: "1Gi" }),
        pod("batch", "etl-6b7c8d9e0-et01x", {
          node: "talos-worker-1",
          cpu: "500m",
          memory: "1Gi",
          labels: { tier: "batch" },
        }),
        filler("talos-worker-2", 1, "500m"),
        filler("talos-media-1", 2, "3"),
        filler("talos-media-2", 3, "3"),
        pod("web", "immich-server-6c7d8e9f0-sv01x", {
          cpu: "2",
          memory: "1Gi",
          affinity: {
            podAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                {
                  labelSelector: { matchLabels: { role: "cache" } },
                  topologyKey: "kubernetes.io/hostname",
                },
              ],
            },
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                {
                  labelSelector: { matchLabels: { tier: "batch" } },
                  namespaces: ["batch"],
                  topologyKey: "kubernetes.io/hostname",
                },
              ],
            },
          },
        }),
        pod("web", "immich-redis-5b6c7d8e9-rd01x", {
          cpu: "1",
          memory: "128Mi",
          labels: { role: "cache" },
        }),
      ],
      APPS_AND_MEDIA_FILES,
    );
    expect(output.proposals).toEqual([]);
    const apps = poolNote(output, "apps");
    expect(apps).toContain(
      "pending: web/immich-redis-5b6c7d8e9-rd01x (cpu 1, memory 128 MiB) fits on talos-worker-2",
    );
    expect(apps).toContain(
      "pending: web/immich-server-6c7d8e9f0-sv01x (cpu 2, memory 1 GiB) fits on talos-worker-2",
    );
    expect(apps).not.toContain("never fits");
  });
});

describe("plan against a served cluster: pending pods, an empty node and the control plane", () => {
  it("neither adds a node to one pool nor removes the empty node of another", async () => {
    // Every apps node and talos-media-1 are full; talos-media-2 is empty and the control plane
    // has 1950m free. paperless (1600m) may go anywhere; zigbee2mqtt (1500m) only on an apps
    // node or the control plane. Taken largest first, paperless would take the control plane,
    // the apps pool would add a node for zigbee2mqtt and the media pool would remove the empty
    // node. The scheduler binds zigbee2mqtt to the control plane and paperless to
    // talos-media-2: nothing changes.
    const appsOrControlPlane = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: "node.kubernetes.io/pool", operator: "In", values: ["apps"] },
              ],
            },
            {
              matchExpressions: [
                { key: "node-role.kubernetes.io/control-plane", operator: "Exists" },
              ],
            },
          ],
        },
      },
    };
    const output = await plan(
      [
        ...appsAndMedia(undefined, { cpu: "200m", memory: "1Gi" }),
        filler("talos-worker-1", 0, "3"),
        filler("talos-worker-2", 1, "3"),
        filler("talos-media-1", 2, "3"),
        pod("docs", "paperless-6c9d8f7b5-pl01x", { cpu: "1600m", memory: "1Gi" }),
        pod("home", "zigbee2mqtt-5f6c7d8e9-zb01x", {
          cpu: "1500m",
          memory: "1Gi",
          affinity: appsOrControlPlane,
        }),
      ],
      APPS_AND_MEDIA_FILES,
    );
    expect(output.proposals).toEqual([]);
    const apps = poolNote(output, "apps");
    expect(apps).toContain(
      "pending: home/zigbee2mqtt-5f6c7d8e9-zb01x (cpu 1500m, memory 1 GiB) fits on talos-cp-1",
    );
    expect(apps).toContain(
      "pending: docs/paperless-6c9d8f7b5-pl01x (cpu 1600m, memory 1 GiB) fits on talos-media-2",
    );
    expect(poolNote(output, "media")).toContain(
      "not removed: not every pod of talos-media-2, with the 1 pending pod the pool's free room holds, fits on the other nodes (no room for docs/paperless-6c9d8f7b5-pl01x:",
    );
  });
});

describe("plan against a served cluster: a removed node's pods on the room already there", () => {
  it("removes the node whose pod held to the pool has room on it once the other goes to the control plane", async () => {
    // talos-worker-2 runs paperless (1100m) and jellyfin (1 cpu, held to apps). Its removal
    // leaves talos-worker-1 with 1200m free and the control plane with 1950m: paperless, the
    // larger, would take talos-worker-1's room first and leave none for jellyfin. Jellyfin, which
    // one node takes, goes there; paperless to the control plane, as the scheduler would bind
    // them. Requests are judged against 70 %, so the pool may lose a node.
    const toApps = { "node.kubernetes.io/pool": "apps" };
    const output = await plan(
      [
        ...appsAndMedia(undefined, { cpu: "200m", memory: "1Gi" }),
        filler("talos-worker-1", 0, "2500m"),
        filler("talos-media-1", 2, "3"),
        filler("talos-media-2", 3, "3"),
        pod("docs", "paperless-6c9d8f7b5-pl01x", {
          node: "talos-worker-2",
          cpu: "1100m",
          memory: "1Gi",
        }),
        pod("media", "jellyfin-7d9c65958-jf01x", {
          node: "talos-worker-2",
          cpu: "1",
          memory: "1Gi",
          nodeSelector: toApps,
        }),
      ],
      {
        ...APPS_AND_MEDIA_FILES,
        config: APPS_AND_MEDIA_FILES.config.replace(
          "      unneededTime: 0\n    removal:\n      nameTemplate: talos-worker",
          "      unneededTime: 0\n      requests: 70\n    removal:\n      nameTemplate: talos-worker",
        ),
      },
    );
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["apps", 2, 1],
    ]);
    expect(output.proposals[0]?.reasons).toContain(
      "  scale-down: 2 pods of talos-worker-2 fit on the other nodes: met (docs/paperless-6c9d8f7b5-pl01x goes to talos-cp-1, a control plane in no pool)",
    );
  });
});
