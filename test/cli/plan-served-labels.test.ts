/**
 * Pending pods that select nodes by a label the pool's nodes carry with different values, against
 * a served cluster: a Talos worker per Proxmox host, each labelled with its host as its zone, so
 * which zone a new node joins is not known. A pod asking only that the zone label exists fits a
 * new node; one asking that it does not, or for one zone, adds no node that may not take it.
 */
import { describe, expect, it } from "@jest/globals";
import { CONFIG, type PlanJson, type PodOptions, pod, type Raw, TFVARS } from "./served-cluster.ts";
import { cluster, fillers, plan, poolNote, serveForTest, WORKERS } from "./served-plan.ts";

const ZONE = "topology.kubernetes.io/zone";

/** Each worker on its own Proxmox host, pve-1 to pve-3. */
const byHost = Object.fromEntries(
  WORKERS.map((name, index) => [name, { labels: { [ZONE]: `pve-${index + 1}` } }]),
);

/** A Pending transcode pod of 1500m and 1 GiB, which no worker has room for beside its filler. */
function transcode(suffix: string, options: PodOptions = {}): Raw {
  return pod("media", `tdarr-node-6d8c7f5b49-${suffix}`, {
    owner: { kind: "ReplicaSet", name: "tdarr-node-6d8c7f5b49" },
    cpu: "1500m",
    memory: "1Gi",
    ...options,
  });
}

/** Required node affinity of one expression on the zone label. */
function onZone(operator: "In" | "Exists" | "DoesNotExist", values?: string[]): Raw {
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: ZONE, operator, ...(values ? { values } : {}) }] },
        ],
      },
    },
  };
}

/** The pending pods the pool's decision lists as never fitting a new node. */
function neverFit(output: PlanJson): unknown {
  const decision = output.notes.find((note) => note.subject === "pool/workers")?.decision as
    | { pending?: { neverFit?: Raw[] } }
    | undefined;
  return decision?.pending?.neverFit?.map(({ pod, reason, label }) => ({ pod, reason, label }));
}

describe("plan against a served cluster: the labels a pool's selector gives a new node", () => {
  // A pool of GPU nodes with none yet, recognised by a one-value In as the docs write it.
  const gpuPool = `${CONFIG.replace(
    "          operator: DoesNotExist\n",
    "          operator: DoesNotExist\n        - key: pool\n          operator: DoesNotExist\n",
  )}  - name: gpu
    target:
      file: terraform/terraform.tfvars
      path: gpu_count
    selector:
      matchExpressions:
        - {key: pool, operator: In, values: [gpu]}
    min: 0
    max: 2
    newNode:
      cpu: "8"
      memory: 32Gi
`;
  const training = (suffix: string, cpu: string) =>
    pod("ml", `train-${suffix}`, {
      owner: { kind: "Job", name: `train-${suffix}` },
      cpu,
      memory: "8Gi",
      nodeSelector: { pool: "gpu" },
    });

  it("gives a new node the label a one-value In asks for, and runs the DaemonSets it selects", async () => {
    const output = await plan(
      [
        ...cluster(),
        daemonSet("kube-system", "nvidia-device-plugin", {
          cpu: "300m",
          memory: "64Mi",
          nodeSelector: { pool: "gpu" },
        }),
        // A new GPU node: 8 cpu − 300m (the device plugin) − 100m (Cilium, whose DaemonSet is
        // not listed, by its pods) = 7600m free.
        training("fit7600", "7600m"),
        training("no7700", "7700m"),
      ],
      { config: gpuPool, tfvars: `${TFVARS}gpu_count = 0\n` },
    );
    const gpu = output.proposals.find((proposal) => proposal.pool === "gpu");
    expect(gpu).toMatchObject({ from: 0, to: 1 });
    const text = gpu?.reasons.join("\n") ?? "";
    expect(text).toContain("DaemonSets take 400m cpu, 192 MiB, 2 pods");
    expect(text).toMatch(/ml\/train-fit7600[^\n]*→ new-1/);
    expect(text).toMatch(/never fits: ml\/train-no7700[^\n]*cpu/);
  });

  it("heads a proposal for one node in the singular", async () => {
    const served = await serveForTest([...cluster(), training("one7000", "7")]);
    const run = await served.run([], { config: gpuPool, tfvars: `${TFVARS}gpu_count = 0\n` });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("pool/gpu: scale up 0 → 1 node\n");
  });
});

