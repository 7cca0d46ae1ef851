import { describe, expect, it } from "@jest/globals";
import type { WorkloadId } from "../../src/rightsizing/resources-proposal.ts";
import {
  addedLines,
  locate,
  parses,
  plan,
  replacedAfter,
  textOf,
  vpaFor,
  withText,
} from "./repo-variants.ts";
import { fixtureRepo, fixtureVpa, replaced } from "./rightsizing-helpers.ts";

const statefulSet = (namespace: string, name: string): WorkloadId => ({
  namespace,
  kind: "StatefulSet",
  name,
});
const deployment = (namespace: string, name: string): WorkloadId => ({
  namespace,
  kind: "Deployment",
  name,
});

describe("bjw-s-labs piped: app-template v3, several controllers, namespace from a Flux Kustomization", () => {
  const files = fixtureRepo("real/piped");
  const HR = "kubernetes/apps/media/piped/app/helmrelease.yaml";

  it("maps each controller's Deployment <release>-<controller> to its own container", () => {
    expect(locate(files, deployment("media", "piped-frontend"), "app")).toEqual({
      ok: true,
      location: {
        file: HR,
        document: 0,
        path: "spec.values.controllers.frontend.containers.app.resources",
        confidence: "exact",
        how: "HelmRelease piped (namespace media from kubernetes/apps/media/piped/ks.yaml), controllers.frontend.containers.app",
      },
    });
    expect(locate(files, deployment("media", "piped-backend"), "app")).toMatchObject({
      ok: true,
      location: { path: "spec.values.controllers.backend.containers.app.resources" },
    });
    // With several controllers no Deployment is named after the release alone.
    expect(locate(files, deployment("media", "piped"), "app")).toMatchObject({
      ok: false,
      problem: "not-found",
    });
    // The CronJob controller is no Deployment.
    expect(locate(files, deployment("media", "piped-update-subscriptions"), "app")).toMatchObject({
      ok: false,
      problem: "not-found",
    });
  });

  it("edits only the frontend's lines; the file still parses", () => {
    const result = plan(files, [fixtureVpa("piped-frontend.yaml")]);
    expect(result.notes).toEqual([]);
    const [proposal] = result.proposals;
    const before = textOf(files, HR);
    let expected = replacedAfter(before, "      frontend:\n", "cpu: 10m", "cpu: 70m");
    expected = replacedAfter(expected, "      frontend:\n", "memory: 32Mi", "memory: 272Mi");
    expected = replacedAfter(expected, "      frontend:\n", "memory: 256Mi", "memory: 272Mi");
    expect(proposal?.edits).toEqual([{ file: HR, before, after: expected }]);
    parses(expected);
  });

  it("refuses to edit resources shared through an anchor, from either side", () => {
    const anchored = withText(files, HR, (text) =>
      replacedAfter(
        replacedAfter(
          text,
          "      backend:\n",
          "            resources:\n",
          "            resources: &resources\n",
        ),
        "      frontend:\n",
        "            resources:\n              requests:\n                cpu: 10m\n                memory: 32Mi\n              limits:\n                memory: 256Mi\n",
        "            resources: *resources\n",
      ),
    );
    const frontend = plan(anchored, [fixtureVpa("piped-frontend.yaml")]);
    expect(frontend.proposals).toEqual([]);
    expect(frontend.notes).toEqual([
      expect.objectContaining({
        level: "warning",
        subject: "deployment/media/piped-frontend",
        message: expect.stringContaining("alias (*resources)"),
      }),
    ]);
    const backend = plan(anchored, [
      vpaFor("piped-frontend.yaml", {
        namespace: "media",
        kind: "Deployment",
        name: "piped-backend",
      }),
    ]);
    expect(backend.proposals).toEqual([]);
    expect(backend.notes).toEqual([
      expect.objectContaining({
        level: "warning",
        message: expect.stringContaining("the anchor &resources"),
      }),
    ]);
  });
});

