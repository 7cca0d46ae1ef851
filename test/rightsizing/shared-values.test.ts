import { describe, expect, it } from "@jest/globals";
import type { PodInfo, VpaInfo } from "../../src/planning/snapshot.ts";
import type { RepoFile } from "../../src/rightsizing/repo-files.ts";
import { NOW, plan, textOf, vpaFor } from "./repo-variants.ts";
import { fixtureRepo, replaced, workloadPod } from "./rightsizing-helpers.ts";

const VALUES = "argocd-apps/postgresql/values.yaml";

/**
 * The Bitnami postgresql values of the fixture repo, with read replicas and the metrics
 * exporter: the chart runs the exporter as container `metrics` in the primary's StatefulSet
 * and in the replicas', both from `metrics.resources`.
 */
const files: RepoFile[] = fixtureRepo("repo")
  .filter((file) => file.path === VALUES)
  .map((file) => ({
    path: file.path,
    text: replaced(
      file.text,
      "replica:\n  replicaCount: 0\n",
      `architecture: replication

readReplicas:
  replicaCount: 1
  resources:
    requests:
      memory: 256Mi
      cpu: 50m

metrics:
  enabled: true
  resources:
    requests:
      cpu: 10m
      memory: 32Mi
    limits:
      memory: 64Mi
`,
    ),
  }));

const primary = { namespace: "db", kind: "StatefulSet", name: "postgresql-primary" };
const read = { namespace: "db", kind: "StatefulSet", name: "postgresql-read" };
const Mi = 2 ** 20;

function vpas(readVpa: (vpa: VpaInfo) => VpaInfo = (vpa) => vpa): VpaInfo[] {
  const replicas = vpaFor("piped-frontend.yaml", read, ["postgresql", "metrics"]);
  // The replicas' exporter needs more than the primary's: 150m and 400Mi.
  const metrics = replicas.recommendations.find((r) => r.containerName === "metrics");
  if (!metrics) throw new Error("no metrics recommendation");
  metrics.target = { cpu: 150, memory: 400 * Mi };
  return [vpaFor("piped-frontend.yaml", primary, ["postgresql", "metrics"]), readVpa(replicas)];
}

/** A running pod of the replicas with both containers and no limits. */
function replicaPod(): PodInfo {
  const pod = workloadPod("db/postgresql-read", "postgresql-read-0", {
    kind: "StatefulSet",
    container: "postgresql",
  });
  return { ...pod, containers: [...pod.containers, { name: "metrics", requests: {}, limits: {} }] };
}

