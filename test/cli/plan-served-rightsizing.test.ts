/**
 * `plan` with `rightsizing:` against a served cluster: what the app would hold back under
 * `maxOpenPullRequests`, and a cluster that does not serve the VerticalPodAutoscaler API.
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { utcTime } from "../../src/util/utc-time.ts";
import {
  CONFIG,
  committedRepo,
  type InfraFiles,
  type PlanJson,
  pod,
  type Raw,
} from "./served-cluster.ts";
import { cluster, serveForTest, tempDir } from "./served-plan.ts";

const DAY = 86_400_000;
const HASH = "7d9c65958";

function ago(ms: number): string {
  return new Date(Date.now() - ms).toISOString().replace(/\.\d+Z$/, "Z");
}

/** A VPA as the recommender leaves it after 17 days, for Deployment NAME's container `app`. */
function vpa(namespace: string, name: string, target: { cpu: string; memory: string }): Raw {
  return {
    apiVersion: "autoscaling.k8s.io/v1",
    kind: "VerticalPodAutoscaler",
    metadata: {
      name,
      namespace,
      creationTimestamp: ago(17 * DAY),
      generation: 1,
      resourceVersion: "1",
      uid: `6c0f5b5e-1c1e-4b0e-9a54-${name.padEnd(12, "0").slice(0, 12)}`,
    },
    spec: {
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
      updatePolicy: { updateMode: "Off" },
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
            lowerBound: { cpu: "50m", memory: "200Mi" },
            target,
            uncappedTarget: target,
            upperBound: { cpu: "2", memory: "4Gi" },
          },
        ],
      },
    },
  };
}

/** A running pod of Deployment NAME requesting what its manifest says (100m, 256Mi). */
function podOf(namespace: string, name: string): Raw {
  return pod(namespace, `${name}-${HASH}-q0x0z`, {
    node: "talos-worker-1",
    owner: { kind: "ReplicaSet", name: `${name}-${HASH}` },
    labels: { "pod-template-hash": HASH },
    cpu: "100m",
    memory: "256Mi",
  });
}

