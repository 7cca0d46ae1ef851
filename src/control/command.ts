/** Comment commands: `/autoscaler <verb> [arguments]`, one per line. */

export type Command =
  | { verb: "pause"; pool: string | undefined }
  | { verb: "resume"; pool: string | undefined }
  | { verb: "recheck" }
  | { verb: "scale"; pool: string; count: number | "auto" }
  | { verb: "ignore" }
  | { verb: "hold" }
  | { verb: "unhold" }
  | { verb: "help" };

export type ParsedLine =
  | { ok: true; command: Command; text: string }
  | { ok: false; text: string; problem: string };

export const USAGE = [
  "`/autoscaler pause [POOL]`: no new or updated pull requests (all pools, or one)",
  "`/autoscaler resume [POOL]`: undo a pause",
  "`/autoscaler recheck`: look again now: policies extended from other repositories, and every pull request's checks",
  "`/autoscaler scale POOL=N`: propose N nodes for POOL now, within its min and max (`POOL=auto` cancels)",
  "`/autoscaler ignore`: on a right-sizing pull request, close it and do not propose it again until the recommendation moves by more than the tolerance",
  "`/autoscaler hold` / `unhold`: on a pull request, stop or allow its auto-merge",
  "`/autoscaler help`: reply with this list",
].join("\n");

/** Command lines one comment may hold; the rest are refused with one line saying so. */
export const MAX_COMMANDS_PER_COMMENT = 10;

const PREFIX = /^\/autoscaler(?:\s+([\s\S]*))?$/i;
/** A pool name as the configuration allows it (src/policy/repo-config.ts). */
const POOL = "[A-Za-z0-9][A-Za-z0-9._-]{0,62}";
const POOL_NAME = new RegExp(`^${POOL}$`);
/** Any count a pool's max could allow is read, so that a count too large is refused as such. */
const SCALE = new RegExp(`^(${POOL})\\s*=\\s*(\\d{1,9}|auto)$`, "i");

/**
 * The commands in a comment, in order: each line that starts with `/autoscaler` (in any case)
 * and is not shown as code, quoted or hidden, the way GitHub's Markdown renders it: fenced code
 * (``` or ~~~, closed only by a fence of the same character at least as long, also when it
 * opens a list item), indented code (4 columns, after a blank line, a heading or a rule), block
 * quotes (`>`, with the lines that continue their paragraph without one), HTML comments (also
 * one opened within a paragraph and closed on a later line of it) and `<pre>`, `<script>`,
 * `<style>` and `<textarea>` blocks are skipped; a list item's line (`- /autoscaler pause`) does
 * not start with the prefix. Lines end at LF, CRLF or a lone CR. Lines that do not parse come
 * back with the problem; past MAX_COMMANDS_PER_COMMENT command lines, one more line says the
 * rest are left alone.
 */
export function parseCommands(body: string): ParsedLine[] {
  const lines: ParsedLine[] = [];
  let block: Block = "text";
  let fence = "";
  let blankBefore = true;
  const rows = body.split(/\r\n|\r|\n/);
  let closes: boolean[] | undefined;
  for (const [index, raw] of rows.entries()) {
    const kind = classify(raw, block, fence, blankBefore);
    block = kind.block;
    fence = kind.fence;
    blankBefore = kind.blank;
    // The paragraph's text runs on in a comment that a later line of it closes: hidden.
    if (kind.paragraph && opensComment(raw)) {
      closes ??= closedInParagraph(rows);
      if (closes[index + 1]) {
        fence = block === "quote" ? IN_QUOTE_COMMENT : INLINE_COMMENT;
        block = "html";
      }
    }
    if (!kind.command) continue;
    // A comment closed within the line is not shown: `/autoscaler hold <!-- why -->` is a hold.
    const line = raw.replace(/<!--[\s\S]*?-->/g, "").trim();
    const match = PREFIX.exec(line);
    if (!match) continue;
    if (lines.length === MAX_COMMANDS_PER_COMMENT) {
      lines.push({
        ok: false,
        text: line,
        problem: `a comment takes at most ${MAX_COMMANDS_PER_COMMENT} commands; this one and any after it are left alone`,
      });
      break;
    }
    lines.push(parseLine(line, (match[1] ?? "").trim()));
  }
  return lines;
}

/** Where a line stands: `quote` is a quote's paragraph, which lines without `>` may continue. */
type Block = "text" | "fence" | "indented" | "html" | "quote";

