/**
 * Right-sizing pull requests whose requests can no longer be judged, on the fake GitHub: values a
 * container of unknown needs reads too; a namespace's or the repository's pull request whose
 * workload cannot be located or is targeted by several VPAs, as its marker names it.
 */
import { describe, expect, it } from "@jest/globals";
import {
  readPullRequestMarker,
  replacePullRequestMarker,
  visibleBody,
} from "../../src/forge/marker.ts";
import type { Resources, Snapshot } from "../../src/planning/snapshot.ts";
import { workloadPod } from "../rightsizing/rightsizing-helpers.ts";
import { BOT_LOGIN } from "./support/fake-github.ts";
import { CONFIG_PATH, cluster, infraFiles, PLEX_FILE, WORKERS_POOL } from "./support/infra.ts";
import { type Scenario, scenario } from "./support/scenario.ts";

const RIGHTSIZE = `${WORKERS_POOL}rightsizing: {}
`;

describe("a right-sizing pull request whose values another container comes to read", () => {
  it("is kept open, saying the other container's needs are not known, not that the requests are right", async () => {
    const w = scenario({ files: infraFiles({ config: RIGHTSIZE }), cluster: cluster() });
    await w.run();
    const [pull] = w.github.openPulls();
    if (!pull) throw new Error("no pull request opened");
    const { number } = pull;
    const key = pull.branch.slice("pr-autoscaler/".length);

    // A transcoder, with no VPA, is given Plex's values by a target (as a second controller of
    // the same chart values would be).
    w.github.push({
      [CONFIG_PATH]: `${WORKERS_POOL}rightsizing:
  targets:
    - workload: media/plex-transcoder
      file: ${PLEX_FILE}
      path: spec.values.controllers.plex.containers.app.resources
`,
    });
    const snapshot = cluster();
    const transcoder = workloadPod("media/plex-transcoder", "plex-transcoder-5d9f8-abcde", {
      requests: { cpu: "2", memory: "4Gi" },
    });
    w.cluster = { ...snapshot, pods: [...snapshot.pods, transcoder] };
    const held = await w.run(undefined, ["push"]);
    expect(held.pullRequests).toEqual([
      {
        key,
        action: "left-alone",
        number,
        note: `kept open until the requests can be judged again: Deployment media/plex: container app: ${PLEX_FILE} spec.values.controllers.plex.containers.app.resources also sets the resources of Deployment media/plex-transcoder container app (it has no VPA), whose needs are not known`,
      },
    ]);
    expect(w.github.pull(number).state).toBe("open");

    // The transcoder gone, Plex's values are Plex's alone again: the change is still wanted, and
    // made again on the default branch the configuration moved.
    w.cluster = cluster();
    const back = await w.run();
    expect(back.pullRequests).toEqual([
      expect.objectContaining({ key, number, action: "rebuilt" }),
    ]);
  });
});

describe("a right-sizing pull request whose values a container right-sizing leaves out comes to read", () => {
  it("is closed, naming that container and the setting, not kept open for needs that stay unknown", async () => {
    const w = scenario({ files: infraFiles({ config: RIGHTSIZE }), cluster: cluster() });
    await w.run();
    const [pull] = w.github.openPulls();
    if (!pull) throw new Error("no pull request opened");
    const { number } = pull;
    const key = pull.branch.slice("pr-autoscaler/".length);

    // The transcoder reads Plex's values, and the configuration leaves it out on purpose.
    w.github.push({
      [CONFIG_PATH]: `${WORKERS_POOL}rightsizing:
  exclude: [media/plex-transcoder]
  targets:
    - workload: media/plex-transcoder
      file: ${PLEX_FILE}
      path: spec.values.controllers.plex.containers.app.resources
`,
    });
    const snapshot = cluster();
    const [plex] = snapshot.vpas;
    if (!plex) throw new Error("no Plex VPA");
    const transcoder = workloadPod("media/plex-transcoder", "plex-transcoder-5d9f8-abcde", {
      requests: { cpu: "2", memory: "4Gi" },
    });
    const transcoderVpa = {
      ...plex,
      name: "plex-transcoder",
      target: { ...plex.target, name: "plex-transcoder" },
    };
    w.cluster = {
      ...snapshot,
      pods: [...snapshot.pods, transcoder],
      vpas: [plex, transcoderVpa],
    };
    const closed = await w.run(undefined, ["push"]);
    expect(closed.pullRequests).toEqual([
      {
        key,
        action: "closed",
        number,
        note: `Right-sizing leaves Deployment media/plex (container app: ${PLEX_FILE} spec.values.controllers.plex.containers.app.resources also sets the resources of Deployment media/plex-transcoder container app (it is left alone: media/plex-transcoder is in rightsizing.exclude)) out now, so this change is not wanted any more.`,
      },
    ]);
    expect(w.github.pull(number).state).toBe("closed");
  });

  it("is closed likewise when that container's workload has no VPA: excluded, it stays so whether or not one comes", async () => {
    const w = scenario({ files: infraFiles({ config: RIGHTSIZE }), cluster: cluster() });
    await w.run();
    const [pull] = w.github.openPulls();
    if (!pull) throw new Error("no pull request opened");
    w.github.push({
      [CONFIG_PATH]: `${WORKERS_POOL}rightsizing:
  exclude: [media/plex-transcoder]
  targets:
    - workload: media/plex-transcoder
      file: ${PLEX_FILE}
      path: spec.values.controllers.plex.containers.app.resources
`,
    });
    const snapshot = cluster();
    const transcoder = workloadPod("media/plex-transcoder", "plex-transcoder-5d9f8-abcde", {
      requests: { cpu: "2", memory: "4Gi" },
    });
    w.cluster = { ...snapshot, pods: [...snapshot.pods, transcoder] };
    const closed = await w.run(undefined, ["push"]);
    expect(closed.pullRequests).toEqual([
      expect.objectContaining({
        action: "closed",
        number: pull.number,
        note: expect.stringContaining(
          "also sets the resources of Deployment media/plex-transcoder container app (it is left alone: media/plex-transcoder is in rightsizing.exclude)) out now",
        ),
      }),
    ]);
  });
});

