import { describe, expect, it } from "@jest/globals";
import { releasesFromPath } from "../../src/rightsizing/discover-locations.ts";
import { locateContainer } from "../../src/rightsizing/locate-container.ts";
import type { RepoFile } from "../../src/rightsizing/repo-files.ts";
import { indexRepo } from "../../src/rightsizing/repo-index.ts";
import type { WorkloadId } from "../../src/rightsizing/resources-proposal.ts";
import { fixtureRepo, rightsizingConfig } from "./rightsizing-helpers.ts";

const repo = fixtureRepo("repo");
const index = indexRepo(repo);

function locate(
  workload: WorkloadId,
  container: string,
  options: {
    files?: RepoFile[];
    config?: Parameters<typeof rightsizingConfig>[0];
    containerCount?: number;
  } = {},
) {
  return locateContainer(
    options.files ? indexRepo(options.files) : index,
    rightsizingConfig(options.config ?? {}),
    { workload, container, containerCount: options.containerCount ?? 1 },
  );
}

const deployment = (namespace: string, name: string): WorkloadId => ({
  namespace,
  kind: "Deployment",
  name,
});

/** Locates container `app` of Deployment media/arr in a repo of `files`. */
const locateArr = (files: RepoFile[]) => locate(deployment("media", "arr"), "app", { files });

/** app-template values of controller main's container `app`, its lines `container`. */
const appValues = (container: string) =>
  `controllers:\n  main:\n    containers:\n      app:\n${container}`;

/** A values file at `path` giving container `app` these resources. */
const valuesFile = (path: string, resources = "{ requests: { cpu: 100m, memory: 1Gi } }") => ({
  path,
  text: appValues(`        resources: ${resources}\n`),
});

/**
 * A Flux HelmRelease media/arr of app-template from GitRepository `source`, with
 * spec.chart.spec.valuesFiles `valuesFiles` and spec.values of `values`' lines, if any.
 */
const fluxRelease = (valuesFiles: string[], values: string[] = [], source = "flux-system") =>
  [
    "apiVersion: helm.toolkit.fluxcd.io/v2",
    "kind: HelmRelease",
    "metadata:",
    "  name: arr",
    "  namespace: media",
    "spec:",
    "  chart:",
    "    spec:",
    "      chart: ./charts/app-template",
    `      sourceRef: { kind: GitRepository, name: ${source}, namespace: flux-system }`,
    `      valuesFiles: [${valuesFiles.join(", ")}]`,
    ...(values.length > 0 ? ["  values:", ...values.map((line) => `    ${line}`)] : []),
    "",
  ].join("\n");

/** What locateContainer answers when the container's place may not be edited, for `message`. */
const notEditable = (message: string) => ({ ok: false, problem: "not-editable", message });

/** An Argo CD Application arr deploying to namespace media, `spec` its spec's other lines. */
const argoApplication = (spec: string[]) =>
  [
    "apiVersion: argoproj.io/v1alpha1",
    "kind: Application",
    "metadata: { name: arr }",
    "spec:",
    "  destination: { namespace: media }",
    ...spec,
    "",
  ].join("\n");

