import type { Document, LineCounter } from "yaml";
import { formatKeyPath } from "../editors/path.ts";
import { formatLocated } from "../errors.ts";
import { LINKED_FILE_ADVICE, type UnreadableFileError } from "../repo/repo-reader.ts";
import { configIssueMessage } from "./config-issue-message.ts";
import { readConfigYaml } from "./config-yaml.ts";
import { unknownKeyMessage } from "./did-you-mean.ts";
import { REPO_CONFIG_PATH, RepoConfig } from "./repo-config.ts";
import { knownKeysAt } from "./schema-keys.ts";
import { locateInYaml } from "./yaml-locations.ts";

/** One problem in the config file, at a 1-based line and column, with the config path it concerns. */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** Config path in PATH syntax, e.g. `pools[0].scaleUp.cpu`; empty for the whole file. */
  path: string;
  message: string;
}

export type LoadRepoConfigResult =
  | { ok: true; config: RepoConfig }
  | { ok: false; issues: ConfigIssue[] };

/**
 * Reads and validates the repo config from its YAML text. Every problem is reported with its
 * line and column (YAML syntax errors, wrong types, unknown keys with a did-you-mean, values out
 * of range); nothing is returned half-valid. Merge keys (`<<: *defaults`) merge.
 */
export function loadRepoConfig(text: string, file = REPO_CONFIG_PATH): LoadRepoConfigResult {
  const read = readConfigYaml(text, file);
  if (!read.ok) return read;
  const { doc, lineCounter, data } = read.yaml;
  if (data === null || data === undefined) {
    const message = "the file is empty: add a `pools:` list (see docs/configuration.md)";
    return { ok: false, issues: [{ file, line: 1, column: 1, path: "", message }] };
  }
  const parsed = RepoConfig.safeParse(data, { error: configIssueMessage });
  if (parsed.success) return { ok: true, config: parsed.data };
  const issues = parsed.error.issues.flatMap((issue) =>
    toConfigIssues(issue, doc, lineCounter, file),
  );
  issues.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: false, issues };
}

/** Renders issues one per line as `file:line:column: path: message`. */
export function formatConfigIssues(issues: readonly ConfigIssue[]): string {
  return issues
    .map((issue) => {
      const where = { file: issue.file, line: issue.line, column: issue.column };
      return formatLocated(issue.path ? `${issue.path}: ${issue.message}` : issue.message, where);
    })
    .join("\n");
}

function toConfigIssues(
  issue: { code: string; path: PropertyKey[]; message: string; keys?: string[] },
  doc: Document,
  lineCounter: LineCounter,
  file: string,
): ConfigIssue[] {
  if (issue.code === "unrecognized_keys" && issue.keys) {
    const known = knownKeysAt(RepoConfig, issue.path);
    return issue.keys.map((key) => {
      const path = [...issue.path, key];
      const position = locateInYaml(doc, lineCounter, path, { key: true });
      return {
        file,
        ...position,
        path: formatKeyPath(path),
        message: unknownKeyMessage(key, known),
      };
    });
  }
  // A key a record refuses (a label key, an extended resource's name) is shown where it is written.
  const key = issue.code === "invalid_key";
  const position = locateInYaml(doc, lineCounter, issue.path, { key });
  return [{ file, ...position, path: formatKeyPath(issue.path), message: issue.message }];
}

/**
 * The issue for a configuration that is no text file (a directory, a link, not UTF-8): the file
 * is invalid as a whole, reported as any invalid configuration is. A link is told what a
 * configuration does about it: its name is fixed, so the file itself goes there, not a pool's
 * target elsewhere.
 */
export function unreadableConfigIssue(error: UnreadableFileError): ConfigIssue {
  const what = error.message.startsWith(`${error.file} `)
    ? error.message.slice(error.file.length + 1)
    : error.message;
  const advice = `: ${LINKED_FILE_ADVICE}`;
  const said = what.endsWith(advice)
    ? `${what.slice(0, -advice.length)}: the configuration is read from ${error.file} itself, never through a link; put the file there in place of the link`
    : what;
  return { file: error.file, line: 1, column: 1, path: "", message: `the file ${said}` };
}