interface LineKind {
  block: Block;
  /** The open fence, or the text that ends the HTML block. */
  fence: string;
  /** The line is blank or ends a block: an indented line after it is code. */
  blank: boolean;
  /** The line is ordinary text, where a command may stand. */
  command: boolean;
  /** The line is paragraph text (quoted or not), whose inline HTML may run on to later lines. */
  paragraph: boolean;
}

/** HTML blocks that run to their end tag, blank lines included (CommonMark's first kind). */
const RAW_HTML = /^<(pre|script|style|textarea)(?:[ \t>]|$)/i;
/** The end markers of a comment opened inside a paragraph, plain or quoted (parseCommands). */
const INLINE_COMMENT = "inline -->";
const IN_QUOTE_COMMENT = "quoted -->";
/** A list item with content: it starts a block even right after a paragraph line. */
const LIST_ITEM = /^(?:[-*+]|1[.)])[ \t]+\S/;
const RAW_HTML_END = /<\/(?:pre|script|style|textarea)>/i;
const LIST_MARKER = /^(?:[-*+]|\d{1,9}[.)])[ \t]+/;
const HEADING_OR_RULE =
  /^(?:#{1,6}(?:[ \t].*)?|(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,}|=+[ \t]*)$/;

function classify(raw: string, block: Block, fence: string, blankBefore: boolean): LineKind {
  const kind = classifyAlone(raw, block, fence, blankBefore);
  // Text after a quote's paragraph, with no `>`, continues it (lazily): it is shown quoted.
  if (block === "quote" && (kind.command || kind.block === "indented"))
    return { block: "quote", fence: "", blank: false, command: false, paragraph: true };
  return kind;
}

function classifyAlone(raw: string, block: Block, fence: string, blankBefore: boolean): LineKind {
  const indent = columns(raw);
  // Markdown indents with spaces and tabs only: a line led by another space is text.
  const rest = raw.replace(/^[ \t]+/, "");
  const other = { fence: "", paragraph: false };
  if (block === "fence") {
    const close = indent < 4 ? /^(`{3,}|~{3,})[ \t]*$/.exec(rest) : null;
    const closed =
      close?.[1] !== undefined && close[1][0] === fence[0] && close[1].length >= fence.length;
    return {
      ...other,
      block: closed ? "text" : "fence",
      fence: closed ? "" : fence,
      blank: closed,
      command: false,
    };
  }
  if (block === "html") {
    const ended = fence === "</" ? RAW_HTML_END.test(raw) : raw.includes("-->");
    // An HTML block ends its block; a comment inside a paragraph leaves the paragraph going,
    // quoted if it was.
    const inline = fence === INLINE_COMMENT || fence === IN_QUOTE_COMMENT;
    return {
      ...other,
      block: !ended ? "html" : fence === IN_QUOTE_COMMENT ? "quote" : "text",
      fence: ended ? "" : fence,
      blank: ended && !inline,
      command: false,
    };
  }
  if (rest === "")
    return {
      ...other,
      block: block === "indented" ? "indented" : "text",
      blank: true,
      command: false,
    };
  if (indent >= 4 && (blankBefore || block === "indented"))
    return { ...other, block: "indented", blank: false, command: false };
  if (indent < 4) {
    // A fence may open a list item: `- ```` starts code as a fence on its own line does.
    let item = rest;
    while (LIST_MARKER.test(item)) item = item.replace(LIST_MARKER, "");
    const open = /^(`{3,}|~{3,})/.exec(item)?.[1];
    // A backtick fence's info string may not hold a backtick (it is inline code then).
    if (open !== undefined && !(open[0] === "`" && item.slice(open.length).includes("`")))
      return { ...other, block: "fence", fence: open, blank: false, command: false };
    if (rest.startsWith("<!--")) {
      const ended = rest.includes("-->", 4);
      return {
        ...other,
        block: ended ? "text" : "html",
        fence: ended ? "" : "-->",
        blank: ended,
        command: false,
      };
    }
    if (RAW_HTML.test(rest)) {
      const ended = RAW_HTML_END.test(rest);
      return {
        ...other,
        block: ended ? "text" : "html",
        fence: ended ? "" : "</",
        blank: ended,
        command: false,
      };
    }
    if (rest.startsWith(">")) return quoteLine(rest);
    if (HEADING_OR_RULE.test(rest)) return { ...other, block: "text", blank: true, command: false };
  }
  return { block: "text", fence: "", blank: false, command: true, paragraph: true };
}

/** A `>` line: its paragraph stays open for lazy lines unless it is empty or opens a fence. */
function quoteLine(rest: string): LineKind {
  const inner = rest.replace(/^(?:>[ \t]?[ \t]*)+/, "");
  const paragraph = inner !== "" && !/^(?:`{3,}|~{3,})/.test(inner);
  return {
    block: paragraph ? "quote" : "text",
    fence: "",
    blank: !paragraph,
    command: false,
    paragraph,
  };
}

/** The line opens an HTML comment that it does not close (inline code aside). */
function opensComment(raw: string): boolean {
  const text = raw.replace(/(`+)[\s\S]*?\1/g, "");
  const open = text.lastIndexOf("<!--");
  return open >= 0 && !text.includes("-->", open + 4);
}

/**
 * For each line, whether it or a later line closes a comment before the paragraph ends: at a
 * blank line, or at a line that starts a block of its own (a fence, a quote, a heading or rule,
 * an HTML block). One pass from the end, so a comment of thousands of lines that each open a
 * comment costs as much as it is long, not its square.
 */
function closedInParagraph(rows: string[]): boolean[] {
  const closes = new Array<boolean>(rows.length + 1).fill(false);
  for (let index = rows.length - 1; index >= 0; index--) {
    const row = rows[index] ?? "";
    if (row.trim() === "" || interruptsParagraph(row)) closes[index] = false;
    else closes[index] = row.includes("-->") || (closes[index + 1] ?? false);
  }
  return closes;
}

function interruptsParagraph(row: string): boolean {
  const rest = row.replace(/^[ \t]+/, "");
  if (columns(row) < 4 && (LIST_ITEM.test(rest) || rest.startsWith(">"))) return true;
  const kind = classifyAlone(row, "text", "", false);
  return !kind.paragraph && kind.block !== "indented";
}

/** Columns of leading spaces and tabs (a tab reaches the next multiple of 4). */
function columns(raw: string): number {
  let width = 0;
  for (const char of raw) {
    if (char === " ") width++;
    else if (char === "\t") width += 4 - (width % 4);
    else break;
  }
  return width;
}

/** `text` as Markdown inline code, shortened: no backtick in it can end the span early. */
export function inlineCode(text: string, max = 60): string {
  const short = text.length > max ? `${text.slice(0, max)}…` : text;
  const longest = Math.max(0, ...(short.match(/`+/g) ?? []).map((run) => run.length));
  const ticks = "`".repeat(longest + 1);
  const pad = short.startsWith("`") || short.endsWith("`") ? " " : "";
  return `${ticks}${pad}${short}${pad}${ticks}`;
}

function parseLine(text: string, rest: string): ParsedLine {
  const [verb = "", ...args] = rest.split(/\s+/).filter((part) => part !== "");
  const fail = (problem: string): ParsedLine => ({ ok: false, text, problem });
  const done = (command: Command): ParsedLine => ({ ok: true, command, text });
  const noArguments = (command: Command) =>
    args.length === 0 ? done(command) : fail(`${inlineCode(verb)} takes no arguments`);
  switch (verb.toLowerCase()) {
    case "pause":
    case "resume": {
      if (args.length > 1) return fail(`${inlineCode(verb)} takes at most one pool name`);
      const [pool] = args;
      if (pool !== undefined && pool.toLowerCase() !== "all" && !POOL_NAME.test(pool))
        return fail(
          `${inlineCode(pool)} is not a pool name (letters, digits, '.', '_' and '-', at most 63)`,
        );
      const named = pool === undefined || pool.toLowerCase() === "all" ? undefined : pool;
      return done({ verb: verb.toLowerCase() as "pause" | "resume", pool: named });
    }
    case "scale":
      return parseScale(args, fail, done);
    case "recheck":
      return noArguments({ verb: "recheck" });
    case "ignore":
      return noArguments({ verb: "ignore" });
    case "hold":
      return noArguments({ verb: "hold" });
    case "unhold":
      return noArguments({ verb: "unhold" });
    case "help":
    case "":
      return done({ verb: "help" });
    default:
      return fail(`unknown command ${inlineCode(verb)}`);
  }
}

function parseScale(
  args: string[],
  fail: (problem: string) => ParsedLine,
  done: (command: Command) => ParsedLine,
): ParsedLine {
  // Spaces may stand around "=", never inside the pool name or the count.
  const match = SCALE.exec(args.join(" "));
  if (!match) return fail("write `/autoscaler scale POOL=N`, e.g. `/autoscaler scale workers=5`");
  const [, pool = "", count = ""] = match;
  return done({
    verb: "scale",
    pool,
    count: count.toLowerCase() === "auto" ? "auto" : Number(count),
  });
}
