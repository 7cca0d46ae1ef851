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

const LINE = /^\/autoscaler(?:\s+(.*))?$/;

/**
 * The commands in a comment, in order: each line starting with `/autoscaler` (outside fenced
 * code and quotes, which only show commands). Lines that do not parse come back with the problem.
 */
export function parseCommands(body: string): ParsedLine[] {
  const lines: ParsedLine[] = [];
  let fenced = false;
  for (const raw of body.split(/\r?\n/)) {
    const line = raw.trim();
    if (/^(```|~~~)/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (fenced || line.startsWith(">")) continue;
    const match = LINE.exec(line);
    if (match) lines.push(parseLine(line, (match[1] ?? "").trim()));
  }
  return lines;
}

function parseLine(text: string, rest: string): ParsedLine {
  const [verb = "", ...args] = rest.split(/\s+/).filter((part) => part !== "");
  const fail = (problem: string): ParsedLine => ({ ok: false, text, problem });
  const done = (command: Command): ParsedLine => ({ ok: true, command, text });
  const noArguments = (command: Command) =>
    args.length === 0 ? done(command) : fail(`\`${verb}\` takes no arguments`);
  switch (verb.toLowerCase()) {
    case "pause":
    case "resume": {
      if (args.length > 1) return fail(`\`${verb}\` takes at most one pool name`);
      const pool = args[0] === undefined || args[0].toLowerCase() === "all" ? undefined : args[0];
      return done({ verb: verb.toLowerCase() as "pause" | "resume", pool });
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
      return fail(`unknown command \`${verb}\``);
  }
}

function parseScale(
  args: string[],
  fail: (problem: string) => ParsedLine,
  done: (command: Command) => ParsedLine,
): ParsedLine {
  const joined = args.join("");
  const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)=(\d{1,4}|auto)$/i.exec(joined);
  if (!match) return fail("write `/autoscaler scale POOL=N`, e.g. `/autoscaler scale workers=5`");
  const [, pool = "", count = ""] = match;
  return done({
    verb: "scale",
    pool,
    count: count.toLowerCase() === "auto" ? "auto" : Number(count),
  });
}