/** Where Plex's HelmRelease and its Kustomization are; a second copy of them goes beside. */
const PLEX_APP = "kubernetes/apps/media/plex/app";
const PLEX_NEXT = "kubernetes/apps/media/plex-next/app";
const GUARD = "pr-autoscaler/plan-guard";
const DISABLE = "POST /graphql disablePullRequestAutoMerge";

/** Right-sizing with one pull request per namespace (or for the repo), merged once guarded. */
function grouped(group: "namespace" | "repo"): string {
  return `${WORKERS_POOL}rightsizing:
  group: ${group}
automerge:
  rules:
    - name: right-size
      match: { kind: resources }
      action: merge
      requiredChecks: [${GUARD}]
`;
}

/** The scenario with Plex's right-sizing open in its group's pull request, auto-merge on. */
async function groupedPlex(group: "namespace" | "repo"): Promise<{ w: Scenario; number: number }> {
  const w = scenario({ files: infraFiles({ config: grouped(group) }), cluster: cluster() });
  w.github.allowAutoMerge = true;
  w.github.requiredChecks.push(GUARD);
  await w.run();
  const [pull] = w.github.openPulls();
  if (!pull) throw new Error("no pull request opened");
  expect(pull.branch).toBe(
    group === "namespace" ? "pr-autoscaler/resources-media" : "pr-autoscaler/resources",
  );
  expect(pull.autoMerge).toEqual({ by: BOT_LOGIN, method: "squash" });
  expect(readPullRequestMarker(pull.body)?.workloads).toEqual(["media/Deployment/plex"]);
  return { w, number: pull.number };
}

/** A copy of Plex's app pushed beside it (a migration under way): discovery cannot choose. */
function copyPlex(w: Scenario): void {
  w.github.push({
    [`${PLEX_NEXT}/helmrelease.yaml`]: w.github.file(`${PLEX_APP}/helmrelease.yaml`) ?? null,
    [`${PLEX_NEXT}/kustomization.yaml`]: w.github.file(`${PLEX_APP}/kustomization.yaml`) ?? null,
  });
}

/** The cluster with a second VPA on Plex, as a person applying another chart's VPA makes one. */
function plexWithTwoVpas(): Snapshot {
  const snapshot = cluster();
  const [plex] = snapshot.vpas;
  if (!plex) throw new Error("no Plex VPA");
  return { ...snapshot, vpas: [plex, { ...plex, name: "plex-vpa" }] };
}

/** The cluster with Plex gone, its VPA saying so. */
function plexGone(): Snapshot {
  const [plex] = cluster().vpas;
  if (!plex) throw new Error("no Plex VPA");
  const condition = {
    type: "NoPodsMatched",
    status: "True" as const,
    message: "No pods match this VPA object",
  };
  return {
    ...cluster({ plex: false }),
    vpas: [{ ...plex, conditions: [...plex.conditions, condition] }],
  };
}

