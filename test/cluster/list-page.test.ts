import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { readListPage, skipArray } from "../../src/cluster/list-page.ts";

function decode(text: string): { items: unknown[]; continue?: string } {
  const items: unknown[] = [];
  const head = readListPage(text, (item) => items.push(item));
  return { items, ...head };
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
  it("decodes items without managedFields and returns the continue token", () => {
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
    expect(decode(text)).toEqual({ items: items.map(withoutManagedFields), continue: "tok" });
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

  it("handles items that open differently, empty lists and lists without items", () => {
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
    });
    expect(decode('{"kind":"PodList","metadata":{"resourceVersion":"1"}}')).toEqual({ items: [] });
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
        fc.dictionary(text, tie("value"), { maxKeys: 3 }),
      ),
    })).value;
    const item = fc.record(
      {
        apiVersion: fc.constant("v1"),
        metadata: fc.record(
          {
            name: text,
            labels: fc.dictionary(text, text),
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

describe("skipArray", () => {
  it("finds the matching bracket past strings and escapes", () => {
    const text = 'x["a]\\"]",[1,{"b":"]"}],"\\\\"]y';
    expect(text.slice(skipArray(text, 1, text.length))).toBe("y");
    expect(skipArray("[[1]", 0, 4)).toBe(-1);
  });
});