describe("locateContainer: discovery in real layouts", () => {
  it("finds an app-template container in a Flux HelmRelease; the kustomization gives the namespace: exact", () => {
    expect(locate(deployment("default", "plex"), "app")).toEqual({
      ok: true,
      location: {
        file: "kubernetes/apps/default/plex/app/helmrelease.yaml",
        document: 0,
        path: "spec.values.controllers.plex.containers.app.resources",
        confidence: "exact",
        how: "HelmRelease plex (namespace default from kubernetes/apps/default/plex/app/kustomization.yaml), controllers.plex.containers.app",
      },
    });
  });

  it("rules out a HelmRelease whose declared namespace differs", () => {
    const result = locate(deployment("media", "plex"), "app");
    expect(result).toMatchObject({ ok: false, problem: "not-found" });
  });

  it("takes a HelmRelease with no namespace anywhere as likely", () => {
    const result = locate(deployment("default", "atuin"), "app");
    expect(result).toMatchObject({
      ok: true,
      location: {
        path: "spec.values.controllers.atuin.containers.app.resources",
        confidence: "likely",
        how: "HelmRelease atuin (no namespace declared), controllers.atuin.containers.app",
      },
    });
  });

  it("finds Bitnami's primary.resources in a values file named by its folder", () => {
    const workload = { namespace: "immich", kind: "StatefulSet", name: "postgresql" };
    expect(locate(workload, "postgresql")).toMatchObject({
      ok: true,
      location: {
        file: "argocd-apps/postgresql/values.yaml",
        path: "primary.resources",
        confidence: "likely",
      },
    });
  });

  it("leaves values alone that a HelmRelease's post-renderer patch of the workload may override", () => {
    const path = "kubernetes/apps/default/plex/app/helmrelease.yaml";
    const withPostRenderer = (patch: string) =>
      repo.map((file) =>
        file.path === path
          ? { path, text: file.text.replace("  interval: 1h\n", `  interval: 1h\n${patch}`) }
          : file,
      );
    // A JSON 6902 patch (Flux `patches`, text with a target) that sets a memory limit.
    const limits = withPostRenderer(
      [
        "  postRenderers:",
        "    - kustomize:",
        "        patches:",
        "          - target: {kind: Deployment, name: plex}",
        "            patch: |",
        "              - op: add",
        "                path: /spec/template/spec/containers/0/resources/limits/memory",
        "                value: 8Gi",
        "",
      ].join("\n"),
    );
    const result = locate(deployment("default", "plex"), "app", { files: limits });
    expect(result).toMatchObject({ ok: false, problem: "not-editable" });
    if (result.ok) return;
    expect(result.message).toContain(
      "HelmRelease plex post-renders what its chart makes with a kustomize patch (spec.postRenderers) that applies to Deployment plex and may set its resources",
    );
    // A patch of something else, or of other fields, changes nothing.
    const other = withPostRenderer(
      [
        "  postRenderers:",
        "    - kustomize:",
        "        patchesJson6902:",
        "          - target: {kind: Deployment, name: plex}",
        "            patch:",
        "              - {op: add, path: /spec/template/spec/priorityClassName, value: high}",
        "          - target: {kind: Service, name: plex}",
        "            patch:",
        "              - {op: add, path: /spec/template/spec/containers/0/resources, value: {}}",
        "",
      ].join("\n"),
    );
    expect(locate(deployment("default", "plex"), "app", { files: other })).toMatchObject({
      ok: true,
    });
  });

  it("matches another workload of the chart (postgresql-read) to its own component only, never to primary", () => {
    const statefulSet = (name: string) => ({ namespace: "immich", kind: "StatefulSet", name });
    // Bitnami names the read replicas `<fullname>-read` from `readReplicas`: not `primary`.
    expect(locate(statefulSet("postgresql-read"), "postgresql")).toMatchObject({
      ok: false,
      problem: "not-found",
    });
    // With `architecture: replication` the primary is `<fullname>-primary`: named by its key.
    expect(locate(statefulSet("postgresql-primary"), "postgresql")).toMatchObject({
      ok: true,
      location: { file: "argocd-apps/postgresql/values.yaml", path: "primary.resources" },
    });
  });

  it("finds a component's resources in an Argo CD Application's valuesObject", () => {
    expect(locate(deployment("reloader", "reloader"), "reloader")).toMatchObject({
      ok: true,
      location: {
        file: "argocd-application-reloader.yaml",
        path: "spec.source.helm.valuesObject.deployment.resources",
        confidence: "likely",
        how: "Application reloader (namespace reloader), deployment.resources",
      },
    });
  });

  it("reads an Application's spec.sources only, as Argo CD does when both are given", () => {
    const file = repo.find((entry) => entry.path === "argocd-application-reloader.yaml");
    if (!file) throw new Error("fixture missing");
    // The same Application moved to spec.sources, its old spec.source left behind: Argo CD
    // ignores the latter, so only the entry under sources may be edited.
    const both = file.text.replace(
      "  source:\n",
      [
        "  sources:",
        "    - repoURL: https://stakater.github.io/stakater-charts",
        "      targetRevision: 2.2.3",
        "      chart: reloader",
        "      helm:",
        "        valuesObject:",
        "          deployment:",
        "            resources:",
        "              requests:",
        "                cpu: 20m",
        "  source:",
        "",
      ].join("\n"),
    );
    expect(
      locate(deployment("reloader", "reloader"), "reloader", {
        files: [{ path: file.path, text: both }],
      }),
    ).toMatchObject({
      ok: true,
      location: { path: "spec.sources[0].helm.valuesObject.deployment.resources" },
    });
  });

  it("finds a plain manifest's container in the right document of a stream", () => {
    expect(locate(deployment("guestbook", "redis-slave"), "slave")).toMatchObject({
      ok: true,
      location: {
        file: "guestbook/guestbook-all-in-one.yaml",
        document: 3,
        path: "spec.template.spec.containers[name=slave].resources",
        confidence: "likely",
      },
    });
  });

  it("prefers the kustomize patch that sets resources over its base; a patch without resources is no candidate", () => {
    expect(locate(deployment("directory", "ldap"), "ldap")).toMatchObject({
      ok: true,
      location: {
        file: "ldap/overlays/homelab/resources.yaml",
        path: "spec.template.spec.containers[name=ldap].resources",
        confidence: "exact",
        how: "kustomize patch of Deployment ldap (namespace directory from ldap/overlays/homelab/kustomization.yaml), containers ldap",
      },
    });
  });

  it("calls two equally likely places ambiguous instead of guessing", () => {
    const files = [
      ...repo,
      {
        path: "apps/atuin/values.yaml",
        text: "controllers:\n  atuin:\n    containers:\n      app:\n        resources: {}\n",
      },
    ];
    const result = locate(deployment("default", "atuin"), "app", { files });
    expect(result).toMatchObject({ ok: false, problem: "ambiguous" });
    if (result.ok) return;
    expect(result.candidates.map((c) => c.file).sort()).toEqual([
      "apps/atuin/values.yaml",
      "kubernetes/apps/default/atuin/app/helmrelease.yaml",
    ]);
  });

  it("uses app-template naming: a second controller's Deployment is <release>-<controller>", () => {
    const files: RepoFile[] = [
      {
        path: "apps/paperless/values.yaml",
        text: [
          "controllers:",
          "  main:",
          "    containers:",
          "      app: {}",
          "  worker:",
          "    type: statefulset",
          "    containers:",
          "      app:",
          "        resources:",
          "          requests:",
          "            cpu: 1",
          "",
        ].join("\n"),
      },
    ];
    const worker = { namespace: "docs", kind: "StatefulSet", name: "paperless-worker" };
    expect(locate(worker, "app", { files })).toMatchObject({
      ok: true,
      location: { path: "controllers.worker.containers.app.resources" },
    });
    expect(locate(deployment("docs", "paperless"), "app", { files })).toMatchObject({
      ok: true,
      location: { path: "controllers.main.containers.app.resources" },
    });
    expect(locate(deployment("docs", "paperless-worker"), "app", { files })).toMatchObject({
      ok: false,
    });
  });
});

describe("locateContainer: app-template names its workloads as the chart does", () => {
  // Hand-written values; the names follow bjw-s common's determineResourceNameFromValues and
  // chart.names.fullname (bjw-s-labs/helm-charts, charts/library/common).
  function named(values: string[], workload: WorkloadId, path: string, wrong: string) {
    const files = [{ path: "apps/arr/values.yaml", text: [...values, ""].join("\n") }];
    expect(locate(workload, "app", { files })).toMatchObject({ ok: true, location: { path } });
    expect(locate({ ...workload, name: wrong }, "app", { files })).toMatchObject({ ok: false });
  }
  const app = ["    containers:", "      app:", "        resources: {}"];

  it("prefix: <prefix>-<fullname>", () => {
    named(
      ["controllers:", "  radarr:", "    prefix: media", ...app],
      deployment("media", "media-arr"),
      "controllers.radarr.containers.app.resources",
      "mediaarr",
    );
  });

  it("suffix: after the controller's key when there are several controllers", () => {
    named(
      ["controllers:", "  main:", ...app, "  worker:", "    suffix: bg", ...app],
      deployment("media", "arr-worker-bg"),
      "controllers.worker.containers.app.resources",
      "arr-bg",
    );
  });

  it("the key is appended to a single controller with global.alwaysAppendIdentifierToResourceName", () => {
    named(
      [
        "global:",
        "  alwaysAppendIdentifierToResourceName: true",
        "controllers:",
        "  server:",
        ...app,
      ],
      deployment("media", "arr-server"),
      "controllers.server.containers.app.resources",
      "arr",
    );
  });

  it("fullnameOverride, and global.nameOverride after the release", () => {
    named(
      ["fullnameOverride: sonarr", "controllers:", "  sonarr:", ...app],
      deployment("media", "sonarr"),
      "controllers.sonarr.containers.app.resources",
      "arr",
    );
    named(
      ["global:", "  nameOverride: tv", "controllers:", "  sonarr:", ...app],
      deployment("media", "arr-tv"),
      "controllers.sonarr.containers.app.resources",
      "arr",
    );
  });

  it("a controller keyed like the release: as it is, or doubled as older versions made it", () => {
    const values = ["controllers:", "  arr:", ...app, "  backup:", ...app];
    const files = [{ path: "apps/arr/values.yaml", text: [...values, ""].join("\n") }];
    for (const name of ["arr", "arr-arr"])
      expect(locate(deployment("media", name), "app", { files })).toMatchObject({
        ok: true,
        location: { path: "controllers.arr.containers.app.resources" },
      });
  });
});

