import { describe, expect, it } from "@jest/globals";
import { toVpaInfo } from "../../src/cluster/autoscaler-info.ts";
import { WarningCollector } from "../../src/cluster/warnings.ts";
import { resourcesPullRequestBody } from "../../src/reconcile/resources-pull-request-body.ts";
import { planRightsizing } from "../../src/rightsizing/plan-rightsizing.ts";
import type { RepoFile } from "../../src/rightsizing/repo-files.ts";
import {
  fixtureRepo,
  fixtureVpa,
  fixtureVpaObject,
  hpa,
  replaced,
  rightsizingConfig,
  snapshot,
  workloadPod,
} from "./rightsizing-helpers.ts";

const PLEX_FILE = "kubernetes/apps/media/plex/app/helmrelease.yaml";
const NOW = new Date("2025-06-06T12:00:00Z");

function plexPods(overrides: Parameters<typeof workloadPod>[2] = {}) {
  return [
    workloadPod("media/plex", "plex-7d9c65958-ghrmp", {
      requests: { cpu: "2", memory: "4Gi" },
      limits: { memory: "8Gi" },
      usage: { cpu: "380m", memory: "1100Mi" },
      ...overrides,
    }),
  ];
}

function fileText(files: RepoFile[], path: string): string {
  const file = files.find((f) => f.path === path);
  if (!file) throw new Error(`no ${path}`);
  return file.text;
}

describe("planRightsizing: the documented Plex example", () => {
  const files = fixtureRepo("worked-example");
  const plan = planRightsizing({
    snapshot: snapshot({ vpas: [fixtureVpa("plex-worked-example.yaml")], pods: plexPods() }),
    config: rightsizingConfig({}),
    files,
    now: NOW,
  });

  it("proposes 450m and 1344Mi in the HelmRelease, changing only those two values", () => {
    expect(plan.notes).toEqual([]);
    expect(plan.proposals).toHaveLength(1);
    const [proposal] = plan.proposals;
    expect(proposal?.key).toBe("resources-media-plex");
    expect(proposal?.changes).toEqual([
      {
        file: PLEX_FILE,
        document: 0,
        path: "spec.values.controllers.plex.containers.app.resources.requests.cpu",
        before: 2,
        after: "450m",
      },
      {
        file: PLEX_FILE,
        document: 0,
        path: "spec.values.controllers.plex.containers.app.resources.requests.memory",
        before: "4Gi",
        after: "1344Mi",
      },
    ]);
    const before = fileText(files, PLEX_FILE);
    const expected = replaced(
      replaced(before, "                cpu: 2\n", "                cpu: 450m\n"),
      "                memory: 4Gi\n",
      "                memory: 1344Mi\n",
    );
    expect(proposal?.edits).toEqual([{ file: PLEX_FILE, before, after: expected }]);
  });

  it("explains every number: target, bounds, usage, rounding and the reason", () => {
    const reasons = plan.proposals[0]?.reasons ?? [];
    expect(reasons[0]).toBe("Deployment media/plex: VPA plex (updateMode Off, recording for 17d)");
    expect(reasons[1]).toContain(
      `container app: ${PLEX_FILE} spec.values.controllers.plex.containers.app.resources (exact: HelmRelease plex (namespace media from kubernetes/apps/media/plex/app/kustomization.yaml), controllers.plex.containers.app)`,
    );
    expect(reasons[2]).toBe(
      "    cpu request 2 → 450m (−77.5 %): VPA target 450m [VPA bounds 300m–1200m, uncapped target 450m, usage up to 380m]; because the request is above the VPA upper bound 1200m; it differs by 77.5 % (tolerance 20 %)",
    );
    expect(reasons[3]).toBe(
      "    memory request 4Gi → 1344Mi (−67.2 %): VPA target 1.3Gi, rounded up to a multiple of 16Mi → 1344Mi [VPA bounds 1.1Gi–2560Mi, uncapped target 1.3Gi, usage up to 1100Mi, limit 8Gi]; because the request is above the VPA upper bound 2560Mi; it differs by 67.2 % (tolerance 20 %)",
    );
  });

  it("keeps the per-container data for the pull request body", () => {
    const memory = plan.proposals[0]?.workloads[0]?.containers[0]?.resources[1];
    expect(memory).toMatchObject({
      resource: "memory",
      action: "change",
      current: 4 * 2 ** 30,
      currentLimit: 8 * 2 ** 30,
      proposed: 1344 * 2 ** 20,
      recommendation: { target: 1395864371, lowerBound: 1181116006, upperBound: 2684354560 },
      usage: 1100 * 2 ** 20,
    });
    expect(plan.proposals[0]?.importance).toEqual({ oom: false, change: 77.5 });
  });
});

