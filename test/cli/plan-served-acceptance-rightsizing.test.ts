/**
 * `plan --kubeconfig` with `rightsizing:` as an operator reads it: VPAs and their pods served by
 * a Kubernetes API server, Helm values in the infra repo, and what each file change leaves
 * alone. What plan-served-rightsizing.test.ts and test/rightsizing/ pin is not repeated here.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { gitRepository } from "../support/flux-manifests.ts";
import {
  CONFIG,
  committedRepo,
  type InfraFiles,
  type PlanJson,
  pod,
  type Raw,
  type Served,
} from "./served-cluster.ts";
import { cluster, serveForTest } from "./served-plan.ts";

const DAY = 86_400_000;
const HASH = "7d9c65958";

function ago(ms: number): string {
  return new Date(Date.now() - ms).toISOString().replace(/\.\d+Z$/, "Z");
}

type Amounts = Record<string, string>;

interface VpaOptions {
  kind?: "Deployment" | "StatefulSet" | "DaemonSet" | "CronJob";
  policies?: Raw[];
}

/**
 * A VPA in mode Off that has recorded for 17 days, recommending TARGET for container `app`
 * (bounds wide enough that only the tolerance decides).
 */
function vpa(namespace: string, name: string, target: Amounts, options: VpaOptions = {}): Raw {
  const kind = options.kind ?? "Deployment";
  return {
    apiVersion: "autoscaling.k8s.io/v1",
    kind: "VerticalPodAutoscaler",
    metadata: {
      name,
      namespace,
      creationTimestamp: ago(17 * DAY),
      generation: 1,
      resourceVersion: "1",
      uid: `0b7d2e64-5a0c-4f1e-8d3a-${name.padEnd(12, "0").slice(0, 12)}`,
    },
    spec: {
      targetRef: { apiVersion: kind === "CronJob" ? "batch/v1" : "apps/v1", kind, name },
      updatePolicy: { updateMode: "Off" },
      ...(options.policies ? { resourcePolicy: { containerPolicies: options.policies } } : {}),
    },
    status: {
      conditions: [
        {
          lastTransitionTime: ago(17 * DAY - 120_000),
          status: "True",
          type: "RecommendationProvided",
        },
      ],
      recommendation: {
        containerRecommendations: [
          {
            containerName: "app",
            lowerBound: { cpu: "10m", memory: "50Mi" },
            target,
            uncappedTarget: target,
            upperBound: { cpu: "4", memory: "8Gi" },
          },
        ],
      },
    },
  };
}

/** A container's requests and limits, each left out or given. */
type Resources = { requests?: Amounts; limits?: Amounts };

/** A running pod of a Deployment (else OWNER) whose container `app` has RESOURCES. */
function runningPod(
  namespace: string,
  name: string,
  resources: Resources,
  owner?: { kind: "StatefulSet" | "Job"; name: string; pod: string },
): Raw {
  const made = owner
    ? pod(namespace, owner.pod, { node: "talos-worker-1", owner })
    : pod(namespace, `${name}-${HASH}-q0x0z`, {
        node: "talos-worker-1",
        owner: { kind: "ReplicaSet", name: `${name}-${HASH}` },
        labels: { "pod-template-hash": HASH },
      });
  const [container] = (made.spec as { containers: Raw[] }).containers;
  (container as Raw).resources = resources;
  return made;
}

const files = (rightsizing: string, other: Record<string, string>): InfraFiles => ({
  config: `${CONFIG}rightsizing: ${rightsizing}\n`,
  other,
});

const resourceProposals = (output: PlanJson) =>
  output.proposals.filter((proposal) => proposal.kind === "resources");

const notesOf = (output: PlanJson, subject: string) =>
  output.notes.filter((note) => note.subject === subject).map((n) => `${n.level}: ${n.message}`);

/** app-template values giving sonarr's container a memory limit and no request. */
const limitedValues = `controllers:
  main:
    containers:
      app:
        image: { repository: ghcr.io/home-operations/sonarr, tag: 4.0.11 }
        resources:
          limits:
            memory: 512Mi
`;

const SONARR_IMAGE = "{ repository: ghcr.io/home-operations/sonarr, tag: 4.0.11 }";

/** app-template values giving container `app` these requests, after an image line if given. */
function requestsValues(cpu: string, memory: string, image?: string): string {
  return `controllers:
  main:
    containers:
      app:
${image ? `        image: ${image}\n` : ""}        resources:
          requests:
            cpu: ${cpu}
            memory: ${memory}
`;
}

