import { describe, expect, it } from "@jest/globals";
import type { VpaInfo } from "../../src/planning/snapshot.ts";
import { planRightsizing } from "../../src/rightsizing/plan-rightsizing.ts";
import type { RepoFile } from "../../src/rightsizing/repo-files.ts";
import { fixtureVpa, rightsizingConfig, snapshot, workloadPod } from "./rightsizing-helpers.ts";

const NOW = new Date("2025-06-06T12:00:00Z");

/** The worked example's VPA (450m, about 1.3Gi for container `app`), aimed at another workload. */
function vpaFor(namespace: string, kind: string, name: string): VpaInfo {
  return {
    ...fixtureVpa("plex-worked-example.yaml"),
    name: `${name}-${kind.toLowerCase()}`,
    namespace,
    target: { kind, name, apiVersion: "apps/v1" },
  };
}

/** A plain manifest whose container `app` requests 2 CPU and 4Gi, as its pods do. */
function manifest(namespace: string, kind: string, name: string): string {
  return [
    "apiVersion: apps/v1",
    `kind: ${kind}`,
    "metadata:",
    `  name: ${name}`,
    `  namespace: ${namespace}`,
    "spec:",
    "  template:",
    "    spec:",
    "      containers:",
    "        - name: app",
    "          resources:",
    "            requests:",
    "              cpu: 2",
    "              memory: 4Gi",
    "",
  ].join("\n");
}

function podOf(namespace: string, kind: string, name: string) {
  return workloadPod(`${namespace}/${name}`, `${name}-0`, {
    kind,
    requests: { cpu: "2", memory: "4Gi" },
  });
}

function planFor(
  workloads: { namespace: string; kind: string; name: string; file: string }[],
  group: "workload" | "namespace" = "workload",
) {
  const files: RepoFile[] = workloads.map((w) => ({
    path: w.file,
    text: manifest(w.namespace, w.kind, w.name),
  }));
  return planRightsizing({
    snapshot: snapshot({
      vpas: workloads.map((w) => vpaFor(w.namespace, w.kind, w.name)),
      pods: workloads.map((w) => podOf(w.namespace, w.kind, w.name)),
    }),
    config: rightsizingConfig({ group }),
    files,
    now: NOW,
  });
}

