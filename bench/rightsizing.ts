/**
 * Times planRightsizing with `group: repo` (one pull request for every workload) on 20, 80, 160
 * and 320 Deployments, each in its own manifest with three containers whose requests its VPA
 * would change: every workload's changes are written on top of the files as the ones before
 * left them, so the time should grow with the number of workloads, not its square. Prints
 * milliseconds per plan and the size of the one proposal.
 * Run: node_modules/.bin/node bench/rightsizing.ts
 */
import type { VpaInfo } from "../src/planning/snapshot.ts";
import { planRightsizing } from "../src/rightsizing/plan-rightsizing.ts";
import type { RepoFile } from "../src/rightsizing/repo-files.ts";
import {
  fixtureVpa,
  rightsizingConfig,
  snapshot,
  workloadPod,
} from "../test/rightsizing/rightsizing-helpers.ts";

const NOW = new Date("2025-06-06T12:00:00Z");
const CONTAINERS = ["app", "sidecar", "exporter"];

/** The worked example's VPA, its recommendation given to each of the three containers. */
function vpaFor(name: string): VpaInfo {
  const base = fixtureVpa("plex-worked-example.yaml");
  const [first] = base.recommendations;
  if (!first) throw new Error("the worked example's VPA has no recommendation");
  return {
    ...base,
    name,
    namespace: "media",
    target: { kind: "Deployment", name, apiVersion: "apps/v1" },
    recommendations: CONTAINERS.map((containerName) => ({ ...first, containerName })),
  };
}

function manifest(name: string): string {
  const containers = CONTAINERS.flatMap((container) => [
    `        - name: ${container}`,
    "          resources:",
    "            requests:",
    "              cpu: 2",
    "              memory: 4Gi",
  ]);
  return [
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    `  name: ${name}`,
    "  namespace: media",
    "spec:",
    "  template:",
    "    spec:",
    "      containers:",
    ...containers,
    "",
  ].join("\n");
}

function plan(count: number) {
  const names = Array.from({ length: count }, (_, i) => `app-${String(i).padStart(3, "0")}`);
  const files: RepoFile[] = names.map((name) => ({
    path: `apps/${name}.yaml`,
    text: manifest(name),
  }));
  const pods = names.map((name) => {
    // The pod asks for its three containers' requests together.
    const pod = workloadPod(`media/${name}`, `${name}-0`, {
      kind: "Deployment",
      requests: { cpu: "6", memory: "12Gi" },
    });
    const [first] = workloadPod(`media/${name}`, `${name}-0`, {
      requests: { cpu: "2", memory: "4Gi" },
    }).containers;
    if (!first) throw new Error("workloadPod made no container");
    return { ...pod, containers: CONTAINERS.map((container) => ({ ...first, name: container })) };
  });
  return planRightsizing({
    snapshot: snapshot({ vpas: names.map(vpaFor), pods }),
    config: rightsizingConfig({ group: "repo" }),
    files,
    now: NOW,
  });
}

for (const count of [20, 80, 160, 320]) {
  plan(count); // warm-up
  const runs = 3;
  const start = performance.now();
  let result = plan(count);
  for (let i = 1; i < runs; i++) result = plan(count);
  const ms = (performance.now() - start) / runs;
  const proposal = result.proposals[0];
  const edits = proposal?.edits.length ?? 0;
  const workloads = proposal?.workloads.length ?? 0;
  console.log(
    `${count} workloads x ${CONTAINERS.length} containers, group: repo: ${ms.toFixed(0)} ms per plan [${result.proposals.length} proposal, ${workloads} workloads, ${edits} files]`,
  );
}
