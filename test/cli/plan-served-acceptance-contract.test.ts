/**
 * The contract of `plan --kubeconfig --json`, scenario by scenario, as an operator would check
 * it: `{"proposals":[{"kind":"nodes","pool","from","to","changes":[{file,path,before,after}],
 * "reasons":[…]}],"notes":[…]}`, with every decision and every non-decision carrying its reasons
 * as data. Each expectation was worked out by hand from docs/configuration.md and
 * cluster-autoscaler's rules before the plan was read: a Pulumi stack raised while a Terraform
 * count is lowered in the same plan; a pod one pool leaves pending at its max, which the other
 * lists with that pool unless its fit there is unknown; a cooldown read from the history of one
 * pool's line of a shared terraform.tfvars, which holds that pool only; a window on New York's
 * clock after summer time ends; `--config` in place of the repo's file, or of none; a config
 * without pools; a budget list that fails while a pod waits; budgets allowing fewer disruptions
 * than their pods on the node; pending pods while too many nodes are not Ready; a node with no
 * metrics above the max; a Job's pod beside a bare one; pods served without a phase; a snapshot
 * saved with `pr-autoscaler snapshot` planned as the cluster it was read from.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { runCli } from "../support/cli.ts";
import { nodeMetrics } from "../support/kube-fixtures.ts";
import {
  CONFIG,
  ciliumAgent,
  controlPlane,
  freshNodeMetrics,
  type PlanJson,
  pdb,
  pod,
  type Raw,
  worker,
} from "./served-cluster.ts";
import {
  apps,
  changedAt,
  cluster,
  commitFiles,
  config,
  emptyRepo,
  FOUR,
  fillers,
  gitRepo,
  judgedNow,
  onWorker4,
  plan,
  planFull,
  poolDecision,
  poolNote,
  serveForTest,
  tempDir,
  tfvars,
  WORKERS,
} from "./served-plan.ts";

/** A Pending replica of the web Deployment (1500m, 1 GiB): no full worker takes it. */
function web(suffix: string, nodeSelector?: Record<string, string>): Raw {
  return pod("apps", `web-6f7c8d9b5-${suffix}`, {
    owner: { kind: "ReplicaSet", name: "web-6f7c8d9b5" },
    cpu: "1500m",
    memory: "1Gi",
    labels: { "app.kubernetes.io/name": "web" },
    ...(nodeSelector ? { nodeSelector } : {}),
  });
}

/** Now to the second, offset by `ms`: metrics-server's samples are of the read. */
function at(ms = 0): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000 + ms).toISOString();
}

/** Every proposal's and note's shape, as the contract states it. */
function expectContract(output: PlanJson): void {
  expect(Object.keys(output)).toEqual(["proposals", "notes"]);
  for (const proposal of output.proposals) {
    expect(proposal.kind).toBe("nodes");
    expect(typeof proposal.pool).toBe("string");
    expect(typeof proposal.from).toBe("number");
    expect(typeof proposal.to).toBe("number");
    expect(proposal.changes.length).toBeGreaterThan(0);
    for (const change of proposal.changes)
      expect(Object.keys(change)).toEqual(["file", "path", "before", "after"]);
    expect(proposal.reasons.length).toBeGreaterThan(0);
    for (const reason of proposal.reasons) expect(typeof reason).toBe("string");
  }
  for (const note of output.notes) {
    expect(["info", "warning"]).toContain(note.level);
    expect(typeof note.message).toBe("string");
  }
}

/** Two pools: apps, counted in terraform.tfvars, and media, in a Pulumi stack or the same file. */
function twoPools(media: { file: string; path: string }): string {
  return `pools:
  - name: apps
    target: { file: terraform/terraform.tfvars, path: worker_count }
    selector: { matchLabels: { node.kubernetes.io/pool: apps } }
    max: 4
    scaleDown: { unneededTime: 0 }
    removal: { nameTemplate: "talos-worker-{index}", indexBase: 1 }
  - name: media
    target: { file: ${media.file}, path: '${media.path}' }
    selector: { matchLabels: { node.kubernetes.io/pool: media } }
    max: 4
    scaleDown: { unneededTime: 0 }
    removal: { nameTemplate: "talos-media-{index}", indexBase: 1 }
`;
}

