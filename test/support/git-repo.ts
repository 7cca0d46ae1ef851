/** Git checkouts for tests that need `plan` to read a history. */
import { execFileSync } from "node:child_process";

/**
 * Makes `dir` a git repository (branch main) whose files are all in one commit dated `at`
 * (ISO), by a fixed identity, so that the history reads the same on every machine.
 */
export function commitEverything(dir: string, at: string, message = "infra"): string {
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "ops",
    GIT_AUTHOR_EMAIL: "ops@example.invalid",
    GIT_COMMITTER_NAME: "ops",
    GIT_COMMITTER_EMAIL: "ops@example.invalid",
    GIT_AUTHOR_DATE: at,
    GIT_COMMITTER_DATE: at,
  };
  for (const args of [
    ["init", "-q", "-b", "main"],
    ["add", "-A"],
    ["commit", "-q", "-m", message],
  ]) {
    execFileSync("git", ["-C", dir, ...args], { env, stdio: "pipe" });
  }
  return dir;
}
