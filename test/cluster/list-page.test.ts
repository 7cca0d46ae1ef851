import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { ListPageReader, readListPage, skipArray } from "../../src/cluster/list-page.ts";

function decode(text: string): { items: unknown[]; continue?: string } {
  const items: unknown[] = [];
  const head = readListPage(text, (item) => items.push(item));
  return { items, ...head };
}

/**
 * Object keys for generated JSON, without backslashes. Node.js 24's JSON.parse can decode an
 * escaped key wrongly once a key containing a backslash has been parsed before (`"]\\"` then
 * `"]\""` gives `]\` twice: V8 bug, nodejs/node#63785), which would fail these tests for the
 * engine's sake, at random. Kubernetes keys (labels, annotations, field names) have none.
 */
function keys(text: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return text.filter((key) => !key.includes("\\"));
}

function withoutManagedFields(item: unknown): unknown {
  const copy = structuredClone(item) as { metadata?: Record<string, unknown> };
  if (copy.metadata) delete copy.metadata.managedFields;
  return copy;
}

const managedFields = [
  {
    manager: "kubectl-client-side-apply",
    operation: "Update",
    apiVersion: "v1",
    time: "2025-01-10T08:00:00Z",
    fieldsType: "FieldsV1",
    fieldsV1: { "f:metadata": { 'k:{"uid":"a]b}c"}': {}, "f:labels": { 'v:"[x]"': {} } } },
  },
];

describe("readListPage", () => {
  it("decodes items without managedFields and returns the continue token and revision", () => {
    const items = [
      { metadata: { name: "a", namespace: "n", managedFields }, spec: { nodeName: "w1" } },
      {
        metadata: { name: "b", managedFields, labels: { x: '},{"metadata":' } },
        status: { phase: "Running" },
      },
    ];
    const text = JSON.stringify({
      kind: "PodList",
      apiVersion: "v1",
      metadata: { resourceVersion: "5", continue: "tok" },
      items,
    });
    expect(decode(text)).toEqual({
      items: items.map(withoutManagedFields),
      continue: "tok",
      resourceVersion: "5",
    });
  });

  it("handles items whose own arrays look like the item separator", () => {
    // Custom resources open with apiVersion, and so do their owner references.
    const items = [0, 1, 2].map((i) => ({
      apiVersion: "autoscaling.k8s.io/v1",
      kind: "VerticalPodAutoscaler",
      metadata: {
        name: `v${i}`,
        managedFields,
        ownerReferences: [
          { apiVersion: "apps/v1", kind: "Deployment", name: "x" },
          { apiVersion: "apps/v1", kind: "ReplicaSet", name: "y" },
        ],
      },
    }));
    const list = {
      apiVersion: "autoscaling.k8s.io/v1",
      kind: "VerticalPodAutoscalerList",
      metadata: {},
      items,
    };
    expect(decode(`${JSON.stringify(list)}\n`)).toEqual({ items: items.map(withoutManagedFields) });
  });

  it("handles items that open differently, and empty lists, null items included", () => {
    const mixed = [
      { metadata: { name: "a", managedFields } },
      { apiVersion: "v1", metadata: { name: "b", managedFields } },
      { metadata: { name: "c" } },
    ];
    expect(decode(JSON.stringify({ metadata: {}, items: mixed })).items).toEqual(
      mixed.map(withoutManagedFields),
    );
    expect(decode('{"kind":"PodList","metadata":{"resourceVersion":"1"},"items":[]}')).toEqual({
      items: [],
      resourceVersion: "1",
    });
    // A Go aggregated API server writes an empty list's nil slice as null.
    expect(decode('{"kind":"PodMetricsList","metadata":{},"items":null}')).toEqual({ items: [] });
    expect(
      decode('{"kind":"PodList","metadata":{"remainingItemCount":3,"continue":"c"},"items":[]}'),
    ).toEqual({ items: [], continue: "c", remainingItemCount: 3 });
    expect(decode('{"items":[{"a":1}],"metadata":{"continue":"t"}}')).toEqual({
      items: [{ a: 1 }],
      continue: "t",
    });
  });

  it("rejects what is not a list", () => {
    expect(() => decode('{"kind":"PodList","items":[{"metadata":{}},')).toThrow(SyntaxError);
    expect(() => decode('{"items":[{"metadata":{"name":"a"}},{"metadata":{"name":}]}')).toThrow(
      SyntaxError,
    );
    expect(() => decode('{"items":{}}')).toThrow("not a Kubernetes list");
    expect(() => decode("[1,2]")).toThrow("not a Kubernetes list");
    // Without items it is something else: taken as a list of none, the cluster would look empty.
    expect(() => decode('{"kind":"PodList","metadata":{"resourceVersion":"1"}}')).toThrow(
      "not a Kubernetes list",
    );
    expect(() => decode("{}")).toThrow("not a Kubernetes list");
    expect(() =>
      decode('{"kind":"Status","apiVersion":"v1","status":"Failure","message":"try later"}'),
    ).toThrow("a Status object, not a list: try later");
  });

  it("decodes any list exactly as JSON.parse does, less managedFields", () => {
    const text = fc.string({
      unit: fc.constantFrom("a", "]", "[", "}", "{", '"', "\\", ",", ":", "é", " "),
    });
    const value = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        text,
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie("value"), { maxLength: 3 }),
        fc.dictionary(keys(text), tie("value"), { maxKeys: 3 }),
      ),
    })).value;
    const item = fc.record(
      {
        apiVersion: fc.constant("v1"),
        metadata: fc.record(
          {
            name: text,
            labels: fc.dictionary(keys(text), text),
            managedFields: fc.array(value, { maxLength: 3 }),
          },
          { requiredKeys: ["name"] },
        ),
        spec: value,
      },
      { requiredKeys: ["metadata"] },
    );
    fc.assert(
      fc.property(fc.array(item, { maxLength: 6 }), fc.option(fc.string()), (items, token) => {
        const page = { kind: "List", metadata: token === null ? {} : { continue: token }, items };
        const decoded = decode(JSON.stringify(page));
        expect(decoded.items).toEqual(items.map(withoutManagedFields));
        expect(decoded.continue).toBe(token ? token : undefined);
      }),
      { numRuns: 300 },
    );
  });

  it("does not rescan the page for each item that has no managedFields", () => {
    // 20,000 metrics-like items: quadratic scanning would take minutes.
    const items = Array.from({ length: 20000 }, (_, i) => ({
      metadata: { name: `p${i}` },
      usage: { cpu: "1m" },
    }));
    expect(
      decode(JSON.stringify({ kind: "PodMetricsList", metadata: {}, items })).items,
    ).toHaveLength(20000);
  });
});