describe("onedr0p bazarr and changedetection: app-template v1 (one controller, sidecars)", () => {
  const bazarr = fixtureRepo("real/bazarr");
  const HR = "kubernetes/apps/default/bazarr/app/helmrelease.yaml";

  it("finds the main container at top-level resources and a sidecar under sidecars.<name>", () => {
    expect(locate(bazarr, statefulSet("default", "bazarr"), "bazarr", 2)).toMatchObject({
      ok: true,
      location: { file: HR, path: "spec.values.resources", confidence: "likely" },
    });
    expect(locate(bazarr, statefulSet("default", "bazarr"), "subcleaner", 2)).toMatchObject({
      ok: true,
      location: { file: HR, path: "spec.values.sidecars.subcleaner.resources" },
    });
  });

  it("changes the main container's values in place and adds the sidecar's resources; nothing else moves", () => {
    const result = plan(bazarr, [fixtureVpa("bazarr.yaml")]);
    const [proposal] = result.proposals;
    const edit = proposal?.edits[0];
    expect(edit?.file).toBe(HR);
    const before = textOf(bazarr, HR);
    const after = edit?.after ?? "";
    parses(after);
    // 250Mi is within the VPA bounds and 8.8 % from 272Mi: the main container's memory stays.
    const inPlace = replacedAfter(before, "    resources:\n", "cpu: 10m", "cpu: 70m");
    expect(addedLines(inPlace, after)).toEqual([
      "        resources:",
      "          requests:",
      "            cpu: 70m",
      "            memory: 272Mi",
    ]);
  });

  it("a kustomize patch of the HelmRelease that sets the same resources holds the base back", () => {
    const APP = "kubernetes/apps/default/bazarr/app";
    const patched = [
      ...withText(bazarr, `${APP}/kustomization.yaml`, (text) =>
        text.replace(
          "  - ./volsync.yaml\n",
          "  - ./volsync.yaml\npatches:\n  - path: ./resources.yaml\n",
        ),
      ),
      {
        path: `${APP}/resources.yaml`,
        text: [
          "apiVersion: helm.toolkit.fluxcd.io/v2beta1",
          "kind: HelmRelease",
          "metadata:",
          "  name: bazarr",
          "spec:",
          "  values:",
          "    resources:",
          "      requests:",
          "        memory: 512Mi",
          "",
        ].join("\n"),
      },
    ];
    const result = locate(patched, statefulSet("default", "bazarr"), "bazarr", 2);
    expect(result).toMatchObject({ ok: false, problem: "not-editable" });
    if (result.ok) return;
    expect(result.message).toContain(`${APP}/resources.yaml`);
    // The sidecar's resources are set by the base alone: still found there.
    expect(locate(patched, statefulSet("default", "bazarr"), "subcleaner", 2)).toMatchObject({
      ok: true,
      location: { file: HR, path: "spec.values.sidecars.subcleaner.resources" },
    });
  });

  it("a container no values name (a sidecar added by a patch elsewhere) is not found, not guessed", () => {
    const files = fixtureRepo("real/changedetection");
    const workload = statefulSet("default", "changedetection");
    expect(locate(files, workload, "changedetection", 2)).toMatchObject({
      ok: true,
      location: { path: "spec.values.resources" },
    });
    expect(locate(files, workload, "browser", 2)).toMatchObject({
      ok: false,
      problem: "not-found",
    });
  });
});

