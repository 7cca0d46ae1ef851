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

  it("keeps a pod's resource claims through a save and a load", () => {
    const [first, ...rest] = snapshot.pods;
    if (!first) throw new Error("the homelab has no pod");
    const claiming: Snapshot = {
      ...snapshot,
      pods: [{ ...first, resourceClaims: ["gpu"] }, ...rest],
    };
    expect(loadSnapshot(snapshotToJson(claiming), "snap.json").pods[0]?.resourceClaims).toEqual([
      "gpu",
    ]);
  });

  it("keeps the reason a pod was not scheduled through a save and a load, and loads a file without it", () => {
    const [first, ...rest] = snapshot.pods;
    if (!first) throw new Error("the homelab has no pod");
    const notScheduled = {
      reason: "SchedulerError",
      message: "binding rejected: etcdserver: request timed out",
      since: "2026-11-20T08:00:00.000Z",
    };
    const failed: Snapshot = { ...snapshot, pods: [{ ...first, notScheduled }, ...rest] };
    expect(loadSnapshot(snapshotToJson(failed), "snap.json").pods[0]?.notScheduled).toEqual(
      notScheduled,
    );
    expect(
      loadSnapshot(snapshotToJson(snapshot), "snap.json").pods[0]?.notScheduled,
    ).toBeUndefined();
  });

  it("keeps a pod's scheduler through a save and a load, and loads a file without it as the default one's", () => {
    const [first, ...rest] = snapshot.pods;
    if (!first) throw new Error("the homelab has no pod");
    const other: Snapshot = {
      ...snapshot,
      pods: [{ ...first, schedulerName: "volcano" }, ...rest],
    };
    expect(loadSnapshot(snapshotToJson(other), "snap.json").pods[0]?.schedulerName).toBe("volcano");
    expect(
      loadSnapshot(snapshotToJson(snapshot), "snap.json").pods[0]?.schedulerName,
    ).toBeUndefined();
  });

  it("keeps a pod's PodScheduled status through a save and a load, and loads a file without it", () => {
    const [first, ...rest] = snapshot.pods;
    if (!first) throw new Error("the homelab has no pod");
    const placed: Snapshot = { ...snapshot, pods: [{ ...first, podScheduled: "True" }, ...rest] };
    expect(loadSnapshot(snapshotToJson(placed), "snap.json").pods[0]?.podScheduled).toBe("True");
    expect(
      loadSnapshot(snapshotToJson(snapshot), "snap.json").pods[0]?.podScheduled,
    ).toBeUndefined();
    const odd = snapshotToJson(placed).replace('"podScheduled":"True"', '"podScheduled":"False"');
    expect(() => loadSnapshot(odd, "snap.json")).toThrow(/podScheduled/);
  });

  it("keeps a claim not made yet through a save and a load", () => {
    const [first, ...rest] = snapshot.pods;
    if (!first) throw new Error("the homelab has no pod");
    const claim = {
      claim: "runner-work",
      state: "waiting" as const,
      why: "not made",
      unmade: true as const,
    };
    const unmade: Snapshot = { ...snapshot, pods: [{ ...first, volumeClaims: [claim] }, ...rest] };
    expect(loadSnapshot(snapshotToJson(unmade), "snap.json").pods[0]?.volumeClaims).toEqual([
      claim,
    ]);
  });

  it("keeps a node's Prometheus points through a save and a load, and loads usage without them", () => {
    const [first, ...rest] = snapshot.nodes;
    if (!first) throw new Error("the homelab has no node");
    const points = [
      { at: "2026-11-20T07:59:00.000Z", cpu: 1500, memory: 2_147_483_648 },
      { at: "2026-11-20T08:00:00.000Z", cpu: 1600 },
    ];
    const usage = {
      source: "prometheus" as const,
      cpu: 1550,
      memory: 2_147_483_648,
      windowSeconds: 120,
      gapSeconds: 60,
      timestamp: "2026-11-20T08:00:00.000Z",
      low: { cpu: 1500, memory: 2_147_483_648 },
    };
    const withPoints: Snapshot = {
      ...snapshot,
      nodes: [{ ...first, usage: { ...usage, points } }, ...rest],
    };
    expect(loadSnapshot(snapshotToJson(withPoints), "snap.json").nodes[0]?.usage).toEqual({
      ...usage,
      points,
    });
    const without: Snapshot = { ...snapshot, nodes: [{ ...first, usage }, ...rest] };
    expect(loadSnapshot(snapshotToJson(without), "snap.json").nodes[0]?.usage).toEqual(usage);
    // A point in cores, not millicores, is refused as any amount is.
    const cores = snapshotToJson(withPoints).replace('"cpu":1600', '"cpu":1.6');
    expect(loadError(cores).message).toContain("nodes[0].usage.points[1].cpu");
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

  it("ignores fields it does not know (a newer writer), saying so for each place", () => {
    const data = JSON.parse(snapshotToJson(snapshot)) as Record<string, unknown>;
    data.futureField = { anything: true };
    const loaded = loadSnapshot(JSON.stringify(data), "x.json");
    expect(loaded).toEqual({
      ...snapshot,
      warnings: [
        ...snapshot.warnings,
        { code: "field-unknown", message: "futureField: not a snapshot field, ignored" },
      ],
    });
  });

  it("warns of a misspelt field written by hand, with the field likely meant", () => {
    const data = JSON.parse(snapshotToJson(snapshot)) as Snapshot;
    const pods = data.pods as unknown as Record<string, unknown>[];
    for (const pod of pods)
      pod.annotations = { "cluster-autoscaler.kubernetes.io/safe-to-evict": "false" };
    (pods[1] as Record<string, unknown>).safe_to_evict = false;
    const daemonSets = data.daemonSets as unknown as Record<string, unknown>[];
    (daemonSets[0] as Record<string, unknown>).tolerationz = [];
    const { warnings } = loadSnapshot(JSON.stringify(data), "x.json");
    expect(warnings.filter((warning) => warning.code === "field-unknown")).toEqual([
      {
        code: "field-unknown",
        message: `pods[0].annotations: not a snapshot field, ignored (pods[].annotations is in ${pods.length} places)`,
      },
      {
        code: "field-unknown",
        message:
          'pods[1].safe_to_evict: not a snapshot field, ignored; did you mean "safeToEvict"?',
      },
      {
        code: "field-unknown",
        message:
          'daemonSets[0].tolerationz: not a snapshot field, ignored; did you mean "tolerations"?',
      },
    ]);
  });

  it("names fields called like members every object inherits as unknown, not as schemas", () => {
    const text = snapshotToJson(snapshot).replace(
      /^\{/,
      '{"__proto__": {"polluted": true}, "constructor": 1, "toString": "x",',
    );
    const { warnings } = loadSnapshot(text, "x.json");
    expect(warnings.filter((warning) => warning.code === "field-unknown")).toEqual([
      { code: "field-unknown", message: "__proto__: not a snapshot field, ignored" },
      { code: "field-unknown", message: "constructor: not a snapshot field, ignored" },
      { code: "field-unknown", message: "toString: not a snapshot field, ignored" },
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("reads a file that starts with a byte order mark", () => {
    expect(loadSnapshot(`\uFEFF${snapshotToJson(snapshot)}`, "bom.json")).toEqual(snapshot);
  });

  it("names the line of a JSON syntax error", () => {
    const text = snapshotToJson(snapshot).replace('"complete": true,', '"complete": true');
    const error = loadError(text);
    // The position is given once, as the location, not again as an offset in the message.
    expect(error.message).toBe("not a JSON snapshot: Expected ',' or '}' after property value");
    expect(error.location?.file).toBe("snap.json");
    expect(error.location?.line).toBe(6);
    // A file cut short after a key is said to end there, at its last line.
    const whole = snapshotToJson(snapshot);
    const cut = whole.slice(0, whole.indexOf('"nodes":') + '"nodes":'.length);
    expect(loadError(cut)).toMatchObject({
      message: "not a JSON snapshot: Unexpected end of JSON input",
      location: { file: "snap.json", line: cut.split("\n").length },
    });
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
    // An amount written in cores, or below zero, is refused as such.
    const amounts = JSON.parse(text) as Snapshot;
    (amounts.nodes[0] as { allocatable: { cpu: number } }).allocatable.cpu = 3.5;
    (amounts.nodes[1] as { allocatable: { memory: number } }).allocatable.memory = -1;
    expect(loadError(JSON.stringify(amounts)).message).toBe(
      "invalid snapshot: nodes[0].allocatable.cpu: expected a whole number, received 3.5 (and 1 more problem: nodes[1].allocatable.memory: expected a whole number not below 0, received -1)",
    );
  });

  it("says a file is empty rather than that its JSON ends too soon", () => {
    for (const text of ["", "\n", "\uFEFF"])
      expect(loadError(text)).toMatchObject({
        message:
          "the file is empty, not a JSON snapshot: write one with `pr-autoscaler snapshot --out FILE`",
        location: { file: "snap.json" },
      });
  });

  it("refuses a time that is not ISO 8601 with its offset, naming where", () => {
    const data = JSON.parse(snapshotToJson(snapshot)) as Snapshot;
    const expected = "expected an ISO 8601 time with its offset, such as 2026-11-20T08:00:00Z";
    for (const takenAt of ["yesterday", "", "2025-06-06T12:00:00", "2025-02-30T12:00:00Z"])
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

  it("takes every container's usage as unknown once it is stale, sidecars and pods without usage of their own included", () => {
    const data = JSON.parse(snapshotToJson(snapshot)) as Snapshot;
    const plex = data.pods.find((pod) => pod.name.startsWith("plex-"));
    if (!plex?.usage) throw new Error("the fixture's plex pod has no usage");
    expect(plex.initContainers.find((c) => c.sidecar)?.usage).toBeDefined();
    // A second replica whose app container had no sample: usage on its sidecar alone.
    const partial = structuredClone(plex);
    partial.name = "plex-7d9c65958-partl";
    delete partial.usage;
    for (const container of partial.containers) delete container.usage;
    data.pods.push(partial);
    const loaded = loadSnapshot(JSON.stringify(data), "s.json");
    const aged = usageAt(loaded, new Date(Date.parse(data.takenAt) + 3_600_000));
    for (const name of [plex.name, partial.name]) {
      const pod = aged.pods.find((candidate) => candidate.name === name);
      expect(pod?.usage).toBeUndefined();
      expect([...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]).toEqual(
        expect.not.arrayContaining([expect.objectContaining({ usage: expect.anything() })]),
      );
    }
    expect(aged.warnings).toContainEqual(
      expect.objectContaining({
        code: "metrics-stale",
        subject: "pods",
        message: expect.stringMatching(/^usage of 4 pods measured/),
      }),
    );
    // Planned for when it was measured, every sample stands.
    expect(usageAt(loaded, new Date(data.takenAt))).toBe(loaded);
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
    expect(loadError(JSON.stringify({ ...data, version: 2 })).message).toBe(
      "invalid snapshot: version: expected 1, the snapshot format this pr-autoscaler reads, received 2",
    );
    delete data.pods;
    expect(loadError(JSON.stringify(data)).message).toBe(
      "invalid snapshot: pods: expected array, received undefined",
    );
  });
});