describe("a namespace's right-sizing pull request whose workload cannot be judged any more", () => {
  it("is kept open with the bot's auto-merge off while two HelmReleases may set Plex's resources; with one again, it is wanted", async () => {
    const { w, number } = await groupedPlex("namespace");
    copyPlex(w);
    w.github.reset();
    const held = await w.run(undefined, ["push"]);
    expect(held.proposals).toEqual([]);
    expect(held.pullRequests).toEqual([
      {
        key: "resources-media",
        action: "left-alone",
        number,
        note: expect.stringMatching(
          /^kept open until the requests can be judged again: Deployment media\/plex: container app: several files match exactly: /,
        ),
      },
    ]);
    expect(w.github.calls().filter((call) => call.startsWith("POST /graphql"))).toEqual([DISABLE]);
    expect(w.github.pull(number)).toMatchObject({ state: "open", autoMerge: null });
    expect(w.github.commentsOn(number)).toEqual([]);

    w.github.push({
      [`${PLEX_NEXT}/helmrelease.yaml`]: null,
      [`${PLEX_NEXT}/kustomization.yaml`]: null,
    });
    const back = await w.run(undefined, ["push"]);
    expect(back.pullRequests).toEqual([
      expect.objectContaining({ key: "resources-media", number, action: "rebuilt" }),
    ]);
  });

  it("is kept open while several VPAs target Plex, under group: repo", async () => {
    const { w, number } = await groupedPlex("repo");
    w.cluster = plexWithTwoVpas();
    const held = await w.run();
    expect(held.pullRequests).toEqual([
      {
        key: "resources",
        action: "left-alone",
        number,
        note: "kept open until the requests can be judged again: Deployment media/plex: several VPAs target it (plex, plex-vpa)",
      },
    ]);
    expect(w.github.pull(number)).toMatchObject({ state: "open", autoMerge: null });
  });

  it.each([
    ["nothing in the repo sets its resources", {}],
    ["its VPA has no recommendation yet", { recommendations: [], conditions: [] }],
  ])(
    "is closed when the workload left unjudged is not one it carries (%s)",
    async (_, sonarrVpa) => {
      const { w, number } = await groupedPlex("namespace");
      // Sonarr's VPA comes, and Sonarr cannot be judged; Plex is gone.
      const gone = plexGone();
      const [plex] = cluster().vpas;
      if (!plex) throw new Error("no Plex VPA");
      const sonarr = {
        ...plex,
        name: "sonarr",
        target: { ...plex.target, name: "sonarr" },
        ...sonarrVpa,
      };
      w.cluster = { ...gone, vpas: [...gone.vpas, sonarr] };
      const closed = await w.run();
      expect(closed.pullRequests).toEqual([
        expect.objectContaining({ key: "resources-media", action: "closed", number }),
      ]);
    },
  );

  it("is kept open while the VPA of the workload it carries has no recommendation", async () => {
    const { w, number } = await groupedPlex("namespace");
    const snapshot = cluster();
    w.cluster = {
      ...snapshot,
      vpas: snapshot.vpas.map((vpa) => ({ ...vpa, recommendations: [], conditions: [] })),
    };
    const held = await w.run();
    expect(held.pullRequests).toEqual([
      {
        key: "resources-media",
        action: "left-alone",
        number,
        note: "kept open until the requests can be judged again: Deployment media/plex: the VPA plex has no recommendation",
      },
    ]);
    expect(w.github.pull(number)).toMatchObject({ state: "open", autoMerge: null });
  });

  it("written before its marker named its workloads, is closed as then: only the VPA's recommendation counts", async () => {
    const { w, number } = await groupedPlex("namespace");
    const pull = w.github.pull(number);
    const marker = readPullRequestMarker(pull.body);
    if (!marker) throw new Error("no marker");
    const { workloads: _, ...older } = marker;
    pull.body = replacePullRequestMarker(pull.body, older);
    copyPlex(w);
    const closed = await w.run(undefined, ["push"]);
    expect(closed.pullRequests).toEqual([
      expect.objectContaining({ key: "resources-media", action: "closed", number }),
    ]);
  });
});