describe("values that several workloads' containers read (Bitnami metrics.resources)", () => {
  it("makes one change, the highest of what each container needs, and says who shares it", () => {
    const result = plan(files, vpas());
    expect(result.proposals.map((proposal) => proposal.key)).toEqual([
      "resources-db-postgresql-primary",
    ]);
    const [proposal] = result.proposals;
    const before = textOf(files, VALUES);
    let expected = replaced(
      before,
      "    requests:\n      memory: 256Mi\n      cpu: 50m\n    limits",
      "    requests:\n      memory: 256Mi\n      cpu: 70m\n    limits",
    );
    expected = replaced(
      expected,
      "      cpu: 10m\n      memory: 32Mi",
      "      cpu: 150m\n      memory: 400Mi",
    );
    expected = replaced(expected, "      memory: 64Mi", "      memory: 400Mi");
    expect(proposal?.edits).toEqual([{ file: VALUES, before, after: expected }]);
    const reasons = proposal?.reasons.join("\n") ?? "";
    expect(reasons).toContain(
      "these values also set the resources of StatefulSet db/postgresql-read container metrics: they are decided once, for all of them",
    );
    expect(reasons).toContain(
      "cpu request 10m → 150m (+1400 %): VPA target 150m, the highest of what each container these values set needs (StatefulSet db/postgresql-primary container metrics 70m, StatefulSet db/postgresql-read container metrics 150m) → 150m",
    );
    // The replicas' plan leaves the values to the primary's pull request, and says so.
    expect(result.notes).toContainEqual(
      expect.objectContaining({
        subject: "statefulset/db/postgresql-read",
        message: expect.stringContaining(
          "container metrics: argocd-apps/postgresql/values.yaml metrics.resources (likely: values file for release postgresql, metrics.resources)\n    these values also set the resources of StatefulSet db/postgresql-primary container metrics: they are decided once, for all of them\n    cpu request 10m kept: these values also set the resources of StatefulSet db/postgresql-primary container metrics, and are decided with it, once for every container they set",
        ),
      }),
    );
  });

  it("changes nothing there for a container whose needs are not known", () => {
    // The replicas run, with no VPA: their exporter's needs are unknown.
    const noVpa = plan(files, [vpas()[0] as VpaInfo], [replicaPod()]);
    const [proposal] = noVpa.proposals;
    expect(proposal?.changes.map((change) => change.path)).toEqual([
      "primary.resources.requests.cpu",
    ]);
    expect(proposal?.reasons.join("\n")).toContain(
      "cpu request 10m kept: these values also set the resources of StatefulSet db/postgresql-read container metrics (it has no VPA), whose needs are not known, and a change made for the others would change them too",
    );
    // The replicas' VPA has not recorded long enough: what holds one holds the values for all.
    const young = plan(
      files,
      vpas((vpa) => ({ ...vpa, createdAt: new Date(NOW.getTime() - 3_600_000).toISOString() })),
    );
    expect(young.proposals[0]?.changes.map((change) => change.path)).toEqual([
      "primary.resources.requests.cpu",
    ]);
    expect(young.proposals[0]?.reasons.join("\n")).toContain(
      "memory request 32Mi kept: these values also set the resources of StatefulSet db/postgresql-read container metrics, for which: not enough history: the VPA has recorded for 1h, less than minHistory 7d",
    );
  });

  it("leaves a pull request's change there unjudged for a container whose needs may yet be known, not for one left out on purpose", () => {
    const unknown = {
      workload: primary,
      vpa: "postgresql-primary",
      key: "resources-db-postgresql-primary",
    };
    // The replicas run with no VPA: one may come, so their exporter's needs are not known yet.
    const noVpa = plan(files, [vpas()[0] as VpaInfo], [replicaPod()]);
    expect(noVpa.unjudged).toEqual([
      {
        ...unknown,
        container: "metrics",
        why: `container metrics: ${VALUES} metrics.resources also sets the resources of StatefulSet db/postgresql-read container metrics (it has no VPA), whose needs are not known`,
      },
    ]);
    // The replicas' VPA puts their exporter in mode Off: its needs stay unknown for good, and
    // the values stay as they are.
    const off = plan(
      files,
      vpas((vpa) => ({
        ...vpa,
        resourcePolicy: [{ containerName: "metrics", mode: "Off" }],
        recommendations: vpa.recommendations.filter((r) => r.containerName !== "metrics"),
      })),
      [replicaPod()],
    );
    expect(off.proposals[0]?.changes.map((change) => change.path)).toEqual([
      "primary.resources.requests.cpu",
    ]);
    expect(off.proposals[0]?.reasons.join("\n")).toContain(
      "cpu request 10m kept: these values also set the resources of StatefulSet db/postgresql-read container metrics (the VPA's policy for it is mode Off), whose needs are not known",
    );
    // (The replicas' own container postgresql is set nowhere in these files: unjudged apart.)
    expect(off.unjudged.map((entry) => entry.key)).toEqual(["resources-db-postgresql-read"]);
    // Every container of the replicas in mode Off: their VPA recommends for none, for good.
    const allOff = plan(
      files,
      vpas((vpa) => ({
        ...vpa,
        resourcePolicy: [{ containerName: "*", mode: "Off" }],
        recommendations: [],
      })),
      [replicaPod()],
    );
    expect(allOff.proposals[0]?.reasons.join("\n")).toContain(
      "cpu request 10m kept: these values also set the resources of StatefulSet db/postgresql-read container metrics (the VPA's policy for it is mode Off), whose needs are not known",
    );
    expect(allOff.unjudged).toEqual([]);
  });

  it("says of a container whose VPA recommends only for containers its pods no longer have that it does, not that it has none yet", () => {
    // The replicas' exporter was renamed from `postgres-exporter`: their VPA still carries only
    // the recommendation it made under the old name.
    const stale = plan(
      files,
      vpas((vpa) => ({
        ...vpa,
        recommendations: vpa.recommendations
          .filter((r) => r.containerName === "metrics")
          .map((r) => ({ ...r, containerName: "postgres-exporter" })),
      })),
      [replicaPod()],
    );
    const reasons = stale.proposals[0]?.reasons.join("\n") ?? "";
    expect(reasons).toContain(
      "cpu request 10m kept: these values also set the resources of StatefulSet db/postgresql-read container metrics (its VPA recommends only for container postgres-exporter, which the pods do not have, and for none of theirs yet), whose needs are not known",
    );
    expect(reasons).not.toContain("no recommendation yet");
  });

  it("gives the deciding container's own hold as its own, not as another container's", () => {
    // The primary's VPA recommends no memory for its exporter: the primary decides the values.
    const [own, replicas] = vpas();
    if (!own || !replicas) throw new Error("no VPAs");
    const noMemory: VpaInfo = {
      ...own,
      recommendations: own.recommendations.map((r) =>
        r.containerName !== "metrics"
          ? r
          : { containerName: r.containerName, target: { cpu: r.target.cpu ?? 0 } },
      ),
    };
    const result = plan(files, [noMemory, replicas]);
    expect(result.unjudged).toContainEqual({
      workload: primary,
      vpa: "postgresql-primary",
      key: "resources-db-postgresql-primary",
      why: "container metrics: the VPA postgresql-primary has no memory recommendation",
      container: "metrics",
      resource: "memory",
    });
    const reasons = result.proposals[0]?.reasons.join("\n") ?? "";
    expect(reasons).toContain("memory request 32Mi kept: the VPA gives no target for it");
    expect(reasons).not.toContain(
      "these values also set the resources of StatefulSet db/postgresql-primary container metrics",
    );
  });

  it("changes nothing for workloads of several namespaces matched to one values file", () => {
    // No namespace is declared on the way to the file: one release deploys it into one
    // namespace, so it is not both workloads', or it is the values of two releases.
    const whoami: RepoFile[] = [
      {
        path: "apps/whoami/values.yaml",
        text: "image:\n  repository: traefik/whoami\nresources:\n  requests:\n    cpu: 10m\n    memory: 32Mi\n",
      },
    ];
    const both = ["a", "b"].map((namespace) =>
      vpaFor("piped-frontend.yaml", { namespace, kind: "Deployment", name: "whoami" }, ["whoami"]),
    );
    const result = plan(whoami, both);
    expect(result.proposals).toEqual([]);
    expect(result.notes).toContainEqual(
      expect.objectContaining({
        subject: "deployment/a/whoami",
        message: expect.stringContaining(
          "cpu request 10m kept: these values also set the resources of Deployment b/whoami container whoami (it is in namespace b, not a: one release's values go to one namespace, so these are not its, or several releases read them)",
        ),
      }),
    );
  });
});
