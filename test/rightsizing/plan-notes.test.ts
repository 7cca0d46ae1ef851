import { describe, expect, it } from "@jest/globals";
import { planRightsizing } from "../../src/rightsizing/plan-rightsizing.ts";
import type { RepoFile } from "../../src/rightsizing/repo-files.ts";
import {
  fixtureRepo,
  fixtureVpa,
  replaced,
  rightsizingConfig,
  snapshot,
  workloadPod,
} from "./rightsizing-helpers.ts";

const NOW = new Date("2025-06-06T12:00:00Z");
const PLEX_HR = "kubernetes/apps/media/plex/app/helmrelease.yaml";
const PLEX_PATH = "spec.values.controllers.plex.containers.app.resources";

function plexPlan(
  config: Parameters<typeof rightsizingConfig>[0],
  files: RepoFile[] = fixtureRepo("worked-example"),
) {
  return planRightsizing({
    snapshot: snapshot({
      vpas: [fixtureVpa("plex-worked-example.yaml")],
      pods: [
        workloadPod("media/plex", "plex-1", {
          requests: { cpu: "2", memory: "4Gi" },
          limits: { memory: "8Gi" },
        }),
      ],
    }),
    config: rightsizingConfig(config),
    files,
    now: NOW,
  });
}

describe("planRightsizing: notes that say what to do", () => {
  it("says when the cluster does not serve the VerticalPodAutoscaler API", () => {
    const plan = planRightsizing({
      snapshot: {
        ...snapshot({ vpas: [] }),
        warnings: [
          {
            code: "vpa-not-installed",
            message:
              "autoscaling.k8s.io/v1 is not served by this cluster (404); none are considered",
            subject: "verticalpodautoscalers",
          },
        ],
      },
      config: rightsizingConfig(),
      files: fixtureRepo("worked-example"),
      now: NOW,
    });
    expect(plan).toEqual({
      proposals: [],
      notes: [
        {
          level: "warning",
          subject: "rightsizing",
          message:
            "the VerticalPodAutoscaler API (autoscaling.k8s.io/v1) is not served in the cluster: nothing to right-size; install the VPA recommender, or upgrade a VPA release that serves only v1beta2",
        },
      ],
      unjudged: [],
      leftOut: [],
    });
  });

  it("says nothing of the kind when the API is served and no VPA exists", () => {
    const plan = planRightsizing({
      snapshot: snapshot({ vpas: [] }),
      config: rightsizingConfig(),
      files: fixtureRepo("worked-example"),
      now: NOW,
    });
    expect(plan).toEqual({ proposals: [], notes: [], unjudged: [], leftOut: [] });
  });

  it("asks to fix a configured target that is wrong", () => {
    const plan = plexPlan({
      targets: [
        {
          workload: "media/plex",
          container: "app",
          file: PLEX_HR,
          path: "spec.values.controllers.plex.containers.nope.resources",
        },
      ],
    });
    expect(plan.proposals).toEqual([]);
    expect(plan.notes).toEqual([
      {
        level: "warning",
        subject: "deployment/media/plex",
        message: `container app: ${PLEX_HR} has no spec.values.controllers.plex.containers.nope; fix rightsizing.targets for media/plex`,
      },
    ]);
  });

  it("asks to add a container the configured targets leave out", () => {
    const plan = plexPlan({
      targets: [{ workload: "media/plex", container: "other", file: PLEX_HR, path: PLEX_PATH }],
    });
    expect(plan.notes).toEqual([
      {
        level: "info",
        subject: "deployment/media/plex",
        message:
          "container app: targets map media/plex but not its container app; add the container to rightsizing.targets for media/plex",
      },
    ]);
  });

  it("names a workload whose container cannot be located as unjudged, under a group only for a pull request that carries it, unless discovery is off", () => {
    const wrong = {
      workload: "media/plex",
      container: "app",
      file: PLEX_HR,
      path: "spec.values.controllers.plex.containers.nope.resources",
    };
    const plex = { namespace: "media", kind: "Deployment", name: "plex" };
    expect(plexPlan({ targets: [wrong] }).unjudged).toEqual([
      {
        workload: plex,
        vpa: "plex",
        key: "resources-media-plex",
        why: `container app: ${PLEX_HR} has no spec.values.controllers.plex.containers.nope`,
      },
    ]);
    // A namespace's pull request may not carry Plex at all: a workload never located would keep
    // it open for good, so only one whose marker names Plex is kept for it.
    expect(plexPlan({ targets: [wrong], group: "namespace" }).unjudged).toEqual([
      {
        workload: plex,
        vpa: "plex",
        key: "resources-media",
        why: `container app: ${PLEX_HR} has no spec.values.controllers.plex.containers.nope`,
        whenCarried: true,
      },
    ]);
    // Discovery turned off, with no target for Plex: the configuration leaves it out.
    const undiscovered = plexPlan({ discovery: { enabled: false } });
    expect(undiscovered.unjudged).toEqual([]);
    expect(undiscovered.leftOut).toEqual([
      {
        workload: plex,
        vpa: "plex",
        key: "resources-media-plex",
        why: "container app: discovery is off and no target is configured for it",
      },
    ]);
    // A Helm template where the resources are: the values are rendered by something else.
    const templated = fixtureRepo("worked-example").map((file) =>
      file.path === PLEX_HR
        ? { ...file, text: replaced(file.text, "cpu: 2\n", 'cpu: "{{ .Values.plexCpu }}"\n') }
        : file,
    );
    expect(plexPlan({}, templated).unjudged).toEqual([
      {
        workload: plex,
        vpa: "plex",
        key: "resources-media-plex",
        why: `container app: ${PLEX_HR} ${PLEX_PATH} holds a template ({{ .Values.plexCpu }})`,
      },
    ]);
  });

  it("names a workload several VPAs target as unjudged, unless it is left out or gone", () => {
    const vpa = fixtureVpa("plex-worked-example.yaml");
    const pods = [workloadPod("media/plex", "plex-1", { requests: { cpu: "2", memory: "4Gi" } })];
    const planned = (vpas: (typeof vpa)[], config: Parameters<typeof rightsizingConfig>[0] = {}) =>
      planRightsizing({
        snapshot: snapshot({ vpas, pods }),
        config: rightsizingConfig(config),
        files: fixtureRepo("worked-example"),
        now: NOW,
      });
    const plex = { namespace: "media", kind: "Deployment", name: "plex" };
    const two = [vpa, { ...vpa, name: "plex-vpa" }];
    const plan = planned(two);
    expect(plan.proposals).toEqual([]);
    expect(plan.unjudged).toEqual([
      {
        workload: plex,
        vpa: "plex, plex-vpa",
        key: "resources-media-plex",
        why: "several VPAs target it (plex, plex-vpa)",
      },
    ]);
    const excluded = planned(two, { exclude: ["media/plex"] });
    expect(excluded.unjudged).toEqual([]);
    expect(excluded.leftOut).toEqual([
      {
        workload: plex,
        vpa: "plex, plex-vpa",
        key: "resources-media-plex",
        why: "media/plex is in rightsizing.exclude",
      },
    ]);
    const gone = {
      ...vpa,
      conditions: [
        ...vpa.conditions,
        {
          type: "NoPodsMatched",
          status: "True" as const,
          message: "No pods match this VPA object",
        },
      ],
    };
    expect(planned([gone, { ...gone, name: "plex-vpa" }]).unjudged).toEqual([]);
    expect(planned(two, { group: "namespace" }).unjudged).toEqual([
      expect.objectContaining({ key: "resources-media", whenCarried: true }),
    ]);
  });

  it("names a workload whose VPA has no recommendation, with its pull request's key under each grouping", () => {
    const recreated = { ...fixtureVpa("plex-worked-example.yaml"), recommendations: [] };
    const planned = (config: Parameters<typeof rightsizingConfig>[0]) =>
      planRightsizing({
        snapshot: snapshot({ vpas: [recreated], pods: [workloadPod("media/plex", "plex-1")] }),
        config: rightsizingConfig(config),
        files: fixtureRepo("worked-example"),
        now: NOW,
      });
    const plex = { namespace: "media", kind: "Deployment", name: "plex" };
    const plan = planned({});
    expect(plan.proposals).toEqual([]);
    const why = "the VPA plex has no recommendation";
    expect(plan.unjudged).toEqual([
      { workload: plex, vpa: "plex", key: "resources-media-plex", why },
    ]);
    expect(plan.notes).toEqual([
      {
        level: "info",
        subject: "deployment/media/plex",
        message:
          "the VPA plex has no recommendation yet: its requests are not judged, and a pull request open for them stays open",
      },
    ]);
    expect(planned({ group: "namespace" }).unjudged).toEqual([
      { workload: plex, vpa: "plex", key: "resources-media", why },
    ]);
    // A namespace's pull request may carry other workloads' changes: a workload left out counts
    // only for one whose marker names it.
    expect(planned({ group: "namespace", exclude: ["media/plex"] }).leftOut).toEqual([
      {
        workload: plex,
        vpa: "plex",
        key: "resources-media",
        why: "media/plex is in rightsizing.exclude",
        whenCarried: true,
      },
    ]);
    expect(planned({ group: "repo" }).unjudged).toEqual([
      { workload: plex, vpa: "plex", key: "resources", why },
    ]);
    // Left out by the configuration: no request of it is wanted, judged or not.
    const excluded = planned({ exclude: ["media/plex"] });
    expect(excluded.unjudged).toEqual([]);
    expect(excluded.leftOut).toEqual([
      {
        workload: plex,
        vpa: "plex",
        key: "resources-media-plex",
        why: "media/plex is in rightsizing.exclude",
      },
    ]);
  });

  it("names a workload whose VPA's recommendation has too little history, unless its target is gone", () => {
    const vpa = fixtureVpa("plex-worked-example.yaml");
    const pods = [
      workloadPod("media/plex", "plex-1", {
        requests: { cpu: "2", memory: "4Gi" },
        limits: { memory: "8Gi" },
      }),
    ];
    const planned = (changed: Partial<typeof vpa>) =>
      planRightsizing({
        snapshot: snapshot({ vpas: [{ ...vpa, ...changed }], pods }),
        config: rightsizingConfig(),
        files: fixtureRepo("worked-example"),
        now: NOW,
      });
    const young = planned({ createdAt: new Date(NOW.getTime() - 3_600_000).toISOString() });
    expect(young.proposals).toEqual([]);
    expect(young.unjudged).toEqual([
      {
        workload: { namespace: "media", kind: "Deployment", name: "plex" },
        vpa: "plex",
        key: "resources-media-plex",
        why: "the VPA has recorded for 1h, less than minHistory 7d",
      },
    ]);
    // The recommender cannot read the target (it was deleted): closing its pull request is right.
    const gone = planned({
      conditions: [
        ...vpa.conditions,
        { type: "ConfigUnsupported", status: "True", message: "Cannot read targetRef" },
      ],
    });
    expect(gone.proposals).toEqual([]);
    expect(gone.unjudged).toEqual([]);
  });

  it("calls a request that is set but not a quantity unreadable, not unset", () => {
    const files = fixtureRepo("worked-example").map((file) =>
      file.path === PLEX_HR
        ? { ...file, text: replaced(file.text, "cpu: 2\n", 'cpu: "1e3m"\n') }
        : file,
    );
    const plan = plexPlan({}, files);
    const lines = plan.proposals.flatMap((p) => p.reasons);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^ {4}cpu request unreadable kept: requests\.cpu is "1e3m", not a quantity/,
      ),
    );
  });
});