describe("planRightsizing: a values file with a memory limit and no request", () => {
  // Kubernetes gives the container its 8Gi limit as request: the pods request 8Gi.
  const files = fixtureRepo("worked-example").map((file) =>
    file.path === PLEX_FILE
      ? {
          ...file,
          text: replaced(
            file.text,
            "              requests:\n                cpu: 2\n                memory: 4Gi\n",
            "",
          ),
        }
      : file,
  );
  const plan = planRightsizing({
    snapshot: snapshot({
      vpas: [fixtureVpa("plex-worked-example.yaml")],
      pods: plexPods({ requests: { memory: "8Gi" }, limits: { memory: "8Gi" } }),
    }),
    config: rightsizingConfig({}),
    files,
    now: NOW,
  });

  it("marks the limit in the pull request's Current column, not as a request the file sets", () => {
    const [proposal] = plan.proposals;
    if (!proposal) throw new Error(`no proposal: ${JSON.stringify(plan.notes)}`);
    const body = resourcesPullRequestBody(proposal);
    expect(body).toContain(
      "| media/plex | app | memory | 8Gi (the limit: the file sets no request) | 1.3Gi | 1.1Gi–2560Mi | **1344Mi** |",
    );
    // The cpu request is unset, and no limit stands in for it.
    expect(body).toContain("| media/plex | app | cpu | unset | 450m |");
  });
});

describe("planRightsizing: pods of QoS class Guaranteed", () => {
  // Every request equals its limit (the GPU limit is no cpu or memory): the pods are Guaranteed.
  const files = fixtureRepo("worked-example").map((file) =>
    file.path === PLEX_FILE
      ? {
          ...file,
          text: replaced(
            file.text,
            "                memory: 8Gi\n",
            "                cpu: 2\n                memory: 4Gi\n",
          ),
        }
      : file,
  );
  const plan = (config: Parameters<typeof rightsizingConfig>[0], podCpuLimit = "2") =>
    planRightsizing({
      snapshot: snapshot({
        vpas: [fixtureVpa("plex-worked-example.yaml")],
        pods: plexPods({
          requests: { cpu: "2", memory: "4Gi" },
          limits: { cpu: podCpuLimit, memory: "4Gi" },
        }),
      }),
      config: rightsizingConfig(config),
      files,
      now: NOW,
    }).proposals[0];

  it("says that requests lowered below the limits kept make them Burstable", () => {
    const proposal = plan({});
    if (!proposal) throw new Error("no proposal");
    expect(proposal.changes.map((change) => change.after)).toEqual(["450m", "1344Mi"]);
    expect(proposal.reasons).toContain(
      "    cpu request 2 → 450m (−77.5 %): VPA target 450m [VPA bounds 300m–1200m, uncapped target 450m, usage up to 380m, limit 2]; because the request is above the VPA upper bound 1200m; it differs by 77.5 % (tolerance 20 %); the limit 2 stays (limits.cpu is keep), so the request no longer equals it: the pods' QoS class goes from Guaranteed to Burstable",
    );
    expect(proposal.workloads[0]?.containers[0]?.resources.map((r) => r.qosClass)).toEqual([
      {
        current: "Guaranteed",
        proposed: "Burstable",
        limit: 2000,
        from: "file",
        limitMode: "keep",
      },
      {
        current: "Guaranteed",
        proposed: "Burstable",
        limit: 4 * 2 ** 30,
        from: "file",
        limitMode: "keep",
      },
    ]);
    const body = resourcesPullRequestBody(proposal);
    expect(body).toContain("| **450m** (limit 2 kept: QoS Guaranteed → Burstable) |");
    expect(body).toContain("| **1344Mi** (limit 4Gi kept: QoS Guaranteed → Burstable) |");
  });

  it("keeps them Guaranteed under limits: ratio, each limit equal to its request", () => {
    const proposal = plan({ limits: { cpu: "ratio", memory: "ratio" } });
    expect(proposal?.changes.map((change) => change.after)).toEqual([
      "450m",
      "450m",
      "1344Mi",
      "1344Mi",
    ]);
    expect(proposal?.reasons.join("\n")).not.toContain("QoS");
  });

  it("says nothing of a class the pods do not have", () => {
    // The running pods' cpu limit is above their request: they are Burstable already.
    const proposal = plan({}, "4");
    const decisions = proposal?.workloads[0]?.containers[0]?.resources;
    expect(decisions?.map((r) => [r.action, r.qosClass])).toEqual([
      ["change", undefined],
      ["change", undefined],
    ]);
    expect(proposal?.reasons.join("\n")).not.toContain("QoS");
  });
});