function manifest(namespace: string, name: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/example/${name}:1.0.0
          resources:
            requests:
              cpu: 100m
              memory: 256Mi
`;
}

const WORKLOADS = [
  { namespace: "media", name: "sonarr", target: { cpu: "150m", memory: "300Mi" } },
  { namespace: "media", name: "radarr", target: { cpu: "900m", memory: "1Gi" } },
  { namespace: "home", name: "hass", target: { cpu: "400m", memory: "600Mi" } },
];

const objects = (): Raw[] => [
  ...cluster(),
  ...WORKLOADS.flatMap((w) => [vpa(w.namespace, w.name, w.target), podOf(w.namespace, w.name)]),
];

function files(rightsizing: string): InfraFiles {
  return {
    config: `${CONFIG}rightsizing: ${rightsizing}\n`,
    other: Object.fromEntries(
      WORKLOADS.map((w) => [`apps/${w.namespace}/${w.name}.yaml`, manifest(w.namespace, w.name)]),
    ),
  };
}

const rightsizingNotes = (output: PlanJson) =>
  output.notes.filter((note) => note.subject === "rightsizing");

describe("plan with rightsizing against a served cluster", () => {
  it("names the proposals that would wait under maxOpenPullRequests, and keeps them listed", async () => {
    const served = await serveForTest(objects());
    const output = await served.plan(files("{ maxOpenPullRequests: 1 }"));
    const keys = output.proposals.filter((p) => p.kind === "resources").map((p) => p.key);
    expect(keys).toEqual([
      "resources-media-radarr",
      "resources-home-hass",
      "resources-media-sonarr",
    ]);
    expect(rightsizingNotes(output)).toEqual([
      {
        level: "info",
        subject: "rightsizing",
        message:
          "at most 1 right-sizing pull request is open at once (rightsizing.maxOpenPullRequests): resources-home-hass, resources-media-sonarr would wait, in this order, until fewer are open (counted with none open now; the app also counts those already open)",
      },
    ]);
    const text = await served.run([], files("{ maxOpenPullRequests: 1 }"));
    expect(text.stdout).toContain(
      "rightsizing: at most 1 right-sizing pull request is open at once (rightsizing.maxOpenPullRequests): resources-home-hass, resources-media-sonarr would wait",
    );
  });

  it("adds no such note when every proposal fits under the limit", async () => {
    const served = await serveForTest(objects());
    const output = await served.plan(files("{}"));
    expect(output.proposals.filter((p) => p.kind === "resources")).toHaveLength(3);
    expect(rightsizingNotes(output)).toEqual([]);
  });

  it("plans on when a YAML file elsewhere in the repo is not UTF-8 or is a symbolic link", async () => {
    const served = await serveForTest(objects());
    const dir = tempDir();
    mkdirSync(join(dir, "docs"), { recursive: true });
    // `# café` in ISO-8859-1, then `a: 1`: not UTF-8.
    writeFileSync(join(dir, "docs/notes.yaml"), Buffer.from("# caf\xe9\na: 1\n", "latin1"));
    const repo = committedRepo(dir, files("{}"));
    symlinkSync("../media/sonarr.yaml", join(dir, "apps/home/sonarr-link.yaml"));
    const output = await served.planRepo(repo);
    expect(output.proposals.filter((p) => p.kind === "resources")).toHaveLength(3);
  });

  it("says in the notes, and in the text, that the VPA API is not served", async () => {
    const served = await serveForTest(objects());
    served.fake.uninstall("autoscaling.k8s.io");
    const json = await served.run(["--json"], files("{}"));
    expect(json.code).toBe(0);
    const output = JSON.parse(json.stdout) as PlanJson;
    expect(output.proposals).toEqual([]);
    const note = {
      level: "warning",
      subject: "rightsizing",
      message:
        "the VerticalPodAutoscaler API (autoscaling.k8s.io/v1) is not served in the cluster: nothing to right-size; install the VPA recommender, or upgrade a VPA release that serves only v1beta2",
    };
    expect(rightsizingNotes(output)).toEqual([note]);
    expect(json.stderr).toContain("vpa-not-installed");
    const text = await served.run([], files("{}"));
    expect(text.stdout).toContain(`rightsizing: ${note.message}\n`);
  });

  it("says of a container its VPA recommends nothing for, while the other's requests change, that its requests are not judged", async () => {
    const sonarr = podOf("media", "sonarr");
    const spec = sonarr.spec as { containers: Raw[] };
    const [app] = spec.containers;
    spec.containers.push({ ...app, name: "exporter", image: "ghcr.io/onedr0p/exportarr:v2.0.1" });
    const served = await serveForTest([
      ...cluster(),
      vpa("media", "sonarr", { cpu: "900m", memory: "1Gi" }),
      sonarr,
    ]);
    const exporter = `        - name: exporter
          image: ghcr.io/onedr0p/exportarr:v2.0.1
          resources:
            requests:
              cpu: 100m
              memory: 256Mi
`;
    const infra: InfraFiles = {
      config: `${CONFIG}rightsizing: {}\n`,
      other: { "apps/media/sonarr.yaml": `${manifest("media", "sonarr")}${exporter}` },
    };
    const output = await served.plan(infra);
    expect(output.proposals.filter((p) => p.kind === "resources").map((p) => p.key)).toEqual([
      "resources-media-sonarr",
    ]);
    const message =
      "container exporter: the VPA sonarr recommends nothing for it: its requests are not judged, and a change a pull request made to them is kept";
    expect(output.notes).toContainEqual({
      level: "info",
      subject: "deployment/media/sonarr",
      message,
    });
    const text = await served.run([], infra);
    expect(text.stdout).toContain(`deployment/media/sonarr: ${message}\n`);
  });

  it("says nothing of a container only the VPA's policies name, when the pods do not have it", async () => {
    // The exporter was removed from the Deployment; its VPA still has a policy for it, and a
    // default one for every container (`*`).
    const sonarr = vpa("media", "sonarr", { cpu: "900m", memory: "1Gi" });
    const spec = sonarr.spec as Raw;
    spec.resourcePolicy = {
      containerPolicies: [
        { containerName: "*", minAllowed: { cpu: "10m" } },
        { containerName: "exporter", maxAllowed: { memory: "512Mi" } },
      ],
    };
    const served = await serveForTest([...cluster(), sonarr, podOf("media", "sonarr")]);
    const infra: InfraFiles = {
      config: `${CONFIG}rightsizing: {}\n`,
      other: { "apps/media/sonarr.yaml": manifest("media", "sonarr") },
    };
    const output = await served.plan(infra);
    expect(output.proposals.filter((p) => p.kind === "resources").map((p) => p.key)).toEqual([
      "resources-media-sonarr",
    ]);
    const sonarrNotes = output.notes.filter((n) => n.subject === "deployment/media/sonarr");
    expect(sonarrNotes.map((n) => n.message).join("\n")).not.toContain("recommends nothing");
  });
});

