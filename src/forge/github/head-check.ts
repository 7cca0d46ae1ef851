import { InputError } from "../../errors.ts";
import type { DesiredPullRequest, FileChange, RepoState } from "../forge.ts";
import { normalizeRepoPath } from "../repo-path.ts";
import { planOn } from "./bot-commit.ts";
import { readFileAt } from "./files.ts";
import type { ForgeContext } from "./forge-context.ts";
import { gitBlobSha, readHeadChange } from "./head-change.ts";

/** Whether the head commit of a bot branch is the bot's change for the plan `desired`. */
export type HeadCheck =
  /** Exactly what the plan writes, on `parent`, a commit of the default branch. */
  | { kind: "current"; parent: string }
  /**
   * What the plan writes with other values, on `parent`: the bot's commit of an earlier plan for
   * the key. It may be updated or rebuilt, never merged as it is.
   */
  | { kind: "earlier"; parent: string }
  /** Not the bot's change: `why`, in a clause ("it changes notes.md, besides …"). */
  | { kind: "foreign"; why: string };

/**
 * Checks the commit `head` of a bot branch against the default branch: the bot's only when it is
 * a single commit on top of a commit of the default branch and changes there only the files the
 * plan writes, as the plan writes them (`current`) or as the plan writes them with other values
 * (`earlier`). Whatever the pull request's marker says: people may edit it. What the commit
 * changes is read once per commit (one request; none for a commit this process made, which is the
 * bot's whatever the plan now), and the files at a commit are cached, so checking the same head
 * again costs nothing.
 */
export async function checkHead(
  context: ForgeContext,
  desired: DesiredPullRequest,
  head: string,
  state: RepoState,
): Promise<HeadCheck> {
  const change = await readHeadChange(context, head, {
    sha: state.head.sha,
    branch: state.defaultBranch,
  });
  if ("problem" in change) return { kind: "foreign", why: change.problem };
  const { parent, files } = change;
  const planned = await plannedOn(context, desired, parent);
  // The plan's change cannot be made where the head sits: the pool's target (its file, its PATH)
  // is not there, as when the configuration moved it since. The head is an earlier plan's change,
  // made for the target as it was, and cannot be compared with this one: it is rebuilt on the
  // default branch, never merged as it is.
  if (!planned) return { kind: "earlier", parent };
  const exact =
    planned.changed.length === files.size &&
    planned.changed.every((file) => files.get(file.path) === gitBlobSha(file.content));
  if (exact) return { kind: "current", parent };
  // This process made it, for an earlier plan of the key: nothing to prove.
  if (change.own) return { kind: "earlier", parent };
  const written = new Set(planned.written.map((file) => file.path));
  const others = [...files.keys()].filter((path) => !written.has(path));
  if (others.length > 0)
    return {
      kind: "foreign",
      why: `it changes ${others.join(", ")}, besides what pr-autoscaler writes`,
    };
  const at = (sha: string) => (path: string) => readFileAt(context, path, sha);
  // Files the head does not change are read at its parent, where they are cached already.
  const atHead = (path: string) =>
    files.has(normalizeRepoPath(path)) ? at(head)(path) : at(parent)(path);
  if (await desired.sameEdit(at(parent), atHead)) return { kind: "earlier", parent };
  return {
    kind: "foreign",
    why: `it changes ${[...files.keys()].join(", ")} beyond what pr-autoscaler writes`,
  };
}

/** What `desired` writes on `base`; undefined when its target cannot be edited there. */
async function plannedOn(
  context: ForgeContext,
  desired: DesiredPullRequest,
  base: string,
): Promise<{ written: FileChange[]; changed: FileChange[] } | undefined> {
  try {
    return await planOn(context, desired, base);
  } catch (error) {
    if (error instanceof InputError) return undefined;
    throw error;
  }
}
