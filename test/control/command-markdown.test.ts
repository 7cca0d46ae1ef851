import { describe, expect, it, jest } from "@jest/globals";
import { inlineCode, MAX_COMMANDS_PER_COMMENT, parseCommands } from "../../src/control/command.ts";

function verbs(body: string): string[] {
  return parseCommands(body).map((line) => (line.ok ? line.command.verb : `!${line.problem}`));
}

describe("parseCommands reads a comment as GitHub renders it", () => {
  it("lets a fence end a paragraph whose comment is still open: the comment never closes", () => {
    // The fence interrupts the paragraph, so `-->` is inside the (never closed) code block.
    expect(verbs("Later <!-- note\n```\n-->\n\n /autoscaler pause")).toEqual([]);
  });

  it("goes on with the paragraph after a comment closes inside it", () => {
    expect(verbs("Later <!-- note\nhidden -->\n    /autoscaler pause")).toEqual(["pause"]);
  });

  it("keeps a quote's paragraph quoted after a comment inside it", () => {
    expect(verbs("> Wait <!-- note\nhidden -->\n/autoscaler pause")).toEqual([]);
  });

  it("leaves out an HTML comment closed within a command's line, as GitHub shows it", () => {
    expect(parseCommands("/autoscaler hold <!-- until the vendor answers -->")).toEqual([
      { ok: true, text: "/autoscaler hold", command: { verb: "hold" } },
    ]);
    expect(verbs("/autoscaler scale <!-- x -->workers=4")).toEqual(["scale"]);
    // Shown as one word: not the prefix.
    expect(verbs("/autoscaler<!-- x -->pause")).toEqual([]);
  });

  it("ends lines at a lone CR, as Markdown does", () => {
    expect(verbs("/autoscaler pause\r/autoscaler scale workers=3")).toEqual(["pause", "scale"]);
  });

  it("takes the prefix in any case, as phone keyboards capitalise it", () => {
    expect(verbs("/Autoscaler pause\n/AUTOSCALER resume ALL")).toEqual(["pause", "resume"]);
  });

  it("closes a fence only with the same character, at least as long", () => {
    const body = "~~~\n```\n/autoscaler pause\n```\n~~~\n/autoscaler resume";
    expect(verbs(body)).toEqual(["resume"]);
    expect(verbs("````\n```\n/autoscaler pause\n````\n/autoscaler hold")).toEqual(["hold"]);
  });

  it("keeps a fence open whatever its info string holds", () => {
    expect(verbs("```sh\u2028x\n/autoscaler pause\n")).toEqual([]);
  });

  it("skips indented code after a blank line, not an indented line of a paragraph", () => {
    expect(verbs("Try this:\n\n    /autoscaler pause")).toEqual([]);
    expect(verbs("\t/autoscaler pause")).toEqual([]);
    expect(verbs("Pausing for the night\n    /autoscaler pause")).toEqual(["pause"]);
  });

  it("skips HTML comments, which GitHub does not show", () => {
    expect(verbs("<!--\n/autoscaler pause\n-->\n/autoscaler resume")).toEqual(["resume"]);
  });

  it("skips an HTML comment opened inside a paragraph and closed on a later line", () => {
    expect(verbs("Not yet <!-- maybe\n/autoscaler pause\n--> thanks\n/autoscaler hold")).toEqual([
      "hold",
    ]);
    // Never closed before the paragraph ends: GitHub shows it, so the command stands.
    expect(verbs("Not yet <!-- maybe\n/autoscaler pause\n\n-->")).toEqual(["pause"]);
    // Inside inline code, `<!--` is text.
    expect(verbs("Write `<!--` to hide a line\n/autoscaler pause\n-->")).toEqual(["pause"]);
  });

  it("skips a line that continues a quote lazily, as GitHub shows it inside the quote", () => {
    expect(verbs("> Can we wait?\n/autoscaler pause")).toEqual([]);
    expect(verbs("> Can we wait?\n    /autoscaler pause")).toEqual([]);
    expect(verbs("> Can we wait?\n\n/autoscaler pause")).toEqual(["pause"]);
    expect(verbs("> Can we wait?\n>\n/autoscaler pause")).toEqual(["pause"]);
    expect(verbs("> ```\n/autoscaler pause")).toEqual(["pause"]);
  });

  it("skips code fenced inside a list item", () => {
    expect(verbs("- run:\n- ```\n  /autoscaler pause\n  ```\n/autoscaler hold")).toEqual(["hold"]);
  });

  it("skips indented code after a heading or a rule, which end a paragraph as a blank does", () => {
    expect(verbs("## Tonight\n    /autoscaler pause")).toEqual([]);
    expect(verbs("---\n    /autoscaler pause")).toEqual([]);
  });

  it("skips <pre>, <script>, <style> and <textarea> blocks up to their end tag", () => {
    expect(
      verbs("<pre>\n/autoscaler pause\n\n/autoscaler hold\n</pre>\n/autoscaler recheck"),
    ).toEqual(["recheck"]);
    expect(verbs("<SCRIPT type=x>\n/autoscaler pause\n</script>")).toEqual([]);
    expect(verbs("<pre>x</pre>\n/autoscaler pause")).toEqual(["pause"]);
  });

  it("takes a list item's line as text, never as a command", () => {
    expect(verbs("- /autoscaler pause\n1. /autoscaler hold")).toEqual([]);
  });

  it("indents with spaces and tabs only: a no-break space does not start a block", () => {
    expect(verbs("\u00a0<!--\n/autoscaler pause")).toEqual(["pause"]);
  });
});

