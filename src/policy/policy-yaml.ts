import type { Document, LineCounter } from "yaml";
import type { z } from "zod";
import { formatKeyPath } from "../editors/path.ts";
import { configIssueMessage } from "./config-issue-message.ts";
import { readConfigYaml } from "./config-yaml.ts";
import { unknownKeyMessage } from "./did-you-mean.ts";
import type { ConfigIssue } from "./load-repo-config.ts";
import { knownKeysAt } from "./schema-keys.ts";
import { locateInYaml, type YamlPosition } from "./yaml-locations.ts";

/** A parsed YAML text that can say where a config path is written. */
export interface YamlSource {
  file: string;
  /** The data, or undefined for an empty file. */
  data: unknown;
  /** Where the value (or with `key`, the key) at `path` is; the nearest block when it is missing. */
  locate(path: readonly PropertyKey[], options?: { key?: boolean }): YamlPosition;
}

export type ParsedYaml = { ok: true; source: YamlSource } | { ok: false; issues: ConfigIssue[] };

/**
 * Parses YAML text, reporting syntax errors with their line and column; nothing half-read. Parsed
 * like the repo config: one document, merge keys merge.
 */
export function parseYamlSource(text: string, file: string): ParsedYaml {
  const read = readConfigYaml(text, file);
  if (!read.ok) return read;
  const { doc, lineCounter, data } = read.yaml;
  return { ok: true, source: yamlSource(doc, lineCounter, file, data ?? undefined) };
}

function yamlSource(
  doc: Document,
  lineCounter: LineCounter,
  file: string,
  data: unknown,
): YamlSource {
  return {
    file,
    data,
    locate: (path, options) => locateInYaml(doc, lineCounter, path, options),
  };
}

/**
 * Validates `data` (found at `prefix` inside `source`) against `schema`; every issue carries the
 * file, line and column of the value concerned and its config path, unknown keys a did-you-mean.
 */
export function validateAt<S extends z.ZodType>(
  schema: S,
  data: unknown,
  source: YamlSource,
  prefix: readonly PropertyKey[] = [],
): { ok: true; value: z.output<S> } | { ok: false; issues: ConfigIssue[] } {
  const parsed = schema.safeParse(data, { error: configIssueMessage });
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues = parsed.error.issues.flatMap((issue) => toIssues(schema, issue, source, prefix));
  return { ok: false, issues: sortIssues(issues) };
}

/** An issue at a config path of `source`. */
export function issueAt(
  source: YamlSource,
  path: readonly PropertyKey[],
  message: string,
  options?: { key?: boolean },
): ConfigIssue {
  return { file: source.file, ...source.locate(path, options), path: formatKeyPath(path), message };
}

/** Issues in file, line, column order. */
export function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column,
  );
}

function toIssues(
  schema: z.ZodType,
  issue: z.core.$ZodIssue,
  source: YamlSource,
  prefix: readonly PropertyKey[],
): ConfigIssue[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === "unrecognized_keys") {
    const known = knownKeysAt(schema, issue.path);
    return issue.keys.map((key) =>
      issueAt(source, [...path, key], unknownKeyMessage(key, known), { key: true }),
    );
  }
  return [issueAt(source, path, issue.message)];
}