/**
 * The control plane; the apps pool's `appNodes`, each idle but for an echo-server replica, or,
 * `appsFull`, full with a 3-core pod; the media pool's `mediaNodes`, each full or idle alike.
 */
function appsAndMedia(options: {
  appNodes: readonly string[];
  appsFull: boolean;
  mediaNodes: readonly string[];
  mediaFull: boolean;
}): Raw[] {
  const poolNodes = (names: readonly string[], pool: string, full: boolean, first: number) =>
    names.flatMap((name, index) => [
      worker(name, { labels: { "node.kubernetes.io/pool": pool } }),
      ciliumAgent(name, first + index),
      freshNodeMetrics(name, full ? "2900m" : "200m", full ? "5Gi" : "1Gi"),
      full
        ? pod(pool, `busy-7d9c65958-${pool.slice(0, 2)}${index}xx`, {
            node: name,
            owner: { kind: "ReplicaSet", name: "busy-7d9c65958" },
            cpu: "3",
            memory: "4Gi",
          })
        : pod(pool, `echo-server-5d8f7c9b6-${pool.slice(0, 2)}${index}xx`, {
            node: name,
            owner: { kind: "ReplicaSet", name: "echo-server-5d8f7c9b6" },
            cpu: "100m",
            memory: "128Mi",
          }),
    ]);
  return [
    controlPlane("talos-cp-1"),
    freshNodeMetrics("talos-cp-1", "400m", "2Gi"),
    ...poolNodes(options.appNodes, "apps", options.appsFull, 0),
    ...poolNodes(options.mediaNodes, "media", options.mediaFull, 5),
  ];
}

const MEDIA = ["talos-media-1", "talos-media-2"];
const APPS2 = ["talos-worker-1", "talos-worker-2"];
const APPS3 = [...APPS2, "talos-worker-3"];

/** twoPools with both counts in terraform.tfvars (media's at media_count), apps' max `appsMax`. */
function inOneTfvars(appsMax = 4): string {
  return twoPools({ file: "terraform/terraform.tfvars", path: "media_count" }).replace(
    "max: 4",
    `max: ${appsMax}`,
  );
}

/** The terraform.tfvars of inOneTfvars: `apps` apps nodes and `media` media nodes. */
function counts(apps: number, media = 2): string {
  return `worker_count = ${apps}\nmedia_count  = ${media}\n`;
}

describe("plan contract: two pools, one raised and one lowered in the same plan", () => {
  it("raises a Pulumi stack's string count for a pod only media takes, and lowers the idle apps pool's tfvars count", async () => {
    // media's two workers are full (3 cores of 3800m, and Cilium): the transcoder, which asks
    // for a media node, needs a third. apps' three workers each run one 100m replica: with
    // unneededTime 0 the highest, talos-worker-3, goes. Pulumi keeps its config values as strings.
    const objects = [
      ...appsAndMedia({ appNodes: APPS3, appsFull: false, mediaNodes: MEDIA, mediaFull: true }),
      web("tr4ns", { "node.kubernetes.io/pool": "media" }),
    ];
    const files = {
      tfvars: "worker_count = 3\n",
      config: twoPools({ file: "Pulumi.homelab.yaml", path: 'config."proxmox-talos:mediaCount"' }),
      other: {
        "Pulumi.homelab.yaml":
          'config:\n  proxmox-talos:mediaCount: "2"\n  proxmox:endpoint: https://pve-1:8006\n',
      },
    };
    const served = await serveForTest(objects);
    const output = JSON.parse((await served.run(["--json"], files)).stdout) as PlanJson;
    expectContract(output);
    expect(
      output.proposals.map(({ kind, pool, from, to, changes }) => ({
        kind,
        pool,
        from,
        to,
        changes,
      })),
    ).toEqual([
      {
        kind: "nodes",
        pool: "apps",
        from: 3,
        to: 2,
        changes: [
          { file: "terraform/terraform.tfvars", path: "worker_count", before: 3, after: 2 },
        ],
      },
      {
        kind: "nodes",
        pool: "media",
        from: 2,
        to: 3,
        changes: [
          {
            file: "Pulumi.homelab.yaml",
            path: 'config."proxmox-talos:mediaCount"',
            before: "2",
            after: "3",
          },
        ],
      },
    ]);
    expect(output.notes).toEqual([]);
    const [apps, media] = output.proposals;
    expect(apps?.reasons[0]).toBe(
      "pool apps (terraform/terraform.tfvars worker_count): scale down 3 → 2, removing talos-worker-3",
    );
    expect(apps?.triggers).toEqual([expect.objectContaining({ kind: "underutilised" })]);
    expect(media?.reasons).toContain("  trigger: 1 pending pod needs 1 new node");
    expect(media?.triggers).toEqual([{ kind: "pending-pods", pods: 1, newNodes: 1 }]);
    // The text prints each proposal's reasons, and the diff of its own file only.
    const text = (await served.run([], files)).stdout;
    for (const proposal of output.proposals)
      for (const reason of proposal.reasons) expect(text).toContain(`  ${reason}\n`);
    expect(text).toContain('-  proxmox-talos:mediaCount: "2"\n+  proxmox-talos:mediaCount: "3"\n');
    expect(text).toContain("-worker_count = 3\n+worker_count = 2\n");
  });
});

