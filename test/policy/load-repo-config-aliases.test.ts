import { describe, expect, it } from "@jest/globals";
import { loadRepoConfig } from "../../src/policy/load-repo-config.ts";

describe("loadRepoConfig and YAML aliases", () => {
  it("reports an alias without an anchor at the alias, instead of throwing", () => {
    expect(loadRepoConfig("pools: *nothing\n")).toEqual({
      ok: false,
      issues: [
        {
          file: ".github/pr-autoscaler.yml",
          line: 1,
          column: 8,
          path: "",
          message: expect.stringContaining("Unresolved alias"),
        },
      ],
    });
  });

  it("refuses an alias bomb with an issue, not a crash or an exhausted process", () => {
    const bomb = ["a: &a [x,x,x,x,x,x,x,x,x]"];
    for (const [name, from] of [
      ["b", "a"],
      ["c", "b"],
      ["d", "c"],
      ["e", "d"],
    ]) {
      bomb.push(`${name}: &${name} [${Array(9).fill(`*${from}`).join(",")}]`);
    }
    const result = loadRepoConfig(`${bomb.join("\n")}\n`);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues[0]).toMatchObject({
        line: 2,
        message: expect.stringContaining("alias"),
      });
    }
  });

  it("still expands ordinary aliases", () => {
    const text = `defaults: &target {file: t.tfvars, path: worker_count}
pools:
  - {name: a, target: *target, max: 3}
`;
    const result = loadRepoConfig(text);
    // The unknown top-level key is the only problem: the alias itself expanded.
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues.map((issue) => issue.message).join()).toContain('"defaults"');
  });
});

describe("loadRepoConfig and nesting too deep to read", () => {
  // The yaml package reads collections recursively: thousands of levels exhaust the stack.
  const deep = {
    "flow lists": `pools: ${"[".repeat(20_000)}${"]".repeat(20_000)}\n`,
    "block mappings": `pools:\n${Array.from({ length: 3_000 }, (_, i) => `${" ".repeat(i + 2)}a:`).join("\n")} 1\n`,
  };
  for (const [name, text] of Object.entries(deep)) {
    it(`says so of ${name}, once, where reading stopped`, () => {
      const result = loadRepoConfig(text);
      expect(result).toEqual({
        ok: false,
        issues: [
          {
            file: ".github/pr-autoscaler.yml",
            line: expect.any(Number),
            column: expect.any(Number),
            path: "",
            message:
              "YAML nesting: mappings or lists nested too deeply to read (a config needs a few levels); reading stopped here",
          },
        ],
      });
    });
  }
});

describe("loadRepoConfig and keys that are no names", () => {
  it("refuses a key that is a list or a mapping at the key, without a process warning", () => {
    const warnings: string[] = [];
    const listen = (warning: Error) => warnings.push(warning.message);
    process.on("warning", listen);
    const text = [
      "pools:",
      "  - name: workers",
      "    target: {file: a.tfvars, path: n}",
      "    max: 3",
      "    ? [min]",
      "    : 1",
      "    ? {scaleUp: 1}",
      "    : 2",
      "",
    ].join("\n");
    try {
      const message =
        "a key must be a name, not a mapping or a list (a `? ` line, or `[a, b]:` or `{a: b}:` before a value)";
      expect(loadRepoConfig(text)).toEqual({
        ok: false,
        issues: [
          { file: ".github/pr-autoscaler.yml", line: 5, column: 7, path: "", message },
          { file: ".github/pr-autoscaler.yml", line: 7, column: 7, path: "", message },
        ],
      });
    } finally {
      process.off("warning", listen);
    }
    // process.emitWarning emits on the next tick.
    return new Promise<void>((done) => setImmediate(done)).then(() => expect(warnings).toEqual([]));
  });
});
