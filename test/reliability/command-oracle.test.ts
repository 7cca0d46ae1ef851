/** The commands family's oracle (bench/reliability-commands.ts) on comments whose reading is known. */
import { describe, expect, it } from "@jest/globals";
import { expectedCommands } from "../../bench/reliability-commands.ts";

describe("expectedCommands", () => {
  it("reads one command per line, in any case, with Markdown's line ends", () => {
    expect(expectedCommands("/Autoscaler pause\r/autoscaler scale workers = 3\r\n")).toEqual([
      { ok: true, command: { verb: "pause", pool: undefined } },
      { ok: true, command: { verb: "scale", pool: "workers", count: 3 } },
    ]);
  });

  it("finds nothing in code, quotes, HTML comments or the middle of a line", () => {
    const body = [
      "~~~",
      "```",
      "/autoscaler pause",
      "```",
      "~~~",
      "",
      "    /autoscaler pause",
      "> /autoscaler pause",
      "<!--",
      "/autoscaler pause",
      "-->",
      "please /autoscaler pause",
      "/autoscalers pause",
    ].join("\n");
    expect(expectedCommands(body)).toEqual([]);
  });

  it("refuses counts and pools outside the grammar, naming what it refuses", () => {
    expect(
      expectedCommands(
        "/autoscaler scale workers=-1\n/autoscaler scale work ers=3\n/autoscaler pause ../x\n/autoscaler hold now",
      ),
    ).toEqual([
      { ok: false, names: "scale" },
      { ok: false, names: "scale" },
      { ok: false, names: "../x" },
      { ok: false, names: "hold" },
    ]);
  });

  it("leaves out a comment closed within a command's line, as GitHub shows it", () => {
    expect(expectedCommands("/autoscaler hold <!-- why -->\n/autoscaler<!-- x -->pause")).toEqual([
      { ok: true, command: { verb: "hold" } },
    ]);
  });

  it("stops after ten commands with one refusal", () => {
    const lines = expectedCommands("/autoscaler recheck\n".repeat(50));
    expect(lines).toHaveLength(11);
    expect(lines[10]).toEqual({ ok: false, names: "at most 10" });
  });
});