/**
 * A Flux HelmRelease of sonarr (namespace media), app-template from GitRepository `source`,
 * reading `valuesFiles` in order, then `values` (its spec.values lines, if any).
 */
function sonarrRelease(source: string, valuesFiles: string[], values = ""): string {
  return `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: sonarr
  namespace: media
spec:
  interval: 30m
  chart:
    spec:
      chart: ./charts/app-template
      sourceRef:
        kind: GitRepository
        name: ${source}
        namespace: flux-system
      valuesFiles:
${valuesFiles.map((file) => `        - ${file}\n`).join("")}${values}`;
}

/** The cluster, sonarr's VPA (target 300m/400Mi) and a running pod of sonarr with `resources`. */
function sonarrObjects(
  resources: { requests?: Amounts; limits?: Amounts } = {
    requests: { cpu: "100m", memory: "256Mi" },
  },
): Raw[] {
  return [
    ...cluster(),
    vpa("media", "sonarr", { cpu: "300m", memory: "400Mi" }),
    runningPod("media", "sonarr", resources),
  ];
}

/** StatefulSet db/postgres's manifest, its container `app` setting `field` (requests or limits). */
function postgresManifest(field: "requests" | "limits", cpu: string, memory: string): string {
  return `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: postgres
  namespace: db
spec:
  serviceName: postgres
  template:
    spec:
      containers:
        - name: app
          image: postgres:16
          resources:
            ${field}:
              cpu: ${cpu}
              memory: ${memory}
`;
}

/** The cluster, postgres' VPA recommending `target` and its pod postgres-0 with `resources`. */
function postgresObjects(
  target: Amounts,
  resources: { requests?: Amounts; limits?: Amounts },
): Raw[] {
  return [
    ...cluster(),
    vpa("db", "postgres", target, { kind: "StatefulSet" }),
    runningPod("db", "postgres", resources, {
      kind: "StatefulSet",
      name: "postgres",
      pod: "postgres-0",
    }),
  ];
}

/**
 * Plans db/postgres's `manifest` under `stateful: { changes: increase }` against `objects`: the
 * plan must propose nothing; gives its text.
 */
async function planStatefulIncrease(objects: Raw[], manifest: string): Promise<string> {
  const served = await serveForTest(objects);
  const infra = files("{ stateful: { workloads: [db/postgres], changes: increase } }", {
    "apps/db/postgres.yaml": manifest,
  });
  expect(resourceProposals(await served.plan(infra))).toEqual([]);
  return (await served.run([], infra)).stdout;
}

/**
 * Plans `repo` against sonarr's VPA and its pods, which request 100m/256Mi under a 512Mi memory
 * limit one values layer sets: the plan must propose nothing; gives sonarr's notes.
 */
async function heldSonarrNotes(repo: Record<string, string>): Promise<string[]> {
  const served = await serveForTest(
    sonarrObjects({ requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } }),
  );
  const output = await served.plan(files("{}", repo));
  expect(resourceProposals(output)).toEqual([]);
  return notesOf(output, "deployment/media/sonarr");
}

/** The part of `plan`'s text from the proposal's first line to the end of its diff. */
function proposalText(stdout: string, key: string): string {
  const start = stdout.indexOf(`${key}: `);
  const end = stdout.indexOf("\n\n", stdout.indexOf("\n@@", start));
  return stdout.slice(start, end);
}