describe("planRightsizing: holds and notes", () => {
  const files = fixtureRepo("worked-example");
  const vpa = fixtureVpa("plex-worked-example.yaml");

  it("plans nothing without a rightsizing section, and nothing on an incomplete snapshot", () => {
    const input = { snapshot: snapshot({ vpas: [vpa], pods: plexPods() }), files, now: NOW };
    expect(planRightsizing({ ...input, config: undefined })).toEqual({
      proposals: [],
      notes: [],
      unjudged: [],
      leftOut: [],
    });
    const partial = planRightsizing({
      ...input,
      snapshot: snapshot({ vpas: [vpa], pods: plexPods(), complete: false }),
      config: rightsizingConfig(),
    });
    expect(partial.proposals).toEqual([]);
    expect(partial.notes[0]?.level).toBe("warning");
    expect(partial.notes[0]?.message).toContain("incomplete");
  });

  it("leaves cpu alone when an HPA scales the workload on cpu, and says why", () => {
    const plan = planRightsizing({
      snapshot: snapshot({ vpas: [vpa], pods: plexPods(), hpas: [hpa("media/plex", ["cpu"])] }),
      config: rightsizingConfig(),
      files,
      now: NOW,
    });
    expect(plan.proposals[0]?.changes.map((c) => c.path.split(".").pop())).toEqual(["memory"]);
    expect(plan.proposals[0]?.reasons.join("\n")).toContain(
      "cpu request 2 kept: HPA plex scales this workload on cpu",
    );
  });

  it("waits for history: a VPA younger than minHistory changes nothing", () => {
    const plan = planRightsizing({
      snapshot: snapshot({ vpas: [vpa], pods: plexPods() }),
      config: rightsizingConfig({ minHistory: "30d" }),
      files,
      now: NOW,
    });
    expect(plan.proposals).toEqual([]);
    expect(plan.notes).toHaveLength(1);
    expect(plan.notes[0]).toMatchObject({ level: "info", subject: "deployment/media/plex" });
    expect(plan.notes[0]?.message).toContain(
      "cpu request 2 kept: not enough history: the VPA has recorded for 17d, less than minHistory 30d",
    );
  });

  it("writes a minHistory of days and hours whole, not as the day the VPA's age also reads", () => {
    // The VPA was created 17 days and 2 hours before NOW.
    const plan = planRightsizing({
      snapshot: snapshot({ vpas: [vpa], pods: plexPods() }),
      config: rightsizingConfig({ minHistory: "17d12h" }),
      files,
      now: NOW,
    });
    expect(plan.proposals).toEqual([]);
    expect(plan.notes[0]?.message).toContain(
      "not enough history: the VPA has recorded for 17d, less than minHistory 17d12h",
    );
  });

  it("skips workloads opted out by a pod label, excluded namespaces and listed workloads", () => {
    const cases = [
      { pods: plexPods({ labels: { "pr-autoscaler.io/rightsizing": "false" } }), config: {} },
      { pods: plexPods(), config: { namespaces: { exclude: ["media"] } } },
      { pods: plexPods(), config: { namespaces: { include: ["default"] } } },
      { pods: plexPods(), config: { exclude: ["media/plex"] } },
      { pods: plexPods(), config: { stateful: { workloads: ["media/plex"] } } },
    ];
    for (const { pods, config } of cases) {
      const plan = planRightsizing({
        snapshot: snapshot({ vpas: [vpa], pods }),
        config: rightsizingConfig(config),
        files,
        now: NOW,
      });
      expect(plan.proposals).toEqual([]);
      expect(plan.notes[0]?.message).toMatch(/^left alone: /);
    }
  });

  it("reads the opt-out annotation on the VPA object as the cluster reader translates it", () => {
    const raw = fixtureVpaObject("plex-worked-example.yaml");
    raw.metadata.annotations = {
      "pr-autoscaler.io/rightsizing": "false",
      "kubectl.kubernetes.io/last-applied-configuration": "{}",
    };
    const annotated = toVpaInfo(raw, new WarningCollector());
    expect(annotated.annotations).toEqual({ "pr-autoscaler.io/rightsizing": "false" });
    const plan = planRightsizing({
      snapshot: snapshot({ vpas: [annotated], pods: plexPods() }),
      config: rightsizingConfig(),
      files,
      now: NOW,
    });
    expect(plan.proposals).toEqual([]);
    expect(plan.notes[0]?.message).toBe(
      'left alone: the VPA plex has pr-autoscaler.io/rightsizing: "false"',
    );
  });

  it("refuses to act when the running pods do not request what the file says (VPA mode Off)", () => {
    const plan = planRightsizing({
      snapshot: snapshot({
        vpas: [vpa],
        pods: plexPods({ requests: { cpu: "1", memory: "4Gi" } }),
      }),
      config: rightsizingConfig(),
      files,
      now: NOW,
    });
    const cpu = plan.proposals[0]?.workloads[0]?.containers[0]?.resources[0];
    expect(cpu).toMatchObject({
      action: "keep",
      hold: { kind: "cluster-differs", running: [1000] },
    });
    expect(plan.proposals[0]?.changes.map((c) => c.path.split(".").pop())).toEqual(["memory"]);
  });

  it("with a VPA that applies its own values, pods may differ from the file", () => {
    const applying = { ...vpa, updateMode: "InPlaceOrRecreate" };
    const plan = planRightsizing({
      snapshot: snapshot({
        vpas: [applying],
        pods: plexPods({ requests: { cpu: "450m", memory: "1344Mi" } }),
      }),
      config: rightsizingConfig(),
      files,
      now: NOW,
    });
    expect(plan.proposals[0]?.changes).toHaveLength(2);
  });

  it("does not use a VPA that cannot read its target, whatever recommendation it still shows", () => {
    // The recommender's cluster feeder sets ConfigUnsupported with this message when the
    // targetRef cannot be fetched (kubernetes/autoscaler, vertical-pod-autoscaler
    // pkg/recommender/input/cluster_feeder.go, getSelector); the old recommendation stays.
    const raw = fixtureVpaObject("plex-worked-example.yaml");
    raw.status.conditions.push({
      lastTransitionTime: "2025-06-01T00:00:00Z",
      message: 'Cannot read targetRef. Reason: deployments.apps "plex" not found',
      status: "True",
      type: "ConfigUnsupported",
    });
    const plan = planRightsizing({
      snapshot: snapshot({ vpas: [toVpaInfo(raw, new WarningCollector())], pods: plexPods() }),
      config: rightsizingConfig(),
      files,
      now: NOW,
    });
    expect(plan.proposals).toEqual([]);
    expect(plan.notes[0]?.message).toContain(
      'cpu request 2 kept: not enough history: the VPA reports ConfigUnsupported: Cannot read targetRef. Reason: deployments.apps "plex" not found',
    );
  });

  /** The worked example's file, requesting 100m cpu instead of 2. */
  const plexCpu100m = () =>
    files.map((file) =>
      file.path === PLEX_FILE
        ? { ...file, text: replaced(file.text, "cpu: 2\n", "cpu: 100m\n") }
        : file,
    );

  it("never raises a request above a limit the running pods carry and the file does not set", () => {
    // A LimitRange in media gives containers without a cpu limit a 200m one; the file sets
    // none, so 450m written there would make every new pod invalid (request above limit).
    const low = plexCpu100m();
    const pods = plexPods({
      requests: { cpu: "100m", memory: "4Gi" },
      limits: { cpu: "200m", memory: "8Gi" },
    });
    const plan = planRightsizing({
      snapshot: snapshot({ vpas: [vpa], pods }),
      config: rightsizingConfig(),
      files: low,
      now: NOW,
    });
    expect(plan.proposals[0]?.changes.map((c) => c.path.split(".").pop())).toEqual(["memory"]);
    expect(plan.proposals[0]?.reasons.join("\n")).toContain(
      "cpu request 100m kept: the running pods have a cpu limit of 200m that the file does not set (a LimitRange default, or values set elsewhere); the new request 450m would be above it and new pods would be refused",
    );
  });

  it("with a VPA that sets pod limits, holds a raise above a limit the file does not set", () => {
    // In updateMode Auto the VPA has scaled the pods' cpu limit (900m) with the request it set,
    // from a template limit the file does not show: that limit is not known, so 100m → 450m
    // waits. With controlledValues RequestsOnly the pods keep the template's limit, and 900m is it.
    const low = plexCpu100m();
    const pods = plexPods({
      requests: { cpu: "450m", memory: "1344Mi" },
      limits: { cpu: "900m", memory: "8Gi" },
    });
    const planWith = (vpaInfo: typeof vpa) =>
      planRightsizing({
        snapshot: snapshot({ vpas: [vpaInfo], pods }),
        config: rightsizingConfig(),
        files: low,
        now: NOW,
      });
    const auto = planWith({ ...vpa, updateMode: "Auto" });
    expect(auto.proposals[0]?.changes.map((c) => c.path.split(".").pop())).toEqual(["memory"]);
    expect(auto.proposals[0]?.reasons.join("\n")).toContain(
      "cpu request 100m kept: the running pods carry a cpu limit (900m) that the file does not set, and the VPA (updateMode Auto) scales pod limits with the requests it sets",
    );
    const requestsOnly = planWith({
      ...vpa,
      updateMode: "Auto",
      resourcePolicy: [{ containerName: "app", controlledValues: "RequestsOnly" }],
    });
    expect(requestsOnly.proposals[0]?.changes.map((c) => c.path.split(".").pop())).toEqual([
      "cpu",
      "memory",
    ]);
  });

  it("notes two VPAs on one workload instead of picking one", () => {
    const plan = planRightsizing({
      snapshot: snapshot({ vpas: [vpa, { ...vpa, name: "plex-2" }], pods: plexPods() }),
      config: rightsizingConfig(),
      files,
      now: NOW,
    });
    expect(plan.proposals).toEqual([]);
    expect(plan.notes).toEqual([
      {
        level: "warning",
        subject: "deployment/media/plex",
        message: "several VPAs target it (plex, plex-2); none is used",
      },
    ]);
  });
});

