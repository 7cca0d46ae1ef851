import { readFileSync } from "node:fs";
import { describe, expect, it } from "@jest/globals";
import { locateContainer } from "../../src/rightsizing/locate-container.ts";
import { planRightsizing } from "../../src/rightsizing/plan-rightsizing.ts";
import type { RepoFile } from "../../src/rightsizing/repo-files.ts";
import { deploymentsOf, indexRepo } from "../../src/rightsizing/repo-index.ts";
import type { WorkloadId } from "../../src/rightsizing/resources-proposal.ts";
import {
  fixtureRepo,
  fixtureVpa,
  rightsizingConfig,
  snapshot,
  workloadPod,
} from "./rightsizing-helpers.ts";

const PLEX_HR = "kubernetes/apps/media/plex/app/helmrelease.yaml";
const PLEX_KS = "kubernetes/apps/media/plex/app/kustomization.yaml";
const MEDIA_KS = "kubernetes/apps/media/kustomization.yaml";
const NOW = new Date("2025-06-06T12:00:00Z");

const plexRelease = readFileSync(
  new URL(`../fixtures/rightsizing/worked-example/${PLEX_HR}`, import.meta.url),
  "utf8",
);

/** The worked example with the namespace moved from the app's kustomization to its parent's. */
function plexUnder(parentNamespace: string): RepoFile[] {
  return [
    { path: PLEX_HR, text: plexRelease },
    {
      path: PLEX_KS,
      text: "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./helmrelease.yaml\n",
    },
    {
      path: MEDIA_KS,
      text: `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${parentNamespace}\nresources:\n  - ./plex/app\n`,
    },
  ];
}

function planPlex(files: RepoFile[], accept: "exact" | "likely") {
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
    config: rightsizingConfig({ discovery: { accept } }),
    files,
    now: NOW,
  });
}

const deployment = (namespace: string, name: string): WorkloadId => ({
  namespace,
  kind: "Deployment",
  name,
});

function locate(files: RepoFile[], workload: WorkloadId, container = "app") {
  return locateContainer(indexRepo(files), rightsizingConfig(), {
    workload,
    container,
    containerCount: 1,
  });
}

/** A Deployment `web` with one container `app` and no namespace of its own. */
const WEB = [
  "apiVersion: apps/v1",
  "kind: Deployment",
  "metadata:",
  "  name: web",
  "spec:",
  "  template:",
  "    spec:",
  "      containers:",
  "        - name: app",
  "          resources:",
  "            requests:",
  "              cpu: 100m",
  "",
].join("\n");

const overlay = (namespace: string, extra = "") =>
  `namespace: ${namespace}\nresources:\n  - ../../base\n${extra}`;

describe("namespaces from kustomizations further up", () => {
  it("takes the namespace of a kustomization that includes the app's folder: an exact match", () => {
    const plan = planPlex(plexUnder("media"), "exact");
    expect(plan.notes).toEqual([]);
    expect(plan.proposals.map((p) => p.key)).toEqual(["resources-media-plex"]);
    expect(plan.proposals[0]?.workloads[0]?.containers[0]?.location).toMatchObject({
      file: PLEX_HR,
      confidence: "exact",
      how: `HelmRelease plex (namespace media from ${MEDIA_KS}), controllers.plex.containers.app`,
    });
  });

  it("does not take a file that a parent deploys to another namespace", () => {
    const plan = planPlex(plexUnder("staging"), "likely");
    expect(plan.proposals).toEqual([]);
    expect(plan.notes).toEqual([
      {
        level: "info",
        subject: "deployment/media/plex",
        message:
          "container app: no file in the repo sets its resources; set rightsizing.targets for media/plex to choose",
      },
    ]);
  });

  it("lets the outermost namespace win over the ones inside it and over metadata.namespace", () => {
    const files: RepoFile[] = [
      {
        path: "web/base/deployment.yaml",
        text: WEB.replace("  name: web\n", "  name: web\n  namespace: own\n"),
      },
      {
        path: "web/base/kustomization.yaml",
        text: "namespace: inner\nresources:\n  - deployment.yaml\n",
      },
      { path: "web/overlays/prod/kustomization.yaml", text: overlay("outer") },
    ];
    const index = indexRepo(files);
    const document = index.documents.find((d) => d.file === "web/base/deployment.yaml");
    if (!document) throw new Error("the deployment was not indexed");
    expect(deploymentsOf(index, document)).toEqual([
      {
        root: "web/overlays/prod/kustomization.yaml",
        namespace: {
          namespace: "outer",
          from: "kustomization",
          file: "web/overlays/prod/kustomization.yaml",
        },
      },
    ]);
  });

  it("stops at a folder a Flux Kustomization deploys, whose targetNamespace wins", () => {
    const files: RepoFile[] = [
      { path: "apps/web/app/deployment.yaml", text: WEB },
      {
        path: "apps/web/app/kustomization.yaml",
        text: "namespace: inner\nresources:\n  - deployment.yaml\n",
      },
      // A parent that also lists the folder is not how Flux deploys it.
      { path: "apps/kustomization.yaml", text: "namespace: other\nresources:\n  - web/app\n" },
      {
        path: "apps/web/ks.yaml",
        text: "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: web\nspec:\n  path: ./apps/web/app\n  targetNamespace: apps\n",
      },
    ];
    expect(locate(files, deployment("apps", "web"))).toMatchObject({
      ok: true,
      location: {
        confidence: "exact",
        how: expect.stringContaining("namespace apps from apps/web/ks.yaml"),
      },
    });
  });

  it("follows kustomizations that include each other without going round", () => {
    const files: RepoFile[] = [
      { path: "a/deployment.yaml", text: WEB },
      { path: "a/kustomization.yaml", text: "resources:\n  - deployment.yaml\n  - ../b\n" },
      { path: "b/kustomization.yaml", text: "namespace: apps\nresources:\n  - ../a\n" },
    ];
    expect(locate(files, deployment("apps", "web"))).toMatchObject({
      ok: true,
      location: { file: "a/deployment.yaml", confidence: "exact" },
    });
  });
});