describe("locateContainer: app-template defaultContainerOptions", () => {
  // Hand-written values; the common library applies a controller's defaultContainerOptions to
  // its containers, and to its init containers unless applyDefaultContainerOptionsToInitContainers
  // is not true, per defaultContainerOptionsStrategy (overwrite by default, or merge).
  const defaults = [
    "controllers:",
    "  main:",
    "    defaultContainerOptions:",
    "      resources:",
    "        limits:",
    "          memory: 512Mi",
  ];
  const locateIn = (lines: string[], container = "app") =>
    locate(deployment("media", "arr"), container, {
      files: [{ path: "apps/arr/values.yaml", text: [...lines, ""].join("\n") }],
    });

  it("blocks a container that sets no resources, or empty ones, under overwrite", () => {
    for (const own of [["        image: {}"], ["        resources: {}"]])
      expect(locateIn([...defaults, "    containers:", "      app:", ...own])).toMatchObject({
        ok: false,
        problem: "not-editable",
        message: expect.stringContaining(
          "so it gets controllers.main.defaultContainerOptions.resources (defaultContainerOptionsStrategy overwrite)",
        ),
      });
  });

  it("edits a container's own resources under overwrite, and under merge when they set all the defaults set", () => {
    const own = ["        resources:", "          limits:", "            memory: 1Gi"];
    expect(locateIn([...defaults, "    containers:", "      app:", ...own])).toMatchObject({
      ok: true,
      location: { path: "controllers.main.containers.app.resources" },
    });
    const merge = [...defaults, "    defaultContainerOptionsStrategy: merge"];
    expect(locateIn([...merge, "    containers:", "      app:", ...own])).toMatchObject({
      ok: true,
    });
    expect(
      locateIn([...merge, "    containers:", "      app:", "        image: {}"]),
    ).toMatchObject({ ok: false, problem: "not-editable" });
  });

  it("leaves init containers the defaults do not reach editable", () => {
    const init = ["    initContainers:", "      migrate:", "        image: {}"];
    expect(locateIn([...defaults, ...init], "migrate")).toMatchObject({ ok: false });
    expect(
      locateIn(
        [...defaults, "    applyDefaultContainerOptionsToInitContainers: false", ...init],
        "migrate",
      ),
    ).toMatchObject({
      ok: true,
      location: { path: "controllers.main.initContainers.migrate.resources" },
    });
  });

  it("blocks the same place in a HelmRelease's values", () => {
    const release = [
      "apiVersion: helm.toolkit.fluxcd.io/v2",
      "kind: HelmRelease",
      "metadata:",
      "  name: arr",
      "  namespace: media",
      "spec:",
      "  values:",
      ...[...defaults, "    containers:", "      app:", "        image: {}"].map((l) => `    ${l}`),
    ];
    const files = [{ path: "apps/arr/helmrelease.yaml", text: [...release, ""].join("\n") }];
    expect(locate(deployment("media", "arr"), "app", { files })).toMatchObject({
      ok: false,
      problem: "not-editable",
    });
  });
});

describe("locateContainer: an Argo CD Application's helm.valueFiles", () => {
  // Hand-written; Argo CD merges helm.valueFiles, in order, under helm.values and
  // helm.valuesObject, and reads `$<ref>/<path>` from the source whose `ref` is <ref>.
  const application = (valueFiles: string[]) =>
    [
      "apiVersion: argoproj.io/v1alpha1",
      "kind: Application",
      "metadata:",
      "  name: arr",
      "spec:",
      "  destination:",
      "    namespace: media",
      "  sources:",
      "    - repoURL: https://bjw-s-labs.github.io/helm-charts",
      "      chart: app-template",
      "      helm:",
      "        valueFiles:",
      ...valueFiles.map((file) => `          - ${file}`),
      "        valuesObject:",
      "          controllers:",
      "            main:",
      "              containers:",
      "                app:",
      "                  resources:",
      "                    requests: { cpu: 100m, memory: 256Mi }",
      "    - repoURL: https://github.com/example/infra",
      "      ref: values",
      "",
    ].join("\n");

  it("holds the valuesObject when a value file under it sets a limit it does not", () => {
    const files = [
      { path: "argocd/arr.yaml", text: application(["$values/config/arr.yaml"]) },
      valuesFile("config/arr.yaml", "{ limits: { memory: 512Mi } }"),
    ];
    expect(locateArr(files)).toMatchObject(
      notEditable(
        "argocd/arr.yaml: config/arr.yaml also sets limits.memory of these resources, which spec.sources[0].helm.valuesObject does not: an edit of one would be decided without the other; set them in one place",
      ),
    );
  });

  it("edits the valuesObject when the value files set nothing it does not", () => {
    const files = [
      { path: "argocd/arr.yaml", text: application(["$values/config/arr.yaml"]) },
      valuesFile("config/arr.yaml", "{ requests: { cpu: 50m } }"),
    ];
    expect(locateArr(files)).toMatchObject({
      ok: true,
      location: {
        path: "spec.sources[0].helm.valuesObject.controllers.main.containers.app.resources",
      },
    });
  });

  it("matches the valuesObject on the value files merged under it", () => {
    // A Bitnami-style chart: the value file's preset applies while valuesObject's resources are empty.
    const text = application(["$values/config/arr.yaml"])
      .replace("chart: app-template", "chart: arr")
      .replace(
        / {8}valuesObject:\n[\s\S]*?(?= {4}- repoURL: https:\/\/github)/,
        "        valuesObject:\n          resources: {}\n",
      );
    const files = [
      { path: "argocd/arr.yaml", text },
      { path: "config/arr.yaml", text: "resourcesPreset: nano\n" },
    ];
    expect(locate(deployment("media", "arr"), "arr", { files })).toMatchObject(
      notEditable(
        "argocd/arr.yaml: the chart's resourcesPreset nano sets the container's requests and limits while resources is empty: requests written there would replace the preset whole, its limits with it; set resources to replace it",
      ),
    );
  });

  it("holds it under a value file that is not in the repo, such as one inside the chart", () => {
    const files = [{ path: "argocd/arr.yaml", text: application(["values-prod.yaml"]) }];
    expect(locateArr(files)).toMatchObject(
      notEditable(
        "argocd/arr.yaml: Application arr also takes values from values-prod.yaml (spec.sources[0].helm.valueFiles), which is not a values file in the repo and may set these resources; an edit of helm.valuesObject would be decided without them",
      ),
    );
  });
});

