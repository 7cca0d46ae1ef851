/**
 * Pods that wait for a node their volumes can reach, against a served cluster: the workers run
 * on Proxmox host pve-1, a second pool takes nodes on pve-2 and has none yet. A pod whose claim
 * is bound to a volume on pve-2, or provisioned there (WaitForFirstConsumer), adds a node to the
 * pve-2 pool; one whose volume only a host no pool has reaches never fits, with the reason.
 * The Proxmox storage objects are those of ../support/kube-volumes.ts (sources there).
 */
import { describe, expect, it } from "@jest/globals";
import { proxmoxLvm, proxmoxVolume, volumeClaim, ZONE } from "../support/kube-volumes.ts";
import { CONFIG, pod, type Raw, TFVARS } from "./served-cluster.ts";
import {
  apps,
  cluster,
  everyWorker,
  FOUR,
  fillers,
  OVER_MAX,
  onWorker4,
  plan,
  poolNote,
  WORKERS,
} from "./served-plan.ts";

/** CONFIG's workers (any node but the control plane, which on pve-1 are all there is) and a pool on pve-2. */
const TWO_HOSTS = `${CONFIG}  - name: pve2
    target:
      file: terraform/terraform.tfvars
      path: pve2_count
    selector:
      matchLabels:
        ${ZONE}: pve-2
    min: 0
    max: 2
    newNode:
      cpu: "4"
      memory: 16Gi
`;

const lvm = proxmoxLvm(["pve-2", "pve-3"]);

/** A volume the Proxmox CSI plugin made on `host`'s LVM, bound to claim `data-<app>-0`. */
function volumeOn(host: string, app: string): Raw[] {
  const name = `pvc-${app}-5b0e3c1a`;
  const onHost = [{ matchExpressions: [{ key: ZONE, operator: "In", values: [host] }] }];
  return [
    proxmoxVolume(name, host, onHost),
    claim(app, { storageClassName: "proxmox-lvm", volumeName: name }),
  ];
}

function claim(app: string, spec: Raw): Raw {
  return volumeClaim("db", `data-${app}-0`, spec);
}

/** A StatefulSet's pending pod mounting `data-<app>-0`, with the scheduler's `why`. */
function statefulPod(app: string, why: string): Raw {
  return pod("db", `${app}-0`, {
    owner: { kind: "StatefulSet", name: app },
    cpu: "1",
    memory: "2Gi",
    volumes: [{ name: "data", persistentVolumeClaim: { claimName: `data-${app}-0` } }],
    scheduled: {
      reason: "Unschedulable",
      message: `0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 ${why}. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.`,
    },
  });
}

function onPve1(): Raw[] {
  return cluster(WORKERS, everyWorker({ labels: { [ZONE]: "pve-1" } }));
}

describe("plan against a served cluster: pods waiting for a node their volumes reach", () => {
  it("adds a node where the pod's bound volume, or the one its class makes, can be reached", async () => {
    const output = await plan(
      [
        ...onPve1(),
        lvm,
        ...volumeOn("pve-2", "postgres"),
        statefulPod("postgres", "node(s) had volume node affinity conflict"),
        claim("redis", { storageClassName: "proxmox-lvm" }),
        statefulPod("redis", "node(s) didn't find available persistent volumes to bind"),
      ],
      { config: TWO_HOSTS, tfvars: `${TFVARS}pve2_count = 0\n` },
    );
    const pve2 = output.proposals.find((proposal) => proposal.pool === "pve2");
    expect(pve2).toMatchObject({ from: 0, to: 1 });
    const text = pve2?.reasons.join("\n") ?? "";
    expect(text).toMatch(/db\/postgres-0[^\n]*→ new-1/);
    expect(text).toMatch(/db\/redis-0[^\n]*→ new-1/);
    // The workers' pool, on pve-1, does not take them: it says which pool does.
    expect(output.proposals.find((proposal) => proposal.pool === "workers")).toBeUndefined();
    expect(poolNote(output)).toContain(
      "pending: db/postgres-0 (cpu 1, memory 2 GiB) → pool pve2\n",
    );
    expect(poolNote(output)).not.toContain("never fits");
  });

  it("says which claim's volume no new node of any pool reaches", async () => {
    const output = await plan(
      [
        ...onPve1(),
        ...fillers(WORKERS, "1"),
        lvm,
        ...volumeOn("pve-3", "mariadb"),
        statefulPod("mariadb", "node(s) had volume node affinity conflict"),
      ],
      { config: TWO_HOSTS, tfvars: `${TFVARS}pve2_count = 0\n` },
    );
    expect(output.proposals).toEqual([]);
    for (const pool of ["workers", "pve2"])
      expect(poolNote(output, pool)).toContain(
        "never fits: db/mariadb-0 (cpu 1, memory 2 GiB): the volume of its claim data-mariadb-0 is out of a new node's reach",
      );
  });
});

describe("plan against a served cluster: a running pod whose volume is not found", () => {
  /** Four workers on pve-1 where the repo allows three, and postgres-0 on talos-worker-4. */
  const overMax = (...extra: Raw[]) =>
    plan(
      [
        ...cluster(FOUR, everyWorker({ labels: { [ZONE]: "pve-1" } }, FOUR)),
        ...apps(),
        pod("db", "postgres-0", {
          ...onWorker4,
          owner: { kind: "StatefulSet", name: "postgres" },
          volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data-postgres-0" } }],
        }),
        ...extra,
      ],
      OVER_MAX,
    );

  it("keeps its node: whether its data lies there is unknown, not no", async () => {
    // The claim names a volume the PersistentVolume list does not hold (made after it was read).
    const missing = await overMax(
      claim("postgres", { storageClassName: "proxmox-lvm", volumeName: "pvc-postgres-5b0e3c1a" }),
    );
    expect(missing.proposals).toEqual([]);
    expect(poolNote(missing)).toContain(
      "db/postgres-0: no volume was found for its claim data-postgres-0 (it is bound to PersistentVolume pvc-postgres-5b0e3c1a, which does not exist), so whether its data is on this node, and which nodes it could go to, is unknown",
    );
    const note = missing.notes.find((entry) => entry.subject === "pool/workers");
    const decision = note?.decision as { scaleDown: { conditions: Raw[] } } | undefined;
    const fit = decision?.scaleDown.conditions.find((condition) => condition.kind === "pods-fit");
    expect(fit?.causes).toEqual([
      {
        pod: "db/postgres-0",
        cause: "volume-unknown",
        claims: [
          {
            claim: "data-postgres-0",
            why: "it is bound to PersistentVolume pvc-postgres-5b0e3c1a, which does not exist",
          },
        ],
      },
    ]);
    // Served with its volume, a disk every worker's host reaches, the node goes.
    const found = await overMax(lvm, ...volumeOn("pve-1", "postgres"));
    expect(found.proposals[0]).toMatchObject({ from: 4, to: 3 });
  });
});
