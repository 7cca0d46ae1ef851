/**
 * A right-sizing pull request over so many containers that its description, its hidden marker and
 * the comment saying why it is kept would each pass the 65,536 characters GitHub takes, on the
 * fake GitHub, which refuses a longer body with 422 Validation Failed as GitHub does. Few
 * workloads, with names as long as Kubernetes allows, stand for the hundreds that reach it.
 */
import { describe, expect, it } from "@jest/globals";
import { MAX_MARKER_LENGTH, readPullRequestMarker } from "../../src/forge/marker.ts";
import type { PodInfo, Snapshot, VpaInfo } from "../../src/planning/snapshot.ts";
import { fixtureVpa, workloadPod } from "../rightsizing/rightsizing-helpers.ts";
import { BOT_LOGIN, GITHUB_MAX_BODY } from "./support/fake-github.ts";
import { cluster, infraFiles, WORKERS_POOL } from "./support/infra.ts";
import { scenario } from "./support/scenario.ts";

const NAMESPACE = "media";
const WORKLOADS = 6;
const CONTAINERS = 20;

/** A Deployment name of 253 characters, the most Kubernetes allows. */
const workloadName = (i: number) => `transcode-pipeline-${i}-`.padEnd(253, "x");
/** A container name of 63 characters, the most Kubernetes allows. */
const containerName = (j: number) => `worker-${j}-`.padEnd(63, "y");
const containers = Array.from({ length: CONTAINERS }, (_, j) => containerName(j));

function manifest(name: string): string {
  const list = containers
    .map(
      (c) => `        - name: ${c}
          image: ghcr.io/example/transcoder:1.0.0
          resources:
            requests:
              cpu: 100m
              memory: 512Mi
`,
    )
    .join("");
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${NAMESPACE}
spec:
  template:
    spec:
      containers:
${list}`;
}

/** The workload's pod: each container asks for 100m and 512Mi and uses 20m and 100Mi. */
function podOf(name: string): PodInfo {
  const base = workloadPod(`${NAMESPACE}/${name}`, `${name.slice(0, 40)}-7d9c65958-ghrmp`, {
    requests: { cpu: "100m", memory: "512Mi" },
    usage: { cpu: "20m", memory: "100Mi" },
  });
  const [template] = base.containers;
  if (!template) throw new Error("no container");
  const all = containers.map((c) => ({ ...template, name: c }));
  return {
    ...base,
    nodeName: "talos-worker-0",
    containers: all,
    requests: { cpu: 0.1 * CONTAINERS, memory: 512 * 2 ** 20 * CONTAINERS },
  };
}

/** The workload's VPA, as the worked example's, recommending for the first RECOMMENDED containers. */
function vpaOf(name: string, recommended: number): VpaInfo {
  const plex = fixtureVpa("plex-worked-example.yaml");
  const [recommendation] = plex.recommendations;
  if (!recommendation) throw new Error("no recommendation");
  const target = { cpu: 0.03, memory: 160 * 2 ** 20 };
  return {
    ...plex,
    namespace: NAMESPACE,
    name,
    target: { ...plex.target, name },
    recommendations: containers.slice(0, recommended).map((c) => ({
      ...recommendation,
      containerName: c,
      target,
      uncappedTarget: target,
      lowerBound: target,
      upperBound: { cpu: 0.2, memory: 400 * 2 ** 20 },
    })),
  };
}

function clusterWith(recommended: number): Snapshot {
  const snapshot = cluster({ plex: false });
  const names = Array.from({ length: WORKLOADS }, (_, i) => workloadName(i));
  return {
    ...snapshot,
    pods: [...snapshot.pods, ...names.map(podOf)],
    vpas: names.map((name) => vpaOf(name, recommended)),
  };
}

describe("a right-sizing pull request over more containers than GitHub's limits hold", () => {
  it("is opened, its marker without the requests, and the comment saying why it is kept is posted", async () => {
    const files = infraFiles({ config: `${WORKERS_POOL}rightsizing:\n  group: repo\n` });
    for (let i = 0; i < WORKLOADS; i++)
      files.set(`kubernetes/apps/${NAMESPACE}/transcoder-${i}.yaml`, manifest(workloadName(i)));
    const w = scenario({ files, cluster: clusterWith(CONTAINERS) });

    const opened = await w.run();
    expect(opened.pullRequests).toEqual([expect.objectContaining({ action: "created" })]);
    const [pull] = w.github.openPulls();
    if (!pull) throw new Error("no pull request opened");
    expect(pull.branch).toBe("pr-autoscaler/resources");
    expect(pull.body.length).toBeLessThanOrEqual(GITHUB_MAX_BODY);
    // The marker names every workload and container, not the requests, which would not fit.
    const marker = readPullRequestMarker(pull.body);
    expect(marker?.workloads).toHaveLength(WORKLOADS);
    expect(marker?.containers).toHaveLength(WORKLOADS * CONTAINERS);
    expect(marker?.requests).toBeUndefined();
    const requests = (marker?.containers ?? []).flatMap((c) => [`${c}/cpu`, `${c}/memory`]);
    expect(JSON.stringify({ ...marker, requests }).length).toBeGreaterThan(MAX_MARKER_LENGTH);
    expect(pull.body).toContain("the record leaves out the requests it changes");

    // Wanted as it is, it is left so: the requests that do not fit are not tried again.
    w.github.reset();
    const same = await w.run();
    expect(same.pullRequests).toEqual([expect.objectContaining({ action: "unchanged" })]);
    expect(w.github.calls().filter((call) => !call.startsWith("GET"))).toEqual([]);

    // The VPAs recommend for the first container of each workload alone: the others' changes
    // cannot be judged, and are kept, with the first containers' still wanted.
    w.cluster = clusterWith(1);
    const kept = await w.run();
    expect(kept.pullRequests).toEqual([
      expect.objectContaining({ action: "left-alone", number: pull.number }),
    ]);
    const comments = w.github.commentsOn(pull.number).filter((c) => c.login === BOT_LOGIN);
    expect(comments).toHaveLength(1);
    const [comment] = comments;
    expect(comment?.body.length).toBeLessThanOrEqual(GITHUB_MAX_BODY);
    expect(comment?.body).toMatch(/^pr-autoscaler keeps this pull request as it is while changes/);
    expect(comment?.body).toContain("… (shortened: the full text is longer than GitHub allows)");
    expect(comment?.body).toMatch(/<!-- pr-autoscaler:kept \{.*\} -->$/);
    expect(w.github.log.filter((entry) => entry.status === 422)).toEqual([]);

    // The next run finds the comment, and says nothing again.
    await w.run();
    expect(w.github.commentsOn(pull.number).filter((c) => c.login === BOT_LOGIN)).toHaveLength(1);
  });
});
