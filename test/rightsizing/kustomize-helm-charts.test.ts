import { describe, expect, it } from "@jest/globals";
import type { RepoFile } from "../../src/rightsizing/repo-files.ts";
import type { WorkloadId } from "../../src/rightsizing/resources-proposal.ts";
import { locate, parses, plan, replacedAfter, textOf, vpaFor, withText } from "./repo-variants.ts";
import { fixtureRepo, replaced } from "./rightsizing-helpers.ts";

const DIR = "infrastructure/controllers/goldilocks";
const KS = `${DIR}/kustomization.yaml`;
const VALUES = `${DIR}/values.yaml`;
const files = fixtureRepo("real/goldilocks");

/** The Deployment the fairwinds goldilocks chart names `<release>-controller`, container `goldilocks`. */
const controller: WorkloadId = {
  namespace: "goldilocks",
  kind: "Deployment",
  name: "goldilocks-controller",
};
const controllerVpa = () => vpaFor("piped-frontend.yaml", controller, ["goldilocks"]);

/** The fixture's helmCharts entry with more fields after `valuesFile: values.yaml`. */
function withEntry(lines: string, base: RepoFile[] = files): RepoFile[] {
  return withText(base, KS, (text) =>
    replaced(text, "    valuesFile: values.yaml\n", `    valuesFile: values.yaml\n${lines}`),
  );
}

const INLINE_RESOURCES = `    valuesInline:
      controller:
        resources:
          requests:
            cpu: 50m
            memory: 192Mi
          limits:
            cpu: 100m
            memory: 256Mi
`;

