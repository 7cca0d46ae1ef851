import type { Document } from "yaml";
import { InputError } from "../../errors.ts";
import { formatPath, type PathSegment } from "../path.ts";
import { isPlainObject } from "../verify.ts";
import { documentData, lineAt, locationAt, type YamlFile } from "./yaml-file.ts";
import { walkPath } from "./yaml-walk.ts";

/**
 * Picks the document of a multi-document stream that PATH refers to: the one asked for;
 * else the only one where the whole PATH exists; else the only one holding its first step.
 * Anything else is ambiguous and refused, naming the candidates.
 */
export function selectDocument(
  file: YamlFile,
  path: readonly PathSegment[],
  requested: number | undefined,
): number {
  const count = file.documents.length;
  if (requested !== undefined) {
    if (Number.isInteger(requested) && requested >= 0 && requested < count) return requested;
    throw new InputError(
      `there is no document ${requested}: the file holds ${count} document${count === 1 ? "" : "s"}, numbered 0 to ${count - 1}`,
      { file: file.file },
    );
  }
  if (count === 1 || path.length === 0) return ambiguousUnlessOne(file, path, allIndexes(count));
  const full = documentsWhere(file, path);
  if (full.length === 1) return full[0] as number;
  if (full.length > 1) return ambiguousUnlessOne(file, path, full);
  return ambiguousUnlessOne(file, path, documentsWhere(file, path.slice(0, 1)));
}

function allIndexes(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

function documentsWhere(file: YamlFile, path: readonly PathSegment[]): number[] {
  return file.documents.flatMap((document, i) =>
    walkPath(document, path, { follow: true }).stop ? [] : [i],
  );
}

function ambiguousUnlessOne(
  file: YamlFile,
  path: readonly PathSegment[],
  candidates: readonly number[],
): number {
  if (candidates.length === 1) return candidates[0] as number;
  const count = file.documents.length;
  const shown = formatPath(path.slice(0, 1));
  const reason =
    candidates.length === 0
      ? `none of the ${count} documents holds ${shown}`
      : `${formatPath(path) || "the root"} could mean document ${candidates.map((i) => describeDocument(file, i)).join(" or ")}`;
  const first = file.documents[candidates[0] ?? 0];
  throw new InputError(
    `${reason}; choose one (0 to ${count - 1}) with --document N, or with the target's document in the config`,
    locationAt(file.lineStarts, first ? documentStart(first) : 0, file.file),
  );
}

/** "2 (line 30, Deployment redis-slave)": index, first line, and kind/name when it has them. */
export function describeDocument(file: YamlFile, index: number): string {
  const document = file.documents[index];
  if (!document) return String(index);
  const data = documentData(document, file.file);
  const kind = isPlainObject(data) && typeof data.kind === "string" ? data.kind : undefined;
  const metadata = isPlainObject(data) ? data.metadata : undefined;
  const name =
    isPlainObject(metadata) && typeof metadata.name === "string" ? metadata.name : undefined;
  const label = [kind, name].filter(Boolean).join(" ");
  return `${index} (line ${lineAt(file, documentStart(document))}${label ? `, ${label}` : ""})`;
}

export function documentStart(document: Document.Parsed): number {
  return document.contents?.range?.[0] ?? document.range[0];
}
