import { describe, expect, it } from "@jest/globals";
import type { CliIo } from "../../src/cli/io.ts";
import { reportSnapshotWarnings } from "../../src/cli/snapshot-warnings.ts";
import { WarningCollector } from "../../src/cluster/warnings.ts";
import { buildSnapshot } from "../support/snapshot-builder.ts";

function captured(): { io: CliIo; lines: () => string[] } {
  let text = "";
  const io: CliIo = {
    stdout: () => undefined,
    stderr: (chunk) => {
      text += chunk;
    },
    cwd: "/",
    env: {},
    isTty: false,
  };
  return { io, lines: () => text.trimEnd().split("\n") };
}

/** 63 warnings of one code and 5 of another, as the reader collects them (50 kept per code). */
function warnings() {
  const collector = new WarningCollector();
  for (let i = 1; i <= 63; i++)
    collector.add("metrics-missing", "no usable metrics for this node", `node/worker-${i}`);
  for (let i = 1; i <= 5; i++) collector.add("quantity-invalid", "bad cpu", `pod/web/a-${i}`);
  return collector.finish();
}

describe("reportSnapshotWarnings", () => {
  it("prints the first 20 and counts every warning left, those a summary stands for too", () => {
    const { io, lines } = captured();
    reportSnapshotWarnings({ ...buildSnapshot({}), warnings: warnings() }, io, "cluster.json");
    const printed = lines();
    expect(printed).toHaveLength(21);
    expect(printed[0]).toBe(
      "warning: node/worker-1: no usable metrics for this node [metrics-missing]",
    );
    // 30 kept metrics-missing + 5 quantity-invalid + the 13 the summary left out.
    expect(printed[20]).toBe(
      "warning: 48 more warnings not shown; cluster.json has the first 50 of each code",
    );
  });

  it("does not point at a file when the snapshot was read live", () => {
    const { io, lines } = captured();
    reportSnapshotWarnings({ ...buildSnapshot({}), warnings: warnings() }, io);
    expect(lines().at(-1)).toBe("warning: 48 more warnings not shown");
  });

  it("says one warning left in the singular", () => {
    const { io, lines } = captured();
    const collector = new WarningCollector();
    for (let i = 1; i <= 21; i++) collector.add("quantity-invalid", "bad cpu", `pod/web/a-${i}`);
    reportSnapshotWarnings({ ...buildSnapshot({}), warnings: collector.finish() }, io);
    expect(lines().at(-1)).toBe("warning: 1 more warning not shown");
  });

  it("says nothing more when every warning was printed", () => {
    const { io, lines } = captured();
    const few = warnings().slice(50, 53);
    reportSnapshotWarnings({ ...buildSnapshot({}), warnings: few }, io, "cluster.json");
    expect(lines()).toHaveLength(3);
  });
});

describe("WarningCollector", () => {
  it("sums up those left out about pods or containers apart, with subject pods", () => {
    const collector = new WarningCollector(2);
    collector.add("metrics-missing", "no usable metrics", "node/worker-1");
    collector.add("metrics-missing", "no usable metrics", "node/worker-2");
    collector.add("metrics-missing", "no usable metrics", "node/worker-3");
    collector.add("metrics-missing", "no usable metrics", "pod/default/a");
    collector.add("metrics-missing", "no usable metrics", "container/default/b/app");
    collector.add("list-failed", "forbidden", "pod/default/c");
    expect(collector.finish().filter((warning) => warning.omitted !== undefined)).toEqual([
      {
        code: "metrics-missing",
        message: "1 more warning with code metrics-missing was left out (5 in all)",
        omitted: 1,
      },
      {
        code: "metrics-missing",
        message:
          "2 more warnings with code metrics-missing about pods or containers were left out (5 in all)",
        subject: "pods",
        omitted: 2,
      },
    ]);
  });

  it("gives its summary the number of warnings it left out", () => {
    const summary = warnings().find((warning) => warning.omitted !== undefined);
    expect(summary).toEqual({
      code: "metrics-missing",
      message: "13 more warnings with code metrics-missing were left out (63 in all)",
      omitted: 13,
    });
  });
});