describe("khuedoan headscale: a plain StatefulSet under kustomize", () => {
  const all = fixtureRepo("real/headscale");
  const base = all.filter((file) => !file.path.startsWith("overlays/"));
  const FILE = "apps/headscale/statefulset.yaml";

  it("adds resources to the container that has none, leaving every other line", () => {
    expect(locate(base, statefulSet("vpn", "headscale"), "headscale")).toMatchObject({
      ok: true,
      location: {
        file: FILE,
        path: "spec.template.spec.containers[name=headscale].resources",
        confidence: "likely",
      },
    });
    const result = plan(base, [fixtureVpa("headscale.yaml")]);
    const after = result.proposals[0]?.edits[0]?.after ?? "";
    parses(after);
    expect(addedLines(textOf(base, FILE), after)).toEqual([
      "          resources:",
      "            requests:",
      "              cpu: 70m",
      "              memory: 272Mi",
    ]);
  });

  it("a JSON 6902 patch that sets the resources holds the StatefulSet back, with a note", () => {
    const result = locate(all, statefulSet("vpn", "headscale"), "headscale");
    expect(result).toMatchObject({ ok: false, problem: "not-editable" });
    if (result.ok) return;
    expect(result.message).toBe(
      "apps/headscale/statefulset.yaml: the JSON 6902 patch overlays/homelab/resources.yaml in overlays/homelab/kustomization.yaml patches StatefulSet headscale and may set its resources; such patches are not edited",
    );
    const planned = plan(all, [fixtureVpa("headscale.yaml")]);
    expect(planned.proposals).toEqual([]);
    expect(planned.notes).toEqual([
      expect.objectContaining({ level: "warning", subject: "statefulset/vpn/headscale" }),
    ]);
  });

  it("an inline JSON 6902 patch does the same; one that leaves resources alone does not", () => {
    const KUST = "overlays/homelab/kustomization.yaml";
    const inline = (op: string) =>
      withText(all, KUST, (text) =>
        replaced(
          text,
          "  - path: resources.yaml\n",
          `  - patch: |-\n      - op: replace\n        path: ${op}\n        value: 2\n`,
        ),
      ).filter((file) => file.path !== "overlays/homelab/resources.yaml");
    expect(
      locate(
        inline("/spec/template/spec/containers/0/resources/requests/cpu"),
        statefulSet("vpn", "headscale"),
        "headscale",
      ),
    ).toMatchObject({ ok: false, problem: "not-editable" });
    expect(
      locate(inline("/spec/replicas"), statefulSet("vpn", "headscale"), "headscale"),
    ).toMatchObject({
      ok: true,
      location: { file: FILE },
    });
  });
});

describe("Argo CD Application with helm.values as a YAML string", () => {
  const files = fixtureRepo("real/argocd-string-values");
  const FILE = "apps/gitea.yaml";

  it("is reported, not edited: text inside a string is never rewritten", () => {
    const result = locate(files, statefulSet("gitea", "gitea"), "gitea");
    expect(result).toMatchObject({ ok: false, problem: "not-editable" });
    if (result.ok) return;
    expect(result.message).toContain(
      "gives its Helm values as a YAML string (spec.source.helm.values: |)",
    );
    const planned = plan(files, [fixtureVpa("gitea.yaml")]);
    expect(planned.proposals).toEqual([]);
    expect(planned.notes).toEqual([
      expect.objectContaining({ level: "warning", subject: "statefulset/gitea/gitea" }),
    ]);
  });

  it("the same values as valuesObject are edited in place", () => {
    const object = withText(files, FILE, (text) => replaced(text, "values: |", "valuesObject:"));
    expect(locate(object, statefulSet("gitea", "gitea"), "gitea")).toMatchObject({
      ok: true,
      location: { path: "spec.source.helm.valuesObject.resources" },
    });
    const planned = plan(object, [fixtureVpa("gitea.yaml")]);
    const edit = planned.proposals[0]?.edits[0];
    const before = textOf(object, FILE);
    expect(edit?.after).toBe(
      replaced(replaced(before, "cpu: 500m", "cpu: 70m"), "memory: 1Gi", "memory: 272Mi"),
    );
  });

  it("valuesObject over a values string that limits memory is not edited: the limit would be missed", () => {
    // The string keeps a 256Mi limit; valuesObject sets the requests over it. Raising the
    // memory request in valuesObject past 256Mi would give pods a request above their limit.
    const layered = withText(files, FILE, (text) =>
      replaced(
        replaced(
          text,
          "            cpu: 500m\n            memory: 1Gi\n",
          "            memory: 1Gi\n",
        ),
        "        resources:\n          requests:\n",
        "        resources:\n          limits:\n            memory: 256Mi\n          requests:\n",
      ).replace(
        "  project: default\n",
        "      valuesObject:\n        resources:\n          requests:\n            cpu: 100m\n            memory: 128Mi\n  project: default\n",
      ),
    );
    const result = locate(layered, statefulSet("gitea", "gitea"), "gitea");
    expect(result).toMatchObject({ ok: false, problem: "not-editable" });
    if (result.ok) return;
    expect(result.message).toBe(
      "apps/gitea.yaml: the string spec.source.helm.values also sets limits.memory of these resources, which spec.source.helm.valuesObject does not: an edit of one would be decided without the other; set them in one place",
    );
    expect(plan(layered, [fixtureVpa("gitea.yaml")]).proposals).toEqual([]);
  });

  it("valuesObject under a Helm parameter of the same resources is not edited: Argo CD applies the parameter over it", () => {
    const object = withText(files, FILE, (text) => replaced(text, "values: |", "valuesObject:"));
    const withParameter = (name: string) =>
      withText(object, FILE, (text) =>
        replaced(
          text,
          "      valuesObject:\n",
          `      parameters:\n        - name: ${name}\n          value: 512Mi\n      valuesObject:\n`,
        ),
      );
    for (const name of ["resources.limits.memory", "resources"]) {
      const result = locate(withParameter(name), statefulSet("gitea", "gitea"), "gitea");
      expect(result).toMatchObject({ ok: false, problem: "not-editable" });
      if (result.ok) continue;
      expect(result.message).toContain(
        `Application gitea sets the Helm parameter ${name} (spec.source.helm.parameters), which Argo CD applies over helm.valuesObject`,
      );
    }
    // A parameter elsewhere in the values changes nothing here.
    expect(
      locate(withParameter("resourcesPreset"), statefulSet("gitea", "gitea"), "gitea"),
    ).toMatchObject({ ok: true, location: { path: "spec.source.helm.valuesObject.resources" } });
  });
});

