/**
 * Hysteresis and schedule windows as an operator would check them against `plan --kubeconfig`
 * with an infra repo whose history is real git commits, each expectation written from
 * docs/configuration.md ("What holds a change back", "Schedules") and cluster-autoscaler's
 * `scale-down-delay-after-add` before the plan was read: the delay after a scale-up runs from
 * its node's Ready time, not from the commit; a raise whose node never joined is reported failed
 * and adds nothing more; only a commit that changes the count starts a cooldown, dated when it
 * reached the branch (a merge commit, or when a rebased commit was made, not written), the commit
 * that made the repository starts none, and the cooldown is over at exactly its length, whatever
 * the offsets the commit and --now are written in, in a linked worktree too, and for a target
 * whose name git quotes; a window is read on its time zone's wall clock and
 * lasts its duration in elapsed time, across midnight and daylight-saving changes; overlapping
 * windows take the highest min; a window opening before a node removed now could be back keeps
 * the count, and is named beside a cooldown that holds the pool too; a window the config cannot
 * mean is refused at its line.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { nodeMetrics } from "../support/kube-fixtures.ts";
import {
  ciliumAgent,
  controlPlane,
  type PlanJson,
  type Raw,
  type Served,
  worker,
} from "./served-cluster.ts";
import {
  apps,
  booted,
  changedAt,
  cluster,
  commitFile,
  config,
  FOUR,
  fillers,
  git,
  gitRepo,
  poolNote,
  serveForTest,
  tempDir,
  tfvars,
  transcodeJob,
  WORKERS,
} from "./served-plan.ts";

const NOW = "2026-11-22T10:00:00Z";
const FILE = "terraform/terraform.tfvars";
const QUICK = "    scaleDown:\n      unneededTime: 0s\n";

/**
 * The control plane and `names` as idle workers (metrics-server: 150m cpu, 1 GiB, sampled at
 * `sampledAt`), so that with unneededTime 0 the pool wants to lose a node once nothing holds it.
 */
function idle(names: readonly string[], sampledAt: string): Raw[] {
  return [
    controlPlane("talos-cp-1"),
    ...names.flatMap((name, index) => [
      worker(name),
      ciliumAgent(name, index),
      nodeMetrics(name, { cpu: "150m", memory: "1Gi" }, sampledAt),
    ]),
  ];
}

/** Serves FOUR idle workers sampled at `sampledAt`, with a light app pod on three of them. */
function serveIdleFour(sampledAt: string): Promise<Served> {
  return serveForTest([...idle(FOUR, sampledAt), ...apps(WORKERS)]);
}

/** The pool's config with unneededTime 0, and no windows. */
const QUICK_CONFIG = config({ "    removal:": `${QUICK}    removal:` });

/** A schedule entry of the pool's config. */
function window(name: string, cron: string, timezone: string, duration: string, min: number) {
  return `      - name: ${name}
        cron: "${cron}"
        timezone: ${timezone}
        duration: ${duration}
        min: ${min}
`;
}

/**
 * The pool's config with `lines` before scaleDown, unneededTime 0 and `scaleDown` under it, and
 * these schedule windows.
 */
function withWindows(windows: string, lines = "", scaleDown = ""): string {
  return config({
    "    removal:": `${lines}${QUICK}${scaleDown}    schedules:\n${windows}    removal:`,
  });
}

/** The held pool's decision, or the proposal's. */
function decision(output: PlanJson): Raw {
  const held = output.notes.find((note) => note.subject === "pool/workers")?.decision;
  const made = output.proposals[0]?.decision;
  const found = held ?? made;
  if (!found) throw new Error(`no decision: ${JSON.stringify(output)}`);
  return found;
}

function holds(output: PlanJson): Raw[] {
  return (decision(output).holds as Raw[] | undefined) ?? [];
}