/** Reads `text` pushed in pieces that end at the given offsets. */
function decodeInPieces(text: string, cuts: number[]): { items: unknown[]; continue?: string } {
  const items: unknown[] = [];
  const reader = new ListPageReader((item) => items.push(item));
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    reader.push(text.slice(from, cut));
    from = cut;
  }
  reader.push(text.slice(from));
  return { items, ...reader.end() };
}

describe("ListPageReader", () => {
  const pods = [0, 1, 2, 3].map((i) => ({
    metadata: { name: `p${i}`, namespace: "n", managedFields, labels: { x: '},{"metadata":' } },
    spec: { nodeName: `w${i}` },
  }));

  it("decodes a page pushed one character at a time", () => {
    const text = JSON.stringify({ kind: "PodList", metadata: { continue: "tok" }, items: pods });
    const cuts = Array.from({ length: text.length - 1 }, (_, i) => i + 1);
    expect(decodeInPieces(text, cuts)).toEqual({
      items: pods.map(withoutManagedFields),
      continue: "tok",
    });
  });

  it("hands out items before the page has ended", () => {
    const text = JSON.stringify({ kind: "PodList", metadata: {}, items: pods });
    const seen: unknown[] = [];
    const reader = new ListPageReader((item) => seen.push(item));
    reader.push(text.slice(0, Math.floor(text.length * 0.8)));
    expect(seen.length).toBeGreaterThanOrEqual(2);
    reader.push(text.slice(Math.floor(text.length * 0.8)));
    reader.end();
    expect(seen).toEqual(pods.map(withoutManagedFields));
  });

  it("reads custom resource lists, whose keys come sorted (items before metadata)", () => {
    // How the API server writes an UnstructuredList: apiVersion, items, kind, metadata.
    const items = pods.map((pod) => ({ apiVersion: "autoscaling.k8s.io/v1", ...pod }));
    const text = `{"apiVersion":"autoscaling.k8s.io/v1","items":${JSON.stringify(items)},"kind":"VerticalPodAutoscalerList","metadata":{"continue":"next","resourceVersion":"9"}}\n`;
    expect(decodeInPieces(text, [10, 200, 700])).toEqual({
      items: items.map(withoutManagedFields),
      continue: "next",
      resourceVersion: "9",
    });
  });

  it("reads indented JSON, which never splits, at the end", () => {
    const text = JSON.stringify(
      { kind: "PodList", metadata: { continue: "t" }, items: pods },
      null,
      2,
    );
    expect(decodeInPieces(text, [50, 51, 400])).toEqual({
      items: pods.map(withoutManagedFields),
      continue: "t",
    });
  });

  it("rejects a page that ends too early or goes on after its items", () => {
    const text = JSON.stringify({ kind: "PodList", metadata: {}, items: pods });
    expect(() => decodeInPieces(text.slice(0, -30), [100])).toThrow(SyntaxError);
    expect(() => decodeInPieces(`${text.slice(0, -1)},]}`, [100])).toThrow(SyntaxError);
    expect(() => decodeInPieces(`${text.slice(0, -2)}]]}`, [100])).toThrow(SyntaxError);
  });

  it("decodes any page pushed in any pieces exactly as JSON.parse does, less managedFields", () => {
    const text = fc.string({
      unit: fc.constantFrom("a", "]", "[", "}", "{", '"', "\\", ",", ":", "é", " "),
    });
    const item = fc.record({
      metadata: fc.record(
        { name: text, labels: fc.dictionary(keys(text), text), managedFields: fc.array(text) },
        { requiredKeys: ["name"] },
      ),
      spec: fc.dictionary(keys(text), fc.oneof(text, fc.integer(), fc.constant(null))),
    });
    fc.assert(
      fc.property(
        fc.array(item, { maxLength: 6 }),
        fc.option(fc.string()),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 8 }),
        (items, token, indented, offsets) => {
          const page = { kind: "List", metadata: token === null ? {} : { continue: token }, items };
          const json = JSON.stringify(page, null, indented ? 1 : undefined);
          const decoded = decodeInPieces(
            json,
            offsets.map((offset) => offset % (json.length + 1)),
          );
          expect(decoded.items).toEqual(items.map(withoutManagedFields));
          expect(decoded.continue).toBe(token ? token : undefined);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("skipArray", () => {
  it("finds the matching bracket past strings and escapes", () => {
    const text = 'x["a]\\"]",[1,{"b":"]"}],"\\\\"]y';
    expect(text.slice(skipArray(text, 1, text.length))).toBe("y");
    expect(skipArray("[[1]", 0, 4)).toBe(-1);
  });
});