describe("plan contract: two pools, the first at its max", () => {
  /**
   * Plans both pools' two workers, full, with `pods` and media's transcoder waiting, apps at
   * most `appsMax`.
   */
  function planBothFull(pods: Raw[], appsMax: number): Promise<PlanJson> {
    const objects = [
      ...appsAndMedia({ appNodes: APPS2, appsFull: true, mediaNodes: MEDIA, mediaFull: true }),
      ...pods,
      web("tr4ns", { "node.kubernetes.io/pool": "media" }),
    ];
    return plan(objects, { tfvars: counts(2), config: inOneTfvars(appsMax) });
  }

  it("lists a pod the first leaves pending at its max with that pool in the second's proposal, not as never fitting", async () => {
    // Both pools' workers are full. apps, at its max of 2, leaves its 1500m replica pending;
    // media adds a node for its own transcoder. A new media node would not take the apps
    // replica (its nodeSelector asks for apps), but that is not why it waits: apps' max is.
    const output = await planBothFull([web("max01", { "node.kubernetes.io/pool": "apps" })], 2);
    expectContract(output);
    expect(output.proposals.map(({ pool, from, to }) => ({ pool, from, to }))).toEqual([
      { pool: "media", from: 2, to: 3 },
    ]);
    const media = output.proposals[0];
    expect(media?.reasons).toContain(
      "  pending: apps/web-6f7c8d9b5-max01 (cpu 1500m, memory 1 GiB) → pool apps",
    );
    expect(media?.reasons.join("\n")).not.toContain("never fits");
    expect(media?.decision?.pending).toMatchObject({ neverFit: [] });
    const apps = output.notes.find((entry) => entry.subject === "pool/apps");
    expect(apps?.level).toBe("warning");
    expect(apps?.reasons).toContain(
      "  beyond max: 1 new node needed, 0 allowed (the max is 2); left pending: apps/web-6f7c8d9b5-max01",
    );
    expect(output.notes.find((entry) => entry.subject === "pods")).toBeUndefined();
  });

  it("names the pod once among the pods that add no node when both pools change", async () => {
    // apps may grow to 3: one of its two 3-cpu replicas goes on the new node, the other waits.
    const bigReplicas = ["big01", "big02"].map((suffix) =>
      pod("apps", `web-6f7c8d9b5-${suffix}`, {
        owner: { kind: "ReplicaSet", name: "web-6f7c8d9b5" },
        cpu: "3",
        memory: "1Gi",
        nodeSelector: { "node.kubernetes.io/pool": "apps" },
      }),
    );
    const output = await planBothFull(bigReplicas, 3);
    expectContract(output);
    expect(output.proposals.map(({ pool, from, to }) => ({ pool, from, to }))).toEqual([
      { pool: "apps", from: 2, to: 3 },
      { pool: "media", from: 2, to: 3 },
    ]);
    expect(output.notes).toEqual([
      {
        level: "warning",
        subject: "pods",
        message:
          "pending pods that add no node:\n  pool apps: beyond max: 2 new nodes needed, 1 allowed (the max is 3); left pending: apps/web-6f7c8d9b5-big02",
      },
    ]);
    expect(output.proposals[1]?.reasons).toContain(
      "  pending: apps/web-6f7c8d9b5-big02 (cpu 3, memory 1 GiB) → pool apps",
    );
  });
});