describe("locateContainer: a Flux HelmRelease's chart valuesFiles", () => {
  // Hand-written; Flux merges spec.chart.spec.valuesFiles, in order, into the chart's values,
  // under valuesFrom and spec.values; their paths are in the chart's source.
  const release = (sourceKind: string, valuesFiles: string[]) =>
    [
      "apiVersion: helm.toolkit.fluxcd.io/v2",
      "kind: HelmRelease",
      "metadata:",
      "  name: arr",
      "  namespace: media",
      "spec:",
      "  chart:",
      "    spec:",
      "      chart: ./charts/app-template",
      "      sourceRef:",
      `        kind: ${sourceKind}`,
      "        name: flux-system",
      "        namespace: flux-system",
      "      valuesFiles:",
      ...valuesFiles.map((file) => `        - ${file}`),
      "  values:",
      "    controllers:",
      "      main:",
      "        containers:",
      "          app:",
      "            resources:",
      "              requests: { cpu: 100m, memory: 256Mi }",
      "",
    ].join("\n");

  it("holds spec.values when a values file of the chart's GitRepository sets a limit it does not", () => {
    const files = [
      {
        path: "flux/arr.yaml",
        text: release("GitRepository", ["./config/arr.yaml", "./config/arr-prod.yaml"]),
      },
      valuesFile("config/arr.yaml", "{ limits: { cpu: '1' } }"),
      valuesFile("config/arr-prod.yaml", "{ limits: { memory: 512Mi } }"),
    ];
    expect(locateArr(files)).toMatchObject(
      notEditable(
        "flux/arr.yaml: config/arr-prod.yaml also sets limits.memory of these resources, which spec.values does not: an edit of one would be decided without the other; set them in one place",
      ),
    );
  });

  it("edits spec.values when the values files set nothing it does not", () => {
    const files = [
      { path: "flux/arr.yaml", text: release("GitRepository", ["config/arr.yaml"]) },
      valuesFile("config/arr.yaml", "{ requests: { cpu: 50m } }"),
    ];
    expect(locateArr(files)).toMatchObject({
      ok: true,
      location: {
        file: "flux/arr.yaml",
        path: "spec.values.controllers.main.containers.app.resources",
      },
    });
  });

  it("holds it under a values file that is not in the repo: inside a chart from a Helm repository, or not there", () => {
    const files = [
      { path: "flux/arr.yaml", text: release("HelmRepository", ["values-prod.yaml"]) },
    ];
    expect(locateArr(files)).toMatchObject(
      notEditable(
        "flux/arr.yaml: HelmRelease arr also takes values from values-prod.yaml (spec.chart.spec.valuesFiles), which is not a values file in the repo and may set these resources; an edit of spec.values would be decided without them",
      ),
    );
    const missing = [
      { path: "flux/arr.yaml", text: release("GitRepository", ["config/gone.yaml"]) },
    ];
    expect(locateArr(missing)).toMatchObject({ ok: false, problem: "not-editable" });
  });

  it("takes values.yaml in a chart from a Helm repository as the chart's defaults, unread as without it", () => {
    const files = [{ path: "flux/arr.yaml", text: release("HelmRepository", ["values.yaml"]) }];
    expect(locateArr(files)).toMatchObject({
      ok: true,
      location: { path: "spec.values.controllers.main.containers.app.resources" },
    });
  });

  it("reads the values.yaml of a chart from the GitRepository when no valuesFiles replace it", () => {
    const files = [
      { path: "flux/arr.yaml", text: release("GitRepository", []) },
      valuesFile("charts/app-template/values.yaml", "{ limits: { memory: 512Mi } }"),
    ];
    expect(locateArr(files)).toMatchObject(
      notEditable(
        "flux/arr.yaml: charts/app-template/values.yaml also sets limits.memory of these resources, which spec.values does not: an edit of one would be decided without the other; set them in one place",
      ),
    );
    // Listed values files replace the chart's own.
    const replaced = [
      { path: "flux/arr.yaml", text: release("GitRepository", ["config/arr.yaml"]) },
      valuesFile("charts/app-template/values.yaml", "{ limits: { memory: 512Mi } }"),
      valuesFile("config/arr.yaml", "{ requests: { cpu: 50m } }"),
    ];
    expect(locateArr(replaced)).toMatchObject({ ok: true });
  });

  it("reads the valuesFiles of a HelmChart that spec.chartRef names", () => {
    const text = release("GitRepository", []).replace(
      / {2}chart:\n[\s\S]*? {2}values:/,
      "  chartRef:\n    kind: HelmChart\n    name: app-template\n    namespace: media\n  values:",
    );
    const helmChart = (sourceKind: string, valuesFiles: string) =>
      [
        "apiVersion: source.toolkit.fluxcd.io/v1",
        "kind: HelmChart",
        "metadata:",
        "  name: app-template",
        "  namespace: media",
        "spec:",
        "  chart: ./charts/app-template",
        `  sourceRef: { kind: ${sourceKind}, name: flux-system }`,
        `  valuesFiles: [${valuesFiles}]`,
        "",
      ].join("\n");
    const files = [
      { path: "flux/arr.yaml", text },
      { path: "flux/chart.yaml", text: helmChart("GitRepository", "config/arr.yaml") },
      valuesFile("config/arr.yaml", "{ limits: { memory: 512Mi } }"),
    ];
    expect(locateArr(files)).toMatchObject(
      notEditable(
        "flux/arr.yaml: config/arr.yaml also sets limits.memory of these resources, which spec.values does not: an edit of one would be decided without the other; set them in one place",
      ),
    );
    const fromHelm = [
      { path: "flux/arr.yaml", text },
      { path: "flux/chart.yaml", text: helmChart("HelmRepository", "values-prod.yaml") },
    ];
    expect(locateArr(fromHelm)).toMatchObject(
      notEditable(
        "flux/arr.yaml: HelmRelease arr also takes values from values-prod.yaml (spec.valuesFiles of HelmChart app-template (flux/chart.yaml)), which is not a values file in the repo and may set these resources; an edit of spec.values would be decided without them",
      ),
    );
  });
});