describe("Flux valuesFrom: values in a ConfigMap that kustomize generates from values.yaml", () => {
  const files = fixtureRepo("real/values-from");
  const APP = "kubernetes/apps/media/piped/app";

  it("follows valuesFrom to the generated file and edits it there", () => {
    expect(locate(files, deployment("media", "piped-frontend"), "app")).toEqual({
      ok: true,
      location: {
        file: `${APP}/values.yaml`,
        document: 0,
        path: "controllers.frontend.containers.app.resources",
        confidence: "exact",
        how: `${APP}/values.yaml (valuesFrom ConfigMap piped-values of HelmRelease piped) (namespace media from kubernetes/apps/media/piped/ks.yaml), controllers.frontend.containers.app`,
      },
    });
    const planned = plan(files, [fixtureVpa("piped-frontend.yaml")]);
    expect(planned.proposals[0]?.edits.map((edit) => edit.file)).toEqual([`${APP}/values.yaml`]);
  });

  it("inline spec.values that set the resources win over valuesFrom", () => {
    const inline = withText(
      files,
      `${APP}/helmrelease.yaml`,
      (text) =>
        `${text}  values:\n    controllers:\n      frontend:\n        containers:\n          app:\n            resources:\n              requests:\n                cpu: 20m\n                memory: 64Mi\n              limits:\n                memory: 512Mi\n`,
    );
    expect(locate(inline, deployment("media", "piped-frontend"), "app")).toMatchObject({
      ok: true,
      location: {
        file: `${APP}/helmrelease.yaml`,
        path: "spec.values.controllers.frontend.containers.app.resources",
      },
    });
  });

  it("values from a Secret or a ConfigMap made elsewhere may set them: a note, no edit", () => {
    for (const source of [
      (text: string) => replaced(text, "kind: ConfigMap", "kind: Secret"),
      (text: string) => replaced(text, "name: piped-values", "name: piped-settings"),
    ]) {
      const changed = withText(files, `${APP}/helmrelease.yaml`, source);
      const result = locate(changed, deployment("media", "piped-frontend"), "app");
      expect(result).toMatchObject({ ok: false, problem: "not-editable" });
      if (result.ok) continue;
      expect(result.message).toContain("(valuesFrom), which is not a values file in the repo");
    }
  });

  it("the chart's valuesFiles lie under valuesFrom: a limit only they set holds the edit", () => {
    // Flux merges spec.chart.spec.valuesFiles into the chart's values, under valuesFrom; with a
    // GitRepository source their paths are from its root.
    const withFiles = (sourceKind: string) =>
      withText(files, `${APP}/helmrelease.yaml`, (text) =>
        replaced(
          replaced(text, "kind: HelmRepository", `kind: ${sourceKind}`),
          "      interval: 30m\n",
          `      interval: 30m\n      valuesFiles:\n        - ./${APP}/defaults.yaml\n`,
        ),
      ).concat([
        {
          path: `${APP}/defaults.yaml`,
          text: "controllers:\n  frontend:\n    containers:\n      app:\n        resources:\n          limits:\n            cpu: 200m\n",
        },
      ]);
    const held = locate(withFiles("GitRepository"), deployment("media", "piped-frontend"), "app");
    expect(held).toMatchObject({ ok: false, problem: "not-editable" });
    if (!held.ok)
      expect(held.message).toBe(
        `${APP}/values.yaml: ${APP}/defaults.yaml also sets limits.cpu of these resources, which ${APP}/values.yaml does not: an edit of one would be decided without the other; set them in one place`,
      );
    // From a Helm repository the path is inside the chart: not this file, and not read.
    const unread = locate(
      withFiles("HelmRepository"),
      deployment("media", "piped-frontend"),
      "app",
    );
    expect(unread).toMatchObject({ ok: false, problem: "not-editable" });
    if (!unread.ok)
      expect(unread.message).toContain(
        `HelmRelease piped also takes values from ./${APP}/defaults.yaml (spec.chart.spec.valuesFiles), which is not a values file in the repo and may set these resources`,
      );
  });

  it("a ConfigMap written as a manifest in the repo is named, with why its values are not edited", () => {
    // The values moved from configMapGenerator into a ConfigMap manifest: text in a string.
    const values = textOf(files, `${APP}/values.yaml`);
    const manifest = [
      "apiVersion: v1",
      "kind: ConfigMap",
      "metadata:",
      "  name: piped-values",
      "data:",
      "  values.yaml: |",
      ...values.split("\n").map((line) => (line === "" ? "" : `    ${line}`)),
    ].join("\n");
    const changed = withText(
      withText(files, `${APP}/kustomization.yaml`, (text) =>
        replaced(
          replaced(
            text,
            "  - ./helmrelease.yaml\n",
            "  - ./helmrelease.yaml\n  - ./configmap.yaml\n",
          ),
          "configMapGenerator:\n  - name: piped-values\n    files:\n      - values.yaml=./values.yaml\n",
          "",
        ),
      ),
      `${APP}/values.yaml`,
      () => "",
    ).concat([{ path: `${APP}/configmap.yaml`, text: manifest }]);
    const result = locate(changed, deployment("media", "piped-frontend"), "app");
    expect(result).toMatchObject({ ok: false, problem: "not-editable" });
    if (result.ok) return;
    expect(result.message).toContain(
      `HelmRelease piped also takes values from ConfigMap piped-values (its values are text in a string in ${APP}/configmap.yaml, which is not edited) (valuesFrom)`,
    );
  });
});