describe("plan contract: a pod left pending at one pool's max whose fit on the other's new node is unknown", () => {
  it("keeps it listed as fit unknown by media, which removes no node for low usage while it waits", async () => {
    // apps' workers are in zone pve-a, full, at apps' max of 2: a new apps node would hold the
    // pod, which asks for pve-a. media's nodes are in pve-a (full) and pve-b (idle): whether a
    // new media node would be in pve-a is unknown, so the pod may need the room of the idle
    // media nodes, and none of them goes.
    const zone = "topology.kubernetes.io/zone";
    const inZone = (objects: Raw[], names: Record<string, string>) =>
      objects.map((object) => {
        const name = (object.metadata as Raw).name as string;
        if (object.kind !== "Node" || !(name in names)) return object;
        const metadata = object.metadata as Raw;
        return {
          ...object,
          metadata: { ...metadata, labels: { ...(metadata.labels as Raw), [zone]: names[name] } },
        };
      });
    const objects = [
      ...inZone(
        appsAndMedia({
          appNodes: APPS2,
          appsFull: true,
          mediaNodes: [...MEDIA, "talos-media-3"],
          mediaFull: false,
        }),
        {
          "talos-worker-1": "pve-a",
          "talos-worker-2": "pve-a",
          "talos-media-1": "pve-a",
          "talos-media-2": "pve-b",
          "talos-media-3": "pve-b",
        },
      ),
      pod("media", "jellyfin-6c7d8e9f0a-fu11x", {
        node: "talos-media-1",
        owner: { kind: "ReplicaSet", name: "jellyfin-6c7d8e9f0a" },
        cpu: "3500m",
        memory: "4Gi",
      }),
      pod("apps", "web-6f7c8d9b5-zon01", {
        owner: { kind: "ReplicaSet", name: "web-6f7c8d9b5" },
        cpu: "3",
        memory: "1Gi",
        nodeSelector: { [zone]: "pve-a" },
      }),
    ];
    const output = await plan(objects, { tfvars: counts(2, 3), config: inOneTfvars(2) });
    expectContract(output);
    expect(output.proposals).toEqual([]);
    const media = output.notes.find((entry) => entry.subject === "pool/media");
    expect(media?.reasons).toContainEqual(
      expect.stringMatching(
        /^ {2}fit unknown: apps\/web-6f7c8d9b5-zon01 \(cpu 3, memory 1 GiB\): /,
      ),
    );
    expect(media?.holds).toEqual([
      { kind: "pending-fit-unknown", pods: ["apps/web-6f7c8d9b5-zon01"] },
    ]);
    expect(output.notes.find((entry) => entry.subject === "pool/apps")?.reasons).toContain(
      "  beyond max: 1 new node needed, 0 allowed (the max is 2); left pending: apps/web-6f7c8d9b5-zon01",
    );
  });
});

describe("plan contract: a cooldown read from one line of a shared terraform.tfvars", () => {
  it("holds apps, raised two minutes ago, as data, while media, idle and unchanged, is lowered", async () => {
    // worker_count went 1 → 2 two minutes before the plan; media_count has not changed since the
    // repo began. The cooldown (5m) is apps' own: apps' pending pod waits, media loses a node.
    const dir = emptyRepo("pr-autoscaler-contract-");
    const config = inOneTfvars();
    const changed = at(-120_000);
    commitFiles(dir, { tfvars: counts(1), config }, "2026-11-01T10:00:00Z", "worker_count 1");
    commitFiles(dir, { tfvars: counts(2), config }, changed, "worker_count 2");
    const served = await serveForTest([
      ...appsAndMedia({
        appNodes: APPS2,
        appsFull: true,
        mediaNodes: MEDIA,
        mediaFull: false,
      }),
      web("cool1", { "node.kubernetes.io/pool": "apps" }),
    ]);
    const output = await served.planRepo(dir, at());
    expectContract(output);
    expect(output.proposals.map(({ pool, from, to }) => ({ pool, from, to }))).toEqual([
      { pool: "media", from: 2, to: 1 },
    ]);
    const until = new Date(Date.parse(changed) + 300_000).toISOString();
    const note = output.notes.find((entry) => entry.subject === "pool/apps");
    expect(note).toMatchObject({
      level: "info",
      pool: "apps",
      current: 2,
      triggers: [{ kind: "pending-pods", pods: 1, newNodes: 1 }],
      holds: [{ kind: "cooldown", since: new Date(changed).toISOString(), until }],
    });
    expect(note?.reasons?.[0]).toBe(
      "pool apps (terraform/terraform.tfvars worker_count): no change at 2",
    );
    expect(note?.message).toBe(note?.reasons?.join("\n"));
  });
});