describe("app-template defaultContainerOptions", () => {
  // The bjw-s common library applies a controller's `defaultContainerOptions` to each of its
  // containers: with `defaultContainerOptionsStrategy: overwrite` (its default) a container
  // whose own value of a key is empty gets the default's value whole, and with `merge` the
  // defaults are merged under the container's own values (the library's container
  // valuesToObject template, and its docs' "Default value strategies").
  const values = (strategy: string, app: string) => `# sonarr (app-template 4)
controllers:
  main:
    defaultContainerOptionsStrategy: ${strategy}
    defaultContainerOptions:
      resources:
        requests:
          cpu: 100m
          memory: 256Mi
        limits:
          memory: 512Mi
    containers:
      app:
        image: ${SONARR_IMAGE}
${app}`;
  const objects = () =>
    sonarrObjects({ requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } });

  it("does not write requests on a container that takes its resources from the defaults", async () => {
    // Resources written on `app` would replace the defaults whole, dropping the 512Mi limit.
    const served = await serveForTest(objects());
    const infra = files("{}", { "apps/sonarr/values.yaml": values("overwrite", "") });
    const output = await served.plan(infra);
    expect(resourceProposals(output)).toEqual([]);
    const message =
      "container app: apps/sonarr/values.yaml: the container sets no resources of its own, so it gets controllers.main.defaultContainerOptions.resources (defaultContainerOptionsStrategy overwrite), as does every other container of the controller that sets none: resources written on the container would replace them whole, and a change there would change the others too; set the container's requests and limits on the container; set rightsizing.targets for media/sonarr to choose";
    expect(notesOf(output, "deployment/media/sonarr")).toEqual([`warning: ${message}`]);
    const text = await served.run([], infra);
    expect(text.stdout).toContain(`warning: deployment/media/sonarr: ${message}\n`);
    expect(text.stdout).not.toContain("request unset");
  });

  it("does not decide the container's requests without a limit the merged defaults give it", async () => {
    const served = await serveForTest(objects());
    const app = `        resources:
          requests:
            cpu: 100m
            memory: 256Mi
`;
    const output = await served.plan(
      files("{}", { "apps/sonarr/values.yaml": values("merge", app) }),
    );
    expect(resourceProposals(output)).toEqual([]);
    expect(notesOf(output, "deployment/media/sonarr")).toEqual([
      "warning: container app: apps/sonarr/values.yaml: controllers.main.defaultContainerOptions.resources also sets limits.memory of these resources (defaultContainerOptionsStrategy merge), which the container does not: an edit of one would be decided without the other; set them in one place; set rightsizing.targets for media/sonarr to choose",
    ]);
  });

  it("edits a container's own resources, which replace the defaults, and nothing else", async () => {
    const served = await serveForTest(sonarrObjects({ requests: { cpu: "50m", memory: "128Mi" } }));
    const app = `        resources:
          requests:
            cpu: 50m # own numbers
            memory: 128Mi
`;
    const infra = files("{}", { "apps/sonarr/values.yaml": values("overwrite", app) });
    const output = await served.plan(infra);
    const [proposal] = resourceProposals(output);
    expect(proposal?.changes.map((c) => [c.path, c.before, c.after])).toEqual([
      ["controllers.main.containers.app.resources.requests.cpu", "50m", "300m"],
      ["controllers.main.containers.app.resources.requests.memory", "128Mi", "400Mi"],
    ]);
    const text = await served.run([], infra);
    expect(text.stdout).toContain(`@@ -14,5 +14,5 @@
         image: { repository: ghcr.io/home-operations/sonarr, tag: 4.0.11 }
         resources:
           requests:
-            cpu: 50m # own numbers
-            memory: 128Mi
+            cpu: 300m # own numbers
+            memory: 400Mi
`);
  });
});