describe("parseCommands' arguments", () => {
  it("refuses a pool name the configuration could not hold, naming it", () => {
    expect(verbs("/autoscaler pause ../../etc")).toEqual([
      "!`../../etc` is not a pool name (letters, digits, '.', '_' and '-', at most 63)",
    ]);
  });

  it("reads a count of more than four digits, for the pool's bounds to refuse", () => {
    expect(parseCommands("/autoscaler scale workers=10000")[0]).toMatchObject({
      ok: true,
      command: { verb: "scale", pool: "workers", count: 10000 },
    });
  });

  it("allows spaces around '=' in scale, never inside the pool name", () => {
    expect(parseCommands("/autoscaler scale workers = 3")[0]).toMatchObject({
      ok: true,
      command: { verb: "scale", pool: "workers", count: 3 },
    });
    expect(verbs("/autoscaler scale work ers=3")).toEqual([
      "!write `/autoscaler scale POOL=N`, e.g. `/autoscaler scale workers=5`",
    ]);
  });

  it("reads a comment whose every line opens an HTML comment in one pass, not one per line", () => {
    // Anyone may comment on a public repository, and the webhook handler reads every comment:
    // work that grew with the square of the lines (a 64 kB comment held the process for seconds)
    // would let a comment stall webhooks and the leader's renewals. Counted in pattern tests, so
    // the measure does not depend on the machine's speed.
    const patternTests = (lines: number) => {
      const spy = jest.spyOn(RegExp.prototype, "test");
      expect(parseCommands("Note <!-- hidden\n".repeat(lines))).toEqual([]);
      const calls = spy.mock.calls.length;
      spy.mockRestore();
      return calls;
    };
    expect(patternTests(1000)).toBeLessThanOrEqual(2 * patternTests(500) + 10);
  });

  it("takes at most a few commands from one comment and says so once", () => {
    const lines = parseCommands("/autoscaler scale workers=3\n".repeat(1000));
    expect(lines).toHaveLength(MAX_COMMANDS_PER_COMMENT + 1);
    expect(lines.at(-1)).toMatchObject({
      ok: false,
      problem: `a comment takes at most ${MAX_COMMANDS_PER_COMMENT} commands; this one and any after it are left alone`,
    });
  });
});

describe("inlineCode", () => {
  it("quotes text holding backticks so that none ends the span", () => {
    expect(inlineCode("fro`b` @someone")).toBe("``fro`b` @someone``");
    expect(inlineCode("`x`")).toBe("`` `x` ``");
  });

  it("shortens long text", () => {
    expect(inlineCode("x".repeat(100), 10)).toBe(`\`${"x".repeat(10)}…\``);
  });
});
