import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { readSnapshot } from "../../src/cluster/read-snapshot.ts";
import { usageAt } from "../../src/cluster/snapshot-age.ts";
import {
  loadSnapshot,
  snapshotToJson,
  writeSnapshotJson,
} from "../../src/cluster/snapshot-file.ts";
import { InputError } from "../../src/errors.ts";
import type { Snapshot } from "../../src/planning/snapshot.ts";
import { type Homelab, homelabNow, startHomelab } from "../support/kube-homelab.ts";

let lab: Homelab;
let snapshot: Snapshot;

beforeAll(async () => {
  lab = await startHomelab();
  snapshot = await readSnapshot({ kubeconfig: lab.kubeconfig, env: {}, now: () => homelabNow });
});

afterAll(async () => {
  await lab.close();
});

function loadError(text: string): InputError {
  try {
    loadSnapshot(text, "snap.json");
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error("expected an InputError");
}

describe("snapshot JSON", () => {
  it("round-trips: what is written loads back equal", () => {
    const text = snapshotToJson(snapshot);
    expect(loadSnapshot(text, "snap.json")).toEqual(snapshot);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(snapshot)));
  });

  it("writes one array element per line, in chunks", () => {
    const chunks: string[] = [];
    writeSnapshotJson(snapshot, (chunk) => chunks.push(chunk));
    const lines = chunks.join("").split("\n");
    expect(lines[0]).toBe("{");
    expect(lines[1]).toBe('  "version": 1,');
    const podLines = lines.filter(
      (line) => line.startsWith('    {"namespace":') && line.includes('"phase":'),
    );
    expect(podLines).toHaveLength(snapshot.pods.length);
  });

  it("writes empty arrays compactly", () => {
    const empty: Snapshot = { ...snapshot, pods: [], nodes: [], warnings: [] };
    const text = snapshotToJson(empty);
    expect(text).toContain('  "pods": [],\n');
    expect(loadSnapshot(text, "x.json").pods).toEqual([]);
  });

  it("ignores fields it does not know (a newer writer)", () => {
    const data = JSON.parse(snapshotToJson(snapshot)) as Record<string, unknown>;
    data.futureField = { anything: true };
    expect(loadSnapshot(JSON.stringify(data), "x.json")).toEqual(snapshot);
  });

  it("names the line of a JSON syntax error", () => {
    const text = snapshotToJson(snapshot).replace('"complete": true,', '"complete": true');
    const error = loadError(text);
    expect(error.message).toMatch(/^not a JSON snapshot/);
    expect(error.location?.file).toBe("snap.json");
    expect(error.location?.line).toBe(6);
  });

  it("names the path and line of a wrong value", () => {
    const text = snapshotToJson(snapshot);
    const data = JSON.parse(text) as Snapshot;
    const nodeIndex = 2;
    (data.nodes[nodeIndex] as unknown as { capacity: { cpu: unknown } }).capacity.cpu = "8";
    const broken = snapshotToJson(data);
    const error = loadError(broken);
    expect(error.message).toBe(
      `invalid snapshot: nodes[${nodeIndex}].capacity.cpu: expected number, received string`,
    );
    const line =
      broken.split("\n").findIndex((l) => l.includes(`"name":"${data.nodes[nodeIndex]?.name}"`)) +
      1;
    expect(error.location).toMatchObject({ file: "snap.json", line });
  });

  it("refuses a time that is not ISO 8601 with its offset, naming where", () => {
    const data = JSON.parse(snapshotToJson(snapshot)) as Snapshot;
    const expected = "expected an ISO 8601 time with its offset, such as 2026-11-20T08:00:00Z";
    for (const takenAt of ["yesterday", "", "2025-06-06T12:00:00"])
      expect(loadError(JSON.stringify({ ...data, takenAt })).message).toBe(
        `invalid snapshot: takenAt: ${expected}`,
      );
    (data.nodes[0] as { readySince?: string }).readySince = "soon";
    expect(loadError(JSON.stringify(data)).message).toBe(
      `invalid snapshot: nodes[0].readySince: ${expected}`,
    );
  });

  it("refuses a second node or pod of one name, and lists further problems", () => {
    const data = JSON.parse(snapshotToJson(snapshot)) as Snapshot;
    const twice = { ...data, nodes: [...data.nodes, data.nodes[0]] };
    expect(loadError(JSON.stringify(twice)).message).toBe(
      `invalid snapshot: nodes[${data.nodes.length}].name: a second node named ${data.nodes[0]?.name}`,
    );
    const broken = { ...data, takenAt: "soon", pods: [...data.pods, data.pods[0]] };
    expect(loadError(JSON.stringify(broken)).message).toMatch(
      /^invalid snapshot: takenAt: .*\(and 1 more problem: pods\[\d+\]\.name: a second pod /,
    );
  });

  it("takes usage without a time as measured when the snapshot was taken", () => {
    const data = JSON.parse(snapshotToJson(snapshot)) as Snapshot;
    const measured = data.nodes.find((node) => node.usage);
    if (!measured?.usage) throw new Error("the fixture has no node usage");
    delete (measured.usage as { timestamp?: string }).timestamp;
    const loaded = loadSnapshot(JSON.stringify(data), "s.json");
    const later = new Date(Date.parse(data.takenAt) + 3_600_000);
    const aged = usageAt(loaded, later);
    expect(aged.nodes.find((node) => node.name === measured.name)?.usage).toBeUndefined();
    expect(aged.warnings).toContainEqual(
      expect.objectContaining({ code: "metrics-stale", subject: `node/${measured.name}` }),
    );
  });

  it("keeps the DaemonSets, whether read or unknown, and loads a snapshot saved without them", () => {
    expect(snapshot.daemonSets).toHaveLength(2);
    const lines = snapshotToJson(snapshot).split("\n");
    const start = lines.indexOf('  "daemonSets": [');
    expect(lines.slice(start + 1, start + 4)).toEqual([
      expect.stringMatching(/^ {4}\{"namespace":"kube-system","name":"cilium","requests":.*\},$/),
      expect.stringMatching(/^ {4}\{"namespace":"kube-system","name":"nvidia-device-plugin",.*\}$/),
      "  ]",
    ]);
    const unknown: Snapshot = { ...snapshot, daemonSets: "unknown" };
    expect(loadSnapshot(snapshotToJson(unknown), "x.json").daemonSets).toBe("unknown");
    // A snapshot saved before DaemonSets were read has no such line, and loads without them.
    const { daemonSets: _, ...older } = snapshot;
    const text = snapshotToJson(older);
    expect(text).not.toContain("daemonSets");
    expect(text.trimEnd().endsWith("]\n}")).toBe(true);
    expect(loadSnapshot(text, "old.json")).toEqual(older);
    const data = JSON.parse(text) as Record<string, unknown>;
    data.daemonSets = "none";
    expect(loadError(JSON.stringify(data)).message).toContain("invalid snapshot: daemonSets");
  });

  it("refuses an unknown version and a missing field", () => {
    const data = JSON.parse(snapshotToJson(snapshot)) as Record<string, unknown>;
    expect(loadError(JSON.stringify({ ...data, version: 2 })).message).toContain("version: ");
    delete data.pods;
    expect(loadError(JSON.stringify(data)).message).toBe(
      "invalid snapshot: pods: expected array, received undefined",
    );
  });
});