describe("plan against a served cluster: a label whose value on a new node is not known", () => {
  it("adds a node for a pod that asks only that the zone label exists", async () => {
    const output = await plan([
      ...cluster(WORKERS, byHost),
      ...fillers(),
      transcode("exist1", { affinity: onZone("Exists") }),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(output.proposals[0]?.reasons.join("\n")).toMatch(
      /tdarr-node-6d8c7f5b49-exist1[^\n]*→ new-1/,
    );
  });

  it("adds none for a pod that asks that the zone label does not exist: every new node has one", async () => {
    const output = await plan([
      ...cluster(WORKERS, byHost),
      ...fillers(),
      transcode("nozon1", { affinity: onZone("DoesNotExist") }),
    ]);
    expect(output.proposals).toEqual([]);
    expect(neverFit(output)).toEqual([
      { pod: "media/tdarr-node-6d8c7f5b49-nozon1", reason: "node-affinity", label: undefined },
    ]);
  });

  it("adds none for a pod selecting one zone, and says the zone a new node joins is not known", async () => {
    const output = await plan([
      ...cluster(WORKERS, byHost),
      ...fillers(),
      transcode("pve1aa", { nodeSelector: { [ZONE]: "pve-1" } }),
      transcode("pve1bb", { affinity: onZone("In", ["pve-1"]) }),
    ]);
    expect(output.proposals).toEqual([]);
    expect(neverFit(output)).toEqual([
      { pod: "media/tdarr-node-6d8c7f5b49-pve1aa", reason: "label-unknown", label: ZONE },
      { pod: "media/tdarr-node-6d8c7f5b49-pve1bb", reason: "label-unknown", label: ZONE },
    ]);
    // Only a person setting newNode.labels lets them run: the note is a warning.
    expect(output.notes.find((note) => note.subject === "pool/workers")?.level).toBe("warning");
    expect(poolNote(output)).toContain(
      `fit unknown: media/tdarr-node-6d8c7f5b49-pve1aa (cpu 1500m, memory 1 GiB): its nodeSelector or required node affinity (or a volume's) depends on the label ${ZONE}, which the pool's nodes carry with different values, so whether a new node would match is not known (set newNode.labels when every new node gets the same value)`,
    );
  });

  it("warns for a replica whose anti-affinity on the zone every host's worker already rules out", async () => {
    // One Blocky replica per host, each keeping others out of its zone: a fourth fits a new node
    // only if it joins a fourth zone, which only newNode.labels can say.
    const blocky = (suffix: string, node?: string) =>
      pod("dns", `blocky-7f9d8c6b5-${suffix}`, {
        owner: { kind: "ReplicaSet", name: "blocky-7f9d8c6b5" },
        cpu: "100m",
        memory: "128Mi",
        labels: { app: "blocky" },
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchLabels: { app: "blocky" } }, topologyKey: ZONE },
            ],
          },
        },
        ...(node ? { node, phase: "Running" as const } : {}),
      });
    const output = await plan([
      ...cluster(WORKERS, byHost),
      ...fillers(),
      ...WORKERS.map((worker, index) => blocky(`run0${index + 1}`, worker)),
      blocky("pend01"),
    ]);
    expect(output.proposals).toEqual([]);
    const decision = output.notes.find((note) => note.subject === "pool/workers")?.decision as
      | { pending?: { neverFit?: Raw[] } }
      | undefined;
    expect(decision?.pending?.neverFit).toMatchObject([
      { pod: "dns/blocky-7f9d8c6b5-pend01", reason: "topology-unknown", topologyKey: ZONE },
    ]);
    expect(output.notes.find((note) => note.subject === "pool/workers")?.level).toBe("warning");
  });

  it("warns of a pod waiting on the zone beside a scale-up for another, which does not run it", async () => {
    const output = await plan([
      ...cluster(WORKERS, byHost),
      ...fillers(),
      transcode("pve1cc", { nodeSelector: { [ZONE]: "pve-1" } }),
      transcode("anyzn1"),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    const pods = output.notes.find((note) => note.subject === "pods");
    expect(pods?.message).toContain(
      `pool workers: fit unknown: media/tdarr-node-6d8c7f5b49-pve1cc (cpu 1500m, memory 1 GiB): its nodeSelector or required node affinity (or a volume's) depends on the label ${ZONE}`,
    );
    expect(pods?.level).toBe("warning");
  });

  it("takes a label only some workers carry, put there by hand, as one a new node lacks", async () => {
    // talos-worker-1 is labelled for maintenance; pods keep off it, and a new node has no label.
    const output = await plan([
      ...cluster(WORKERS, {
        "talos-worker-1": { labels: { "maintenance.home.arpa/drain": "true" } },
      }),
      ...fillers(),
      transcode("avoid1", {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    { key: "maintenance.home.arpa/drain", operator: "DoesNotExist" },
                  ],
                },
              ],
            },
          },
        },
      }),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
  });

  it("adds a node for the zone newNode.labels gives every new node", async () => {
    const output = await plan(
      [
        ...cluster(WORKERS, byHost),
        ...fillers(),
        transcode("pve1cc", { nodeSelector: { [ZONE]: "pve-1" } }),
      ],
      {
        config: CONFIG.replace(
          "    min: 1\n",
          `    min: 1\n    newNode:\n      labels: { ${ZONE}: pve-1 }\n`,
        ),
      },
    );
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
  });

  it("keeps room on a new node for a DaemonSet of one zone, which it may join", async () => {
    // Local storage served from pve-1's disks: its agent runs on the nodes of that host alone.
    const agent = (node: string) =>
      pod("storage", "pve1-disk-agent-7x2kq", {
        node,
        owner: { kind: "DaemonSet", name: "pve1-disk-agent" },
        cpu: "500m",
        memory: "256Mi",
        affinity: onZone("In", ["pve-1"]),
      });
    const output = await plan([
      ...cluster(WORKERS, byHost),
      ...fillers(),
      daemonSet("storage", "pve1-disk-agent", {
        cpu: "500m",
        memory: "256Mi",
        affinity: onZone("In", ["pve-1"]),
      }),
      agent("talos-worker-1"),
      // A new node: 3800m − 100m (cilium) − 500m (the agent, if it joins pve-1) = 3200m free.
      transcode("fit320", { cpu: "3200m" }),
      transcode("no3300", { cpu: "3300m" }),
    ]);
    expect(output.proposals[0]).toMatchObject({ from: 3, to: 4 });
    const text = output.proposals[0]?.reasons.join("\n") ?? "";
    expect(text).toContain("DaemonSets take 600m cpu, 384 MiB, 2 pods");
    expect(text).toMatch(/tdarr-node-6d8c7f5b49-fit320[^\n]*→ new-1/);
    expect(text).toMatch(/never fits: media\/tdarr-node-6d8c7f5b49-no3300[^\n]*cpu/);
  });
});

/** An apps/v1 DaemonSet as the API server returns it, its template asking for `spec`. */
function daemonSet(
  namespace: string,
  name: string,
  spec: Pick<PodOptions, "cpu" | "memory" | "affinity" | "nodeSelector" | "tolerations">,
): Raw {
  const template = pod(namespace, name, { ...spec, owner: null });
  const labels = { "app.kubernetes.io/name": name };
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name, namespace, creationTimestamp: "2026-11-01T10:00:00Z", generation: 1, labels },
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: template.spec },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
    },
    status: { currentNumberScheduled: 1, desiredNumberScheduled: 1, numberReady: 1 },
  };
}