describe("locateContainer: a Flux HelmRelease of its chart's values files alone", () => {
  // Hand-written; with no spec.values or valuesFrom, Flux deploys the chart with its
  // valuesFiles merged in order, the later winning.

  it("holds the values file found by its path when a later one sets a limit it does not", () => {
    const files = [
      { path: "flux/arr.yaml", text: fluxRelease(["apps/arr/values.yaml", "config/prod.yaml"]) },
      valuesFile("apps/arr/values.yaml", "{ requests: { cpu: 100m } }"),
      valuesFile("config/prod.yaml", "{ limits: { memory: 512Mi } }"),
    ];
    expect(locateArr(files)).toMatchObject(
      notEditable(
        "apps/arr/values.yaml: config/prod.yaml also sets limits.memory of these resources, which apps/arr/values.yaml does not: an edit of one would be decided without the other; set them in one place",
      ),
    );
  });

  it("holds it when a later one sets the same request over it, which an edit would not change", () => {
    const files = [
      { path: "flux/arr.yaml", text: fluxRelease(["apps/arr/values.yaml", "config/prod.yaml"]) },
      valuesFile("apps/arr/values.yaml", "{ requests: { cpu: 100m, memory: 256Mi } }"),
      valuesFile("config/prod.yaml", "{ requests: { cpu: 200m } }"),
    ];
    expect(locateArr(files)).toMatchObject(
      notEditable(
        "apps/arr/values.yaml: config/prod.yaml, listed after apps/arr/values.yaml, sets requests.cpu of these resources over it: an edit of apps/arr/values.yaml would be overridden; set them in one place",
      ),
    );
  });

  it("edits it when the later files set nothing of the resources it does not", () => {
    const files = [
      { path: "flux/arr.yaml", text: fluxRelease(["apps/arr/values.yaml", "config/prod.yaml"]) },
      valuesFile("apps/arr/values.yaml", "{ requests: { cpu: 100m }, limits: { memory: 256Mi } }"),
      { path: "config/prod.yaml", text: appValues("        env: { TZ: UTC }\n") },
    ];
    expect(locateArr(files)).toMatchObject({
      ok: true,
      location: {
        file: "apps/arr/values.yaml",
        path: "controllers.main.containers.app.resources",
      },
    });
  });

  it("sees a resourcesPreset that a values file under spec.values sets", () => {
    // Bitnami-style: empty resources in spec.values leave the preset of the values file in force.
    const files = [
      { path: "flux/arr.yaml", text: fluxRelease(["config/arr.yaml"], ["resources: {}"]) },
      { path: "config/arr.yaml", text: "resourcesPreset: nano\n" },
    ];
    expect(locate(deployment("media", "arr"), "arr", { files })).toMatchObject(
      notEditable(
        "flux/arr.yaml: the chart's resourcesPreset nano sets the container's requests and limits while resources is empty: requests written there would replace the preset whole, its limits with it; set resources to replace it",
      ),
    );
  });

  it("edits the values file that sets the resources when spec.values sets none of them", () => {
    const file = valuesFile(
      "apps/arr/values.yaml",
      "{ requests: { cpu: 100m }, limits: { memory: 1Gi } }",
    );
    const files = (values: string[]) => [
      { path: "flux/arr.yaml", text: fluxRelease(["apps/arr/values.yaml"], values) },
      file,
    ];
    expect(locateArr(files(["ingress: { main: { enabled: true } }"]))).toMatchObject({
      ok: true,
      location: { file: "apps/arr/values.yaml", path: "controllers.main.containers.app.resources" },
    });
    // spec.values that names the container but sets no resources of it leaves them to the file.
    const over = [
      "controllers:",
      "  main:",
      "    containers:",
      "      app:",
      "        env: { TZ: UTC }",
    ];
    expect(locateArr(files(over))).toMatchObject({ ok: true });
  });

  it("edits an Application's value file that sets the resources when valuesObject sets none", () => {
    const text = argoApplication([
      "  sources:",
      "    - repoURL: https://bjw-s-labs.github.io/helm-charts",
      "      chart: app-template",
      "      helm:",
      "        valueFiles: [$values/apps/arr/values.yaml]",
      "        valuesObject:",
      "          controllers: { main: { containers: { app: { env: { TZ: UTC } } } } }",
      "    - repoURL: https://github.com/example/infra",
      "      ref: values",
    ]);
    const files = [
      { path: "argocd/arr.yaml", text },
      valuesFile("apps/arr/values.yaml", "{ requests: { cpu: 100m }, limits: { memory: 1Gi } }"),
    ];
    expect(locateArr(files)).toMatchObject({
      ok: true,
      location: { file: "apps/arr/values.yaml", path: "controllers.main.containers.app.resources" },
    });
    // A later value file sets a limit over it.
    const later = [
      {
        path: "argocd/arr.yaml",
        text: text.replace(
          "[$values/apps/arr/values.yaml]",
          "[$values/apps/arr/values.yaml, $values/config/prod.yaml]",
        ),
      },
      files[1] as RepoFile,
      valuesFile("config/prod.yaml", "{ limits: { cpu: '1' } }"),
    ];
    expect(locateArr(later)).toMatchObject(
      notEditable(
        "apps/arr/values.yaml: config/prod.yaml also sets limits.cpu of these resources, which apps/arr/values.yaml does not: an edit of one would be decided without the other; set them in one place",
      ),
    );
  });

  it("holds an Application's value file under a Helm parameter of the same resources", () => {
    // Argo CD applies helm.parameters (Helm's --set) over every value file and valuesObject.
    const text = (parameter: string) =>
      argoApplication([
        "  sources:",
        "    - repoURL: https://bjw-s-labs.github.io/helm-charts",
        "      chart: app-template",
        "      helm:",
        `        parameters: [{ name: ${parameter}, value: 512Mi }]`,
        "        valueFiles: [$values/apps/arr/values.yaml]",
        "    - repoURL: https://github.com/example/infra",
        "      ref: values",
      ]);
    const files = (parameter: string) => [
      { path: "argocd/arr.yaml", text: text(parameter) },
      valuesFile("apps/arr/values.yaml", "{ requests: { cpu: 100m }, limits: { memory: 1Gi } }"),
    ];
    for (const name of [
      "controllers.main.containers.app.resources.limits.memory",
      "controllers.main.containers.app",
    ])
      expect(locateArr(files(name))).toMatchObject(
        notEditable(
          `apps/arr/values.yaml: Application arr (argocd/arr.yaml) sets the Helm parameter ${name} (spec.sources[0].helm.parameters), which Argo CD applies over helm.valueFiles; an edit of the values would be overridden or decided without it`,
        ),
      );
    // A parameter elsewhere in the values changes nothing here.
    expect(locateArr(files("controllers.main.containers.app.env.TZ"))).toMatchObject({
      ok: true,
      location: { file: "apps/arr/values.yaml", path: "controllers.main.containers.app.resources" },
    });
  });

  it("matches spec.values on the values files merged under it", () => {
    // spec.values names the controller only through the values file it is merged over.
    const files = [
      {
        path: "flux/arr.yaml",
        text: fluxRelease(
          ["config/arr.yaml"],
          ["controllers:", "  main:", "    containers:", "      app:", "        env: { TZ: UTC }"],
        ),
      },
      {
        path: "config/arr.yaml",
        text: "global:\n  fullnameOverride: sonarr\n",
      },
    ];
    expect(locate(deployment("media", "sonarr"), "app", { files })).toMatchObject({
      ok: true,
      location: {
        file: "flux/arr.yaml",
        path: "spec.values.controllers.main.containers.app.resources",
      },
    });
  });
});