describe("what the plan writes, and what it leaves", () => {
  /** Serves home/hass, its VPA recommending `target`, its pod running with `resources`. */
  function serveHass(target: Amounts, resources: Resources): Promise<Served> {
    return serveForTest([
      ...cluster(),
      vpa("home", "hass", target),
      runningPod("home", "hass", resources),
    ]);
  }

  it("adds requests a values file does not set as new lines under the container, and says so", async () => {
    const served = await serveHass({ cpu: "300m", memory: "700Mi" }, {});
    const values = `# home-assistant (app-template)
controllers:
  main:
    containers:
      app:
        image:
          repository: ghcr.io/home-assistant/home-assistant
          tag: 2026.11.1
        env:
          TZ: Europe/Berlin
`;
    const text = await served.run([], files("{}", { "apps/hass/values.yaml": values }));
    expect(
      proposalText(text.stdout, "resources-home-hass"),
    ).toBe(`resources-home-hass: right-size container requests
  Deployment home/hass: VPA hass (updateMode Off, recording for 17d)
    container app: apps/hass/values.yaml controllers.main.containers.app.resources (likely: values file for release hass, controllers.main.containers.app)
      cpu request unset → 300m: VPA target 300m [VPA bounds 10m–4, uncapped target 300m]; because the file sets no request
      memory request unset → 704Mi: VPA target 700Mi, rounded up to a multiple of 16Mi → 704Mi [VPA bounds 50Mi–8Gi, uncapped target 700Mi]; because the file sets no request

--- a/apps/hass/values.yaml
+++ b/apps/hass/values.yaml
@@ -8,3 +8,7 @@
           tag: 2026.11.1
         env:
           TZ: Europe/Berlin
+        resources:
+          requests:
+            cpu: 300m
+            memory: 704Mi`);
  });

  describe("a container whose file sets limits and no requests", () => {
    // Kubernetes gives such a container its limits as requests: the pods request 1 cpu and 1Gi
    // (Guaranteed), and a change is judged from those.
    const manifest = postgresManifest("limits", "1", "1Gi");
    const objects = (target: Amounts) =>
      postgresObjects(target, {
        requests: { cpu: "1", memory: "1Gi" },
        limits: { cpu: "1", memory: "1Gi" },
      });

    it("is not lowered under stateful changes: increase", async () => {
      const text = await planStatefulIncrease(objects({ cpu: "400m", memory: "600Mi" }), manifest);
      expect(text).toContain(
        "    memory request 1Gi (the limit: the file sets no request) kept: the workload is stateful and only increases are allowed (the target would lower it to 608Mi) [VPA bounds 50Mi–8Gi, uncapped target 600Mi, limit 1Gi]\n",
      );
    });

    it("keeps requests within the tolerance of the limits, and changes those beyond it from them", async () => {
      const within = await serveForTest(objects({ cpu: "950m", memory: "1000Mi" }));
      const infra = files("{}", { "apps/db/postgres.yaml": manifest });
      expect(resourceProposals(await within.plan(infra))).toEqual([]);
      const beyond = await serveForTest(objects({ cpu: "950m", memory: "600Mi" }));
      const output = await beyond.plan(infra);
      const [proposal] = resourceProposals(output);
      expect(proposal?.changes.map((c) => [c.path, c.before, c.after])).toEqual([
        ["spec.template.spec.containers[name=app].resources.requests.memory", undefined, "608Mi"],
      ]);
      // The request added below the limit kept makes the Guaranteed pods Burstable: said so.
      expect(proposal?.reasons).toContain(
        "    memory request 1Gi (the limit: the file sets no request) → 608Mi (−40.6 %): VPA target 600Mi, rounded up to a multiple of 16Mi → 608Mi [VPA bounds 50Mi–8Gi, uncapped target 600Mi, limit 1Gi]; because it differs by 40.6 % (tolerance 20 %); the limit 1Gi stays (limits.memory is keep), so the request no longer equals it: the pods' QoS class goes from Guaranteed to Burstable",
      );
      const { workloads } = proposal as unknown as {
        workloads: { containers: { resources: Raw[] }[] }[];
      };
      const [workload] = workloads;
      expect(workload?.containers[0]?.resources.map((decision) => decision.qosClass)).toEqual([
        undefined,
        {
          current: "Guaranteed",
          proposed: "Burstable",
          limit: 2 ** 30,
          from: "file",
          limitMode: "keep",
        },
      ]);
    });
  });

  it("writes requests given as numbers as quantities, a number of bytes as a number", async () => {
    const served = await serveHass(
      { cpu: "1200m", memory: "1Gi" },
      { requests: { cpu: "500m", memory: "512Mi" } },
    );
    const values = requestsValues("0.5", "536870912");
    const output = await served.plan(files("{}", { "apps/hass/values.yaml": values }));
    const [proposal] = resourceProposals(output);
    expect(proposal?.changes.map((c) => [c.path, c.before, c.after])).toEqual([
      ["controllers.main.containers.app.resources.requests.cpu", 0.5, "1200m"],
      ["controllers.main.containers.app.resources.requests.memory", 536870912, 1073741824],
    ]);
  });

  it("changes a request 20.04 % from the target under a tolerance of 20 %, and shows that", async () => {
    // 2500m → 3001m: 20.0 % to one decimal, more than 20 % all the same.
    const served = await serveHass(
      { cpu: "3001m", memory: "512Mi" },
      { requests: { cpu: "2500m", memory: "512Mi" } },
    );
    const values = requestsValues("2500m", "512Mi");
    const infra = files("{ steps: { cpu: 1m } }", { "apps/hass/values.yaml": values });
    const [proposal] = resourceProposals(await served.plan(infra));
    expect(proposal?.changes.map((c) => [c.path, c.before, c.after])).toEqual([
      ["controllers.main.containers.app.resources.requests.cpu", "2500m", "3001m"],
    ]);
    expect(proposal?.reasons).toContain(
      "    cpu request 2500m → 3001m (+20.04 %): VPA target 3001m [VPA bounds 10m–4, uncapped target 3001m]; because it differs by 20.04 % (tolerance 20 %)",
    );
  });

  it("says how the proposed value was reached when it equals the request", async () => {
    // 15m rounded up to the 10m step is 20m, the request itself.
    const served = await serveHass(
      { cpu: "15m", memory: "700Mi" },
      { requests: { cpu: "20m", memory: "256Mi" } },
    );
    const values = requestsValues("20m", "256Mi");
    const output = await served.plan(files("{}", { "apps/hass/values.yaml": values }));
    const [proposal] = resourceProposals(output);
    expect(proposal?.changes.map((c) => c.path)).toEqual([
      "controllers.main.containers.app.resources.requests.memory",
    ]);
    expect(proposal?.reasons).toContain(
      "    cpu request 20m kept: it already equals the proposed value (VPA target 15m, rounded up to a multiple of 10m → 20m) [VPA bounds 10m–4, uncapped target 15m]",
    );
  });

  it("with limits: ratio, moves each limit with its request, rounded up to the step", async () => {
    // cpu 300m/1 → 130m: 130m × 1000/300 = 433.3m → 440m; memory 300Mi/1000Mi → 416Mi:
    // 1386.7Mi → 1392Mi.
    const served = await serveHass(
      { cpu: "130m", memory: "416Mi" },
      {
        requests: { cpu: "300m", memory: "300Mi" },
        limits: { cpu: "1", memory: "1000Mi" },
      },
    );
    const values = `${requestsValues("300m", "300Mi")}          limits:
            cpu: 1
            memory: 1000Mi
`;
    const infra = files("{ limits: { cpu: ratio, memory: ratio } }", {
      "apps/hass/values.yaml": values,
    });
    const output = await served.plan(infra);
    const [proposal] = resourceProposals(output);
    expect(proposal?.changes.map((c) => [c.path.replace(/.*resources\./, ""), c.after])).toEqual([
      ["requests.cpu", "130m"],
      ["limits.cpu", "440m"],
      ["requests.memory", "416Mi"],
      ["limits.memory", "1392Mi"],
    ]);
    expect(proposal?.reasons).toContain(
      "    cpu request 300m → 130m (−56.7 %): VPA target 130m [VPA bounds 10m–4, uncapped target 130m]; because it differs by 56.7 % (tolerance 20 %); limit 1 → 440m (keeps the limit/request ratio)",
    );
  });

  it("with controlledResources [cpu], changes the cpu request alone and says why memory stays", async () => {
    const served = await serveForTest([
      ...cluster(),
      vpa(
        "media",
        "sonarr",
        { cpu: "1", memory: "2Gi" },
        { policies: [{ containerName: "*", controlledResources: ["cpu"] }] },
      ),
      runningPod("media", "sonarr", { requests: { cpu: "100m", memory: "256Mi" } }),
    ]);
    const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: sonarr
  namespace: media
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/home-operations/sonarr:4.0.11
          resources:
            requests: { cpu: 100m, memory: 256Mi }
`;
    const infra = files("{}", { "apps/media/sonarr.yaml": manifest });
    const output = await served.plan(infra);
    const [proposal] = resourceProposals(output);
    expect(proposal?.changes.map((c) => [c.path, c.after])).toEqual([
      ["spec.template.spec.containers[name=app].resources.requests.cpu", "1"],
    ]);
    expect(proposal?.reasons).toContain(
      "    memory request 256Mi kept: the VPA's controlledResources leave it out [VPA bounds 50Mi–8Gi, uncapped target 2Gi]",
    );
    const text = await served.run([], infra);
    expect(text.stdout).toContain(`-            requests: { cpu: 100m, memory: 256Mi }
+            requests: { cpu: "1", memory: 256Mi }
`);
  });

  it("refuses a values file that two releases read, naming the other", async () => {
    const kustomization = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: media
helmCharts:
  - name: app-template
    repo: oci://ghcr.io/bjw-s-labs/helm
    version: 4.4.0
    releaseName: sonarr
    valuesFile: values.yaml
  - name: app-template
    repo: oci://ghcr.io/bjw-s-labs/helm
    version: 4.4.0
    releaseName: radarr
    valuesFile: values.yaml
`;
    const values = requestsValues("100m", "256Mi");
    const served = await serveForTest([
      ...sonarrObjects(),
      vpa("media", "radarr", { cpu: "600m", memory: "300Mi" }),
      runningPod("media", "radarr", { requests: { cpu: "100m", memory: "256Mi" } }),
    ]);
    const output = await served.plan(
      files("{}", {
        "apps/arr/kustomization.yaml": kustomization,
        "apps/arr/values.yaml": values,
      }),
    );
    expect(resourceProposals(output)).toEqual([]);
    expect(notesOf(output, "deployment/media/sonarr")).toEqual([
      "warning: container app: apps/arr/values.yaml: apps/arr/values.yaml is also the values of apps/arr/kustomization.yaml helmCharts[1], which an edit would change too; set rightsizing.targets for media/sonarr to choose",
    ]);
  });

  it("does not edit an Application's valuesObject over a value file that sets a limit it does not", async () => {
    // A multi-source Application: the chart from its Helm repository, the values from this
    // repo through `ref: values`.
    const application = `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: sonarr
  namespace: argocd
spec:
  project: default
  destination:
    server: https://kubernetes.default.svc
    namespace: media
  sources:
    - repoURL: https://bjw-s-labs.github.io/helm-charts
      chart: app-template
      targetRevision: 4.4.0
      helm:
        releaseName: sonarr
        valueFiles:
          - $values/apps/sonarr/values.yaml
        valuesObject:
          controllers:
            main:
              containers:
                app:
                  resources:
                    requests:
                      cpu: 100m
                      memory: 256Mi
    - repoURL: https://github.com/example/infra
      targetRevision: main
      ref: values
`;
    expect(
      await heldSonarrNotes({
        "argocd/sonarr.yaml": application,
        "apps/sonarr/values.yaml": limitedValues,
      }),
    ).toEqual([
      "warning: container app: argocd/sonarr.yaml: apps/sonarr/values.yaml also sets limits.memory of these resources, which spec.sources[0].helm.valuesObject does not: an edit of one would be decided without the other; set them in one place; set rightsizing.targets for media/sonarr to choose",
    ]);
  });

  it("does not edit a HelmRelease's spec.values over a chart values file that sets a limit it does not", async () => {
    // The chart from a GitRepository of this repo, with spec.chart.spec.valuesFiles: Flux merges
    // them into the chart's values, under spec.values.
    const release = sonarrRelease(
      "flux-system",
      ["./apps/sonarr/values.yaml"],
      `  values:
    controllers:
      main:
        containers:
          app:
            resources:
              requests:
                cpu: 100m
                memory: 256Mi
`,
    );
    expect(
      await heldSonarrNotes({
        "apps/sonarr/helmrelease.yaml": release,
        "apps/sonarr/values.yaml": limitedValues,
      }),
    ).toEqual([
      "warning: container app: apps/sonarr/helmrelease.yaml: apps/sonarr/values.yaml also sets limits.memory of these resources, which spec.values does not: an edit of one would be decided without the other; set them in one place; set rightsizing.targets for media/sonarr to choose",
    ]);
  });

  it("does not edit a chart values file of a HelmRelease without values under a later one that sets a limit", async () => {
    // No spec.values: Flux deploys the chart with its valuesFiles merged in order, the later
    // winning; apps/sonarr/values.yaml is found by its folder, config/prod.yaml sets the limit.
    const release = sonarrRelease("flux-system", [
      "./apps/sonarr/values.yaml",
      "./config/prod.yaml",
    ]);
    const values = requestsValues("100m", "256Mi", SONARR_IMAGE);
    const prod = `controllers:
  main:
    containers:
      app:
        resources:
          limits:
            memory: 512Mi
`;
    expect(
      await heldSonarrNotes({
        "apps/sonarr/helmrelease.yaml": release,
        "apps/sonarr/values.yaml": values,
        "config/prod.yaml": prod,
      }),
    ).toEqual([
      "warning: container app: apps/sonarr/values.yaml: config/prod.yaml also sets limits.memory of these resources, which apps/sonarr/values.yaml does not: an edit of one would be decided without the other; set them in one place; set rightsizing.targets for media/sonarr to choose",
    ]);
  });

  it("does not write resources over a Bitnami resourcesPreset, which they would replace whole", async () => {
    // Bitnami's templates give a component its `resources` when they are not empty, else the
    // requests and limits of its `resourcesPreset` (common.resources.preset: nano is 100m/128Mi
    // requested, 150m/192Mi limits): written requests would drop the preset's limits.
    const release = `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: postgresql
  namespace: db
spec:
  interval: 30m
  chart:
    spec:
      chart: postgresql
      version: 16.4.2
      sourceRef:
        kind: HelmRepository
        name: bitnami
        namespace: flux-system
  values:
    primary:
      resourcesPreset: nano
      resources: {}
`;
    const served = await serveForTest([
      ...cluster(),
      vpa("db", "postgresql", { cpu: "120m", memory: "150Mi" }, { kind: "StatefulSet" }),
      runningPod(
        "db",
        "postgresql",
        {
          requests: { cpu: "100m", memory: "128Mi" },
          limits: { cpu: "150m", memory: "192Mi" },
        },
        { kind: "StatefulSet", name: "postgresql", pod: "postgresql-0" },
      ),
    ]);
    const output = await served.plan(files("{}", { "apps/db/postgresql.yaml": release }));
    expect(resourceProposals(output)).toEqual([]);
    expect(notesOf(output, "statefulset/db/postgresql")).toEqual([
      "warning: container app: apps/db/postgresql.yaml: the chart's resourcesPreset nano (primary.resourcesPreset) sets the container's requests and limits while primary.resources is empty: requests written there would replace the preset whole, its limits with it; set primary.resources to replace it; set rightsizing.targets for db/postgresql to choose",
    ]);
  });

  it("says a VPA of a CronJob is not used, and proposes nothing for it", async () => {
    const served = await serveForTest([
      ...cluster(),
      vpa("db", "backup", { cpu: "500m", memory: "1Gi" }, { kind: "CronJob" }),
      runningPod(
        "db",
        "backup",
        { requests: { cpu: "100m", memory: "128Mi" } },
        { kind: "Job", name: "backup-29000000", pod: "backup-29000000-7xk2p" },
      ),
    ]);
    const output = await served.plan(files("{}", {}));
    expect(resourceProposals(output)).toEqual([]);
    expect(notesOf(output, "cronjob/db/backup")).toEqual([
      "info: the VPA backup targets a CronJob; only Deployments, StatefulSets and DaemonSets are right-sized",
    ]);
  });

  it("with stateful changes: increase, keeps a StatefulSet's requests the VPA would lower", async () => {
    const text = await planStatefulIncrease(
      postgresObjects(
        { cpu: "120m", memory: "600Mi" },
        { requests: { cpu: "250m", memory: "1Gi" } },
      ),
      postgresManifest("requests", "250m", "1Gi"),
    );
    expect(text).toContain(
      "    memory request 1Gi kept: the workload is stateful and only increases are allowed (the target would lower it to 608Mi) [VPA bounds 50Mi–8Gi, uncapped target 600Mi]\n",
    );
  });
});

