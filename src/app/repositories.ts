import type { Logger } from "pino";
import { z } from "zod";
import type { MergeOctokit } from "../merge/merge-octokit.ts";
import type { ReconcileSettings, ReconcileTarget } from "../reconcile/reconcile-types.ts";
import { createGitHubTarget } from "./github-target.ts";

export interface RepositoryRegistryOptions {
  /** The app's Octokit (no id) or an installation's. */
  auth: (installationId?: number) => Promise<MergeOctokit>;
  /** `owner/name` list to manage; undefined: every repository the app is installed on. */
  repositories: string[] | undefined;
  botLogin: string;
  observe: ReconcileTarget["observe"];
  settings: ReconcileSettings;
  log: Logger;
}

/** The repositories the app manages, each with its reconcile target (kept for the process's life). */
export interface RepositoryRegistry {
  /**
   * Finds the repositories again (at start, on installation events, and now and then). It
   * fails only when the app's installations cannot be listed; an installation that does not
   * answer keeps its earlier repositories, with a warning.
   */
  refresh(): Promise<void>;
  names(): string[];
  target(repository: string): ReconcileTarget | undefined;
  /** The id of the installation the repository is reached through; undefined when not managed. */
  installation(repository: string): number | undefined;
}

const Installation = z.object({ id: z.number(), suspended_at: z.string().nullish() });
const Installations = z.array(Installation);
type Installation = z.infer<typeof Installation>;
const InstallationRepository = z.object({
  full_name: z.string(),
  name: z.string(),
  owner: z.object({ login: z.string() }),
  default_branch: z.string().optional(),
  archived: z.boolean().optional(),
});
type InstallationRepository = z.infer<typeof InstallationRepository>;
const InstallationRepositories = z.object({ repositories: z.array(InstallationRepository) });

const PAGE = 100;
const NOT_INSTALLED =
  "the app is not installed on this repository (or cannot see it); it is looked for again later";

interface Managed {
  target: ReconcileTarget;
  installation: number;
  defaultBranch: string | undefined;
}

/** Repositories of one installation by lower-case name. */
type Listing = Map<string, InstallationRepository>;

/**
 * Keeps one target per managed repository, each reached through the installation that covers
 * it. A suspended installation's repositories and archived repositories are not managed (each
 * said once, at info); they come back at the refresh that finds them usable again. A repository
 * whose installation is gone is dropped; one reached through a new installation (the app was
 * installed again) gets a new client, keeping what its reconciles remembered.
 */