describe("locateContainer: a values file a release names, whatever its path", () => {
  // Hand-written. Flux reads spec.chart.spec.valuesFiles from the root of the chart's
  // GitRepository; Argo CD reads helm.valueFiles relative to the source's path, or from the root
  // of the source whose ref a `$ref/` names.
  const edits = (file: string, how: string) => ({
    ok: true,
    location: {
      file,
      path: "controllers.main.containers.app.resources",
      confidence: "exact",
      how: `${file} (${how}) (namespace media), controllers.main.containers.app`,
    },
  });

  it("edits the file a Flux HelmRelease names, though its path names no release", () => {
    const files = [
      { path: "flux/arr.yaml", text: fluxRelease(["./deploy/values/prod-media.yaml"]) },
      valuesFile("deploy/values/prod-media.yaml"),
    ];
    expect(locateArr(files)).toMatchObject(
      edits("deploy/values/prod-media.yaml", "spec.chart.spec.valuesFiles of HelmRelease arr"),
    );
  });

  it("edits it rather than a file its folder suggests, which the release does not read", () => {
    const files = [
      {
        path: "flux/arr.yaml",
        text: fluxRelease(
          ["./deploy/values/prod-media.yaml"],
          ["controllers: { main: { containers: { app: { env: { TZ: UTC } } } } }"],
        ),
      },
      valuesFile("deploy/values/prod-media.yaml"),
      valuesFile("apps/arr/values.yaml"),
    ];
    expect(locateArr(files)).toMatchObject(
      edits("deploy/values/prod-media.yaml", "spec.chart.spec.valuesFiles of HelmRelease arr"),
    );
  });

  it("edits it rather than a folder's guess when neither says its namespace", () => {
    const files = [
      {
        path: "flux/arr.yaml",
        text: fluxRelease(["./deploy/values/prod-media.yaml"]).replace("  namespace: media\n", ""),
      },
      valuesFile("deploy/values/prod-media.yaml"),
      valuesFile("apps/arr/values.yaml"),
    ];
    expect(locateArr(files)).toMatchObject({
      ok: true,
      location: {
        file: "deploy/values/prod-media.yaml",
        confidence: "likely",
        how: "deploy/values/prod-media.yaml (spec.chart.spec.valuesFiles of HelmRelease arr) (no namespace declared), controllers.main.containers.app",
      },
    });
  });

  it("does not edit a file that another release names too, which the edit would change", () => {
    const files = [
      { path: "flux/arr.yaml", text: fluxRelease(["./deploy/values/prod-media.yaml"]) },
      {
        path: "flux/arr-4k.yaml",
        text: fluxRelease(["./deploy/values/prod-media.yaml"]).replace("name: arr", "name: arr-4k"),
      },
      valuesFile("deploy/values/prod-media.yaml"),
    ];
    expect(locateArr(files)).toMatchObject(
      notEditable(
        "deploy/values/prod-media.yaml: deploy/values/prod-media.yaml is also the values of HelmRelease arr-4k (flux/arr-4k.yaml), which an edit would change too",
      ),
    );
  });

  it("does not edit it under a file the release names that the repo does not have", () => {
    const files = [
      {
        path: "flux/arr.yaml",
        text: fluxRelease(["./deploy/values/prod-media.yaml", "./deploy/values/gone.yaml"]),
      },
      valuesFile("deploy/values/prod-media.yaml"),
    ];
    expect(locateArr(files)).toMatchObject(
      notEditable(
        "deploy/values/prod-media.yaml: HelmRelease arr also takes values from ./deploy/values/gone.yaml (spec.chart.spec.valuesFiles), which is not a values file in the repo and may set these resources",
      ),
    );
  });

  it("edits no value file here for an Argo CD source of another repository, when this one is known", () => {
    const text = argoApplication([
      "  source:",
      "    repoURL: https://github.com/example/apps.git",
      "    path: charts/arr",
      "    helm:",
      "      valueFiles: [../../values/arr.yaml]",
    ]);
    const files = [{ path: "argocd/arr.yaml", text }, valuesFile("values/arr.yaml")];
    const locateKnown = (repository: string[]) =>
      locateContainer(indexRepo(files, repository), rightsizingConfig({}), {
        workload: deployment("media", "arr"),
        container: "app",
        containerCount: 1,
      });
    // values/arr.yaml would be guessed at by its folder, and is held: it is not what is read.
    expect(locateKnown(["git@github.com:example/home-ops.git"])).toMatchObject(
      notEditable(
        "argocd/arr.yaml: Application arr takes its values from ../../values/arr.yaml (in https://github.com/example/apps.git) (spec.source.helm.valueFiles), which is a file of another repository (nothing here changes it); values/arr.yaml: Application arr (argocd/arr.yaml) takes its values from ../../values/arr.yaml (helm.valueFiles) of https://github.com/example/apps.git, another repository: this repo's file at that path is not it, and an edit of it would change nothing the release reads",
      ),
    );
    const here = edits("values/arr.yaml", "spec.source.helm.valueFiles of Application arr");
    expect(locateKnown(["example/apps"])).toMatchObject(here);
    // Not known: the source is taken as this repo.
    expect(locateKnown([])).toMatchObject(here);
  });

  it("does not guess at a file a release of another namespace reads", () => {
    const files = [
      {
        path: "flux/arr.yaml",
        text: fluxRelease(["apps/arr/values.yaml"]).replace("media", "books"),
      },
      valuesFile("apps/arr/values.yaml"),
    ];
    expect(locateArr(files)).toMatchObject({ ok: false, problem: "not-found" });
  });

  it("edits the value file an Argo CD source names relative to its path, or through a ref", () => {
    const single = [
      {
        path: "argocd/arr.yaml",
        text: argoApplication([
          "  source:",
          "    repoURL: https://github.com/example/infra",
          "    path: charts/arr",
          "    helm:",
          "      valueFiles: [../../values/prod-media.yaml]",
        ]),
      },
      valuesFile("values/prod-media.yaml"),
      valuesFile("charts/arr/values.yaml", "{}"),
    ];
    expect(locateArr(single)).toMatchObject(
      edits("values/prod-media.yaml", "spec.source.helm.valueFiles of Application arr"),
    );
    const multi = [
      {
        path: "argocd/arr.yaml",
        text: argoApplication([
          "  sources:",
          "    - repoURL: https://bjw-s-labs.github.io/helm-charts",
          "      chart: app-template",
          "      helm:",
          "        valueFiles: [$infra/deploy/prod-media.yaml]",
          "    - repoURL: https://github.com/example/infra",
          "      ref: infra",
        ]),
      },
      valuesFile("deploy/prod-media.yaml"),
    ];
    expect(locateArr(multi)).toMatchObject(
      edits("deploy/prod-media.yaml", "spec.sources[0].helm.valueFiles of Application arr"),
    );
  });

  // flux bootstrap's sync objects: the repo's own GitRepository and the Kustomization that
  // deploys its cluster folder from it; `apps` is another repository.
  const sync = (appsUrl: string) => ({
    path: "clusters/home/flux-system/gotk-sync.yaml",
    text: [
      "apiVersion: source.toolkit.fluxcd.io/v1",
      "kind: GitRepository",
      "metadata: { name: flux-system, namespace: flux-system }",
      "spec: { url: 'ssh://git@github.com/example/home-ops' }",
      "---",
      "apiVersion: source.toolkit.fluxcd.io/v1",
      "kind: GitRepository",
      "metadata: { name: apps, namespace: flux-system }",
      `spec: { url: '${appsUrl}' }`,
      "---",
      "apiVersion: kustomize.toolkit.fluxcd.io/v1",
      "kind: Kustomization",
      "metadata: { name: flux-system, namespace: flux-system }",
      "spec: { path: ./clusters/home, sourceRef: { kind: GitRepository, name: flux-system } }",
      "",
    ].join("\n"),
  });

  it("edits no file of this repo for values files of a GitRepository that is another repository", () => {
    const files = [
      sync("https://github.com/example/apps.git"),
      { path: "flux/arr.yaml", text: fluxRelease(["./apps/arr/values.yaml"], [], "apps") },
      valuesFile("apps/arr/values.yaml"),
    ];
    expect(locateArr(files)).toMatchObject(
      notEditable(
        "flux/arr.yaml: HelmRelease arr takes its values from ./apps/arr/values.yaml (spec.chart.spec.valuesFiles), which is a file of GitRepository apps (https://github.com/example/apps.git), another repository (nothing here changes it); apps/arr/values.yaml: HelmRelease arr (flux/arr.yaml) takes its values from ./apps/arr/values.yaml (spec.chart.spec.valuesFiles) of GitRepository apps (https://github.com/example/apps.git), another repository: this repo's file at that path is not it, and an edit of it would change nothing the release reads",
      ),
    );
    // Under spec.values, they may set the resources, unseen.
    const inline = [
      files[0] as RepoFile,
      {
        path: "flux/arr.yaml",
        text: fluxRelease(
          ["./config/arr.yaml"],
          [
            "controllers: { main: { containers: { app: { resources: { requests: { cpu: 200m } } } } } }",
          ],
          "apps",
        ),
      },
      valuesFile("config/arr.yaml", "{ limits: { memory: 2Gi } }"),
    ];
    expect(locateArr(inline)).toMatchObject(
      notEditable(
        "flux/arr.yaml: HelmRelease arr also takes values from ./config/arr.yaml (spec.chart.spec.valuesFiles), which is a file of GitRepository apps (https://github.com/example/apps.git), another repository (nothing here changes it), and may set these resources; an edit of spec.values would be decided without them",
      ),
    );
  });

  it("compares the GitRepository's URL with what the repository is known by, when that is known", () => {
    // No Kustomization syncs a folder of this repo: its remotes (or its owner/name) say which it is.
    const apps = {
      path: "flux/apps.yaml",
      text: [
        "apiVersion: source.toolkit.fluxcd.io/v1",
        "kind: GitRepository",
        "metadata: { name: apps, namespace: flux-system }",
        "spec: { url: 'https://github.com/example/apps.git' }",
        "",
      ].join("\n"),
    };
    const files = [
      apps,
      { path: "flux/arr.yaml", text: fluxRelease(["./apps/arr/values.yaml"], [], "apps") },
      valuesFile("apps/arr/values.yaml"),
    ];
    const locateKnown = (repository: string[]) =>
      locateContainer(indexRepo(files, repository), rightsizingConfig({}), {
        workload: deployment("media", "arr"),
        container: "app",
        containerCount: 1,
      });
    const thisRepo = edits(
      "apps/arr/values.yaml",
      "spec.chart.spec.valuesFiles of HelmRelease arr",
    );
    expect(locateKnown(["example/apps"])).toMatchObject(thisRepo);
    expect(locateKnown(["ssh://git@github.com/example/apps"])).toMatchObject(thisRepo);
    expect(locateKnown(["git@github.com:example/home-ops.git"])).toMatchObject({
      ok: false,
      problem: "not-editable",
    });
    // Known by nothing: taken as this repo.
    expect(locateKnown([])).toMatchObject(thisRepo);
  });

  it("takes the GitRepository as this repo when its URL is this repo's in another form, or unknown", () => {
    const files = (syncFile: RepoFile[]) => [
      ...syncFile,
      { path: "flux/arr.yaml", text: fluxRelease(["./deploy/values/prod-media.yaml"], [], "apps") },
      valuesFile("deploy/values/prod-media.yaml"),
    ];
    const expected = edits(
      "deploy/values/prod-media.yaml",
      "spec.chart.spec.valuesFiles of HelmRelease arr",
    );
    expect(locateArr(files([sync("git@github.com:Example/home-ops.git")]))).toMatchObject(expected);
    // No GitRepository of that name in the repo: which repository it is cannot be told.
    expect(locateArr(files([]))).toMatchObject(expected);
  });
});

