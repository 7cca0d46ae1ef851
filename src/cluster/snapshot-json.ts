import type { Snapshot } from "../planning/snapshot.ts";

// Kept apart from the schema in snapshot-file.ts so that writing a snapshot loads neither
// zod nor yaml.

/** Top-level keys in the order they are written; arrays get one element per line. */
const fieldOrder = [
  "version",
  "takenAt",
  "source",
  "complete",
  "metrics",
  "warnings",
  "namespaceLabels",
  "csiVolumeLimits",
  "nodes",
  "pods",
  "pdbs",
  "vpas",
  "hpas",
  "daemonSets",
] as const satisfies readonly (keyof Snapshot)[];

/**
 * Small enough that a chunk is written before the young generation's next collection would
 * promote it to the old one (1 MB chunks were, adding 10–25 MB at a large snapshot's peak).
 */
const chunkSize = 1 << 16;

/**
 * Writes a snapshot as JSON in chunks of about 64 KB: one top-level field per line and one
 * array element per line, so that large snapshots are never held twice in memory and diffs
 * of two snapshots stay readable.
 */
export function writeSnapshotJson(snapshot: Snapshot, write: (chunk: string) => void): void {
  let buffer = "{\n";
  const flush = () => {
    if (buffer.length >= chunkSize) {
      write(buffer);
      buffer = "";
    }
  };
  // Optional fields a snapshot may lack (daemonSets, namespaceLabels, csiVolumeLimits) are left
  // out, not written as null.
  const keys = fieldOrder.filter((key) => snapshot[key] !== undefined);
  keys.forEach((key, index) => {
    const value = snapshot[key];
    const comma = index < keys.length - 1 ? "," : "";
    buffer += `  ${JSON.stringify(key)}: `;
    if (!Array.isArray(value)) {
      buffer += `${JSON.stringify(value)}${comma}\n`;
      return;
    }
    if (value.length === 0) {
      buffer += `[]${comma}\n`;
      return;
    }
    buffer += "[\n";
    for (let item = 0; item < value.length; item++) {
      buffer += `    ${JSON.stringify(value[item])}${item < value.length - 1 ? "," : ""}\n`;
      flush();
    }
    buffer += `  ]${comma}\n`;
  });
  write(`${buffer}}\n`);
}

/** The snapshot as one JSON string (small snapshots, tests). */
export function snapshotToJson(snapshot: Snapshot): string {
  let text = "";
  writeSnapshotJson(snapshot, (chunk) => {
    text += chunk;
  });
  return text;
}
