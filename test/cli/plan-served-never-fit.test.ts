/**
 * Pending pods that no new node could hold, against a served cluster: they add no node, and the
 * plan's notes say so whether or not their pool has a change proposed. Without a change the
 * pool's note names them; with one, a note of its own does, once, in the explanation's words.
 */
import { describe, expect, it } from "@jest/globals";
import type { PlanJson } from "./served-cluster.ts";
import {
  cluster,
  fillers,
  LARGE_VM,
  planFull,
  poolNote,
  serveForTest,
  transcodeJob,
  workersAndLargeFiles,
} from "./served-plan.ts";

/** 3 cpu fits a new worker (3800m, 100m of it Cilium's); 16 fits no node of any pool. */
const FITS = transcodeJob("fit300", { cpu: "3" });
const HUGE = transcodeJob("cpu016", { cpu: "16" });
const HUGE_LINE =
  "never fits: batch/transcode-29123400-cpu016 (cpu 16, memory 1 GiB): needs more cpu than a new node has free once its DaemonSets run (3700m of 3800m)";

/** The notes that name `pod`. */
function notesNaming(output: PlanJson, pod: string): PlanJson["notes"] {
  return output.notes.filter((note) => note.message.includes(pod));
}

describe("plan against a served cluster: pending pods that never fit", () => {
  it("names them in a note when their pool has a change proposed", async () => {
    const output = await planFull([FITS, HUGE]);
    expect(output.proposals).toHaveLength(1);
    expect(output.proposals[0]).toMatchObject({ pool: "workers", from: 3, to: 4 });
    expect(output.proposals[0]?.reasons).toContain(`  ${HUGE_LINE}`);
    // One note, in the explanation's words, and no pool note for a pool that changes.
    expect(notesNaming(output, "transcode-29123400-cpu016")).toEqual([
      {
        level: "info",
        subject: "pods",
        message: `pending pods that add no node:\n  pool workers: ${HUGE_LINE}`,
      },
    ]);
    expect(output.notes.filter((note) => note.subject === "pool/workers")).toEqual([]);
    // The pod that fits goes on the new node, and no note names it.
    expect(notesNaming(output, "transcode-29123400-fit300")).toEqual([]);
  });

  it("says so in the text form too, after the proposal", async () => {
    const served = await serveForTest([...cluster(), ...fillers(), FITS, HUGE]);
    const run = await served.run([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `\npods: pending pods that add no node:\n  pool workers: ${HUGE_LINE}\n`,
    );
    expect(run.stdout.indexOf("pods: pending pods")).toBeGreaterThan(
      run.stdout.indexOf("scale up 3 → 4"),
    );
    expect(run.stdout.split(HUGE_LINE)).toHaveLength(3);
  });

  it("leaves them to the pool's note when it has no change, with no second note", async () => {
    const output = await planFull([HUGE]);
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(`  ${HUGE_LINE}`);
    expect(notesNaming(output, "transcode-29123400-cpu016").map((note) => note.subject)).toEqual([
      "pool/workers",
    ]);
  });

  it("is named once when one pool proposes a change and another, with no change, names it", async () => {
    // The large VM is nearly full, so the pod that fits a new worker does not fit there.
    const output = await planFull([...LARGE_VM, FITS, HUGE], workersAndLargeFiles(6));
    expect(output.proposals.map((entry) => [entry.pool, entry.from, entry.to])).toEqual([
      ["workers", 3, 4],
    ]);
    expect(output.proposals[0]?.reasons).toContain(`  ${HUGE_LINE}`);
    // The large pool's note names it with that pool's reason; no other note does.
    expect(notesNaming(output, "transcode-29123400-cpu016").map((note) => note.subject)).toEqual([
      "pool/large",
    ]);
    expect(poolNote(output, "large")).toContain(
      "never fits: batch/transcode-29123400-cpu016 (cpu 16, memory 1 GiB): needs more cpu than a new node has",
    );
  });
});