describe("kustomize bases and overlays", () => {
  const base: RepoFile[] = [
    { path: "web/base/deployment.yaml", text: WEB },
    { path: "web/base/kustomization.yaml", text: "resources:\n  - deployment.yaml\n" },
  ];

  it("does not take a base that only an overlay into another namespace deploys", () => {
    const files = [
      ...base,
      { path: "web/overlays/staging/kustomization.yaml", text: overlay("staging") },
    ];
    expect(locate(files, deployment("apps", "web"))).toMatchObject({
      ok: false,
      problem: "not-found",
    });
    expect(locate(files, deployment("staging", "web"))).toMatchObject({
      ok: true,
      location: {
        file: "web/base/deployment.yaml",
        confidence: "exact",
        how: "manifest of Deployment web (namespace staging from web/overlays/staging/kustomization.yaml), containers app",
      },
    });
  });

  it("refuses to edit a base that overlays deploy into several namespaces, naming the others", () => {
    const files = [
      ...base,
      { path: "web/overlays/apps/kustomization.yaml", text: overlay("apps") },
      { path: "web/overlays/staging/kustomization.yaml", text: overlay("staging") },
    ];
    expect(locate(files, deployment("apps", "web"))).toMatchObject({
      ok: false,
      problem: "not-editable",
      message:
        "web/base/deployment.yaml: web/base/deployment.yaml is also deployed through web/overlays/staging/kustomization.yaml (namespace staging), which an edit would change too; set the resources in a patch of web/overlays/apps/kustomization.yaml, or set rightsizing.targets",
    });
  });

  it("edits the patch of the overlay in the VPA's namespace, not the shared base", () => {
    const patch = WEB.replace("cpu: 100m", "cpu: 300m");
    const files = [
      ...base,
      {
        path: "web/overlays/apps/kustomization.yaml",
        text: overlay("apps", "patches:\n  - path: resources.yaml\n"),
      },
      { path: "web/overlays/apps/resources.yaml", text: patch },
      {
        path: "web/overlays/staging/kustomization.yaml",
        text: overlay("staging", "patches:\n  - path: resources.yaml\n"),
      },
      { path: "web/overlays/staging/resources.yaml", text: patch },
    ];
    expect(locate(files, deployment("apps", "web"))).toMatchObject({
      ok: true,
      location: { file: "web/overlays/apps/resources.yaml", confidence: "exact" },
    });
    expect(locate(files, deployment("staging", "web"))).toMatchObject({
      ok: true,
      location: { file: "web/overlays/staging/resources.yaml", confidence: "exact" },
    });
  });
});

describe("shawnifoley/home-stack media-stack: a base under two overlays", () => {
  const all = fixtureRepo("real/media-stack");
  const BASE = "k8s/media-stack/base/apps/sonarr/deployment.yaml";

  it("is an exact match while one overlay deploys the base", () => {
    const home = all.filter((file) => !file.path.includes("overlays/prod/"));
    expect(locate(home, deployment("media", "sonarr"), "sonarr")).toMatchObject({
      ok: true,
      location: {
        file: BASE,
        path: "spec.template.spec.containers[name=sonarr].resources",
        confidence: "exact",
      },
    });
  });

  it("is not edited once a second overlay deploys the same base", () => {
    const result = locate(all, deployment("media", "sonarr"), "sonarr");
    expect(result).toMatchObject({ ok: false, problem: "not-editable" });
    if (result.ok) return;
    expect(result.message).toContain(
      `${BASE} is also deployed through k8s/media-stack/overlays/prod/kustomization.yaml (namespace media)`,
    );
  });
});