describe("the values file a release names", () => {
  // Hand-written after flux bootstrap's layout: clusters/home/flux-system/gotk-sync.yaml holds
  // the GitRepository this repo is synced from and the Kustomization that deploys the cluster
  // folder from it. Flux reads spec.chart.spec.valuesFiles from the root of the chart's
  // GitRepository, whatever their names.
  const sync = (appsUrl: string) => `${gitRepository(
    "flux-system",
    "ssh://git@github.com/example/home-ops",
    "1m",
  )}---
${gitRepository("apps", appsUrl)}---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m
  path: ./clusters/home
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`;
  const release = (source: string) =>
    sonarrRelease(
      source,
      ["./deploy/values/prod-media.yaml"],
      `  values:
    controllers:
      main:
        containers:
          app:
            env:
              TZ: Europe/Berlin
`,
    );
  const values = requestsValues("100m", "256Mi", SONARR_IMAGE);
  const serveSonarr = () => serveForTest(sonarrObjects());

  it("edits the file the HelmRelease names, not one its folder would suggest", async () => {
    const served = await serveSonarr();
    const text = await served.run(
      [],
      files("{}", {
        "clusters/home/flux-system/gotk-sync.yaml": sync("https://github.com/example/apps"),
        "clusters/home/apps/sonarr/helmrelease.yaml": release("flux-system"),
        "deploy/values/prod-media.yaml": values,
        // An old copy the release does not read.
        "apps/sonarr/values.yaml": values,
      }),
    );
    expect(
      proposalText(text.stdout, "resources-media-sonarr"),
    ).toBe(`resources-media-sonarr: right-size container requests
  Deployment media/sonarr: VPA sonarr (updateMode Off, recording for 17d)
    container app: deploy/values/prod-media.yaml controllers.main.containers.app.resources (exact: deploy/values/prod-media.yaml (spec.chart.spec.valuesFiles of HelmRelease sonarr) (namespace media), controllers.main.containers.app)
      cpu request 100m → 300m (+200 %): VPA target 300m [VPA bounds 10m–4, uncapped target 300m]; because it differs by 200 % (tolerance 20 %)
      memory request 256Mi → 400Mi (+56.3 %): VPA target 400Mi [VPA bounds 50Mi–8Gi, uncapped target 400Mi]; because it differs by 56.3 % (tolerance 20 %)

--- a/deploy/values/prod-media.yaml
+++ b/deploy/values/prod-media.yaml
@@ -5,5 +5,5 @@
         image: { repository: ghcr.io/home-operations/sonarr, tag: 4.0.11 }
         resources:
           requests:
-            cpu: 100m
-            memory: 256Mi
+            cpu: 300m
+            memory: 400Mi`);
  });

  it("edits nothing here for values files of a GitRepository that is another repository", async () => {
    const served = await serveSonarr();
    const output = await served.plan(
      files("{}", {
        "clusters/home/flux-system/gotk-sync.yaml": sync("https://github.com/example/apps"),
        "clusters/home/apps/sonarr/helmrelease.yaml": release("apps"),
        "deploy/values/prod-media.yaml": values,
      }),
    );
    expect(resourceProposals(output)).toEqual([]);
    expect(notesOf(output, "deployment/media/sonarr")).toEqual([
      "warning: container app: clusters/home/apps/sonarr/helmrelease.yaml: HelmRelease sonarr also takes values from ./deploy/values/prod-media.yaml (spec.chart.spec.valuesFiles), which is a file of GitRepository apps (https://github.com/example/apps), another repository (nothing here changes it), and may set these resources; an edit of spec.values would be decided without them; set rightsizing.targets for media/sonarr to choose",
    ]);
  });
});