describe("plan contract: a window on New York's clock after summer time ends", () => {
  // New York left summer time at 02:00 EDT on Sunday 2026-11-01: 08:00 on Monday 2026-11-02 is
  // 13:00Z (EST, UTC-5), where the Friday before it was 12:00Z (EDT, UTC-4).
  const office = config({
    "    removal:":
      '    schedules:\n      - name: office-hours\n        cron: "0 8 * * 1-5"\n        timezone: America/New_York\n        duration: 10h\n        min: 4\n    removal:',
  });

  /** The three workers and the control plane, sampled by metrics-server 15 s before `now`. */
  function sampledBefore(now: string): Raw[] {
    const sampledAt = new Date(Date.parse(now) - 15_000).toISOString().replace(".000Z", "Z");
    return [
      controlPlane("talos-cp-1"),
      ...WORKERS.flatMap((name, index) => [
        worker(name),
        ciliumAgent(name, index),
        nodeMetrics(name, { cpu: "600m", memory: "2Gi" }, sampledAt),
      ]),
    ];
  }

  it.each([
    ["Friday 08:00 EDT", "2026-10-30T12:00:00Z", "2026-10-30T22:00:00.000Z"],
    ["Monday 08:00 EST", "2026-11-02T13:00:00Z", "2026-11-02T23:00:00.000Z"],
  ])("raises the count to the window's min at %s (%s)", async (_when, now, endsAt) => {
    const output = await plan(sampledBefore(now), { config: office }, now);
    expectContract(output);
    expect(output.proposals).toHaveLength(1);
    expect(output.proposals[0]).toMatchObject({
      pool: "workers",
      from: 3,
      to: 4,
      changes: [{ file: "terraform/terraform.tfvars", path: "worker_count", before: 3, after: 4 }],
    });
    expect(output.proposals[0]?.reasons).toContain(
      "  trigger: count 3 is below the min of 4 set by schedule office-hours",
    );
    const bounds = output.proposals[0]?.decision?.bounds as { schedules: Raw[] } | undefined;
    expect(bounds?.schedules).toEqual([
      expect.objectContaining({ name: "office-hours", active: true, endsAt }),
    ]);
  });

  it("keeps the count at 12:00Z on the Monday, 07:00 on New York's clock, and says the window is not open", async () => {
    const now = "2026-11-02T12:00:00Z";
    const output = await plan(sampledBefore(now), { config: office }, now);
    expectContract(output);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toMatch(
      /^pool workers \(terraform\/terraform\.tfvars worker_count\): no change at 3\n/,
    );
    expect((poolDecision(output).bounds as Raw).schedules).toEqual([
      expect.objectContaining({
        name: "office-hours",
        active: false,
        nextStart: "2026-11-02T13:00:00.000Z",
      }),
    ]);
  });
});

