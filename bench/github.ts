/**
 * GitHub requests per reconcile: runs the app's reconcile, phase by phase, against the stateful
 * GitHub of the scenario tests (test/reconcile/support/fake-github.ts) behind nock, every request
 * checked against GitHub's REST API description, and prints what each phase cost: all requests,
 * those GitHub charges to the rate limit (304s are free), and those of the pull request
 * operation itself. `node bench/github.ts` (or `npm run bench:github` once registered).
 */

import { Octokit } from "@octokit/rest";
import nock from "nock";
import { createGitHubTarget } from "../src/app/github-target.ts";
import type { MergeOctokit } from "../src/merge/merge-octokit.ts";
import { reconcile } from "../src/reconcile/reconcile.ts";
import { DEFAULT_SETTINGS, type TriggerReason } from "../src/reconcile/reconcile-types.ts";
import { BOT_LOGIN, FakeGitHub } from "../test/reconcile/support/fake-github.ts";
import {
  CONFIG,
  cluster,
  infraFiles,
  NOW,
  TFVARS,
  tfvars,
} from "../test/reconcile/support/infra.ts";
import { checkRequest } from "../test/support/github-openapi.ts";
import { OWNER, REPO } from "../test/support/github-responses.ts";
import { takeGraphqlProblems } from "../test/support/graphql-problems.ts";

const NODES_ONLY = CONFIG.replace("rightsizing: {}\n", "");
const PULL_REQUEST_STEP =
  /^(GET \/compare\/|GET \/git\/ref\/|POST \/git\/(trees|commits|refs)|PATCH \/git\/refs|DELETE \/git\/refs|POST \/pulls|PATCH \/pulls|POST \/issues\/\d+\/labels|PUT \/issues\/\d+\/labels|GET \/issues\/\d+\/comments|POST \/issues\/\d+\/comments)/;

interface Phase {
  name: string;
  /** What the world does before the reconcile. */
  before?: (github: FakeGitHub, world: { pending: number }) => void;
  reasons?: TriggerReason[];
  /** The reconcile runs in a new process (a restart): nothing remembered. */
  restart?: boolean;
}

const phases: Phase[] = [
  { name: "first reconcile of a process: opens a pull request, creates the dashboard" },
  { name: "next reconcile (its own changes moved the lists it reads)" },
  { name: "idle: nothing changed" },
  {
    name: "plan changed: updates the pull request (3 → 4 becomes 3 → 5)",
    before: (_, w) => {
      w.pending = 2;
    },
  },
  { name: "next reconcile" },
  { name: "idle" },
  {
    name: "a new process (a restart): reads everything once, checks the pull request's head",
    restart: true,
  },
  { name: "idle in the new process" },
  {
    name: "default branch moved: rebuilds the pull request",
    before: (github) => {
      github.push({
        [TFVARS]: tfvars(3).replace("worker_cores      = 4", "worker_cores      = 6"),
      });
    },
  },
  { name: "next reconcile" },
  {
    name: "plan no longer wants it: closes the pull request",
    before: (_, w) => {
      w.pending = 0;
    },
  },
  { name: "next reconcile (deletes nothing: the close removed the branch)" },
  { name: "idle" },
  {
    name: "a command comment, webhook-triggered: /autoscaler pause",
    before: (github) => {
      const dashboard = github.botIssue("dashboard")?.number ?? 0;
      github.comment(dashboard, "/autoscaler pause");
    },
    reasons: ["comment"],
  },
  { name: "idle while paused" },
];

async function run(label: string, config: string) {
  const scope = nock("https://api.github.com");
  const problems: string[] = [];
  scope.on("request", (request: Request, _interceptor: unknown, body: string) => {
    const check = checkRequest({ method: request.method, url: request.url, body });
    problems.push(...check.problems);
  });
  const github = new FakeGitHub(infraFiles({ config }), NOW, scope);
  github.permissions.set("alice", "write");
  const world = { pending: 1 };
  const quiet = () => {};
  const newProcess = () =>
    createGitHubTarget({
      octokit: new Octokit({
        auth: "bench",
        log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
      }) as unknown as MergeOctokit,
      owner: OWNER,
      repo: REPO,
      defaultBranch: "main",
      botLogin: BOT_LOGIN,
      observe: async () => cluster({ pending: world.pending }),
      settings: DEFAULT_SETTINGS,
      now: () => github.now(),
    });
  let target = newProcess();
  console.log(`\n## ${label}\n`);
  console.log("| Phase | Requests | Charged (not 304) | Pull request operation |");
  console.log("| --- | ---: | ---: | ---: |");
  const details: string[] = [];
  for (const phase of phases) {
    phase.before?.(github, world);
    if (phase.restart) target = newProcess();
    github.reset();
    const result = await reconcile(target, phase.reasons ?? ["timer"]);
    const calls = github.calls();
    const operation = calls.filter((call) => PULL_REQUEST_STEP.test(call));
    const actions = result.pullRequests
      .filter((o) => o.action !== "unchanged")
      .map((o) => `${o.key} ${o.action}`);
    console.log(
      `| ${phase.name} | ${calls.length} | ${github.charged().length} | ${operation.length || ""} |`,
    );
    details.push(
      `${phase.name}${actions.length ? ` (${actions.join(", ")})` : ""}:`,
      ...github.log.map((e) => `  ${e.status} ${e.call}`),
    );
    github.advance(60_000);
  }
  if (process.argv.includes("--verbose")) console.log(`\n${details.join("\n")}`);
  problems.push(...takeGraphqlProblems());
  if (problems.length > 0)
    throw new Error(`requests GitHub's description does not allow:\n${problems.join("\n")}`);
  nock.cleanAll();
}

nock.disableNetConnect();
console.log("# GitHub requests per reconcile (bench/github.ts)");
await run("Node pool only (no right-sizing)", NODES_ONLY);
await run("Node pool and right-sizing (one VPA, its workload's HelmRelease)", CONFIG);
nock.enableNetConnect();