describe("planRightsizing: a chart's top-level resources belong to its main container", () => {
  // Hand-written: a single-workload chart's values, whose top-level `resources` are those of
  // the main container `speedtest`; the pod also runs an `exporter` sidecar.
  const files: RepoFile[] = [
    {
      path: "apps/speedtest/values.yaml",
      text: "image:\n  repository: ghcr.io/alexjustesen/speedtest-tracker\nresources:\n  requests:\n    cpu: 500m\n    memory: 512Mi\n",
    },
  ];
  /** The Plex recommendation, for the sidecar `exporter` of Deployment net/speedtest only. */
  function exporterVpa(policies: unknown[]) {
    const raw = fixtureVpaObject("plex-worked-example.yaml");
    raw.metadata = { ...raw.metadata, name: "speedtest", namespace: "net" };
    raw.spec.targetRef.name = "speedtest";
    raw.spec.resourcePolicy = { containerPolicies: policies };
    raw.status.recommendation.containerRecommendations[0].containerName = "exporter";
    return toVpaInfo(raw, new WarningCollector());
  }
  const planFor = (policies: unknown[], pods: ReturnType<typeof workloadPod>[]) =>
    planRightsizing({
      snapshot: snapshot({ vpas: [exporterVpa(policies)], pods }),
      config: rightsizingConfig(),
      files,
      now: NOW,
    });

  it("a VPA that recommends for the sidecar alone does not write its numbers there", () => {
    // The VPA recommends nothing for a container in mode Off, so it names one container only.
    const off = planFor([{ containerName: "speedtest", mode: "Off" }], []);
    expect(off.proposals).toEqual([]);
    expect(off.notes[0]?.message).toContain(
      "container exporter: no file in the repo sets its resources",
    );
    // The running pod shows both containers.
    const pod = workloadPod("net/speedtest", "speedtest-1", {
      container: "speedtest",
      requests: { cpu: "500m", memory: "512Mi" },
    });
    pod.containers.push({ name: "exporter", requests: {}, limits: {} });
    expect(planFor([], [pod]).proposals).toEqual([]);
    // Known to have one container, the recommendation is the main container's.
    expect(planFor([], []).proposals[0]?.changes.map((c) => c.path)).toEqual([
      "resources.requests.memory",
    ]);
  });

  it("a container in mode Off is said to be so once, with a recommendation or without", () => {
    const pod = workloadPod("net/speedtest", "speedtest-1", {
      container: "speedtest",
      requests: { cpu: "500m", memory: "512Mi" },
    });
    pod.containers.push({ name: "exporter", requests: {}, limits: {} });
    const off = (container: string) => ({
      level: "info",
      subject: "deployment/net/speedtest",
      message: `container ${container}: the VPA's policy for it is mode Off`,
    });
    // The VPA recommends for the exporter only: the main container's policy is mode Off.
    const without = planFor([{ containerName: "speedtest", mode: "Off" }], [pod]).notes;
    expect(without.filter((note) => note.message.includes("mode Off"))).toEqual([off("speedtest")]);
    // A recommendation still kept for the exporter in mode Off: the same note, once.
    const kept = planFor([{ containerName: "exporter", mode: "Off" }], [pod]).notes;
    expect(kept.filter((note) => note.message.includes("mode Off"))).toEqual([off("exporter")]);
  });

  it("a VPA with every container in mode Off leaves the workload out, not waiting for a recommendation", () => {
    const pod = workloadPod("net/speedtest", "speedtest-1", {
      container: "speedtest",
      requests: { cpu: "500m", memory: "512Mi" },
    });
    const raw = fixtureVpaObject("plex-worked-example.yaml");
    raw.metadata = { ...raw.metadata, name: "speedtest", namespace: "net" };
    raw.spec.targetRef.name = "speedtest";
    raw.spec.resourcePolicy = { containerPolicies: [{ containerName: "*", mode: "Off" }] };
    raw.status.recommendation.containerRecommendations = [];
    const plan = planRightsizing({
      snapshot: snapshot({ vpas: [toVpaInfo(raw, new WarningCollector())], pods: [pod] }),
      config: rightsizingConfig(),
      files,
      now: NOW,
    });
    expect(plan.notes.map((note) => note.message)).toEqual([
      "container speedtest: the VPA's policy for it is mode Off",
    ]);
    expect(plan.unjudged).toEqual([]);
    expect(plan.leftOut).toMatchObject([
      { why: "container speedtest: the VPA's policy for it is mode Off" },
    ]);
  });

  it("a recommendation left for a removed sidecar does not count it among the pod's containers", () => {
    // The main container is `tracker`; the `exporter` sidecar was removed from the chart, and
    // the VPA still keeps the recommendation it made for it.
    const raw = fixtureVpaObject("plex-worked-example.yaml");
    raw.metadata = { ...raw.metadata, name: "speedtest", namespace: "net" };
    raw.spec.targetRef.name = "speedtest";
    const [recommendation] = raw.status.recommendation.containerRecommendations;
    raw.status.recommendation.containerRecommendations = [
      { ...recommendation, containerName: "tracker" },
      { ...recommendation, containerName: "exporter" },
    ];
    const pod = workloadPod("net/speedtest", "speedtest-1", {
      container: "tracker",
      requests: { cpu: "500m", memory: "512Mi" },
    });
    const plan = planRightsizing({
      snapshot: snapshot({ vpas: [toVpaInfo(raw, new WarningCollector())], pods: [pod] }),
      config: rightsizingConfig(),
      files,
      now: NOW,
    });
    // The pod's only container is the chart's main one.
    expect(plan.proposals[0]?.changes.map((c) => c.path)).toEqual(["resources.requests.memory"]);
    expect(plan.notes).toContainEqual({
      level: "info",
      subject: "deployment/net/speedtest",
      message: "recommendation for container exporter, which the pods do not have: ignored",
    });
    expect(plan.notes.map((note) => note.message).join("\n")).not.toContain("no file");
  });
});

