import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "@jest/globals";
import { semiSpaceFlagGiven, youngGenerationLimitBytes } from "../../src/cluster/young-gc.ts";

const youngGc = fileURLToPath(new URL("../../src/cluster/young-gc.ts", import.meta.url));

/**
 * The young generation's size after a process keeps three million small objects, as a read of a
 * large cluster does; `limit` says whether that process calls limitYoungGeneration first.
 */
async function youngGenerationAfterKeeping(limit: boolean): Promise<number> {
  const script = `
    import { getHeapSpaceStatistics } from "node:v8";
    const { checkYoungGeneration, limitYoungGeneration } = await import(${JSON.stringify(youngGc)});
    if (${limit}) limitYoungGeneration([], "");
    const kept = [];
    for (let i = 0; i < 3_000_000; i++) {
      checkYoungGeneration();
      kept.push({ name: "pod-" + i, labels: { app: "web" }, requests: [i] });
    }
    const young = getHeapSpaceStatistics().find((space) => space.space_name === "new_space");
    console.log(JSON.stringify({ kept: kept.length, young: young.space_size }));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, [
    "--input-type=module",
    "-e",
    script,
  ]);
  const result = JSON.parse(stdout) as { kept: number; young: number };
  expect(result.kept).toBe(3_000_000);
  return result.young;
}

describe("limitYoungGeneration", () => {
  it("stops the young generation from growing past the limit while much survives", async () => {
    // One doubling may happen between two looks at the heap.
    expect(await youngGenerationAfterKeeping(true)).toBeLessThanOrEqual(
      2 * youngGenerationLimitBytes,
    );
    // Without it, V8 grows the young generation well past that.
    expect(await youngGenerationAfterKeeping(false)).toBeGreaterThan(2 * youngGenerationLimitBytes);
  });

  it("leaves a young generation sized at startup alone", () => {
    expect(semiSpaceFlagGiven(["--max-semi-space-size=8"], "")).toBe(true);
    expect(semiSpaceFlagGiven([], "--max-old-space-size=512 --semi-space-growth-factor=4")).toBe(
      true,
    );
    expect(semiSpaceFlagGiven(["--expose-gc"], "--max-old-space-size=512")).toBe(false);
  });
});