describe("values with Helm templates", () => {
  const files = fixtureRepo("real/templated");

  it("a templated value in the resources leaves the whole container alone", () => {
    expect(locate(files, deployment("web", "whoami"), "whoami")).toMatchObject({
      ok: true,
      location: { path: "resources" },
    });
    const planned = plan(
      files,
      [vpaFor("headscale.yaml", { namespace: "web", kind: "Deployment", name: "whoami" })].map(
        (vpa) => ({
          ...vpa,
          recommendations: vpa.recommendations.map((r) => ({ ...r, containerName: "whoami" })),
        }),
      ),
    );
    expect(planned.proposals).toEqual([]);
    expect(planned.notes).toEqual([
      expect.objectContaining({
        level: "info",
        message: expect.stringContaining("holds a template"),
      }),
    ]);
  });

  it("a values file that is not YAML is named in the note when nothing else is found", () => {
    const broken = withText(files, "apps/whoami/values.yaml", (text) =>
      replaced(text, '{{ .Values.cpu | default "100m" }}', "{{ .Values.cpu }}m"),
    );
    const result = locate(broken, deployment("web", "whoami"), "whoami");
    expect(result).toMatchObject({ ok: false, problem: "not-found" });
    if (result.ok) return;
    expect(result.message).toContain(
      "apps/whoami/values.yaml may, but it is not YAML that can be read",
    );
  });
});

