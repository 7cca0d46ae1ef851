import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { emptyList, emptyRecord, ValueSharing } from "../../src/cluster/value-sharing.ts";
import type { Resources, Toleration } from "../../src/planning/snapshot.ts";

/** A fresh copy, as JSON.parse gives every pod its own. */
function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

const text = fc.string({ unit: fc.constantFrom("a", "b", "/", "-", "1", "é"), maxLength: 4 });

describe("ValueSharing", () => {
  it("shares equal label maps, and only equal ones", () => {
    fc.assert(
      fc.property(fc.dictionary(text, text), fc.dictionary(text, text), (a, b) => {
        const sharing = new ValueSharing();
        const first = sharing.stringRecord(copy(a));
        const again = sharing.stringRecord(copy(a));
        const other = sharing.stringRecord(copy(b));
        expect(first).toEqual(a);
        expect(again).toBe(first);
        expect(Object.isFrozen(first)).toBe(true);
        const sameEntries = JSON.stringify(Object.entries(a)) === JSON.stringify(Object.entries(b));
        expect(other === first).toBe(sameEntries);
      }),
    );
  });

  it("keeps only string entries, and shares one empty map", () => {
    const sharing = new ValueSharing();
    expect(sharing.stringRecord({ a: "1", b: 2, c: null })).toEqual({ a: "1" });
    expect(sharing.stringRecord({})).toBe(emptyRecord);
    expect(sharing.stringRecord(undefined)).toBe(emptyRecord);
  });

  it("shares equal amounts, extended resources included", () => {
    const resources = fc.record(
      {
        cpu: fc.integer({ min: 0, max: 4000 }),
        memory: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.constant(2 ** 40 + 1)),
        extended: fc.dictionary(fc.constantFrom("nvidia.com/gpu", "example.com/x"), fc.nat(3), {
          minKeys: 1,
        }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(resources, resources, (a: Resources, b: Resources) => {
        const sharing = new ValueSharing();
        const first = sharing.resources(copy(a));
        expect(first).toEqual(a);
        expect(sharing.resources(copy(a))).toBe(first);
        expect(Object.isFrozen(first)).toBe(true);
        const equal = JSON.stringify(copy(a)) === JSON.stringify(copy(b));
        expect(sharing.resources(copy(b)) === first).toBe(equal);
      }),
    );
  });

  it("tells apart amounts that differ only above 32 bits", () => {
    const sharing = new ValueSharing();
    const small = sharing.resources({ memory: 1 });
    const large = sharing.resources({ memory: 2 ** 32 + 1 });
    expect(large).not.toBe(small);
    expect(large.memory).toBe(2 ** 32 + 1);
  });

  it("shares equal tolerations in lists of each pod's own", () => {
    const defaults: Toleration[] = [
      { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
      { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
    ];
    const sharing = new ValueSharing();
    const first = sharing.tolerations(copy(defaults));
    const second = sharing.tolerations(copy(defaults));
    expect(first).toEqual(defaults);
    expect(second).not.toBe(first);
    expect(second[0]).toBe(first[0]);
    expect(second[1]).toBe(first[1]);
    expect(first.every((t) => Object.isFrozen(t))).toBe(true);
    // The list is the pod's own: adding to it leaves the other pod's alone.
    second.push({ operator: "Exists" });
    expect(sharing.tolerations(copy(defaults))).toHaveLength(2);
    // Lists are matched whole: the same tolerations in another order are another list.
    const reordered = sharing.tolerations(copy([defaults[1], defaults[0]] as Toleration[]));
    expect(reordered[0]).toEqual(first[1]);
    expect(reordered[0]).not.toBe(first[1]);
    expect(sharing.tolerations([{ operator: "Exists" }])[0]).not.toBe(
      sharing.tolerations([{ operator: "Equal" }])[0],
    );
    expect(sharing.tolerations([])).toBe(emptyList);
  });

  it("shares owners", () => {
    const sharing = new ValueSharing();
    const owner = sharing.owner("Deployment", copy("web"));
    expect(sharing.owner(copy("Deployment"), "web")).toBe(owner);
    expect(sharing.owner("StatefulSet", "web")).not.toBe(owner);
    expect(Object.isFrozen(owner)).toBe(true);
  });

  it("makes changing a shared value in place an error", () => {
    const sharing = new ValueSharing();
    const labels = sharing.stringRecord({ app: "web" }) as Record<string, string>;
    expect(() => {
      labels.app = "other";
    }).toThrow(TypeError);
    expect(() => (emptyList as unknown as string[]).push("x")).toThrow(TypeError);
  });
});
