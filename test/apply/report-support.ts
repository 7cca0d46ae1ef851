/**
 * Helpers for the `report` tests: real guard verdicts of the example infra repo's plans, written
 * to files the way the workflow writes them, and the command run in-process like `main` runs it.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import nock from "nock";
import { readGraphqlRequest } from "../reconcile/support/graphql-request.ts";
import { type CliRun, runCli } from "../support/cli.ts";
import { API } from "../support/github.ts";
import { OWNER, REPO } from "../support/github-responses.ts";
import { recordGraphqlProblems } from "../support/graphql-problems.ts";

const example = fileURLToPath(new URL("../../examples/talos-proxmox/", import.meta.url));
const plans = fileURLToPath(new URL("../fixtures/terraform/talos-proxmox-plans/", import.meta.url));

export const TOKEN = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";

/** The environment of a workflow step that reports. */
export const WORKFLOW_ENV: Record<string, string> = {
  GITHUB_TOKEN: TOKEN,
  GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
  GITHUB_API_URL: "https://api.github.com",
  GITHUB_SERVER_URL: "https://github.com",
  GITHUB_RUN_ID: "7001",
};

export const RUN_URL = `https://github.com/${OWNER}/${REPO}/actions/runs/7001`;

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "pr-autoscaler-report-"));
}

/**
 * Runs `pr-autoscaler guard --json` on one of the example's fixture plans with tfvars counts
 * `from` → `to`, and writes its verdict to DIR/NAME.json (as the workflow does). Returns the path.
 */
export async function guardVerdictFile(
  dir: string,
  name: string,
  plan: "scale-down-4-to-3.json" | "scale-up-3-to-4.json",
  from: number,
  to: number,
): Promise<string> {
  const before = join(dir, `${name}-before.tfvars`);
  const after = join(dir, `${name}-after.tfvars`);
  await writeFile(before, `worker_count = ${from}\n`);
  await writeFile(after, `worker_count = ${to}\n`);
  const run = await runCli([
    "guard",
    "--plan",
    join(plans, plan),
    "--config",
    join(example, ".github/pr-autoscaler-guard.yml"),
    "--tfvars-before",
    before,
    "--tfvars-after",
    after,
    "--json",
  ]);
  if (run.code > 1) throw new Error(`guard failed: ${run.stderr}`);
  const file = join(dir, `${name}.json`);
  await writeFile(file, run.stdout);
  return file;
}

/** `pr-autoscaler report ARGS` in-process, as the workflow runs it. */
export async function runReport(
  args: string[],
  env: Record<string, string> = WORKFLOW_ENV,
  cwd = process.cwd(),
): Promise<CliRun> {
  return runCli(["report", ...args], cwd, env);
}

/** The account the workflow's GITHUB_TOKEN comments as. */
export const ACTIONS_BOT = "github-actions[bot]";

/**
 * GitHub's GraphQL endpoint asked once who the token is, answering `login` (the report counts its
 * hidden marker only in that account's comments). The request is checked against GitHub's schema
 * (test/merge/fixtures); a problem fails the test it was sent in.
 */
export function mockViewer(login = ACTIONS_BOT): void {
  nock(API)
    .post("/graphql")
    .reply(200, async (request: Request) => {
      const read = readGraphqlRequest((await request.json()) as Record<string, unknown>);
      recordGraphqlProblems(read.problems);
      const fields = read.fields.map((field) => field.name).join(",");
      if (read.type !== "query" || fields !== "viewer")
        recordGraphqlProblems([`expected a query of viewer, got ${read.type} ${fields}`]);
      return { data: { viewer: { login } } };
    });
}