describe("valuesFrom and inline values that both set the resources", () => {
  const files = fixtureRepo("real/values-from");
  const APP = "kubernetes/apps/media/piped/app";
  const withInline = (resources: string) =>
    withText(
      files,
      `${APP}/helmrelease.yaml`,
      (text) =>
        `${text}  values:\n    controllers:\n      frontend:\n        containers:\n          app:\n            resources:\n${resources}`,
    );

  it("inline values that leave a limit to the values file are not edited: the limit would be missed", () => {
    // values.yaml limits memory to 256Mi; a 272Mi request written inline would exceed it.
    const partial = withInline("              requests:\n                cpu: 20m\n");
    const result = locate(partial, deployment("media", "piped-frontend"), "app");
    expect(result).toMatchObject({ ok: false, problem: "not-editable" });
    if (result.ok) return;
    expect(result.message).toContain("limits.memory");
    const planned = plan(partial, [fixtureVpa("piped-frontend.yaml")]);
    expect(planned.proposals).toEqual([]);
  });

  it("inline values that set everything the values file sets are edited, and win", () => {
    const full = withInline(
      "              requests:\n                cpu: 20m\n                memory: 32Mi\n              limits:\n                memory: 256Mi\n",
    );
    const planned = plan(full, [fixtureVpa("piped-frontend.yaml")]);
    expect(planned.proposals[0]?.edits.map((edit) => edit.file)).toEqual([
      `${APP}/helmrelease.yaml`,
    ]);
  });

  it("two values files that each set part of the resources: the later one is not edited alone", () => {
    const KUST = `${APP}/kustomization.yaml`;
    const split = withText(
      withText(
        withText(files, KUST, (text) =>
          replaced(
            text,
            "      - values.yaml=./values.yaml\n",
            "      - values.yaml=./values.yaml\n  - name: piped-overrides\n    files:\n      - values.yaml=./overrides.yaml\n",
          ),
        ),
        `${APP}/helmrelease.yaml`,
        (text) => `${text}    - kind: ConfigMap\n      name: piped-overrides\n`,
      ),
      `${APP}/values.yaml`,
      (text) => text,
    ).concat({
      path: `${APP}/overrides.yaml`,
      text: "controllers:\n  frontend:\n    containers:\n      app:\n        resources:\n          requests:\n            cpu: 20m\n",
    });
    const result = locate(split, deployment("media", "piped-frontend"), "app");
    expect(result).toMatchObject({ ok: false, problem: "not-editable" });
  });
});

describe("a values file that is not the workload's alone", () => {
  const files = fixtureRepo("real/values-from");
  const APP = "kubernetes/apps/media/piped/app";

  it("a generated values file that two HelmReleases read is not edited for one of them", () => {
    const shared = withText(files, `${APP}/kustomization.yaml`, (text) =>
      replaced(text, "  - ./helmrelease.yaml\n", "  - ./helmrelease.yaml\n  - ./canary.yaml\n"),
    ).concat({
      path: `${APP}/canary.yaml`,
      text: replaced(textOf(files, `${APP}/helmrelease.yaml`), "name: piped\n", "name: canary\n"),
    });
    const result = locate(shared, deployment("media", "piped-frontend"), "app");
    expect(result).toMatchObject({ ok: false, problem: "not-editable" });
    if (result.ok) return;
    expect(result.message).toContain("HelmRelease canary");
    // Inline values that set them all are the canary's own: they are edited.
    const inline = withText(
      shared,
      `${APP}/helmrelease.yaml`,
      (text) =>
        `${text}  values:\n    controllers:\n      frontend:\n        containers:\n          app:\n            resources:\n              requests:\n                cpu: 20m\n                memory: 64Mi\n              limits:\n                memory: 512Mi\n`,
    );
    expect(locate(inline, deployment("media", "piped-frontend"), "app")).toMatchObject({
      ok: true,
      location: { file: `${APP}/helmrelease.yaml` },
    });
  });

  it("an overlay that regenerates the ConfigMap (behavior: replace) holds the base file back", () => {
    const overlay = files.concat(
      {
        path: "kubernetes/overlays/prod/kustomization.yaml",
        text: "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../apps/media/piped/app\nconfigMapGenerator:\n  - name: piped-values\n    behavior: replace\n    files:\n      - values.yaml=./piped-values.yaml\n",
      },
      {
        path: "kubernetes/overlays/prod/piped-values.yaml",
        text: "controllers:\n  frontend:\n    containers:\n      app:\n        resources:\n          requests:\n            cpu: 1\n",
      },
    );
    const result = locate(overlay, deployment("media", "piped-frontend"), "app");
    expect(result).toMatchObject({ ok: false, problem: "not-editable" });
  });
});