function summary(plan: ReturnType<typeof planRightsizing>) {
  return plan.proposals
    .map((proposal) => ({
      key: proposal.key,
      workloads: proposal.workloads.map(
        (w) => `${w.workload.kind} ${w.workload.namespace}/${w.workload.name}`,
      ),
      files: proposal.edits.map((edit) => edit.file),
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

describe("planRightsizing: one pull request per workload, even when their keys would collide", () => {
  it("keeps home-auto/zigbee and home/auto-zigbee apart", () => {
    const plan = planFor([
      {
        namespace: "home-auto",
        kind: "Deployment",
        name: "zigbee",
        file: "apps/home-auto/zigbee.yaml",
      },
      {
        namespace: "home",
        kind: "Deployment",
        name: "auto-zigbee",
        file: "apps/home/auto-zigbee.yaml",
      },
    ]);
    expect(plan.notes).toEqual([]);
    expect(summary(plan)).toEqual([
      {
        key: "resources-home-auto-zigbee-58b2f8b6",
        workloads: ["Deployment home-auto/zigbee"],
        files: ["apps/home-auto/zigbee.yaml"],
      },
      {
        key: "resources-home-auto-zigbee-e1cb3359",
        workloads: ["Deployment home/auto-zigbee"],
        files: ["apps/home/auto-zigbee.yaml"],
      },
    ]);
  });

  it("keeps a Deployment and a StatefulSet both named redis apart", () => {
    const plan = planFor([
      { namespace: "db", kind: "StatefulSet", name: "redis", file: "apps/db/sts.yaml" },
      { namespace: "db", kind: "Deployment", name: "redis", file: "apps/db/dep.yaml" },
    ]);
    expect(plan.notes).toEqual([]);
    expect(summary(plan)).toEqual([
      {
        key: "resources-db-redis-deployment",
        workloads: ["Deployment db/redis"],
        files: ["apps/db/dep.yaml"],
      },
      {
        key: "resources-db-redis-statefulset",
        workloads: ["StatefulSet db/redis"],
        files: ["apps/db/sts.yaml"],
      },
    ]);
  });

  it("keeps a workload's plain key when the one it could collide with has no change", () => {
    const files: RepoFile[] = [
      { path: "apps/db/dep.yaml", text: manifest("db", "Deployment", "redis") },
    ];
    const plan = planRightsizing({
      snapshot: snapshot({
        vpas: [vpaFor("db", "Deployment", "redis"), vpaFor("cache", "Deployment", "x")],
        pods: [podOf("db", "Deployment", "redis")],
      }),
      config: rightsizingConfig(),
      files,
      now: NOW,
    });
    expect(plan.proposals.map((p) => p.key)).toEqual(["resources-db-redis"]);
  });

  it("gives a workload its collision-free key even when the other has no change now", () => {
    const files: RepoFile[] = [
      { path: "apps/db/dep.yaml", text: manifest("db", "Deployment", "redis") },
    ];
    const plan = planRightsizing({
      snapshot: snapshot({
        // The StatefulSet's VPA has no file to change: its key still counts.
        vpas: [vpaFor("db", "Deployment", "redis"), vpaFor("db", "StatefulSet", "redis")],
        pods: [podOf("db", "Deployment", "redis")],
      }),
      config: rightsizingConfig(),
      files,
      now: NOW,
    });
    expect(plan.proposals.map((p) => p.key)).toEqual(["resources-db-redis-deployment"]);
  });

  it("groups by namespace, not by the rendered text", () => {
    const plan = planFor(
      [
        { namespace: "home-auto", kind: "Deployment", name: "zigbee", file: "a/zigbee.yaml" },
        { namespace: "home", kind: "Deployment", name: "auto-zigbee", file: "b/auto-zigbee.yaml" },
      ],
      "namespace",
    );
    expect(summary(plan).map((p) => [p.key, p.files])).toEqual([
      ["resources-home", ["b/auto-zigbee.yaml"]],
      ["resources-home-auto", ["a/zigbee.yaml"]],
    ]);
  });

  it("leaves out a workload matched to another's place, though they change different requests there", () => {
    // One manifest with no namespace anywhere: it is a likely match for whoami in a and in b.
    const file = "apps/whoami/deployment.yaml";
    const text = manifest("a", "Deployment", "whoami").replace("  namespace: a\n", "");
    const GiB = 2 ** 30;
    // a's VPA keeps the 4Gi and lowers the cpu; b's keeps the 2 CPU and lowers the memory.
    const a = vpaFor("a", "Deployment", "whoami");
    a.recommendations = a.recommendations.map((r) => ({
      ...r,
      target: { ...r.target, memory: 4 * GiB },
      lowerBound: { ...r.lowerBound, memory: 3 * GiB },
      upperBound: { ...r.upperBound, memory: 5 * GiB },
      uncappedTarget: { ...r.uncappedTarget, memory: 4 * GiB },
    }));
    const b = vpaFor("b", "Deployment", "whoami");
    b.recommendations = b.recommendations.map((r) => ({
      ...r,
      target: { ...r.target, cpu: 2000 },
      lowerBound: { ...r.lowerBound, cpu: 1500 },
      upperBound: { ...r.upperBound, cpu: 2500 },
      uncappedTarget: { ...r.uncappedTarget, cpu: 2000 },
    }));
    const plan = planRightsizing({
      snapshot: snapshot({
        vpas: [a, b],
        pods: [podOf("a", "Deployment", "whoami"), podOf("b", "Deployment", "whoami")],
      }),
      config: rightsizingConfig({ group: "repo" }),
      files: [{ path: file, text }],
      now: NOW,
    });
    expect(summary(plan)).toEqual([
      { key: "resources", workloads: ["Deployment a/whoami"], files: [file] },
    ]);
    expect(plan.proposals[0]?.changes.map((change) => [change.path, change.after])).toEqual([
      ["spec.template.spec.containers[name=app].resources.requests.cpu", "450m"],
    ]);
    expect(plan.notes).toEqual([
      {
        level: "warning",
        subject: "deployment/b/whoami",
        message: `${file} spec.template.spec.containers[name=app].resources is also where a/whoami was matched; neither match can be trusted for both, so b/whoami is left out (set rightsizing.targets)`,
      },
    ]);
    // Where b's resources are is not certain: a pull request that carries its change is kept.
    expect(plan.unjudged).toEqual([
      {
        workload: { namespace: "b", kind: "Deployment", name: "whoami" },
        vpa: "whoami-deployment",
        why: `container app: ${file} spec.template.spec.containers[name=app].resources is also where a/whoami was matched`,
        whenCarried: true,
        key: "resources",
      },
    ]);
  });

  it("takes a target's containers[0] and a match's containers[name=app] for one place", () => {
    const file = "apps/whoami/deployment.yaml";
    const text = manifest("a", "Deployment", "whoami").replace("  namespace: a\n", "");
    const plan = planRightsizing({
      snapshot: snapshot({
        vpas: [vpaFor("a", "Deployment", "whoami"), vpaFor("b", "Deployment", "whoami")],
        pods: [podOf("a", "Deployment", "whoami"), podOf("b", "Deployment", "whoami")],
      }),
      config: rightsizingConfig({
        targets: [
          { workload: "a/whoami", file, path: "spec.template.spec.containers[0].resources" },
        ],
      }),
      files: [{ path: file, text }],
      now: NOW,
    });
    expect(summary(plan)).toEqual([
      { key: "resources-a-whoami", workloads: ["Deployment a/whoami"], files: [file] },
    ]);
    expect(plan.notes).toEqual([
      {
        level: "warning",
        subject: "deployment/b/whoami",
        message: `${file} spec.template.spec.containers[name=app].resources is also where a/whoami was matched; neither match can be trusted for both, so b/whoami is left out (set rightsizing.targets)`,
      },
    ]);
  });

  it("tells two same-named workloads matched to one place apart by kind", () => {
    // Targets that point both workloads at one file and path: one of them is wrong.
    const path = "spec.template.spec.containers[name=app].resources";
    const files: RepoFile[] = [
      { path: "apps/db/redis.yaml", text: manifest("db", "StatefulSet", "redis") },
    ];
    const plan = planRightsizing({
      snapshot: snapshot({
        vpas: [vpaFor("db", "Deployment", "redis"), vpaFor("db", "StatefulSet", "redis")],
        pods: [podOf("db", "Deployment", "redis"), podOf("db", "StatefulSet", "redis")],
      }),
      config: rightsizingConfig({
        targets: [
          { workload: "db/redis", kind: "Deployment", file: "apps/db/redis.yaml", path },
          { workload: "db/redis", kind: "StatefulSet", file: "apps/db/redis.yaml", path },
        ],
      }),
      files,
      now: NOW,
    });
    expect(plan.proposals).toHaveLength(1);
    expect(plan.notes).toEqual([
      expect.objectContaining({
        level: "warning",
        message: expect.stringMatching(
          /is also where (Deployment|StatefulSet) db\/redis was matched; .* so (StatefulSet|Deployment) db\/redis is left out/,
        ),
      }),
    ]);
  });
});
