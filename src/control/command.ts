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
].join("\n");

/** Command lines one comment may hold; the rest are refused with one line saying so. */
export const MAX_COMMANDS_PER_COMMENT = 10;

const PREFIX = /^\/autoscaler(?:\s+([\s\S]*))?$/i;
/** A pool name as the configuration allows it (src/policy/repo-config.ts). */
const POOL = "[A-Za-z0-9][A-Za-z0-9._-]{0,62}";
const POOL_NAME = new RegExp(`^${POOL}$`);
const SCALE = new RegExp(`^(${POOL})\\s*=\\s*(\\d{1,4}|auto)$`, "i");

/**
 * The commands in a comment, in order: each line that starts with `/autoscaler` (in any case)
 * and is not shown as code, quoted or hidden, the way GitHub's Markdown renders it: fenced code
 * (``` or ~~~, closed only by a fence of the same character at least as long), indented code (4
 * columns, after a blank line), block quotes (`>`) and HTML comments are skipped. Lines end at
 * LF, CRLF or a lone CR. Lines that do not parse come back with the problem; past
 * MAX_COMMANDS_PER_COMMENT command lines, one more line says the rest are left alone.
 */
export function parseCommands(body: string): ParsedLine[] {
  const lines: ParsedLine[] = [];
  let block: "text" | "fence" | "indented" | "html" = "text";
  let fence = "";
  let blankBefore = true;
  for (const raw of body.split(/\r\n|\r|\n/)) {
    const kind = classify(raw, block, fence, blankBefore);
    block = kind.block;
    fence = kind.fence;
    blankBefore = kind.blank;
    if (!kind.command) continue;
    const line = raw.trim();
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

interface LineKind {
  block: "text" | "fence" | "indented" | "html";
  fence: string;
  /** The line is blank or ends a block: an indented line after it is code. */
  blank: boolean;
  /** The line is ordinary text, where a command may stand. */
  command: boolean;
}

function classify(
  raw: string,
  block: LineKind["block"],
  fence: string,
  blankBefore: boolean,
): LineKind {
  const indent = columns(raw);
  // Markdown indents with spaces and tabs only: a line led by another space is text.
  const rest = raw.replace(/^[ \t]+/, "");
  if (block === "fence") {
    const close = indent < 4 ? /^(`{3,}|~{3,})[ \t]*$/.exec(rest) : null;
    const closed =
      close?.[1] !== undefined && close[1][0] === fence[0] && close[1].length >= fence.length;
    return {
      block: closed ? "text" : "fence",
      fence: closed ? "" : fence,
      blank: closed,
      command: false,
    };
  }
  if (block === "html") {
    const ended = raw.includes("-->");
    return { block: ended ? "text" : "html", fence: "", blank: ended, command: false };
  }
  if (rest === "")
    return {
      block: block === "indented" ? "indented" : "text",
      fence: "",
      blank: true,
      command: false,
    };
  if (indent >= 4 && (blankBefore || block === "indented"))
    return { block: "indented", fence: "", blank: false, command: false };
  if (indent < 4) {
    const open = /^(`{3,}|~{3,})/.exec(rest)?.[1];
    // A backtick fence's info string may not hold a backtick (it is inline code then).
    if (open !== undefined && !(open[0] === "`" && rest.slice(open.length).includes("`")))
      return { block: "fence", fence: open, blank: false, command: false };
    if (rest.startsWith("<!--")) {
      const ended = rest.includes("-->", 4);
      return { block: ended ? "text" : "html", fence: "", blank: ended, command: false };
    }
    if (rest.startsWith(">")) return { block: "text", fence: "", blank: false, command: false };
  }
  return { block: "text", fence: "", blank: false, command: true };
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
