/**
 * Two replicas and a storm of duplicate webhooks: two `startApp`s (each its own HTTP server,
 * Probot, scheduler, caches and memory; no leader election, so both reconcile) share the fake
 * GitHub behind nock. One push delivery is sent 50 times (the same delivery id, as a redelivery
 * has), all at once, alternating between the replicas' webhook endpoints with a valid
 * signature. When both are idle, each reconciles once more as its timer would. The repository
 * must then be as one replica alone leaves it after one reconcile: exactly one pull request
 * per key, one branch each, one dashboard, no comment twice.
 */
import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { pino } from "pino";
import { type RunningApp, startApp } from "../src/app/start-app.ts";
import { reconcile } from "../src/reconcile/reconcile.ts";
import { testAppSettings, WEBHOOK_SECRET } from "../test/app/support/app-settings.ts";
import { cluster, infraFiles } from "../test/reconcile/support/infra.ts";
import { OWNER, REPO } from "../test/support/github-responses.ts";
import type { FaultRow } from "./reliability-faults-github.ts";
import {
  type GitHubWorld,
  gitHubWorld,
  judge,
  picture,
  type RepoPicture,
} from "./reliability-faults-world.ts";

const SECRET = WEBHOOK_SECRET;
export const DELIVERIES = 50;

/** GitHub's published push payload (test/fixtures/webhooks), moved to the test repository. */
function pushPayload(): string {
  const event = JSON.parse(
    readFileSync(new URL("../test/fixtures/webhooks/push.json", import.meta.url), "utf8"),
  );
  event.ref = "refs/heads/main";
  event.repository = {
    ...event.repository,
    name: REPO,
    full_name: `${OWNER}/${REPO}`,
    default_branch: "main",
    owner: { ...event.repository.owner, login: OWNER },
  };
  event.installation = { id: 42, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI=" };
  return JSON.stringify(event);
}

/** Pull requests, branches and issues without their texts. */
function shape(seen: RepoPicture) {
  return {
    pulls: seen.pulls.map(({ body: _, ...rest }) => rest),
    branches: seen.branches,
    // A dashboard two replicas created at once is closed as a duplicate by its creator.
    issues: seen.issues
      .filter((issue) => issue.state === "open")
      .map(({ body: _, ...rest }) => rest),
    comments: seen.comments.length,
  };
}

function shapeDifferences(world: GitHubWorld, expected: RepoPicture): string[] {
  const actual = shape(picture(world.github));
  const wanted = shape(expected);
  return (["pulls", "branches", "issues", "comments"] as const).flatMap((part) =>
    JSON.stringify(actual[part]) === JSON.stringify(wanted[part])
      ? []
      : [`${part} differ from one replica's: ${JSON.stringify(actual[part])}`],
  );
}

/** What one replica alone leaves after one reconcile. */
async function expectedPicture() {
  const world = gitHubWorld(infraFiles(), async () => cluster({ pending: 1 }));
  await reconcile(world.start().target);
  return picture(world.github);
}

/**
 * Runs the storm and judges it. The Kubernetes side is the scenario tests' cluster (one
 * pending pod, an over-requested Plex), so two keys are wanted: the pool and right-sizing.
 */
export async function runConcurrency(): Promise<FaultRow> {
  const expected = await expectedPicture();
  const world = gitHubWorld(infraFiles(), async () => cluster({ pending: 1 }));
  const replicas: RunningApp[] = [];
  const notes: string[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      replicas.push(
        await startApp({
          settings: testAppSettings(),
          log: pino({ level: "silent" }),
          observe: async () => cluster({ pending: 1 }),
          timer: false,
        }),
      );
    }
    const body = pushPayload();
    const headers = {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`,
    };
    const answers = await Promise.all(
      Array.from({ length: DELIVERIES }, (_, i) =>
        fetch(`${replicas[i % 2]?.url}/api/github/webhooks`, { method: "POST", headers, body }),
      ),
    );
    const refused = answers.filter((answer) => answer.status !== 200).length;
    if (refused > 0) notes.push(`${refused} deliveries were not accepted`);
    await Promise.all(replicas.map((replica) => replica.idle()));
    for (const replica of replicas) replica.trigger(`${OWNER}/${REPO}`, "timer");
    await Promise.all(replicas.map((replica) => replica.idle()));
  } finally {
    await Promise.all(replicas.map((replica) => replica.stop()));
  }
  // The replicas read the real clock, so times in texts differ from the lone run's: bodies
  // are left out of the comparison (the judgement still wants each marker and its labels).
  const judgement = judge(world.github);
  notes.push(...judgement.differences, ...world.problems, ...shapeDifferences(world, expected));
  const comments = new Set<string>();
  for (const comment of world.github.comments) {
    const key = `${comment.issueNumber} ${comment.body}`;
    if (comments.has(key)) notes.push(`comment on #${comment.issueNumber} made twice`);
    comments.add(key);
  }
  const closedTwins = [...world.github.issues.values()].filter(
    (issue) => issue.state === "closed",
  ).length;
  return {
    fault: `2 replicas, ${DELIVERIES} duplicate push deliveries at once`,
    step: "webhook → scheduler → reconcile (startApp ×2)",
    runs: 1,
    duplicatePRs: judgement.duplicatePRs,
    halfMadeLeft: judgement.halfMade,
    scaleDownOnMissingData: null,
    recovered: judgement.recovered && notes.length === 0 ? 1 : 0,
    notes,
    remarks: [
      raced(world),
      ...(closedTwins > 0
        ? [`${closedTwins} dashboard issue created at the same moment and closed as a duplicate`]
        : []),
    ],
  };
}

/** How much the replicas raced: attempts to create branches and pull requests, and refusals. */
function raced(world: GitHubWorld): string {
  const count = (call: string, status?: number) =>
    world.github.log.filter(
      (entry) => entry.call === call && (status === undefined || entry.status === status),
    ).length;
  return `branch creations ${count("POST /git/refs")} (${count("POST /git/refs", 422)} refused: it existed), pull request creations ${count("POST /pulls")} (${count("POST /pulls", 422)} refused)`;
}