describe("kustomize helmCharts: the values of a chart kustomize renders", () => {
  it("reads valuesFile as the release's values, in the kustomization's namespace", () => {
    expect(locate(files, controller, "goldilocks")).toEqual({
      ok: true,
      location: {
        file: VALUES,
        document: 0,
        path: "controller.resources",
        confidence: "likely",
        how: `${VALUES} (helmCharts[0].valuesFile of ${KS}, release goldilocks) (namespace goldilocks from ${KS}), controller.resources`,
      },
    });
    // The chart's workloads are in the kustomization's namespace, not another.
    expect(locate(files, { ...controller, namespace: "default" }, "goldilocks")).toMatchObject({
      ok: false,
      problem: "not-found",
    });
  });

  it("finds a values file whose name says nothing of the release", () => {
    const moved = withText(
      files.map((file) =>
        file.path === VALUES ? { path: `${DIR}/settings.yaml`, text: file.text } : file,
      ),
      KS,
      (text) => replaced(text, "valuesFile: values.yaml", "valuesFile: ./settings.yaml"),
    );
    expect(locate(moved, controller, "goldilocks")).toMatchObject({
      ok: true,
      location: { file: `${DIR}/settings.yaml`, path: "controller.resources" },
    });
  });

  it("edits valuesInline where it sets the resources, as kustomize puts it over valuesFile", () => {
    const inline = withEntry(INLINE_RESOURCES);
    const result = plan(inline, [controllerVpa()]);
    expect(result.notes).toEqual([]);
    const [proposal] = result.proposals;
    const before = textOf(inline, KS);
    expect(proposal?.edits.map((edit) => edit.file)).toEqual([KS]);
    const after = proposal?.edits[0]?.after ?? "";
    let expected = replacedAfter(before, "valuesInline:", "cpu: 50m", "cpu: 70m");
    expected = replacedAfter(expected, "valuesInline:", "memory: 192Mi", "memory: 272Mi");
    expected = replacedAfter(expected, "valuesInline:", "memory: 256Mi", "memory: 272Mi");
    expect(after).toBe(expected);
    expect(proposal?.changes.map((change) => change.path)).toEqual([
      "helmCharts[0].valuesInline.controller.resources.requests.cpu",
      "helmCharts[0].valuesInline.controller.resources.requests.memory",
      "helmCharts[0].valuesInline.controller.resources.limits.memory",
    ]);
    parses(after);
  });

  it("follows valuesMerge: merge puts the file over valuesInline, replace leaves the file out", () => {
    const merge = plan(withEntry(`${INLINE_RESOURCES}    valuesMerge: merge\n`), [controllerVpa()]);
    expect(merge.proposals[0]?.edits.map((edit) => edit.file)).toEqual([VALUES]);
    // Without valuesInline, the values file is the release's even with replace.
    const replace = withEntry(`${INLINE_RESOURCES}    valuesMerge: replace\n`);
    expect(plan(replace, [controllerVpa()]).proposals[0]?.edits.map((edit) => edit.file)).toEqual([
      KS,
    ]);
    const onlyFile = withEntry("    valuesMerge: replace\n");
    expect(locate(onlyFile, controller, "goldilocks")).toMatchObject({
      ok: true,
      location: { file: VALUES },
    });
  });

  it("holds valuesInline back when a limit it does not set comes from valuesFile", () => {
    const requestsOnly = withEntry(
      "    valuesInline:\n      controller:\n        resources:\n          requests:\n            cpu: 50m\n",
    );
    const result = plan(requestsOnly, [controllerVpa()]);
    expect(result.proposals).toEqual([]);
    expect(result.notes).toEqual([
      expect.objectContaining({
        level: "warning",
        message: expect.stringContaining(
          `${VALUES} also sets requests.memory, limits.cpu, limits.memory of these resources, which ${KS} helmCharts[0].valuesInline does not`,
        ),
      }),
    ]);
  });

  it("edits the last additionalValuesFiles entry that sets the resources, as Helm reads it last", () => {
    const overrides = `${DIR}/overrides.yaml`;
    const extra = [
      ...withEntry(`${INLINE_RESOURCES}    additionalValuesFiles:\n      - overrides.yaml\n`),
      {
        path: overrides,
        text: "controller:\n  resources:\n    requests:\n      cpu: 40m\n      memory: 160Mi\n    limits:\n      cpu: 100m\n      memory: 256Mi\n",
      },
    ];
    const [proposal] = plan(extra, [controllerVpa()]).proposals;
    expect(proposal?.edits.map((edit) => edit.file)).toEqual([overrides]);
    const before = textOf(extra, overrides);
    let expected = replaced(before, "cpu: 40m", "cpu: 70m");
    expected = replaced(expected, "memory: 160Mi", "memory: 272Mi");
    expected = replaced(expected, "memory: 256Mi", "memory: 272Mi");
    expect(proposal?.edits[0]?.after).toBe(expected);
  });

  it("edits nothing a kustomize patch of the rendered workload, or values outside the repo, may override", () => {
    const patched = withText(
      withEntry("", [
        ...files,
        {
          path: `${DIR}/controller-resources.yaml`,
          text: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: goldilocks-controller\nspec:\n  template:\n    spec:\n      containers:\n        - name: goldilocks\n          resources:\n            limits:\n              memory: 512Mi\n",
        },
      ]),
      KS,
      (text) => `${text}patches:\n  - path: controller-resources.yaml\n`,
    );
    const result = plan(patched, [controllerVpa()]);
    expect(result.proposals).toEqual([]);
    expect(result.notes).toEqual([
      expect.objectContaining({
        level: "warning",
        message: expect.stringContaining(
          `${DIR}/controller-resources.yaml in ${KS} patches Deployment goldilocks-controller, which the chart renders`,
        ),
      }),
    ]);
    const remote = withEntry(
      "    additionalValuesFiles:\n      - https://example.com/values.yaml\n",
    );
    expect(locate(remote, controller, "goldilocks")).toMatchObject({
      ok: false,
      problem: "not-editable",
      message: expect.stringContaining(
        "helmCharts[0] takes values from https://example.com/values.yaml, which is not in the repo",
      ),
    });
  });

  it("gives the chart the entry's namespace when no kustomization sets one; without a release name, no match", () => {
    const noNamespace = withText(files, KS, (text) =>
      replaced(text, "namespace: goldilocks\n\n", "\n"),
    );
    expect(locate(noNamespace, controller, "goldilocks")).toMatchObject({
      ok: true,
      location: { how: expect.stringContaining(`(namespace goldilocks from ${KS})`) },
    });
    const moved = withText(noNamespace, KS, (text) =>
      replaced(text, "    namespace: goldilocks\n", "    namespace: vpa\n"),
    );
    expect(locate(moved, controller, "goldilocks")).toMatchObject({ ok: false });
    const unnamed = withText(files, KS, (text) =>
      replaced(text, "    releaseName: goldilocks\n", ""),
    );
    expect(locate(unnamed, controller, "goldilocks")).toMatchObject({
      ok: false,
      problem: "not-found",
    });
  });
});
