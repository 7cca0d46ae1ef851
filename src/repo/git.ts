import { type ExecFileException, execFile } from "node:child_process";

/**
 * Settings fixed on every git command we parse the output of. The operator's own config must
 * not change what is printed: `log.showSignature` puts "No signature" lines among the commits,
 * `log.follow` follows renames into paths that are not the target, colours add escape codes,
 * `core.quotePath` escapes names in messages.
 */
const FIXED_CONFIG = [
  "log.showSignature=false",
  "log.follow=false",
  "color.ui=never",
  "core.quotePath=false",
];

/**
 * Variables that point git at another repository or index than the one in the folder given
 * (set inside git hooks, for one). Everything else of the environment stays: HOME and the
 * global config's `safe.directory`, the system config, credentials.
 */
const REPOSITORY_VARIABLES = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_COMMON_DIR",
  "GIT_OBJECT_DIRECTORY",
  "GIT_NAMESPACE",
];

/**
 * Variables that make a path given to git a pattern (and that git refuses beside
 * GIT_LITERAL_PATHSPECS, which we set: `prod[1].tfvars` is that file, not `prod1.tfvars`).
 */
const PATHSPEC_VARIABLES = ["GIT_GLOB_PATHSPECS", "GIT_NOGLOB_PATHSPECS", "GIT_ICASE_PATHSPECS"];

export type GitFailureKind =
  | "missing"
  | "cannot-start"
  | "not-a-repository"
  | "dubious-ownership"
  | "failed";

/** Why a git command gave no output to use. */
export interface GitFailure {
  kind: GitFailureKind;
  /** The command as it can be typed again: `git -C DIR log …`. */
  command: string;
  /**
   * What git printed on stderr, trimmed (may be empty); for `missing` and `cannot-start`, the
   * error of starting it.
   */
  stderr: string;
  /** The exit code, when git ran and failed. */
  exitCode?: number;
  /** For `dubious-ownership`: the repository git refused. */
  repository?: string;
}

export type GitResult = { ok: true; stdout: string } | { ok: false; failure: GitFailure };

export interface GitOptions {
  /** The environment git runs in (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs `git -C dir …args` with the settings that change its output fixed, messages in English
 * (they are matched), paths taken as names rather than patterns, no pager and no prompt. A failure is returned, told apart: git not
 * installed or not allowed to start, not a repository, a repository git refuses to read,
 * anything else.
 */
export function runGit(
  dir: string,
  args: readonly string[],
  options: GitOptions = {},
): Promise<GitResult> {
  const fixed = FIXED_CONFIG.flatMap((setting) => ["-c", setting]);
  const command = gitCommand(dir, args);
  return new Promise((done) => {
    try {
      execFile(
        "git",
        ["--no-pager", ...fixed, "-C", dir, ...args],
        {
          env: gitEnvironment(options.env ?? process.env),
          maxBuffer: 64 * 1024 * 1024,
          encoding: "utf8",
        },
        (error, stdout, stderr) => {
          if (!error) return done({ ok: true, stdout });
          done({ ok: false, failure: classify(error, command, stderr) });
        },
      );
    } catch (error) {
      // Starting any program refused outright (Node's permission model without
      // --allow-child-process): git cannot be run here.
      const message = error instanceof Error ? error.message : String(error);
      done({ ok: false, failure: { kind: "cannot-start", command, stderr: message } });
    }
  });
}

function gitEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const kept: NodeJS.ProcessEnv = {};
  const dropped = [...REPOSITORY_VARIABLES, ...PATHSPEC_VARIABLES];
  for (const [name, value] of Object.entries(env)) if (!dropped.includes(name)) kept[name] = value;
  return {
    ...kept,
    LC_ALL: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_OPTIONAL_LOCKS: "0",
    GIT_LITERAL_PATHSPECS: "1",
  };
}

function classify(error: ExecFileException, command: string, stderr: string): GitFailure {
  const said = stderr.trim();
  if (error.syscall?.startsWith("spawn"))
    return {
      kind: error.code === "ENOENT" ? "missing" : "cannot-start",
      command,
      stderr: error.message,
    };
  const exit = typeof error.code === "number" ? { exitCode: error.code } : {};
  // Without an exit code (killed, output too large) the error says what happened.
  const failure = {
    command,
    stderr: said || (exit.exitCode === undefined ? error.message : ""),
    ...exit,
  };
  // "(or any of the parent directories)", "(or any parent up to mount point /)": no .git found.
  // A .git that names a folder which is gone says "not a git repository: PATH": that is broken.
  if (/^fatal: not a git repository \(or any /m.test(said))
    return { kind: "not-a-repository", ...failure };
  const dubious = /detected dubious ownership in repository at '([^']*)'/.exec(said);
  if (dubious) return { kind: "dubious-ownership", ...failure, repository: dubious[1] ?? "" };
  return { kind: "failed", ...failure };
}

/** The command as a shell line: arguments with spaces or quotes are quoted. */
export function gitCommand(dir: string, args: readonly string[]): string {
  return ["git", "-C", dir, ...args].map(shellWord).join(" ");
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./^{}~-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * What a failure means for the history of `dir`, for a person to act on: the reason the time
 * of the last change is unknown, with what to do about it where that is clear.
 */
export function historyProblemText(failure: GitFailure, dir: string): string {
  switch (failure.kind) {
    case "missing":
      return `git not found (no git program on the PATH), so the history of ${dir} cannot be read`;
    case "cannot-start":
      return `git could not be started (${failure.stderr}), so the history of ${dir} cannot be read`;
    case "not-a-repository":
      return `${dir} is not a git repository`;
    case "dubious-ownership": {
      const repository = failure.repository || dir;
      const said = failure.stderr.split("\n")[0] ?? "";
      return `git refuses to read ${repository}, which belongs to another user ("${said}"); if you trust it, run \`git config --global --add safe.directory ${shellWord(repository)}\``;
    }
    case "failed":
      return `${failure.command} failed${failure.exitCode === undefined ? "" : ` (exit ${failure.exitCode})`}${failure.stderr === "" ? "" : `: ${oneLine(failure.stderr)}`}`;
  }
}

/** git's message on one line: its lines joined, blank ones left out. */
function oneLine(text: string): string {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join("; ");
}