describe("kustomize patches the index cannot follow by name", () => {
  const all = fixtureRepo("real/headscale");
  const KUST = "overlays/homelab/kustomization.yaml";
  const PATCH = "overlays/homelab/resources.yaml";
  const smp = (name: string) =>
    `apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: ${name}\nspec:\n  template:\n    spec:\n      containers:\n        - name: headscale\n          resources:\n            requests:\n              cpu: 50m\n`;

  it("a strategic-merge file applied through a target, under another name, holds the base back", () => {
    const files = withText(all, PATCH, () => smp("not-used"));
    expect(locate(files, statefulSet("vpn", "headscale"), "headscale")).toMatchObject({
      ok: false,
      problem: "not-editable",
    });
  });

  it("a strategic-merge file with a target naming it by its own name is edited", () => {
    const files = withText(all, PATCH, () => smp("headscale"));
    expect(locate(files, statefulSet("vpn", "headscale"), "headscale")).toMatchObject({
      ok: true,
      location: { file: PATCH },
    });
  });

  it("a strategic-merge patch that leaves a limit to its base is not edited alone", () => {
    const base = withText(all, "apps/headscale/statefulset.yaml", (text) =>
      replaced(
        text,
        "          volumeMounts:\n",
        "          resources:\n            limits:\n              memory: 64Mi\n          volumeMounts:\n",
      ),
    );
    const files = withText(base, PATCH, () => smp("headscale"));
    const result = locate(files, statefulSet("vpn", "headscale"), "headscale");
    expect(result).toMatchObject({ ok: false, problem: "not-editable" });
    if (result.ok) return;
    expect(result.message).toContain("limits.memory");
  });

  it("a target chosen by a name pattern or a label selector holds the base back", () => {
    for (const target of [
      "    target:\n      kind: StatefulSet\n      name: head.*\n",
      "    target:\n      labelSelector: app=headscale\n",
    ]) {
      const files = withText(all, KUST, (text) =>
        replaced(text, "    target:\n      kind: StatefulSet\n      name: headscale\n", target),
      );
      expect(locate(files, statefulSet("vpn", "headscale"), "headscale")).toMatchObject({
        ok: false,
        problem: "not-editable",
      });
    }
  });
});

describe("Helm templates in the resources, in every form YAML reads them", () => {
  const files = fixtureRepo("real/templated");
  const vpa = [
    vpaFor("headscale.yaml", { namespace: "web", kind: "Deployment", name: "whoami" }),
  ].map((info) => ({
    ...info,
    recommendations: info.recommendations.map((r) => ({ ...r, containerName: "whoami" })),
  }));

  it("a variable, an include or a whole templated mapping is a template", () => {
    for (const template of ["{{ $cpu }}", '{{ include "cpu" . }}', "{{.Values.cpu}}"]) {
      const changed = withText(files, "apps/whoami/values.yaml", (text) =>
        replaced(text, '{{ .Values.cpu | default "100m" }}', template),
      );
      const planned = plan(changed, vpa);
      expect(planned.proposals).toEqual([]);
      expect(planned.notes).toEqual([
        expect.objectContaining({ message: expect.stringContaining("holds a template") }),
      ]);
    }
    const whole = withText(
      files,
      "apps/whoami/values.yaml",
      () => "resources: {{ toYaml .Values.resources | nindent 2 }}\n",
    );
    const planned = plan(whole, vpa);
    expect(planned.proposals).toEqual([]);
    expect(planned.notes).toEqual([
      expect.objectContaining({ message: expect.stringContaining("holds a template") }),
    ]);
  });

  it("a Flux post-build variable is a template", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Flux variables are written so
    for (const variable of ['"${WHOAMI_CPU}"', '"${WHOAMI_CPU:=100m}"', "${WHOAMI_CPU:-100m}"]) {
      const changed = withText(files, "apps/whoami/values.yaml", (text) =>
        replaced(text, '{{ .Values.cpu | default "100m" }}', variable),
      );
      const planned = plan(changed, vpa);
      expect(planned.proposals).toEqual([]);
      expect(planned.notes).toEqual([
        expect.objectContaining({
          message: expect.stringContaining("holds a template (${WHOAMI_CPU"),
        }),
      ]);
    }
  });

  it("a template elsewhere in the values does not hold the container back", () => {
    const changed = withText(
      files,
      "apps/whoami/values.yaml",
      () =>
        'ingress:\n  host: "{{ .Release.Name }}.example.com"\nresources:\n  requests:\n    cpu: 100m\n    memory: 64Mi\n',
    );
    const planned = plan(changed, vpa);
    expect(planned.proposals).toHaveLength(1);
  });
});