describe("plan acceptance, hysteresis: the delay after a scale-up and nodes that never join", () => {
  it("runs the delay from the new node's Ready time, not from the commit 12 minutes ago", async () => {
    // worker_count 3 → 4 at 09:48; talos-worker-4 was created at 09:50 and Ready at 09:56. The
    // cooldown (09:53) is over; the delay after the scale-up lasts until 10:06, not 09:58.
    const objects = [...idle(FOUR, "2026-11-22T09:59:45Z"), ...apps(WORKERS)];
    booted(objects, "talos-worker-4", "2026-11-22T09:50:00Z", "2026-11-22T09:56:00Z");
    const served = await serveForTest(objects);
    const repo = changedAt(3, 4, "2026-11-22T09:48:00Z", QUICK_CONFIG);
    const output = await served.planRepo(repo, NOW);
    expect(output.proposals).toEqual([]);
    expect(holds(output)).toEqual([
      {
        kind: "scale-down-delay",
        since: "2026-11-22T09:56:00.000Z",
        until: "2026-11-22T10:06:00.000Z",
      },
    ]);
    expect(poolNote(output)).toContain(
      "  hold: no scale-down until 2026-11-22 10:06 UTC (nodes of the last scale-up Ready at 2026-11-22 09:56 UTC)\n",
    );
  });

  it("reports a raise whose node never joined as failed after 20 minutes, and adds no node for a new pending pod", async () => {
    // worker_count 3 → 4 at 09:40; only three workers are listed at 10:00, each full, and a
    // transcode pod waits. Adding more VMs where the last one did not come up would add more that
    // do not: the pod is counted on the node asked for, and a person looks at it (a warning).
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("nj001")]);
    const output = await served.planRepo(changedAt(3, 4, "2026-11-22T09:40:00Z"), NOW);
    expect(output.proposals).toEqual([]);
    expect(holds(output)).toContainEqual({
      kind: "provisioning-failed",
      state: "joining",
      expected: 4,
      present: 3,
      since: "2026-11-22T09:40:00.000Z",
      timeoutMs: 900_000,
    });
    const note = output.notes.find((entry) => entry.subject === "pool/workers");
    expect(note?.level).toBe("warning");
    expect(note?.message).toContain(
      "  hold: the repo asks for 4 nodes, 3 are Ready, 15m or more after the change of 2026-11-22 09:40 UTC: a node failed to join",
    );
    expect(note?.message).toContain(
      "1 goes on 1 node (1 the repo asks for that did not join in time, 0 new)",
    );
    // The pod is counted on the VM asked for, not on one more: its line says which node that is.
    expect(note?.message).toMatch(
      /^ {2}pending: batch\/transcode-29123400-nj001 [^\n]* → new-1, a node the repo asks for that did not join in time \(/m,
    );
  });
});