describe("plan contract: --config in place of the repo's file", () => {
  const objects = () => [...cluster(), ...fillers(), web("cfg01")];

  it("plans with the file --config names, not the repo's own, whose max would hold the pod back", async () => {
    const served = await serveForTest(objects());
    const repoFile = { config: config({ "max: 6": "max: 3" }) };
    const own = JSON.parse((await served.run(["--json"], repoFile)).stdout) as PlanJson;
    expect(own.proposals).toEqual([]);
    expect(poolDecision(own).holds).toEqual([
      { kind: "at-max", wanted: 4, allowed: 3, bound: "max" },
    ]);
    const file = join(tempDir(), "workers.yml");
    writeFileSync(file, CONFIG);
    const given = JSON.parse(
      (await served.run(["--json", "--config", file], repoFile)).stdout,
    ) as PlanJson;
    expectContract(given);
    expect(given.proposals).toEqual([expect.objectContaining({ pool: "workers", from: 3, to: 4 })]);
    expect(given.proposals[0]?.reasons).toContain("  bounds: min 1, max 6");
  });

  it("plans a repo without .github/pr-autoscaler.yml rather than leaving it alone", async () => {
    const served = await serveForTest(objects());
    const file = join(tempDir(), "workers.yml");
    writeFileSync(file, CONFIG);
    const run = await served.run(["--json", "--config", file], { config: null });
    expect(run.code).toBe(0);
    const output = JSON.parse(run.stdout) as PlanJson;
    expectContract(output);
    expect(output.proposals).toEqual([
      expect.objectContaining({ pool: "workers", from: 3, to: 4 }),
    ]);
    expect(output.notes.filter((note) => note.subject === "repo")).toEqual([]);
  });
});

describe("plan contract: a config without pools", () => {
  it("says no node count is planned, in the JSON and the text, rather than printing an empty plan", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), web("none1")]);
    const files = { config: "pools: []\n" };
    const output = JSON.parse((await served.run(["--json"], files)).stdout) as PlanJson;
    expect(output).toEqual({
      proposals: [],
      notes: [
        {
          level: "info",
          subject: "config",
          message: ".github/pr-autoscaler.yml has no pools: no node count is planned",
        },
      ],
    });
    const text = await served.run([], files);
    expect(text.stdout).toBe(
      "config: .github/pr-autoscaler.yml has no pools: no node count is planned\n\nNo changes proposed.\n",
    );
  });
});

describe("plan contract: the budgets cannot be listed while a pod waits", () => {
  it("adds no node on an incomplete read (500), and gives the trigger and the hold as data", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), web("pdb50")]);
    served.fake.injectFault({
      path: "/apis/policy/v1/poddisruptionbudgets",
      status: 500,
      times: Number.POSITIVE_INFINITY,
    });
    const output = await served.plan();
    expectContract(output);
    expect(output.proposals).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    expect(note).toMatchObject({
      level: "warning",
      current: 3,
      triggers: [{ kind: "pending-pods", pods: 1, newNodes: 1 }],
      holds: [
        {
          kind: "snapshot-incomplete",
          warnings: [expect.stringMatching(/^poddisruptionbudgets: .* HTTP 500 /)],
        },
      ],
    });
    expect(note?.message).toMatch(
      /\n {2}hold: the cluster snapshot is incomplete \(poddisruptionbudgets: [^\n]*\); no action(\n|$)/,
    );
  });
});

describe("plan contract: a budget and its pods on the node the decrease removes", () => {
  /** Two web replicas on talos-worker-4 under a budget allowing `allowed` disruptions. */
  const objects = (allowed: number) => [
    ...cluster(FOUR),
    ...apps(WORKERS),
    ...["rep01", "rep02"].map((suffix) =>
      pod("apps", `web-6f7c8d9b5-${suffix}`, {
        ...onWorker4,
        owner: { kind: "ReplicaSet", name: "web-6f7c8d9b5" },
        labels: { "app.kubernetes.io/name": "web" },
      }),
    ),
    pdb("apps", "web", { "app.kubernetes.io/name": "web" }, allowed),
  ];

  it("keeps talos-worker-4 when the budget allows 1 disruption and 2 of its pods are there", async () => {
    // The drain evicts both; the eviction API lets one go, then refuses the other until the
    // first is replaced and healthy: cluster-autoscaler does not remove such a node.
    const output = await plan(objects(1), judgedNow(4));
    expectContract(output);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain("not removed: talos-worker-4 has 2 blockers");
    expect((poolDecision(output).scaleDown as Raw).refusedBy).toEqual([
      {
        kind: "no-blockers",
        met: false,
        node: "talos-worker-4",
        blockers: ["rep01", "rep02"].map((suffix) => ({
          kind: "pdb",
          pod: `apps/web-6f7c8d9b5-${suffix}`,
          pdb: { name: "apps/web", disruptionsAllowed: 1, podsOnNode: 2 },
        })),
      },
    ]);
  });

  it("removes it when the budget allows 2", async () => {
    const output = await plan(objects(2), judgedNow(4));
    expectContract(output);
    expect(output.proposals).toEqual([expect.objectContaining({ from: 4, to: 3 })]);
    expect(output.proposals[0]?.reasons).toContain(
      "  scale-down: talos-worker-4 has no blockers: met",
    );
  });
});