describe("planRightsizing: real VPA objects", () => {
  it("does not mistake a fresh VPA's floor values (25m, 262144k) for measurements", () => {
    const files: RepoFile[] = [
      {
        path: "shop/cart.yaml",
        text: [
          "apiVersion: apps/v1",
          "kind: Deployment",
          "metadata:",
          "  name: cart",
          "  namespace: shop",
          "spec:",
          "  template:",
          "    spec:",
          "      containers:",
          "        - name: nginx",
          "        - name: cart",
          "          resources:",
          "            requests:",
          "              cpu: 500m",
          "              memory: 512Mi",
          "        - name: pgbouncer",
          "",
        ].join("\n"),
      },
    ];
    const plan = planRightsizing({
      snapshot: snapshot({ vpas: [fixtureVpa("cart-fresh.yaml")] }),
      config: rightsizingConfig(),
      files,
      now: new Date("2020-03-21T09:30:00Z"),
    });
    expect(plan.proposals).toEqual([]);
    const text = plan.notes.map((note) => note.message).join("\n");
    expect(text).toContain("the VPA has recorded for 32m, less than minHistory 7d");
    expect(plan.notes.every((note) => note.subject === "deployment/shop/cart")).toBe(true);
  });

  it("right-sizes the guestbook frontend from a real recommendation, in a six-document manifest", () => {
    const files = fixtureRepo("repo");
    const vpa = fixtureVpa("kvm-operator-as-frontend.yaml");
    const pods = [
      workloadPod("guestbook/frontend", "frontend-1", {
        container: "php-redis",
        requests: { cpu: "100m", memory: "100Mi" },
      }),
    ];
    const plan = planRightsizing({
      snapshot: snapshot({ vpas: [vpa], pods }),
      config: rightsizingConfig(),
      files,
      now: new Date("2021-01-20T00:00:00Z"),
    });
    expect(plan.notes).toEqual([]);
    const [proposal] = plan.proposals;
    expect(proposal?.changes).toEqual([
      {
        file: "guestbook/guestbook-all-in-one.yaml",
        document: 5,
        path: "spec.template.spec.containers[name=php-redis].resources.requests.cpu",
        before: "100m",
        after: "70m",
      },
      {
        file: "guestbook/guestbook-all-in-one.yaml",
        document: 5,
        path: "spec.template.spec.containers[name=php-redis].resources.requests.memory",
        before: "100Mi",
        after: "272Mi",
      },
    ]);
    const edit = proposal?.edits[0];
    const lines = (text: string) => text.split("\n");
    const changed = lines(edit?.after ?? "").filter(
      (line, i) => line !== lines(edit?.before ?? "")[i],
    );
    expect(changed).toEqual(["            cpu: 70m", "            memory: 272Mi"]);
    expect(proposal?.workloads[0]?.containers[0]?.location.confidence).toBe("likely");
  });
});