describe("a GitRepository told from this repository by the checkout's remote", () => {
  // Hand-written: a repo of apps alone (its Flux Kustomizations live in another repository),
  // whose HelmRelease takes its chart and values from GitRepository `apps`.
  const source = gitRepository("apps", "https://github.com/example/apps");
  const release = sonarrRelease("apps", ["./media/sonarr/values.yaml"]);
  const values = requestsValues("100m", "256Mi");
  const planWithRemote = async (remote: string) => {
    const served = await serveForTest(sonarrObjects());
    const dir = mkdtempSync(join(tmpdir(), "pr-autoscaler-remote-"));
    try {
      committedRepo(
        dir,
        files("{}", {
          "flux/sources/apps.yaml": source,
          "media/sonarr/helmrelease.yaml": release,
          "media/sonarr/values.yaml": values,
        }),
      );
      execFileSync("git", ["-C", dir, "remote", "add", "origin", remote], { stdio: "pipe" });
      return await served.planRepo(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it("edits the values file when the remote is the GitRepository's URL", async () => {
    const output = await planWithRemote("git@github.com:example/apps.git");
    expect(
      resourceProposals(output).flatMap((proposal) =>
        proposal.changes.map((change) => `${change.file} ${change.path}`),
      ),
    ).toEqual([
      "media/sonarr/values.yaml controllers.main.containers.app.resources.requests.cpu",
      "media/sonarr/values.yaml controllers.main.containers.app.resources.requests.memory",
    ]);
  });

  it("edits nothing when the remote is another repository, and says so", async () => {
    const output = await planWithRemote("https://github.com/example/home-ops.git");
    expect(resourceProposals(output)).toEqual([]);
    expect(notesOf(output, "deployment/media/sonarr")).toEqual([
      "warning: container app: media/sonarr/helmrelease.yaml: HelmRelease sonarr takes its values from ./media/sonarr/values.yaml (spec.chart.spec.valuesFiles), which is a file of GitRepository apps (https://github.com/example/apps), another repository (nothing here changes it); media/sonarr/values.yaml: HelmRelease sonarr (media/sonarr/helmrelease.yaml) takes its values from ./media/sonarr/values.yaml (spec.chart.spec.valuesFiles) of GitRepository apps (https://github.com/example/apps), another repository: this repo's file at that path is not it, and an edit of it would change nothing the release reads; set rightsizing.targets for media/sonarr to choose",
    ]);
  });
});