describe("plan acceptance, hysteresis: which commits start the cooldown, and when it ends", () => {
  /** The hold of the cooldown after a change at 09:58, at NOW: it runs until 10:03. */
  const COOLDOWN_SINCE_0958 = {
    kind: "cooldown",
    since: "2026-11-22T09:58:00.000Z",
    until: "2026-11-22T10:03:00.000Z",
  };

  /** An infra repo whose count went 2 → 3 on 2026-11-01, then `path` committed at 09:58. */
  function repoWith(path: string, text: string): string {
    const dir = changedAt(2, 3, "2026-11-01T12:00:00Z");
    commitFile(dir, path, text, "2026-11-22T09:58:00Z", "edit");
    return dir;
  }

  it("starts none for a commit of another file, nor for one changing a comment of the tfvars", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("cm001")]);
    const readme = repoWith("README.md", "# infra\n");
    const comment = repoWith(FILE, tfvars(3).replace("# 16 GiB", "# 16 GiB of RAM"));
    for (const repo of [readme, comment]) {
      const output = await served.planRepo(repo, NOW);
      expect(output.proposals).toEqual([
        expect.objectContaining({ pool: "workers", from: 3, to: 4, holds: [] }),
      ]);
    }
  });

  it("dates a raise merged with a merge commit at the merge, not at its commit two hours before", async () => {
    // The pull request's commit raised 3 → 4 at 08:00; main got another commit at 09:00, and
    // the merge commit at 09:58 brought the raise in: the cooldown runs until 10:03.
    const served = await serveIdleFour("2026-11-22T09:59:45Z");
    const dir = changedAt(4, 3, "2026-11-01T12:00:00Z", QUICK_CONFIG);
    git(dir, ["checkout", "-q", "-b", "raise"]);
    commitFile(dir, FILE, tfvars(4), "2026-11-22T08:00:00Z", "worker_count 4");
    git(dir, ["checkout", "-q", "main"]);
    commitFile(dir, "README.md", "# infra\n", "2026-11-22T09:00:00Z", "readme");
    git(
      dir,
      ["merge", "-q", "--no-ff", "-m", "Merge pull request #7", "raise"],
      "2026-11-22T09:58:00Z",
    );
    const output = await served.planRepo(dir, NOW);
    expect(output.proposals).toEqual([]);
    expect(holds(output)).toContainEqual(COOLDOWN_SINCE_0958);
  });

  it("starts none for the commit that made the repository: a pod waiting gets a node at once, also with --now before the commit", async () => {
    // A fresh infra repo: git init, the files, one commit. Its count 3 is the one the three
    // workers run, no one changed it: a pod that fits on none of them gets a fourth, now (as
    // cluster-autoscaler would), not after a cooldown. A scripted run with a fixed --now an hour
    // before that commit is the same repository.
    const served = await serveForTest([...cluster(), ...fillers(), transcodeJob("rt001")]);
    for (const at of ["2026-11-22T09:59:30Z", "2026-11-22T11:00:00Z"]) {
      const output = await served.planRepo(gitRepo([{ count: 3, at }]), NOW);
      expect(output.proposals).toEqual([
        expect.objectContaining({ pool: "workers", from: 3, to: 4, holds: [] }),
      ]);
    }
  });

  it("dates a rebased commit when it was committed, not when its author wrote it an hour before", async () => {
    const served = await serveIdleFour("2026-11-22T09:59:45Z");
    const dir = gitRepo([{ count: 5, at: "2026-11-01T12:00:00Z" }], QUICK_CONFIG);
    writeFileSync(join(dir, FILE), tfvars(4));
    git(
      dir,
      ["commit", "-q", "-am", "worker_count 4", "--date", "2026-11-22T08:58:00Z"],
      "2026-11-22T09:58:00Z",
    );
    const output = await served.planRepo(dir, NOW);
    expect(output.proposals).toEqual([]);
    expect(holds(output)).toEqual([COOLDOWN_SINCE_0958]);
  });

  it("reads a commit dated +02:00 and a --now written -05:00 as the instants they name", async () => {
    // 11:58+02:00 is 09:58Z; 05:00-05:00 is 10:00Z: the cooldown runs until 10:03Z.
    const served = await serveIdleFour("2026-11-22T09:59:45Z");
    const dir = changedAt(5, 4, "2026-11-22T11:58:00+02:00", QUICK_CONFIG);
    const output = await served.planRepo(dir, "2026-11-22T05:00:00-05:00");
    expect(output.proposals).toEqual([]);
    expect(holds(output)).toEqual([COOLDOWN_SINCE_0958]);
  });

  it("reads the history in a linked worktree, whose .git is a file, as in its repository", async () => {
    const served = await serveIdleFour("2026-11-22T09:59:45Z");
    const dir = changedAt(5, 4, "2026-11-22T09:58:00Z", QUICK_CONFIG);
    const linked = join(tempDir(), "linked");
    git(dir, ["worktree", "add", "-q", "--detach", linked, "main"]);
    const output = await served.planRepo(linked, NOW);
    expect(output.proposals).toEqual([]);
    expect(holds(output)).toEqual([COOLDOWN_SINCE_0958]);
  });

  it("reads the history of a target whose name git quotes: a space and a letter outside ASCII", async () => {
    const served = await serveIdleFour("2026-11-22T09:59:45Z");
    const file = "terraform/prød env.tfvars";
    const quoted = config({
      [FILE]: file,
      "    removal:": `${QUICK}    removal:`,
    });
    const dir = gitRepo([{ count: 5, at: "2026-11-01T12:00:00Z" }], quoted);
    commitFile(dir, file, tfvars(5), "2026-11-01T12:00:00Z", "worker_count 5");
    commitFile(dir, file, tfvars(4), "2026-11-22T09:58:00Z", "worker_count 4");
    const output = await served.planRepo(dir, NOW);
    expect(output.proposals).toEqual([]);
    expect(holds(output)).toEqual([COOLDOWN_SINCE_0958]);
  });

  it("holds a decrease 4:59 after the last change, and makes it at exactly 5:00", async () => {
    const served = await serveIdleFour("2026-11-22T09:59:45Z");
    const held = await served.planRepo(changedAt(5, 4, "2026-11-22T09:55:01Z", QUICK_CONFIG), NOW);
    expect(held.proposals).toEqual([]);
    expect(holds(held)).toEqual([
      { kind: "cooldown", since: "2026-11-22T09:55:01.000Z", until: "2026-11-22T10:00:01.000Z" },
    ]);
    const over = await served.planRepo(changedAt(5, 4, "2026-11-22T09:55:00Z", QUICK_CONFIG), NOW);
    expect(over.proposals[0]).toMatchObject({ from: 4, to: 3, holds: [] });
  });
});