describe("planRightsizing: grouping and order", () => {
  const files = fixtureRepo("repo");
  const atuinVpa = {
    ...fixtureVpa("plex-worked-example.yaml"),
    name: "atuin",
    namespace: "default",
    target: { kind: "Deployment", name: "atuin", apiVersion: "apps/v1" },
  };
  const plexVpa = { ...fixtureVpa("plex-worked-example.yaml"), namespace: "default" };
  const pods = [
    workloadPod("default/plex", "plex-1", {
      requests: { cpu: "100m" },
      limits: { memory: "16Gi" },
    }),
    workloadPod("default/atuin", "atuin-1", {
      requests: { cpu: "10m" },
      limits: { memory: "256Mi" },
      oomKills: [{ at: "2025-06-05T08:00:00Z", restarts: 3 }],
    }),
  ];

  it("puts the OOM-killed workload first, and raises its memory limit with the request", () => {
    const plan = planRightsizing({
      snapshot: snapshot({ vpas: [plexVpa, atuinVpa], pods }),
      config: rightsizingConfig({ discovery: { accept: "likely" } }),
      files,
      now: NOW,
    });
    expect(plan.proposals.map((p) => p.key)).toEqual([
      "resources-default-atuin",
      "resources-default-plex",
    ]);
    expect(plan.proposals[0]?.importance.oom).toBe(true);
    const atuin = plan.proposals[0]?.changes.map((c) => [
      c.path.split(".").slice(-2).join("."),
      c.after,
    ]);
    expect(atuin).toEqual([
      ["requests.cpu", "450m"],
      ["requests.memory", "1344Mi"],
      ["limits.memory", "1344Mi"],
    ]);
    // The pod's status shows its last kill, not how many there were: its restarts tell.
    const body = resourcesPullRequestBody(plan.proposals[0] as (typeof plan.proposals)[number]);
    expect(body).toContain(
      "| 256Mi (the limit: the file sets no request) | 1.3Gi | 1.1Gi–2560Mi | **1344Mi** (limit 256Mi → 1344Mi) | OOM-killed (restarted 3 times); below the lower bound 1.1Gi; differs by 425 % (tolerance 20 %) |",
    );
    expect(body).toContain(
      "because the container was OOM-killed, last at 2025-06-05 08:00 UTC: 1 of the terminations its pods still show (restarted 3 times in all);",
    );
    expect(body).not.toContain("time(s)");
  });

  it("groups by namespace into one proposal with one edit per file", () => {
    const plan = planRightsizing({
      snapshot: snapshot({ vpas: [plexVpa, atuinVpa], pods }),
      config: rightsizingConfig({ group: "namespace" }),
      files,
      now: NOW,
    });
    expect(plan.proposals).toHaveLength(1);
    expect(plan.proposals[0]?.key).toBe("resources-default");
    expect(plan.proposals[0]?.workloads.map((w) => w.workload.name)).toEqual(["atuin", "plex"]);
    expect(plan.proposals[0]?.edits.map((e) => e.file)).toEqual([
      "kubernetes/apps/default/atuin/app/helmrelease.yaml",
      "kubernetes/apps/default/plex/app/helmrelease.yaml",
    ]);
  });

  it("with discovery.accept exact, a likely match is a note, never a change", () => {
    const plan = planRightsizing({
      snapshot: snapshot({ vpas: [plexVpa, atuinVpa], pods }),
      config: rightsizingConfig({ discovery: { accept: "exact" } }),
      files,
      now: NOW,
    });
    expect(plan.proposals.map((p) => p.key)).toEqual(["resources-default-plex"]);
    expect(plan.notes).toEqual([
      expect.objectContaining({
        level: "warning",
        subject: "deployment/default/atuin",
        message: expect.stringContaining("only a likely match"),
      }),
    ]);
  });
});