describe("a VPA recommendation for a container the pods no longer have", () => {
  it("is ignored while the workload has pods, and named in a note", async () => {
    // The exporter sidecar was removed from the Deployment; the VPA's status still carries the
    // recommendation it made for it.
    const sonarr = vpa("media", "sonarr", { cpu: "900m", memory: "1Gi" });
    const recommendation = (sonarr.status as Raw).recommendation as Raw;
    const stale = { cpu: "15m", memory: "64Mi" };
    (recommendation.containerRecommendations as Raw[]).push({
      containerName: "exporter",
      lowerBound: stale,
      target: stale,
      uncappedTarget: stale,
      upperBound: stale,
    });
    const served = await serveForTest([...cluster(), sonarr, podOf("media", "sonarr")]);
    const infra: InfraFiles = {
      config: `${CONFIG}rightsizing: {}\n`,
      other: { "apps/media/sonarr.yaml": manifest("media", "sonarr") },
    };
    const output = await served.plan(infra);
    const proposals = output.proposals.filter((p) => p.kind === "resources");
    expect(proposals.map((p) => p.key)).toEqual(["resources-media-sonarr"]);
    expect(proposals[0]?.changes.map((c) => [c.path, c.after])).toEqual([
      ["spec.template.spec.containers[name=app].resources.requests.cpu", "900m"],
      ["spec.template.spec.containers[name=app].resources.requests.memory", "1Gi"],
    ]);
    const sonarrNotes = output.notes
      .filter((n) => n.subject === "deployment/media/sonarr")
      .map((n) => `${n.level}: ${n.message}`);
    expect(sonarrNotes).toContain(
      "info: recommendation for container exporter, which the pods do not have: ignored",
    );
    expect(sonarrNotes.join("\n")).not.toContain("container exporter: no file");
    const text = await served.run([], infra);
    expect(text.stdout).not.toMatch(/not judged|unjudged/);
  });

  it("is no reader of the values a chart's component gives the workload's containers", async () => {
    // The chart gives `worker.resources` to the containers of Deployment authentik-worker: its
    // main container `worker` and, until it was removed, the `proxy` sidecar, whose
    // recommendation the VPA still carries.
    const worker = vpa("authentik", "authentik-worker", { cpu: "900m", memory: "1Gi" });
    const recommendation = (worker.status as Raw).recommendation as Raw;
    const [main] = recommendation.containerRecommendations as Raw[];
    recommendation.containerRecommendations = [
      { ...main, containerName: "worker" },
      { ...main, containerName: "proxy" },
    ];
    const running = podOf("authentik", "authentik-worker");
    const [container] = (running.spec as { containers: Raw[] }).containers;
    (container as Raw).name = "worker";
    const served = await serveForTest([...cluster(), worker, running]);
    const values = `server:
  resources:
    requests:
      cpu: 100m
      memory: 256Mi
worker:
  resources:
    requests:
      cpu: 100m
      memory: 256Mi
`;
    const infra: InfraFiles = {
      config: `${CONFIG}rightsizing: {}\n`,
      other: { "apps/authentik/values.yaml": values },
    };
    const output = await served.plan(infra);
    const proposals = output.proposals.filter((p) => p.kind === "resources");
    expect(proposals.map((p) => p.key)).toEqual(["resources-authentik-authentik-worker"]);
    expect(proposals[0]?.changes.map((c) => [c.path, c.after])).toEqual([
      ["worker.resources.requests.cpu", "900m"],
      ["worker.resources.requests.memory", "1Gi"],
    ]);
    const notes = output.notes
      .filter((n) => n.subject === "deployment/authentik/authentik-worker")
      .map((n) => `${n.level}: ${n.message}`);
    expect(notes).toEqual([
      "info: recommendation for container proxy, which the pods do not have: ignored",
    ]);
    const text = await served.run([], infra);
    expect(text.stdout).not.toContain("container proxy (");
  });

  it("leaves the requests unjudged when it is the only one, saying whose it is, not that there is none yet", async () => {
    // The VPA recommends for `exporter` only, a sidecar the pods no longer run, and not yet for
    // `app`, which they do.
    const sonarr = vpa("media", "sonarr", { cpu: "900m", memory: "1Gi" });
    const recommendation = (sonarr.status as Raw).recommendation as Raw;
    const [only] = recommendation.containerRecommendations as Raw[];
    recommendation.containerRecommendations = [{ ...only, containerName: "exporter" }];
    const served = await serveForTest([...cluster(), sonarr, podOf("media", "sonarr")]);
    const infra: InfraFiles = {
      config: `${CONFIG}rightsizing: {}\n`,
      other: { "apps/media/sonarr.yaml": manifest("media", "sonarr") },
    };
    const output = await served.plan(infra);
    expect(output.proposals.filter((p) => p.kind === "resources")).toEqual([]);
    const message =
      "the VPA sonarr recommends only for container exporter, which the pods do not have, and for none of theirs yet: its requests are not judged, and a pull request open for them stays open";
    expect(output.notes.filter((n) => n.subject === "deployment/media/sonarr")).toEqual([
      {
        level: "info",
        subject: "deployment/media/sonarr",
        message: "recommendation for container exporter, which the pods do not have: ignored",
      },
      { level: "info", subject: "deployment/media/sonarr", message },
    ]);
    const text = await served.run([], infra);
    expect(text.stdout).toContain(`deployment/media/sonarr: ${message}\n`);
    expect(text.stdout).not.toContain("no recommendation yet");
  });

  it("says of an OOM kill what the pod's status shows, its last termination and its restart count, not a count of kills", async () => {
    // The kubelet keeps a container's current and last termination only: this one restarted 7
    // times, and only the last of them shows as OOMKilled.
    const sonarr = podOf("media", "sonarr");
    const killed = ago(1_800_000);
    const [status] = (sonarr.status as Raw).containerStatuses as Raw[];
    Object.assign(status as Raw, {
      restartCount: 7,
      lastState: {
        terminated: {
          containerID: "containerd://3a0d9c1e7b",
          exitCode: 137,
          reason: "OOMKilled",
          startedAt: ago(3_600_000),
          finishedAt: killed,
        },
      },
    });
    const served = await serveForTest([
      ...cluster(),
      vpa("media", "sonarr", { cpu: "100m", memory: "256Mi" }),
      sonarr,
    ]);
    const infra: InfraFiles = {
      config: `${CONFIG}rightsizing: {}\n`,
      other: { "apps/media/sonarr.yaml": manifest("media", "sonarr") },
    };
    const output = await served.plan(infra);
    const [proposal] = output.proposals.filter((p) => p.kind === "resources") as Raw[];
    const [workload] = (proposal?.workloads ?? []) as Raw[];
    const [container] = (workload?.containers ?? []) as Raw[];
    expect(container).toMatchObject({ oomKills: 1, oomRestarts: 7 });
    const memory = ((container?.resources ?? []) as Raw[]).find((r) => r.resource === "memory");
    expect(memory).toMatchObject({
      action: "change",
      triggers: expect.arrayContaining([{ kind: "oom", kills: 1, last: killed, restarts: 7 }]),
    });
    const text = await served.run([], infra);
    expect(text.stdout).toContain(
      "OOM-killed recently: 1 of the terminations its pods still show (restarted 7 times in all)\n",
    );
    expect(text.stdout).toContain(
      `because the container was OOM-killed, last at ${utcTime(killed)}: 1 of the terminations its pods still show (restarted 7 times in all);`,
    );
    expect(text.stdout).not.toContain("time(s)");
    // One kill shown: the raise from the request says so in the singular.
    expect(text.stdout).toContain(
      "after an OOM kill at least the current request 256Mi + 20 % → 320Mi",
    );
    expect(text.stdout).not.toContain("after OOM kills");
  });
});
