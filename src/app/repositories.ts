import type { Logger } from "pino";
import { z } from "zod";
import type { MergeOctokit } from "../merge/merge-octokit.ts";
import type { Snapshot } from "../planning/snapshot.ts";
import type { ReconcileSettings, ReconcileTarget } from "../reconcile/reconcile-types.ts";
import { createGitHubTarget } from "./github-target.ts";

export interface RepositoryRegistryOptions {
  /** The app's Octokit (no id) or an installation's. */
  auth: (installationId?: number) => Promise<MergeOctokit>;
  /** `owner/name` list to manage; undefined: every repository the app is installed on. */
  repositories: string[] | undefined;
  botLogin: string;
  observe: () => Promise<Snapshot>;
  settings: ReconcileSettings;
  log: Logger;
}

/** The repositories the app manages, each with its reconcile target (kept for the process's life). */
export interface RepositoryRegistry {
  /** Finds the repositories again (at start, on installation events, and now and then). */
  refresh(): Promise<void>;
  names(): string[];
  target(repository: string): ReconcileTarget | undefined;
}

const Installation = z.object({ id: z.number() });
const Installations = z.array(Installation);
const InstallationRepositories = z.object({
  repositories: z.array(
    z.object({
      full_name: z.string(),
      name: z.string(),
      owner: z.object({ login: z.string() }),
      default_branch: z.string().optional(),
    }),
  ),
});

const PAGE = 100;

/**
 * Keeps one target per managed repository. A repository is found through the installation that
 * covers it; one the app is not installed on is reported and looked for again at the next refresh.
 */
export function createRepositoryRegistry(options: RepositoryRegistryOptions): RepositoryRegistry {
  const targets = new Map<string, ReconcileTarget>();
  const key = (name: string) => name.toLowerCase();

  function add(
    octokit: MergeOctokit,
    owner: string,
    repo: string,
    defaultBranch: string | undefined,
  ) {
    const name = `${owner}/${repo}`;
    if (targets.has(key(name))) return;
    targets.set(
      key(name),
      createGitHubTarget({
        octokit,
        owner,
        repo,
        ...(defaultBranch ? { defaultBranch } : {}),
        botLogin: options.botLogin,
        observe: options.observe,
        settings: options.settings,
      }),
    );
    options.log.info({ repository: name }, "managing repository");
  }

  async function listed(names: string[]) {
    const app = await options.auth();
    for (const name of names) {
      if (targets.has(key(name))) continue;
      const [owner = "", repo = ""] = name.split("/");
      try {
        const answer = await app.request("GET /repos/{owner}/{repo}/installation", { owner, repo });
        const installation = Installation.parse(answer.data);
        add(await options.auth(installation.id), owner, repo, undefined);
      } catch (error) {
        options.log.warn(
          { repository: name, err: error },
          "the app is not installed on this repository (or cannot see it); it is looked for again later",
        );
      }
    }
  }

  async function installed() {
    const app = await options.auth();
    const seen = new Set<string>();
    const installations = (await pages(app, "GET /app/installations", Installations)).flat();
    for (const installation of installations) {
      const octokit = await options.auth(installation.id);
      const answers = await pages(
        octokit,
        "GET /installation/repositories",
        InstallationRepositories,
      );
      for (const repository of answers.flatMap((answer) => answer.repositories)) {
        seen.add(key(repository.full_name));
        add(octokit, repository.owner.login, repository.name, repository.default_branch);
      }
    }
    for (const name of [...targets.keys()]) {
      if (!seen.has(name)) {
        targets.delete(name);
        options.log.info({ repository: name }, "no longer installed: not managed any more");
      }
    }
  }

  return {
    refresh: () => (options.repositories ? listed(options.repositories) : installed()),
    names: () => [...targets.values()].map((target) => `${target.owner}/${target.repo}`),
    target: (repository) => targets.get(key(repository)),
  };
}

/** Every page of a list GitHub pages by `per_page` (a page shorter than asked is the last). */
async function pages<T>(octokit: MergeOctokit, route: string, schema: z.ZodType<T>): Promise<T[]> {
  const all: T[] = [];
  for (let page = 1; page <= 50; page++) {
    const answer = await octokit.request(route, { per_page: PAGE, page });
    const data = schema.parse(answer.data);
    all.push(data);
    const size = Array.isArray(data)
      ? data.length
      : ((data as { repositories?: unknown[] }).repositories?.length ?? 0);
    if (size < PAGE) break;
  }
  return all;
}
