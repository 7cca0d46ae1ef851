import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { formatPath, type PathSegment, parsePath } from "../../src/editors/path.ts";

describe("parsePath", () => {
  it.each<[string, PathSegment[]]>([
    ["worker_count", [{ kind: "key", key: "worker_count" }]],
    [
      "worker_pools.general.count",
      [
        { kind: "key", key: "worker_pools" },
        { kind: "key", key: "general" },
        { kind: "key", key: "count" },
      ],
    ],
    [
      'nodes["k3s-worker-1"].cores',
      [
        { kind: "key", key: "nodes" },
        { kind: "key", key: "k3s-worker-1" },
        { kind: "key", key: "cores" },
      ],
    ],
    [
      'config."talos-aws:workerCount"',
      [
        { kind: "key", key: "config" },
        { kind: "key", key: "talos-aws:workerCount" },
      ],
    ],
    [
      "spec.template.spec.containers[name=app].resources.requests.cpu",
      [
        { kind: "key", key: "spec" },
        { kind: "key", key: "template" },
        { kind: "key", key: "spec" },
        { kind: "key", key: "containers" },
        { kind: "match", field: "name", value: "app" },
        { kind: "key", key: "resources" },
        { kind: "key", key: "requests" },
        { kind: "key", key: "cpu" },
      ],
    ],
    [
      'args[0]["a.b"][name="my app"]',
      [
        { kind: "key", key: "args" },
        { kind: "index", index: 0 },
        { kind: "key", key: "a.b" },
        { kind: "match", field: "name", value: "my app" },
      ],
    ],
    [
      "[2].x",
      [
        { kind: "index", index: 2 },
        { kind: "key", key: "x" },
      ],
    ],
  ])("parses %s", (text, expected) => {
    expect(parsePath(text)).toEqual(expected);
  });

  it.each([
    ["", "empty"],
    ["a.", "ends after '.'"],
    ["a..b", "expected a key"],
    ["a[", "never closed"],
    ["a[x]", "inside brackets"],
    ['a."b', "never closed"],
    ["a[=x]", "field name"],
    ['a["b"x', "expected ']'"],
  ])("refuses %j with a reason", (text, reason) => {
    expect(() => parsePath(text)).toThrow(reason);
  });

  it("formats what it parses back to an equal path", () => {
    const segment = fc.oneof(
      fc.record({ kind: fc.constant("key" as const), key: fc.string({ minLength: 1 }) }),
      fc.record({ kind: fc.constant("index" as const), index: fc.nat() }),
      fc.record({
        kind: fc.constant("match" as const),
        field: fc.stringMatching(/^[a-zA-Z_][\w-]*$/),
        value: fc.string(),
      }),
    );
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), (segments) => {
        expect(parsePath(formatPath(segments))).toEqual(segments);
      }),
    );
  });
});