describe("plan contract: pending pods while too many nodes are not Ready", () => {
  it("adds no node with 2 of 4 not Ready (50 % > 45 %), listing the pod's trigger and the hold as data", async () => {
    const down = { ready: false };
    const output = await plan(
      [
        ...cluster(FOUR, { "talos-worker-3": down, "talos-worker-4": down }),
        ...fillers(["talos-worker-1", "talos-worker-2"]),
        web("unr01"),
      ],
      { tfvars: tfvars(4) },
    );
    expectContract(output);
    expect(output.proposals).toEqual([]);
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    expect(note).toMatchObject({
      level: "warning",
      current: 4,
      triggers: [{ kind: "pending-pods", pods: 1, newNodes: 1 }],
      holds: [
        {
          kind: "too-many-unready",
          unready: ["talos-worker-3", "talos-worker-4"],
          total: 4,
          percent: 50,
          limit: 45,
        },
      ],
    });
  });
});

describe("plan contract: a node without metrics above the max", () => {
  it("removes talos-worker-4, whose usage is unknown, when the count is above the max: the bounds decide", async () => {
    // Unknown usage holds a decrease for low usage, never one down to the max.
    const objects = [...cluster(FOUR), ...apps(FOUR)].filter(
      (object) =>
        !(object.kind === "NodeMetrics" && (object.metadata as Raw).name === "talos-worker-4"),
    );
    const output = await plan(objects, judgedNow(4, { "max: 6": "max: 3" }));
    expectContract(output);
    expect(output.proposals).toEqual([expect.objectContaining({ from: 4, to: 3 })]);
    expect(output.proposals[0]?.reasons).toContain("  trigger: count 4 is above the max of 3");
  });
});

describe("plan contract: a Job's pod and a bare pod", () => {
  const job = pod("batch", "backup-29123456-k8x2p", {
    ...onWorker4,
    owner: { kind: "Job", name: "backup-29123456" },
  });

  it("removes talos-worker-4 whose only pod is a Job's: its controller makes it again elsewhere", async () => {
    const output = await plan([...cluster(FOUR), ...apps(WORKERS), job], judgedNow(4));
    expectContract(output);
    expect(output.proposals).toEqual([expect.objectContaining({ from: 4, to: 3 })]);
  });

  it("keeps it when a bare pod runs beside the Job's, naming only the bare pod", async () => {
    const bare = pod("default", "debug-shell", { ...onWorker4, owner: null });
    const output = await plan([...cluster(FOUR), ...apps(WORKERS), job, bare], judgedNow(4));
    expectContract(output);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "blockers on talos-worker-4: default/debug-shell: no controller would recreate it",
    );
    expect((poolDecision(output).scaleDown as Raw).refusedBy).toEqual([
      {
        kind: "no-blockers",
        met: false,
        node: "talos-worker-4",
        blockers: [{ kind: "bare-pod", pod: "default/debug-shell" }],
      },
    ]);
  });
});