describe("plan acceptance, schedules: when a window is open", () => {
  it("reads a Friday 18:00 Europe/Berlin window on Berlin's clock: 6h ends at midnight, 7h is open at Saturday 00:30", async () => {
    // Saturday 2026-11-28 00:30 in Berlin (CET, UTC+1) is 2026-11-27T23:30Z. The window opened at
    // 17:00Z; 6h ends at 23:00Z (midnight in Berlin), 7h at 00:00Z.
    const served = await serveForTest(idle(WORKERS, "2026-11-27T23:29:45Z"));
    const at = "2026-11-27T23:30:00Z";
    const six = await served.plan(
      {
        tfvars: tfvars(3),
        config: withWindows(window("friday-evening", "0 18 * * 5", "Europe/Berlin", "6h", 4)),
      },
      at,
    );
    expect(six.proposals[0]).toMatchObject({ from: 3, to: 2 });
    expect((decision(six).bounds as Raw).schedules).toEqual([
      {
        name: "friday-evening",
        cron: "0 18 * * 5",
        timezone: "Europe/Berlin",
        min: 4,
        durationMs: 21_600_000,
        active: false,
        nextStart: "2026-12-04T17:00:00.000Z",
      },
    ]);
    const seven = await served.plan(
      {
        tfvars: tfvars(3),
        config: withWindows(window("friday-evening", "0 18 * * 5", "Europe/Berlin", "7h", 4)),
      },
      at,
    );
    expect(seven.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(seven.proposals[0]?.reasons).toEqual(
      expect.arrayContaining([
        "  bounds: min 1, max 6; schedule friday-evening active until 2026-11-28 00:00 UTC: min 4; in effect 4..6",
        "  trigger: count 3 is below the min of 4 set by schedule friday-evening",
      ]),
    );
    expect((decision(seven).bounds as Raw).schedules).toEqual([
      expect.objectContaining({
        active: true,
        startedAt: "2026-11-27T17:00:00.000Z",
        endsAt: "2026-11-28T00:00:00.000Z",
      }),
    ]);
  });

  it("counts the duration in elapsed time across the end of summer time: Saturday 22:00 CEST for 6h ends at 02:00Z", async () => {
    // Berlin leaves summer time at 03:00 CEST on Sunday 2027-10-31 (01:00Z). The window opened
    // at 22:00 CEST (20:00Z) on Saturday; six hours later is 02:00Z, 03:00 on Berlin's clock,
    // not 04:00 as the wall clock's 22:00 + 6h would say.
    const late = withWindows(window("late", "0 22 * * 6", "Europe/Berlin", "6h", 4));
    const open = await serveForTest(idle(WORKERS, "2027-10-31T01:58:45Z"));
    const before = await open.plan({ tfvars: tfvars(3), config: late }, "2027-10-31T01:59:00Z");
    expect(before.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect((decision(before).bounds as Raw).schedules).toEqual([
      expect.objectContaining({
        startedAt: "2027-10-30T20:00:00.000Z",
        endsAt: "2027-10-31T02:00:00.000Z",
        nextStart: "2027-11-06T21:00:00.000Z",
      }),
    ]);
    const closed = await serveIdleFour("2027-10-31T02:00:45Z");
    const after = await closed.plan({ tfvars: tfvars(4), config: late }, "2027-10-31T02:01:00Z");
    expect(after.proposals[0]).toMatchObject({ from: 4, to: 3 });
  });

  it("opens a start in the hour summer time skips at 03:00 CEST, and keeps the count for it beforehand", async () => {
    // 02:30 does not exist in Berlin on Sunday 2027-03-28: the clock goes from 02:00 CET to 03:00
    // CEST (01:00Z). The window opens at 01:00Z; at 00:45Z it is 15 minutes away, sooner than a
    // node removed now could be back (cooldown 5m + provisionTimeout 15m).
    const night = withWindows(window("night", "30 2 * * 0", "Europe/Berlin", "1h", 4));
    const idleFour = await serveIdleFour("2027-03-28T00:44:45Z");
    const soon = await idleFour.plan({ tfvars: tfvars(4), config: night }, "2027-03-28T00:45:00Z");
    expect(soon.proposals).toEqual([]);
    expect(holds(soon)).toEqual([
      {
        kind: "schedule-soon",
        schedule: "night",
        opensAt: "2027-03-28T01:00:00.000Z",
        min: 4,
        horizonMs: 20 * 60_000,
      },
    ]);
    const three = await serveForTest(idle(WORKERS, "2027-03-28T01:04:45Z"));
    const open = await three.plan({ tfvars: tfvars(3), config: night }, "2027-03-28T01:05:00Z");
    expect(open.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect((decision(open).bounds as Raw).schedules).toEqual([
      expect.objectContaining({
        startedAt: "2027-03-28T01:00:00.000Z",
        endsAt: "2027-03-28T02:00:00.000Z",
        nextStart: "2027-04-04T00:30:00.000Z",
      }),
    ]);
  });

  it("takes the highest min of two overlapping windows, naming both, and lowers one above the host cap to it", async () => {
    const served = await serveForTest(idle(WORKERS, "2026-11-27T18:29:45Z"));
    const at = "2026-11-27T18:30:00Z";
    const two = await served.plan(
      {
        tfvars: tfvars(3),
        config: withWindows(
          window("friday", "0 18 * * 5", "UTC", "6h", 4) +
            window("evening", "0 17 * * *", "UTC", "3h", 5),
        ),
      },
      at,
    );
    expect(two.proposals[0]).toMatchObject({ from: 3, to: 5 });
    expect(two.proposals[0]?.triggers).toEqual([
      { kind: "below-min", current: 3, min: 5, schedule: "evening" },
    ]);
    expect(two.proposals[0]?.reasons).toContain(
      "  bounds: min 1, max 6; schedule friday active until 2026-11-28 00:00 UTC: min 4; schedule evening active until 2026-11-27 20:00 UTC: min 5; in effect 5..6",
    );
    const capped = await served.plan(
      {
        tfvars: tfvars(3),
        config: withWindows(
          window("friday", "0 18 * * 5", "UTC", "6h", 6),
          "    host:\n      maxNodes: 4\n",
        ),
      },
      at,
    );
    expect(capped.proposals[0]).toMatchObject({ from: 3, to: 4 });
    expect(capped.proposals[0]?.reasons).toContain(
      "  bounds: min 1, max 6, host cap 4 (maxNodes 4); schedule friday active until 2026-11-28 00:00 UTC: min 6; in effect 4..4",
    );
  });
});

describe("plan acceptance, schedules: a window about to open", () => {
  /** Five workers: the two highest, empty, could go together (maxEmptyBulk 2). */
  const FIVE = [...FOUR, "talos-worker-5"];

  /**
   * The pool's config with `lines` before scaleDown, maxEmptyBulk 2, and a window of `min`
   * opening at 18:00 UTC on Friday 2026-11-27.
   */
  function fridayAt18(min: number, lines = ""): string {
    return withWindows(
      window("friday-evening", "0 18 * * 5", "UTC", "6h", min),
      lines,
      "      maxEmptyBulk: 2\n",
    );
  }

  /** Plans at 17:50 for a repo with `configText` whose count went 6 → 5 at 17:48. */
  function planAt1750(served: Served, configText: string): Promise<PlanJson> {
    return served.planRepo(
      changedAt(6, 5, "2026-11-27T17:48:00Z", configText),
      "2026-11-27T17:50:00Z",
    );
  }

  it("keeps the count at exactly cooldown + provisionTimeout before it, and reads both from the config", async () => {
    // Metrics-server's samples are taken 15 s before each run.
    const served = await serveIdleFour("2026-11-27T17:39:45Z");
    const friday = window("friday-evening", "0 18 * * 5", "UTC", "6h", 4);
    const exactly = await served.plan(
      { tfvars: tfvars(4), config: withWindows(friday) },
      "2026-11-27T17:40:00Z",
    );
    expect(exactly.proposals).toEqual([]);
    expect(holds(exactly)).toEqual([
      {
        kind: "schedule-soon",
        schedule: "friday-evening",
        opensAt: "2026-11-27T18:00:00.000Z",
        min: 4,
        horizonMs: 20 * 60_000,
      },
    ]);
    const before = "2026-11-27T17:35:00Z";
    const earlier = await serveIdleFour("2026-11-27T17:34:45Z");
    const defaults = await earlier.plan({ tfvars: tfvars(4), config: withWindows(friday) }, before);
    expect(defaults.proposals[0]).toMatchObject({ from: 4, to: 3 });
    const longer = await earlier.plan(
      {
        tfvars: tfvars(4),
        config: withWindows(friday, "    cooldown: 10m\n    provisionTimeout: 20m\n"),
      },
      before,
    );
    expect(longer.proposals).toEqual([]);
    // The horizon the window was judged against is given, as read from the config.
    expect(holds(longer)).toEqual([
      expect.objectContaining({ kind: "schedule-soon", horizonMs: 30 * 60_000 }),
    ]);
  });

  it("keeps a count below the window's min as it is until the window opens, and says so", async () => {
    // Three idle workers at 17:50; the window opening at 18:00 asks for 5. No node goes, and the
    // count is 3, not "5 or more", until the window raises it.
    const served = await serveForTest([...idle(WORKERS, "2026-11-27T17:49:45Z"), ...apps(WORKERS)]);
    const output = await served.plan(
      {
        tfvars: tfvars(3),
        config: withWindows(window("friday-evening", "0 18 * * 5", "UTC", "6h", 5)),
      },
      "2026-11-27T17:50:00Z",
    );
    expect(output.proposals).toEqual([]);
    expect(holds(output)).toEqual([
      {
        kind: "schedule-soon",
        schedule: "friday-evening",
        opensAt: "2026-11-27T18:00:00.000Z",
        min: 5,
        horizonMs: 20 * 60_000,
        current: 3,
      },
    ]);
    expect(poolNote(output)).toContain(
      "  hold: schedule friday-evening opens at 2026-11-27 18:00 UTC with min 5, sooner than a node removed now could be back (cooldown + provisionTimeout): the count stays at 3 until it opens, and its min raises it to 5 then\n",
    );
  });

  it("names the window beside a cooldown, and says the nodes it keeps would not go once the cooldown is over", async () => {
    // worker_count 6 → 5 at 17:48; at 17:50 the cooldown holds the pool until 17:53, when the
    // window (min 4, at 18:00) is still sooner than a node removed then could be back. talos-
    // worker-5 and 4 are empty (maxEmptyBulk 2): the cooldown over, only talos-worker-5 goes.
    const served = await serveForTest([...idle(FIVE, "2026-11-27T17:49:45Z"), ...apps(WORKERS)]);
    const output = await planAt1750(served, fridayAt18(4));
    expect(output.proposals).toEqual([]);
    expect(holds(output)).toEqual([
      { kind: "cooldown", since: "2026-11-27T17:48:00.000Z", until: "2026-11-27T17:53:00.000Z" },
      {
        kind: "schedule-soon",
        schedule: "friday-evening",
        opensAt: "2026-11-27T18:00:00.000Z",
        min: 4,
        horizonMs: 20 * 60_000,
      },
    ]);
    expect(poolNote(output)).toContain(
      "  hold: schedule friday-evening opens at 2026-11-27 18:00 UTC with min 4, sooner than a node removed now could be back (cooldown + provisionTimeout): the count stays at 4 or more\n",
    );
    expect(poolNote(output)).toContain(
      "  scale-down: 2 empty nodes would go together (at most 2): talos-worker-5, talos-worker-4, but schedule friday-evening opens soon with min 4 and keeps talos-worker-4\n",
    );
    // Not "talos-worker-5 and talos-worker-4": the window keeps talos-worker-4.
    expect(poolNote(output)).toContain("  scale-down: a decrease would remove talos-worker-5\n");
  });

  it("says a node long not Ready would go once a cooldown is over, before a window that keeps the empty one", async () => {
    // worker_count 6 → 5 at 17:48; talos-worker-5 stopped posting its status on 2026-11-20
    // (served-cluster.ts) and talos-worker-4 is empty. The window (min 5, at 18:00) keeps
    // talos-worker-4; talos-worker-5 goes once the cooldown is over at 17:53, not now. With a
    // cooldown of 15m the window is open by then, and its min keeps both.
    // talos-worker-5 not Ready, and no metrics from it.
    const objects = idle(FIVE, "2026-11-27T17:49:45Z").flatMap((object) => {
      if ((object.metadata as Raw).name !== "talos-worker-5") return [object];
      return object.kind === "Node" ? [worker("talos-worker-5", { ready: false })] : [];
    });
    const served = await serveForTest([...objects, ...apps(WORKERS)]);
    const output = await planAt1750(served, fridayAt18(5));
    expect(output.proposals).toEqual([]);
    expect(holds(output)).toEqual([
      { kind: "cooldown", since: "2026-11-27T17:48:00.000Z", until: "2026-11-27T17:53:00.000Z" },
      {
        kind: "schedule-soon",
        schedule: "friday-evening",
        opensAt: "2026-11-27T18:00:00.000Z",
        min: 5,
        horizonMs: 20 * 60_000,
        unready: ["talos-worker-5"],
        held: true,
      },
    ]);
    expect(poolNote(output)).toContain(
      "  hold: schedule friday-evening opens at 2026-11-27 18:00 UTC with min 5, sooner than a node removed now could be back (cooldown + provisionTimeout): the count stays at 5 or more, but for talos-worker-5, not Ready for scaleDown.unreadyTime, which would go once what holds the pool is over: kept, it would count toward the window's min with no room to give, and once it opens its min brings a new node in its place\n",
    );
    expect(poolNote(output)).toContain(
      "  scale-down: 2 empty nodes would go together (at most 2): talos-worker-5, talos-worker-4, but schedule friday-evening opens soon with min 5 and keeps talos-worker-4\n",
    );
    const longer = await planAt1750(served, fridayAt18(5, "    cooldown: 15m\n"));
    expect(holds(longer)).toContainEqual({
      kind: "schedule-soon",
      schedule: "friday-evening",
      opensAt: "2026-11-27T18:00:00.000Z",
      min: 5,
      horizonMs: 30 * 60_000,
    });
    expect(poolNote(longer)).toContain(
      "  scale-down: 2 empty nodes would go together (at most 2): talos-worker-5, talos-worker-4, but schedule friday-evening opens soon with min 5 and keeps them\n",
    );
  });

  it("waits out a cooldown before raising to a window's min that opened during it", async () => {
    // worker_count 4 → 3 at 17:58; the window (min 5) opens at 18:00: the raise comes at 18:03.
    const served = await serveForTest(idle(WORKERS, "2026-11-27T17:59:45Z"));
    const friday = withWindows(window("friday-evening", "0 18 * * 5", "UTC", "6h", 5));
    const output = await served.planRepo(
      changedAt(4, 3, "2026-11-27T17:58:00Z", friday),
      "2026-11-27T18:00:00Z",
    );
    expect(output.proposals).toEqual([]);
    expect(decision(output).triggers).toEqual([
      { kind: "below-min", current: 3, min: 5, schedule: "friday-evening" },
    ]);
    expect(holds(output)).toEqual([
      { kind: "cooldown", since: "2026-11-27T17:58:00.000Z", until: "2026-11-27T18:03:00.000Z" },
    ]);
  });
});

describe("plan acceptance, schedules: a window the config cannot mean", () => {
  const cases: [string, string, string][] = [
    [
      "a min above the max",
      window("friday", "0 18 * * 5", "UTC", "6h", 9),
      ".github/pr-autoscaler.yml:19:14: pools[0].schedules[0].min: schedule min (9) is greater than the pool's max (6)",
    ],
    [
      "an hour of 25",
      window("friday", "0 25 * * 5", "UTC", "6h", 4),
      '.github/pr-autoscaler.yml:16:15: pools[0].schedules[0].cron: "0 25 * * 5" is not a valid cron expression',
    ],
    [
      "six fields",
      window("friday", "0 0 18 * * 5", "UTC", "6h", 4),
      '.github/pr-autoscaler.yml:16:15: pools[0].schedules[0].cron: "0 0 18 * * 5" is not a valid cron expression (it has 6 fields, not 5)',
    ],
    [
      "a misspelt time zone",
      window("friday", "0 18 * * 5", "Europe/Berlln", "6h", 4),
      '.github/pr-autoscaler.yml:17:19: pools[0].schedules[0].timezone: unknown time zone "Europe/Berlln" (did you mean "Europe/Berlin"?)',
    ],
  ];
  it.each(cases)("refuses %s at its line, and plans nothing", async (_what, entry, error) => {
    const served = await serveForTest(cluster());
    const run = await served.run(["--json", "--now", NOW], {
      tfvars: tfvars(3),
      config: withWindows(entry),
    });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(error);
  });
});
