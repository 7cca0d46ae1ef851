/**
 * The benches run under plain node (`npm run bench:*`), and several drive the tests' fakes. A
 * module jest provides, imported anywhere a bench reaches, makes the bench fail at once: every
 * relative import a bench reaches, followed file by file, stays clear of it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "@jest/globals";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const JEST_ONLY = /^(@jest\/globals|jest|@jest\/.*)$/;
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g;

/** Each file a bench reaches by relative imports, with the jest modules it imports. */
function reached(entry: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (found.has(file)) continue;
    const jest: string[] = [];
    found.set(file, jest);
    for (const match of readFileSync(file, "utf8").matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? "";
      if (JEST_ONLY.test(specifier)) jest.push(specifier);
      else if (specifier.startsWith(".")) queue.push(resolve(dirname(file), specifier));
    }
  }
  return found;
}

const BENCHES = readdirSync(join(ROOT, "bench")).filter((name) => name.endsWith(".ts"));

describe("benches run outside jest", () => {
  it("finds the benches", () => {
    expect(BENCHES).toEqual(expect.arrayContaining(["github.ts", "reliability.ts"]));
  });

  it.each(BENCHES)("bench/%s reaches no module only jest provides", (name) => {
    const offenders = [...reached(join(ROOT, "bench", name))]
      .filter(([, jest]) => jest.length > 0)
      .map(([file, jest]) => `${file.slice(ROOT.length + 1)}: ${jest.join(", ")}`);
    expect(offenders).toEqual([]);
  });
});