describe("a namespace's right-sizing pull request whose workload the configuration comes to leave out", () => {
  it("is closed, naming the workload and the setting, when its marker names the workload", async () => {
    const { w, number } = await groupedPlex("namespace");
    w.github.push({
      [CONFIG_PATH]: grouped("namespace").replace(
        "  group: namespace\n",
        "  group: namespace\n  exclude: [media/plex]\n",
      ),
    });
    const closed = await w.run(undefined, ["push"]);
    expect(closed.pullRequests).toEqual([
      {
        key: "resources-media",
        action: "closed",
        number,
        note: "Right-sizing leaves Deployment media/plex (media/plex is in rightsizing.exclude) out now, so this change is not wanted any more.",
      },
    ]);
  });

  it("written before its marker named its workloads, is closed with the general reason, as then", async () => {
    const { w, number } = await groupedPlex("namespace");
    const pull = w.github.pull(number);
    const marker = readPullRequestMarker(pull.body);
    if (!marker) throw new Error("no marker");
    const { workloads: _, ...older } = marker;
    pull.body = replacePullRequestMarker(pull.body, older);
    w.github.push({
      [CONFIG_PATH]: grouped("namespace").replace(
        "  group: namespace\n",
        "  group: namespace\n  exclude: [media/plex]\n",
      ),
    });
    const closed = await w.run(undefined, ["push"]);
    expect(closed.pullRequests).toEqual([
      expect.objectContaining({
        key: "resources-media",
        action: "closed",
        number,
        note: expect.stringMatching(/^The VerticalPodAutoscaler's recommendation no longer calls/),
      }),
    ]);
  });
});

describe("a right-sizing pull request written before its marker named what it changes", () => {
  it("has its workloads, containers and requests recorded by the next run that wants it as it is, with no push", async () => {
    const { w, number } = await groupedPlex("namespace");
    const pull = w.github.pull(number);
    const marker = readPullRequestMarker(pull.body);
    if (!marker) throw new Error("no marker");
    const { workloads: _w, containers: _c, requests: _r, ...older } = marker;
    pull.body = replacePullRequestMarker(pull.body, older);
    const text = visibleBody(pull.body);

    w.github.reset();
    const same = await w.run();
    expect(same.pullRequests).toEqual([
      expect.objectContaining({ key: "resources-media", action: "unchanged", number }),
    ]);
    // One write, to the description; the branch does not move.
    const writes = w.github.calls().filter((call) => !call.startsWith("GET"));
    expect(writes).toEqual([expect.stringMatching(new RegExp(`^PATCH .*/pulls/${number}$`))]);
    const recorded = readPullRequestMarker(w.github.pull(number).body);
    expect(recorded).toEqual({
      ...older,
      workloads: ["media/Deployment/plex"],
      containers: ["media/Deployment/plex/app"],
      requests: ["media/Deployment/plex/app/cpu", "media/Deployment/plex/app/memory"],
    });
    expect(visibleBody(w.github.pull(number).body)).toBe(text);

    // Recorded once: the next run writes nothing.
    w.github.reset();
    await w.run();
    expect(w.github.calls().filter((call) => !call.startsWith("GET"))).toEqual([]);

    // Its close now names the workload and the setting, not the general reason.
    w.github.push({
      [CONFIG_PATH]: grouped("namespace").replace(
        "  group: namespace\n",
        "  group: namespace\n  exclude: [media/plex]\n",
      ),
    });
    const closed = await w.run(undefined, ["push"]);
    expect(closed.pullRequests).toEqual([
      {
        key: "resources-media",
        action: "closed",
        number,
        note: "Right-sizing leaves Deployment media/plex (media/plex is in rightsizing.exclude) out now, so this change is not wanted any more.",
      },
    ]);
  });
});

describe("a right-sizing pull request whose workload's key gains its kind", () => {
  it("is kept and updated when a StatefulSet named as Plex's Deployment gets a VPA, not closed and opened again", async () => {
    const w = scenario({ files: infraFiles({ config: RIGHTSIZE }), cluster: cluster() });
    await w.run();
    const [pull] = w.github.openPulls();
    if (!pull) throw new Error("no pull request opened");
    const { number } = pull;
    expect(pull.branch).toBe("pr-autoscaler/resources-media-plex");

    // A StatefulSet media/plex (nothing in the repo sets its resources) comes with its own VPA:
    // `resources-media-plex` would name either.
    const snapshot = cluster();
    const [plex] = snapshot.vpas;
    if (!plex) throw new Error("no Plex VPA");
    const statefulSet = {
      ...plex,
      name: "plex-db",
      target: { ...plex.target, kind: "StatefulSet" },
    };
    w.cluster = { ...snapshot, vpas: [plex, statefulSet] };
    const next = await w.run();
    expect(next.pullRequests).toEqual([
      expect.objectContaining({ key: "resources-media-plex", action: "unchanged", number }),
    ]);
    expect(w.github.openPulls().map((open) => open.number)).toEqual([number]);
  });

  it("keeps its key with the kind when the workload it was told apart from is gone", async () => {
    const w = scenario({ files: infraFiles({ config: RIGHTSIZE }), cluster: cluster() });
    const snapshot = cluster();
    const [plex] = snapshot.vpas;
    if (!plex) throw new Error("no Plex VPA");
    const statefulSet = {
      ...plex,
      name: "plex-db",
      target: { ...plex.target, kind: "StatefulSet" },
    };
    w.cluster = { ...snapshot, vpas: [plex, statefulSet] };
    await w.run();
    const [pull] = w.github.openPulls();
    if (!pull) throw new Error("no pull request opened");
    expect(pull.branch).toBe("pr-autoscaler/resources-media-plex-deployment");

    w.cluster = cluster();
    const next = await w.run();
    expect(next.pullRequests).toEqual([
      expect.objectContaining({
        key: "resources-media-plex-deployment",
        action: "unchanged",
        number: pull.number,
      }),
    ]);
    expect(w.github.openPulls().map((open) => open.number)).toEqual([pull.number]);
  });
});

const SONARR_FILE = "kubernetes/apps/media/sonarr/deployment.yaml";

/** Sonarr's Deployment, written out (made for this test), asking what Plex's pod asks. */
const SONARR = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: sonarr
  namespace: media
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/home-operations/sonarr:4.0.15
          resources:
            requests:
              cpu: 2
              memory: 4Gi
            limits:
              memory: 8Gi
`;

/** The cluster with Sonarr beside Plex: its pod and a VPA recommending as Plex's (optionally none). */
function withSonarr(recommended = true): Snapshot {
  const snapshot = cluster();
  const [plex] = snapshot.vpas;
  const [plexPod] = snapshot.pods.filter((pod) => pod.namespace === "media");
  if (!plex || !plexPod) throw new Error("no Plex");
  const sonarr = {
    ...plex,
    name: "sonarr",
    target: { ...plex.target, name: "sonarr" },
    ...(recommended ? {} : { recommendations: [], conditions: [] }),
  };
  const pod = {
    ...plexPod,
    name: "sonarr-6c8d7f9b5-x2k4q",
    owner: { kind: "Deployment", name: "sonarr" },
  };
  return { ...snapshot, pods: [...snapshot.pods, pod], vpas: [plex, sonarr] };
}

describe("a right-sizing pull request whose workload comes to be matched to another's place", () => {
  it("is kept open, the place named, not closed as though the VPA no longer called for it", async () => {
    // One manifest with no namespace anywhere: a likely match for whoami in any namespace.
    const file = "apps/whoami/deployment.yaml";
    const files = infraFiles({ config: RIGHTSIZE });
    files.set(file, SONARR.replaceAll("sonarr", "whoami").replace("  namespace: media\n", ""));
    const whoamiIn = (namespaces: string[]): Snapshot => {
      const snapshot = cluster();
      const [plex] = snapshot.vpas;
      const [plexPod] = snapshot.pods.filter((pod) => pod.namespace === "media");
      if (!plex || !plexPod) throw new Error("no Plex");
      const owner = { kind: "Deployment", name: "whoami" };
      return {
        ...snapshot,
        pods: [
          ...snapshot.pods,
          ...namespaces.map((namespace) => ({ ...plexPod, namespace, name: "whoami-1", owner })),
        ],
        vpas: [
          plex,
          ...namespaces.map((namespace) => ({
            ...plex,
            namespace,
            name: "whoami",
            target: { ...plex.target, name: "whoami" },
          })),
        ],
      };
    };
    const w = scenario({ files, cluster: whoamiIn(["b"]) });
    await w.run();
    const pull = w.github.openPulls().find((p) => p.branch === "pr-autoscaler/resources-b-whoami");
    if (!pull) throw new Error("no pull request opened for b/whoami");

    // whoami in a comes with its VPA: the one file is a likely match for both, so it is no
    // longer certain that it is b's.
    w.cluster = whoamiIn(["a", "b"]);
    const held = await w.run();
    expect(held.pullRequests).toContainEqual({
      key: "resources-b-whoami",
      action: "left-alone",
      number: pull.number,
      note: `kept open until the requests can be judged again: Deployment b/whoami: container app: ${file} spec.template.spec.containers[name=app].resources is also where a/whoami was matched`,
    });
    expect(w.github.pull(pull.number).state).toBe("open");
  });
});

/**
 * The cluster with Sonarr alone, an exporter beside its app asking the same, and a VPA
 * recommending for both as for Plex's app (or, `exporter` false, for the app alone).
 */
function sonarrWithExporter(exporter = true): Snapshot {
  const snapshot = withSonarr();
  const sonarr = snapshot.vpas.find((vpa) => vpa.name === "sonarr");
  const pod = snapshot.pods.find((candidate) => candidate.owner?.name === "sonarr");
  const [app] = pod?.containers ?? [];
  const [recommendation] = sonarr?.recommendations ?? [];
  if (!sonarr || !pod || !app || !recommendation) throw new Error("no Sonarr");
  const recommendations = exporter
    ? [recommendation, { ...recommendation, containerName: "exporter" }]
    : [recommendation];
  const both = { ...pod, containers: [app, { ...app, name: "exporter" }] };
  return { ...snapshot, pods: [both], vpas: [{ ...sonarr, recommendations }] };
}

/** Sonarr's Deployment with an exporter container written out beside the app. */
const SONARR_WITH_EXPORTER = `${SONARR}        - name: exporter
          image: ghcr.io/onedr0p/exportarr:v2.0.1
          resources:
            requests:
              cpu: 2
              memory: 4Gi
            limits:
              memory: 8Gi
`;

describe("a namespace's right-sizing pull request, one of whose workloads can no longer be judged", () => {
  it("keeps that workload's change as it was, not reverted, until it can be judged again", async () => {
    const files = infraFiles({ config: grouped("namespace") });
    files.set(SONARR_FILE, SONARR);
    const w = scenario({ files, cluster: withSonarr() });
    w.github.allowAutoMerge = true;
    w.github.requiredChecks.push(GUARD);
    await w.run();
    const [pull] = w.github.openPulls();
    if (!pull) throw new Error("no pull request opened");
    const { number } = pull;
    expect(readPullRequestMarker(pull.body)?.workloads).toEqual([
      "media/Deployment/plex",
      "media/Deployment/sonarr",
    ]);
    const head = pull.headSha;
    const sonarrChanged = w.github.file(SONARR_FILE, pull.branch);
    expect(sonarrChanged).not.toBe(SONARR);

    // Sonarr's VPA is recreated: no recommendation yet. Plex's change is still wanted.
    w.cluster = withSonarr(false);
    w.github.reset();
    const held = await w.run();
    expect(held.pullRequests).toEqual([
      {
        key: "resources-media",
        action: "left-alone",
        number,
        note: "kept open until the requests can be judged again: Deployment media/sonarr: the VPA sonarr has no recommendation; its change is kept as it was, and the others are updated with it once it can be judged",
      },
    ]);
    expect(w.github.pull(number).headSha).toBe(head);
    expect(w.github.file(SONARR_FILE, pull.branch)).toBe(sonarrChanged);
    expect(w.github.pull(number)).toMatchObject({ state: "open", autoMerge: null });
    w.github.setStatus(w.github.pull(number).headSha, GUARD, "success");
    expect(w.github.pull(number).mergedAt).toBeNull();

    // Its recommendation back, the pull request is wanted as it is.
    w.cluster = withSonarr();
    const back = await w.run();
    expect(back.pullRequests).toEqual([
      expect.objectContaining({ key: "resources-media", number, action: "unchanged" }),
    ]);
    expect(w.github.pull(number).headSha).toBe(head);
  });
});

describe("a right-sizing pull request, one of whose containers can no longer be judged", () => {
  it("keeps that container's change as it was, not reverted, while the VPA recommends for the other alone", async () => {
    const files = infraFiles({ config: RIGHTSIZE });
    files.set(SONARR_FILE, SONARR_WITH_EXPORTER);
    const w = scenario({ files, cluster: sonarrWithExporter() });
    await w.run();
    const [pull] = w.github.openPulls();
    if (!pull) throw new Error("no pull request opened");
    const { number } = pull;
    expect(readPullRequestMarker(pull.body)?.containers).toEqual([
      "media/Deployment/sonarr/app",
      "media/Deployment/sonarr/exporter",
    ]);
    const head = pull.headSha;

    // The VPA's status now lists the app alone (the exporter's recommendation lost).
    w.cluster = sonarrWithExporter(false);
    const held = await w.run();
    expect(held.pullRequests).toEqual([
      {
        key: "resources-media-sonarr",
        action: "left-alone",
        number,
        note: "kept open until the requests can be judged again: Deployment media/sonarr: container exporter: the VPA sonarr recommends nothing for it; its change is kept as it was, and the others are updated with it once it can be judged",
      },
    ]);
    expect(w.github.pull(number).headSha).toBe(head);

    w.cluster = sonarrWithExporter();
    const back = await w.run();
    expect(back.pullRequests).toEqual([
      expect.objectContaining({ key: "resources-media-sonarr", number, action: "unchanged" }),
    ]);
  });

  it("keeps that container's change while its resources hold a template now, the app's still wanted", async () => {
    const files = infraFiles({ config: RIGHTSIZE });
    files.set(SONARR_FILE, SONARR_WITH_EXPORTER);
    const w = scenario({ files, cluster: sonarrWithExporter() });
    await w.run();
    const [pull] = w.github.openPulls();
    if (!pull) throw new Error("no pull request opened");
    const head = pull.headSha;

    // The exporter's cpu becomes a Flux variable, filled in before deployment.
    const exporter =
      "exportarr:v2.0.1\n          resources:\n            requests:\n              cpu: 2";
    w.github.push({
      [SONARR_FILE]: SONARR_WITH_EXPORTER.replace(
        exporter,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Flux variables are written so
        "exportarr:v2.0.1\n          resources:\n            requests:\n              cpu: ${EXPORTER_CPU:=2}",
      ),
    });
    const held = await w.run(undefined, ["push"]);
    expect(held.pullRequests).toEqual([
      {
        key: "resources-media-sonarr",
        action: "left-alone",
        number: pull.number,
        note: expect.stringMatching(
          /^kept open until the requests can be judged again: Deployment media\/sonarr: container exporter: kubernetes\/apps\/media\/sonarr\/deployment\.yaml \S+ holds a template \(\$\{EXPORTER_CPU:=2\}\); its change is kept as it was/,
        ),
      },
    ]);
    expect(w.github.pull(pull.number).headSha).toBe(head);
  });

  it("is kept open, not closed, when the other container's change is no longer wanted either", async () => {
    const files = infraFiles({ config: RIGHTSIZE });
    files.set(SONARR_FILE, SONARR_WITH_EXPORTER);
    const w = scenario({ files, cluster: sonarrWithExporter() });
    await w.run();
    const [pull] = w.github.openPulls();
    if (!pull) throw new Error("no pull request opened");

    // People set the app's requests as proposed on the default branch; the exporter's
    // recommendation is lost.
    const app =
      "          resources:\n            requests:\n              cpu: 2\n              memory: 4Gi";
    w.github.push({
      [SONARR_FILE]: SONARR_WITH_EXPORTER.replace(
        app,
        "          resources:\n            requests:\n              cpu: 450m\n              memory: 1344Mi",
      ),
    });
    const snapshot = sonarrWithExporter(false);
    w.cluster = {
      ...snapshot,
      pods: snapshot.pods.map((pod) => ({
        ...pod,
        containers: pod.containers.map((container) =>
          container.name === "app"
            ? { ...container, requests: { cpu: 450, memory: 1344 * 2 ** 20 } }
            : container,
        ),
      })),
    };
    const held = await w.run(undefined, ["push"]);
    expect(held.proposals).toEqual([]);
    expect(held.pullRequests).toEqual([
      {
        key: "resources-media-sonarr",
        action: "left-alone",
        number: pull.number,
        note: "kept open until the requests can be judged again: Deployment media/sonarr: container exporter: the VPA sonarr recommends nothing for it",
      },
    ]);
    expect(w.github.pull(pull.number).state).toBe("open");
  });
});

/** The cluster with Sonarr beside Plex, its VPA's recommendation for memory lost. */
function sonarrWithoutMemory(): Snapshot {
  const snapshot = withSonarr();
  const strip = (resources: Resources | undefined) => {
    if (resources === undefined) return undefined;
    const { memory: _memory, ...rest } = resources;
    return rest;
  };
  return {
    ...snapshot,
    vpas: snapshot.vpas.map((vpa) =>
      vpa.name !== "sonarr"
        ? vpa
        : {
            ...vpa,
            recommendations: vpa.recommendations.map((r) => ({
              ...r,
              target: strip(r.target) ?? {},
              lowerBound: strip(r.lowerBound),
              upperBound: strip(r.upperBound),
              uncappedTarget: strip(r.uncappedTarget),
            })),
          },
    ),
  };
}

describe("a right-sizing pull request, one of whose container's requests can no longer be judged", () => {
  it("keeps that request's change as it was, not reverted, while the container's other request still changes", async () => {
    const files = infraFiles({ config: RIGHTSIZE });
    files.set(SONARR_FILE, SONARR);
    const w = scenario({ files, cluster: withSonarr() });
    await w.run();
    const pull = w.github.openPulls().find((p) => p.branch.endsWith("-sonarr"));
    if (!pull) throw new Error("no pull request opened for Sonarr");
    const { number } = pull;
    expect(readPullRequestMarker(pull.body)?.requests).toEqual([
      "media/Deployment/sonarr/app/cpu",
      "media/Deployment/sonarr/app/memory",
    ]);
    const head = pull.headSha;
    const changed = w.github.file(SONARR_FILE, pull.branch);

    // Sonarr's VPA recommends for cpu alone now: the cpu change is still wanted.
    w.cluster = sonarrWithoutMemory();
    const held = await w.run();
    expect(held.proposals).toContainEqual(
      expect.objectContaining({ key: "resources-media-sonarr" }),
    );
    expect(held.pullRequests).toContainEqual({
      key: "resources-media-sonarr",
      action: "left-alone",
      number,
      note: "kept open until the requests can be judged again: Deployment media/sonarr: container app: the VPA sonarr has no memory recommendation; its change is kept as it was, and the others are updated with it once it can be judged",
    });
    expect(w.github.pull(number).headSha).toBe(head);
    expect(w.github.file(SONARR_FILE, pull.branch)).toBe(changed);
    // Its title and description are as they were: a comment says why, once.
    const said = w.github.commentsOn(number).map((comment) => comment.body);
    expect(said).toEqual([
      expect.stringContaining(
        "pr-autoscaler keeps this pull request as it is while a change in it cannot be judged: Deployment media/sonarr: container app: the VPA sonarr has no memory recommendation.\n\nWhat it changes is kept as it was, not reverted",
      ),
    ]);
    expect(readPullRequestMarker(w.github.pull(number).body)?.kept).toMatch(/^[0-9a-f]{16}$/);
    w.github.reset();
    await w.run();
    expect(w.github.commentsOn(number)).toHaveLength(1);
    expect(w.github.calls().filter((call) => call.includes(`/issues/${number}/comments`))).toEqual(
      [],
    );

    w.cluster = withSonarr();
    const back = await w.run();
    expect(back.pullRequests).toContainEqual(
      expect.objectContaining({ key: "resources-media-sonarr", number, action: "unchanged" }),
    );
    // Wanted as it is again: the record of the comment goes, once; nothing is written after.
    expect(readPullRequestMarker(w.github.pull(number).body)).toMatchObject({ keptSaid: 1 });
    expect(readPullRequestMarker(w.github.pull(number).body)?.kept).toBeUndefined();
    w.github.reset();
    await w.run();
    expect(w.github.calls().filter((call) => call.startsWith("PATCH"))).toEqual([]);

    // The same request is held again later: that is said again, in a comment of its own.
    w.cluster = sonarrWithoutMemory();
    await w.run();
    expect(w.github.commentsOn(number)).toHaveLength(2);
    expect(readPullRequestMarker(w.github.pull(number).body)).toMatchObject({ keptSaid: 2 });
  });

  it("written before its marker named the requests it changes, is updated to the request still judged, as then", async () => {
    const files = infraFiles({ config: RIGHTSIZE });
    files.set(SONARR_FILE, SONARR);
    const w = scenario({ files, cluster: withSonarr() });
    await w.run();
    const pull = w.github.openPulls().find((p) => p.branch.endsWith("-sonarr"));
    if (!pull) throw new Error("no pull request opened for Sonarr");
    const open = w.github.pull(pull.number);
    const marker = readPullRequestMarker(open.body);
    if (!marker) throw new Error("no marker");
    const { requests: _requests, ...older } = marker;
    open.body = replacePullRequestMarker(open.body, older);

    w.cluster = sonarrWithoutMemory();
    const updated = await w.run();
    expect(updated.pullRequests).toContainEqual(
      expect.objectContaining({
        key: "resources-media-sonarr",
        number: pull.number,
        action: "updated",
      }),
    );
    expect(readPullRequestMarker(w.github.pull(pull.number).body)?.requests).toEqual([
      "media/Deployment/sonarr/app/cpu",
    ]);
  });
});

describe("a namespace's right-sizing pull request, one of whose workloads the configuration comes to leave out", () => {
  it("is closed naming it, and saying the other workloads' changes are no longer called for", async () => {
    const files = infraFiles({ config: grouped("namespace") });
    files.set(SONARR_FILE, SONARR);
    const w = scenario({ files, cluster: withSonarr() });
    await w.run();
    const [pull] = w.github.openPulls();
    if (!pull) throw new Error("no pull request opened");
    expect(readPullRequestMarker(pull.body)?.workloads).toEqual([
      "media/Deployment/plex",
      "media/Deployment/sonarr",
    ]);

    // Plex is excluded, and people set Sonarr's requests as proposed on the default branch.
    const requests = "            requests:\n              cpu: 2\n              memory: 4Gi";
    w.github.push({
      [CONFIG_PATH]: grouped("namespace").replace(
        "  group: namespace\n",
        "  group: namespace\n  exclude: [media/plex]\n",
      ),
      [SONARR_FILE]: SONARR.replace(
        requests,
        "            requests:\n              cpu: 450m\n              memory: 1344Mi",
      ),
    });
    const snapshot = withSonarr();
    w.cluster = {
      ...snapshot,
      pods: snapshot.pods.map((pod) =>
        pod.owner?.name !== "sonarr"
          ? pod
          : {
              ...pod,
              containers: pod.containers.map((container) => ({
                ...container,
                requests: { cpu: 450, memory: 1344 * 2 ** 20 },
              })),
            },
      ),
    };
    const closed = await w.run(undefined, ["push"]);
    expect(closed.proposals).toEqual([]);
    expect(closed.pullRequests).toEqual([
      {
        key: "resources-media",
        action: "closed",
        number: pull.number,
        note: "Right-sizing leaves Deployment media/plex (media/plex is in rightsizing.exclude) out now, and the VerticalPodAutoscaler's recommendation no longer calls for the other changes in it (the requests are within the tolerance, or the workload is gone), so this change is not wanted any more.",
      },
    ]);
  });
});

describe("the comment on a right-sizing pull request kept for a change that cannot be judged", () => {
  it("is posted once for what is kept, though its words count the time the VPA has recorded", async () => {
    const files = infraFiles({ config: grouped("namespace") });
    files.set(SONARR_FILE, SONARR);
    const w = scenario({ files, cluster: withSonarr() });
    await w.run();
    const [pull] = w.github.openPulls();
    if (!pull) throw new Error("no pull request opened");
    const { number } = pull;

    // Sonarr's VPA is recreated: it recommends again, but has recorded for minutes only.
    const recreated = (snapshot: Snapshot): Snapshot => ({
      ...snapshot,
      vpas: snapshot.vpas.map((vpa) =>
        vpa.name === "sonarr"
          ? { ...vpa, createdAt: new Date(w.github.now().getTime() - 300_000).toISOString() }
          : vpa,
      ),
    });
    w.cluster = recreated(withSonarr());
    const first = await w.run();
    expect(first.pullRequests).toEqual([
      expect.objectContaining({
        action: "left-alone",
        note: expect.stringContaining(
          "Deployment media/sonarr: the VPA has recorded for 5m, less than",
        ),
      }),
    ]);
    expect(w.github.commentsOn(number)).toEqual([
      expect.objectContaining({
        body: expect.stringContaining(
          "pr-autoscaler keeps this pull request as it is while a change in it cannot be judged: Deployment media/sonarr: the VPA has recorded for 5m, less than minHistory 7d.",
        ),
      }),
    ]);

    w.github.advance(3_600_000);
    w.github.reset();
    const later = await w.run();
    expect(later.pullRequests).toEqual([expect.objectContaining({ action: "left-alone" })]);
    expect(w.github.commentsOn(number)).toHaveLength(1);
    expect(w.github.calls().filter((call) => call.includes(`/issues/${number}/comments`))).toEqual(
      [],
    );
  });
});