export function createRepositoryRegistry(options: RepositoryRegistryOptions): RepositoryRegistry {
  const managed = new Map<string, Managed>();
  const suspended = new Set<number>();
  const archived = new Set<string>();
  const key = (name: string) => name.toLowerCase();
  const { log } = options;

  function keep(octokit: MergeOctokit, installation: number, listed: InstallationRepository) {
    const name = listed.full_name;
    archived.delete(key(name));
    const known = managed.get(key(name));
    const defaultBranch = listed.default_branch ?? known?.defaultBranch;
    if (known?.installation === installation && known.defaultBranch === defaultBranch) return;
    const target = createGitHubTarget({
      octokit,
      owner: listed.owner.login,
      repo: listed.name,
      ...(defaultBranch ? { defaultBranch } : {}),
      botLogin: options.botLogin,
      observe: options.observe,
      settings: options.settings,
    });
    // What the reconciles remembered (configuration, usage samples, the dashboard) stays true.
    managed.set(key(name), {
      target: known ? { ...target, memory: known.target.memory } : target,
      installation,
      defaultBranch,
    });
    if (!known) log.info({ repository: name, installation }, "managing repository");
    else if (known.installation !== installation)
      log.info(
        { repository: name, installation, before: known.installation },
        "repository reached through a new installation: its client is replaced",
      );
  }

  function drop(name: string, message: string) {
    const known = managed.get(key(name));
    if (!known) return;
    managed.delete(key(name));
    log.info({ repository: `${known.target.owner}/${known.target.repo}` }, message);
  }

  /** Whether a listed repository is one to manage; an archived one is said once and dropped. */
  function usable(listed: InstallationRepository): boolean {
    if (!listed.archived) return true;
    if (!archived.has(key(listed.full_name))) {
      archived.add(key(listed.full_name));
      if (managed.has(key(listed.full_name)))
        drop(listed.full_name, "archived repository: not managed until it is unarchived");
      else
        log.info(
          { repository: listed.full_name },
          "archived repository: not managed until it is unarchived",
        );
    }
    return false;
  }

  /** The app's installations that work; a suspension is said once, and so is its end. */
  async function activeInstallations(): Promise<Set<number>> {
    const app = await options.auth();
    const all = (await pages(app, "GET /app/installations", Installations)).flat();
    const active = new Set<number>();
    for (const installation of all) {
      if (installation.suspended_at) noteSuspended(installation);
      else {
        if (suspended.delete(installation.id))
          log.info({ installation: installation.id }, "installation no longer suspended");
        active.add(installation.id);
      }
    }
    for (const id of suspended) if (!all.some((i) => i.id === id)) suspended.delete(id);
    return active;
  }

  function noteSuspended(installation: Installation) {
    if (suspended.has(installation.id)) return;
    suspended.add(installation.id);
    log.info(
      { installation: installation.id, suspendedAt: installation.suspended_at },
      "installation suspended: its repositories are not managed until it is unsuspended",
    );
  }

  /** One installation's repositories, or undefined (warned) when it does not answer. */
  async function listing(
    installation: number,
  ): Promise<{ octokit: MergeOctokit; repositories: Listing } | undefined> {
    try {
      const octokit = await options.auth(installation);
      const answers = await pages(
        octokit,
        "GET /installation/repositories",
        InstallationRepositories,
      );
      const all = answers.flatMap((answer) => answer.repositories);
      return { octokit, repositories: new Map(all.map((r) => [key(r.full_name), r])) };
    } catch (error) {
      log.warn(
        { installation, err: error },
        "could not list the repositories of an installation; those found before are kept",
      );
      return undefined;
    }
  }

  async function installed() {
    const active = await activeInstallations();
    const seen = new Set<string>();
    const unanswered = new Set<number>();
    for (const installation of active) {
      const found = await listing(installation);
      if (!found) {
        unanswered.add(installation);
        continue;
      }
      for (const repository of found.repositories.values()) {
        if (!usable(repository)) continue;
        seen.add(key(repository.full_name));
        keep(found.octokit, installation, repository);
      }
    }
    for (const [name, known] of [...managed])
      if (!seen.has(name) && !unanswered.has(known.installation))
        drop(name, goneMessage(known.installation));
  }

  async function listed(names: readonly string[]) {
    const active = await activeInstallations();
    const wanted = new Map<number, string[]>();
    for (const name of names) {
      const found = await installationOf(name, active);
      if (found === "unknown") continue;
      if (found === undefined || !active.has(found)) {
        if (managed.has(key(name))) drop(name, goneMessage(found));
        else if (found === undefined) log.warn({ repository: name }, NOT_INSTALLED);
        continue;
      }
      wanted.set(found, [...(wanted.get(found) ?? []), name]);
    }
    for (const [installation, covered] of wanted) {
      const found = await listing(installation);
      if (!found) continue;
      for (const name of covered) {
        const repository = found.repositories.get(key(name));
        if (repository) {
          if (usable(repository)) keep(found.octokit, installation, repository);
        } else if (managed.has(key(name))) drop(name, goneMessage(installation));
        else log.warn({ repository: name, installation }, NOT_INSTALLED);
      }
    }
  }

  /**
   * The installation covering a listed repository: the one known while it still works, else
   * GitHub's answer; undefined when none does, "unknown" when GitHub did not say (warned).
   */
  async function installationOf(
    name: string,
    active: ReadonlySet<number>,
  ): Promise<number | undefined | "unknown"> {
    const known = managed.get(key(name))?.installation;
    if (known !== undefined && active.has(known)) return known;
    const [owner = "", repo = ""] = name.split("/");
    try {
      const app = await options.auth();
      const answer = await app.request("GET /repos/{owner}/{repo}/installation", { owner, repo });
      return Installation.parse(answer.data).id;
    } catch (error) {
      if ((error as { status?: unknown }).status === 404) return undefined;
      log.warn(
        { repository: name, err: error },
        "could not find the installation of a repository; it is looked for again later",
      );
      return "unknown";
    }
  }

  function goneMessage(installation: number | undefined): string {
    return installation !== undefined && suspended.has(installation)
      ? "its installation is suspended: not managed until it is unsuspended"
      : "no longer installed: not managed any more";
  }

  return {
    refresh: () => (options.repositories ? listed(options.repositories) : installed()),
    names: () => [...managed.values()].map(({ target }) => `${target.owner}/${target.repo}`),
    target: (repository) => managed.get(key(repository))?.target,
    installation: (repository) => managed.get(key(repository))?.installation,
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