describe("plan contract: pods served without a phase, as manifests written by hand", () => {
  it("adds a node for an unbound pod without status.phase that the scheduler marked unschedulable", async () => {
    // The API server sets phase Pending on every pod it creates: one served without it, with the
    // scheduler's Unschedulable condition, is pending, not passed over in silence.
    const pending = web("nophz");
    delete (pending.status as Raw).phase;
    const output = await planFull([pending]);
    expectContract(output);
    expect(output.proposals).toEqual([expect.objectContaining({ from: 3, to: 4 })]);
    expect(output.proposals[0]?.triggers).toEqual([{ kind: "pending-pods", pods: 1, newNodes: 1 }]);
  });

  it("still keeps talos-worker-4 for a bound pod without status.phase that a budget allowing 0 protects", async () => {
    // Bound, it may be running: its phase is unknown, not Pending, which the eviction API would
    // let go whatever its budget allows.
    const broker = pod("home", "mosquitto-0", {
      ...onWorker4,
      owner: { kind: "StatefulSet", name: "mosquitto" },
      labels: { "app.kubernetes.io/name": "mosquitto" },
    });
    delete (broker.status as Raw).phase;
    const output = await plan(
      [
        ...cluster(FOUR),
        ...apps(WORKERS),
        broker,
        pdb("home", "mosquitto", { "app.kubernetes.io/name": "mosquitto" }, 0),
      ],
      judgedNow(4),
    );
    expectContract(output);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "blockers on talos-worker-4: home/mosquitto-0: PDB home/mosquitto allows 0 disruptions, 1 of its pods is here",
    );
  });
});

describe("plan contract: a snapshot saved from the cluster plans as the cluster itself", () => {
  /**
   * `plan --kubeconfig` and `plan --snapshot` of what `snapshot --out` saved from the same
   * server, each at `now`, for each repo: the same JSON and the same warnings.
   */
  async function bothWays(objects: Raw[], repos: string[], now: string): Promise<PlanJson[]> {
    const served = await serveForTest(objects);
    const dir = tempDir();
    const kubeconfig = await served.fake.writeKubeconfig(join(dir, "kubeconfig"));
    const snapshot = join(dir, "snapshot.json");
    const saved = await runCli(["snapshot", "--kubeconfig", kubeconfig, "--out", snapshot]);
    expect(saved.code).toBe(0);
    const outputs: PlanJson[] = [];
    for (const repo of repos) {
      const args = ["plan", "--repo", repo, "--now", now, "--json"];
      const live = await runCli([...args, "--kubeconfig", kubeconfig]);
      const read = await runCli([...args, "--snapshot", snapshot]);
      expect(live.code).toBe(0);
      expect(read.code).toBe(0);
      expect(read.stderr).toBe(live.stderr);
      const output = JSON.parse(live.stdout) as PlanJson;
      expect(JSON.parse(read.stdout)).toEqual(output);
      expectContract(output);
      outputs.push(output);
    }
    return outputs;
  }

  it("raises for a pending pod, and holds the raise in a cooldown read from git, either way", async () => {
    const now = at(5_000);
    const [raised, cooling] = await bothWays(
      [...cluster(), ...fillers(), web("snp01")],
      [
        gitRepo([{ count: 3, at: "2026-11-01T10:00:00Z" }]),
        changedAt(2, 3, new Date(Date.parse(now) - 120_000).toISOString()),
      ],
      now,
    );
    expect(raised?.proposals).toEqual([expect.objectContaining({ from: 3, to: 4, holds: [] })]);
    expect(cooling?.proposals).toEqual([]);
    expect(poolDecision(cooling as PlanJson).holds).toEqual([
      expect.objectContaining({ kind: "cooldown" }),
    ]);
  });

  it("lowers an idle pool, and keeps the node a budget protects, either way", async () => {
    const broker = pod("home", "mosquitto-0", {
      ...onWorker4,
      owner: { kind: "StatefulSet", name: "mosquitto" },
      labels: { "app.kubernetes.io/name": "mosquitto" },
    });
    const quick = judgedNow(4).config as string;
    const repo = () => gitRepo([{ count: 4, at: "2026-11-01T10:00:00Z" }], quick);
    const [lowered] = await bothWays([...cluster(FOUR), ...apps(FOUR)], [repo()], at(5_000));
    expect(lowered?.proposals).toEqual([
      expect.objectContaining({ from: 4, to: 3, direction: "down" }),
    ]);
    const [kept] = await bothWays(
      [
        ...cluster(FOUR),
        ...apps(WORKERS),
        broker,
        pdb("home", "mosquitto", { "app.kubernetes.io/name": "mosquitto" }, 0),
      ],
      [repo()],
      at(5_000),
    );
    expect(kept?.proposals).toEqual([]);
    expect(poolNote(kept as PlanJson)).toContain(
      "blockers on talos-worker-4: home/mosquitto-0: PDB home/mosquitto allows 0 disruptions",
    );
  });
});
