import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

type Collect = (options: { type: "minor"; execution: "sync" }) => void;

let collect: Collect | null | undefined;

/**
 * Runs a young-generation garbage collection now, when the engine allows it (a no-op
 * otherwise).
 *
 * The snapshot reader no longer calls it: it collected each decoded page young while pages
 * were decoded whole, and with responses read item by item there is no page to collect
 * (docs/performance.md).
 */
export function collectYoungGarbage(): void {
  if (collect === undefined) collect = obtainCollector();
  collect?.({ type: "minor", execution: "sync" });
}

function obtainCollector(): Collect | null {
  try {
    // --expose-gc set now affects only contexts created afterwards: the application's own
    // global object never gains a `gc` function.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as unknown;
    return typeof gc === "function" ? (gc as Collect) : null;
  } catch {
    return null;
  }
}

/** Young generation size (both semi-spaces) past which it is not allowed to grow. */
export const youngGenerationLimitBytes = 32 * 1024 * 1024;

/** Checks made between two looks at the heap: each costs a few microseconds. */
const checksPerLook = 32;

let state: "unset" | "watching" | "stopped" | "left-alone" = "unset";
let checks = 0;

/**
 * Stops V8's young generation from growing past {@link youngGenerationLimitBytes}, for the
 * rest of the process, unless Node.js was started with a semi-space flag of its own. Call
 * `limitYoungGeneration` once before a large read and {@link checkYoungGeneration} often
 * during it.
 *
 * Why: reading a cluster keeps nearly everything it converts, and V8 grows the young
 * generation while much of what it allocates survives, up to 2 × 64 MB of semi-spaces on a
 * 64-bit build — memory the process keeps resident to the end. `--max-semi-space-size` would
 * cap it, but only when given at startup. The growth factor, however, is read at each
 * growth: setting it to 1 once the young generation has reached the limit stops it there.
 * Not growing at all (a few MB) costs four times as many young collections; the limit is
 * where both memory and time stay close to their best (docs/performance.md). The setting
 * stays: the snapshot is written and planned on after it is read, and a growing young
 * generation would bring the memory back then.
 */
export function limitYoungGeneration(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? "",
): void {
  if (state !== "unset") return;
  state = semiSpaceFlagGiven(execArgv, nodeOptions) ? "left-alone" : "watching";
  look();
}

/** Cheap enough to call for every item read: looks at the heap every few dozen calls. */
export function checkYoungGeneration(): void {
  if (state !== "watching" || ++checks % checksPerLook !== 0) return;
  look();
}

function look(): void {
  if (state !== "watching") return;
  const young = getHeapSpaceStatistics().find((space) => space.space_name === "new_space");
  if (young === undefined || young.space_size < youngGenerationLimitBytes) return;
  state = "stopped";
  try {
    setFlagsFromString("--semi-space-growth-factor=1");
  } catch {
    // An engine without the flag grows as it likes; reading still works.
  }
}

/** True when the user sized the young generation at startup: theirs is left alone. */
export function semiSpaceFlagGiven(execArgv: readonly string[], nodeOptions: string): boolean {
  return execArgv.some((flag) => flag.includes("semi-space")) || nodeOptions.includes("semi-space");
}