describe("locateContainer: a Bitnami resourcesPreset beside the resources", () => {
  // Hand-written; Bitnami templates use `resources` when they are not empty, else the requests
  // and limits of `resourcesPreset` (unless it is `none`).
  const release = (values: string[]) =>
    [
      "apiVersion: helm.toolkit.fluxcd.io/v2",
      "kind: HelmRelease",
      "metadata:",
      "  name: nginx",
      "  namespace: web",
      "spec:",
      "  chart:",
      "    spec:",
      "      chart: nginx",
      "  values:",
      ...values.map((line) => `    ${line}`),
      "",
    ].join("\n");
  const locateNginx = (values: string[]) =>
    locate(deployment("web", "nginx"), "nginx", {
      files: [{ path: "apps/nginx.yaml", text: release(values) }],
    });

  it("leaves empty resources alone while a preset gives the container its resources", () => {
    expect(locateNginx(["resourcesPreset: small", "resources: {}"])).toMatchObject(
      notEditable(
        "apps/nginx.yaml: the chart's resourcesPreset small sets the container's requests and limits while resources is empty: requests written there would replace the preset whole, its limits with it; set resources to replace it",
      ),
    );
  });

  it("names a preset that gives the container its resources where the values have none", () => {
    expect(locateNginx(["resourcesPreset: nano"])).toMatchObject({
      ok: false,
      problem: "not-found",
      message:
        "no file in the repo sets its resources; the chart's resourcesPreset nano (apps/nginx.yaml spec.values.resourcesPreset) sets them",
    });
    // A component's preset, in a chart with several.
    expect(
      locateNginx(["primary:", "  resourcesPreset: small", "metrics:", "  resources: {}"]),
    ).toMatchObject({
      ok: false,
      problem: "not-found",
      message:
        "no file in the repo sets its resources; the chart's resourcesPreset small (apps/nginx.yaml spec.values.primary.resourcesPreset) sets them",
    });
    expect(locateNginx(["resourcesPreset: none"])).toMatchObject({
      message: "no file in the repo sets its resources",
    });
  });

  it("edits resources that are set, or a preset of none", () => {
    for (const values of [
      ["resourcesPreset: small", "resources: { requests: { cpu: 100m } }"],
      ["resourcesPreset: none", "resources: {}"],
    ])
      expect(locateNginx(values)).toMatchObject({
        ok: true,
        location: { file: "apps/nginx.yaml", path: "spec.values.resources" },
      });
  });
});

describe("locateContainer: configured targets", () => {
  it("a target wins over discovery, and is checked against the file", () => {
    const target = {
      workload: "default/plex",
      file: "argocd-apps/postgresql/values.yaml",
      path: "primary.resources",
    };
    expect(
      locate(deployment("default", "plex"), "app", { config: { targets: [target] } }),
    ).toMatchObject({
      ok: true,
      location: { file: target.file, path: target.path, confidence: "explicit", document: 0 },
    });
    const missing = { ...target, file: "nowhere.yaml" };
    expect(
      locate(deployment("default", "plex"), "app", { config: { targets: [missing] } }),
    ).toMatchObject({
      ok: false,
      problem: "target-invalid",
      message: "the configured target nowhere.yaml does not exist",
    });
    const wrongPath = { ...target, path: "secondary.resources" };
    expect(
      locate(deployment("default", "plex"), "app", { config: { targets: [wrongPath] } }),
    ).toMatchObject({
      ok: false,
      problem: "target-invalid",
      message: "argocd-apps/postgresql/values.yaml has no secondary",
    });
  });

  it("a workload with targets is not discovered for containers the targets leave out", () => {
    const target = {
      workload: "default/plex",
      container: "app",
      file: "argocd-apps/postgresql/values.yaml",
      path: "primary.resources",
    };
    expect(
      locate(deployment("default", "plex"), "sidecar", {
        config: { targets: [target] },
        containerCount: 2,
      }),
    ).toMatchObject({ ok: false, problem: "not-targeted" });
  });

  it("with discovery off, nothing but targets is used", () => {
    expect(
      locate(deployment("default", "plex"), "app", { config: { discovery: { enabled: false } } }),
    ).toMatchObject({
      ok: false,
      problem: "not-found",
    });
  });
});

describe("releasesFromPath", () => {
  it("reads release names from common homelab layouts", () => {
    expect(releasesFromPath("apps/plex/values.yaml")).toEqual(["plex"]);
    expect(releasesFromPath("charts/plex/values.yaml")).toEqual(["plex"]);
    expect(releasesFromPath("kubernetes/apps/media/plex/app/values.yaml")).toEqual(["plex"]);
    expect(releasesFromPath("helm/plex-values.yaml")).toEqual(["plex"]);
    expect(releasesFromPath("values/plex.yaml")).toEqual(["plex"]);
    expect(releasesFromPath("apps/plex/values-prod.yaml")).toEqual(["plex"]);
    expect(releasesFromPath("apps/plex/deployment.yaml")).toEqual([]);
  });
});
