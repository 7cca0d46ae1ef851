/**
 * Comment commands (`/autoscaler …`): comment bodies given to parseCommands, and to
 * processCommands as a person with write access and as one without. What a body must parse to
 * is decided by an oracle written here from the documented grammar (docs/app.md, "Commands"):
 * one command per line, `/autoscaler VERB [ARGUMENTS]`, never inside code, quotes or HTML
 * comments as GitHub's Markdown renders them, a pool name as the configuration allows it, a
 * count of 1 to 4 digits or `auto`.
 */
import fc from "fast-check";
import type { Command } from "../src/control/command.ts";
import { parseCommands } from "../src/control/command.ts";
import type { CommandGitHub, CommentRecord } from "../src/control/command-github.ts";
import { type ControlState, emptyControlState } from "../src/control/control-state.ts";
import { processCommands } from "../src/control/process-commands.ts";
import type { BotPullRequest, RepoState } from "../src/forge/forge.ts";
import { RepoConfig } from "../src/policy/repo-config.ts";
import {
  crash,
  errorMessage,
  excerpt,
  type FamilySession,
  handled,
  type InputFamily,
  type Outcome,
  type ReliabilityCase,
} from "./reliability-case.ts";
import { familySeed, sample, trickyStrings } from "./reliability-values.ts";

/** What the grammar says a command line is: a command, or a refusal naming `names`. */
export type ExpectedLine = { ok: true; command: Command } | { ok: false; names: string };

const maxCommands = 10;
const poolName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Width of the leading spaces and tabs, a tab reaching the next multiple of four. */
function indentOf(line: string): number {
  let width = 0;
  for (const char of line) {
    if (char === "\t") width = (Math.floor(width / 4) + 1) * 4;
    else if (char === " ") width += 1;
    else return width;
  }
  return width;
}

/**
 * Whether a line (of a paragraph) starts a block of its own, ending the paragraph: a fence, a
 * quote, a heading, a thematic break or setext underline, a list item with content, an HTML
 * block (CommonMark 0.31's blocks that may interrupt a paragraph).
 */
function startsBlock(line: string): boolean {
  if (indentOf(line) > 3) return false;
  const content = line.replace(/^[ \t]+/, "");
  return (
    opensFence(content) !== undefined ||
    content.startsWith(">") ||
    /^#{1,6}(?:[ \t]|$)/.test(content) ||
    /^(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,}|=+[ \t]*)$/.test(content) ||
    /^(?:[-*+]|1[.)])[ \t]+\S/.test(content) ||
    content.startsWith("<!--") ||
    /^<(?:pre|script|style|textarea)(?:[ \t>]|$)/i.test(content)
  );
}

/** The fence a line (without its indent) opens, if it opens one. */
function opensFence(content: string): { char: string; length: number } | undefined {
  const run = /^(`{3,}|~{3,})/.exec(content)?.[1];
  if (run === undefined) return undefined;
  // A backtick fence's info string holds no backtick (the line is inline code then).
  if (run[0] === "`" && content.slice(run.length).includes("`")) return undefined;
  return { char: run[0] as string, length: run.length };
}

/**
 * Whether a paragraph line leaves an HTML comment open (code spans aside) that a later line of
 * the same paragraph closes: the lines between are hidden.
 */
function hidesFollowing(lines: string[], index: number): number | undefined {
  const text = (lines[index] ?? "").replace(/(`+)[^`]*?\1/g, "");
  const open = text.lastIndexOf("<!--");
  if (open === -1 || text.includes("-->", open + 4)) return undefined;
  for (let next = index + 1; next < lines.length; next++) {
    const line = lines[next] as string;
    if (/^[ \t]*$/.test(line) || startsBlock(line)) return undefined;
    if (line.includes("-->")) return next;
  }
  return undefined;
}

/** The command lines of a comment, by the documented grammar. */
export function expectedCommands(body: string): ExpectedLine[] {
  const expected: ExpectedLine[] = [];
  // CommonMark's line endings: LF, CRLF, or a CR alone.
  const lines = body.replaceAll("\r\n", "\n").replaceAll("\r", "\n").split("\n");
  let state: { in: "text" | "indented" | "html" } | { in: "fence"; char: string; length: number } =
    { in: "text" };
  let afterBlank = true;
  // A quote's paragraph goes on over lines without `>` until a blank line (CommonMark's lazy
  // continuation): GitHub shows them inside the quote.
  let quoted = false;
  // Lines up to this index are inside a comment opened in a paragraph.
  let hiddenUntil = -1;
  for (const [index, line] of lines.entries()) {
    const indent = indentOf(line);
    const content = line.slice(line.length - line.replace(/^[ \t]+/, "").length);
    if (index <= hiddenUntil) continue;
    if (state.in === "fence") {
      const run = /^(`+|~+)[ \t]*$/.exec(content)?.[1];
      if (
        indent <= 3 &&
        run !== undefined &&
        run.length >= 3 &&
        run[0] === state.char &&
        run.length >= state.length
      ) {
        state = { in: "text" };
        afterBlank = true;
      }
      continue;
    }
    if (state.in === "html") {
      if (line.includes("-->")) {
        state = { in: "text" };
        afterBlank = true;
      }
      continue;
    }
    if (/^[ \t]*$/.test(line)) {
      afterBlank = true;
      quoted = false;
      continue;
    }
    if (indent >= 4 && (afterBlank || state.in === "indented")) {
      state = { in: "indented" };
      afterBlank = false;
      continue;
    }
    state = { in: "text" };
    afterBlank = false;
    if (indent <= 3) {
      let item = content;
      while (/^(?:[-*+]|\d{1,9}[.)])[ \t]+/.test(item))
        item = item.replace(/^(?:[-*+]|\d{1,9}[.)])[ \t]+/, "");
      const fence = opensFence(item);
      if (fence !== undefined) {
        state = { in: "fence", ...fence };
        quoted = false;
        continue;
      }
      if (content.startsWith("<!--")) {
        quoted = false;
        if (content.indexOf("-->", 4) === -1) state = { in: "html" };
        else afterBlank = true;
        continue;
      }
      if (/^<(?:pre|script|style|textarea)(?:[ \t>]|$)/i.test(content)) {
        quoted = false;
        const end = lines.findIndex(
          (later, at) => at >= index && /<\/(?:pre|script|style|textarea)>/i.test(later),
        );
        hiddenUntil = end === -1 ? lines.length : end;
        afterBlank = true;
        continue;
      }
      if (content.startsWith(">")) {
        const inner = content.replace(/^(?:>[ \t]?[ \t]*)+/, "");
        quoted = inner !== "" && opensFence(inner) === undefined;
        if (quoted) hiddenUntil = hidesFollowing(lines, index) ?? hiddenUntil;
        continue;
      }
      if (
        /^#{1,6}(?:[ \t]|$)/.test(content) ||
        /^(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,}|=+[ \t]*)$/.test(content)
      ) {
        quoted = false;
        afterBlank = true;
        continue;
      }
    }
    hiddenUntil = hidesFollowing(lines, index) ?? hiddenUntil;
    if (quoted) continue;
    // GitHub shows nothing of a comment that closes within the line.
    const text = line.replace(/<!--[\s\S]*?-->/g, "").trim();
    if (text.slice(0, 11).toLowerCase() !== "/autoscaler") continue;
    const after = text.slice(11);
    if (after !== "" && !/^\s/.test(after)) continue;
    if (expected.length === maxCommands) {
      expected.push({ ok: false, names: `at most ${maxCommands}` });
      break;
    }
    expected.push(expectedLine(after.trim()));
  }
  return expected;
}

function expectedLine(rest: string): ExpectedLine {
  const words = rest === "" ? [] : rest.split(/\s+/);
  const verb = words[0] ?? "";
  const args = words.slice(1);
  const refused = (names: string): ExpectedLine => ({ ok: false, names });
  const bare = (command: Command): ExpectedLine =>
    args.length === 0 ? { ok: true, command } : refused(verb);
  const name = verb.toLowerCase();
  if (name === "" || name === "help") return { ok: true, command: { verb: "help" } };
  if (name === "recheck" || name === "ignore" || name === "hold" || name === "unhold")
    return bare({ verb: name });
  if (name === "pause" || name === "resume") {
    if (args.length > 1) return refused(verb);
    const pool = args[0];
    if (pool === undefined || pool.toLowerCase() === "all")
      return { ok: true, command: { verb: name, pool: undefined } };
    return poolName.test(pool) ? { ok: true, command: { verb: name, pool } } : refused(pool);
  }
  if (name === "scale") {
    const spec = args.join(" ");
    const equals = spec.indexOf("=");
    if (equals === -1) return refused("scale");
    const pool = spec.slice(0, equals).trim();
    const count = spec.slice(equals + 1).trim();
    if (!poolName.test(pool)) return refused("scale");
    if (count.toLowerCase() === "auto")
      return { ok: true, command: { verb: "scale", pool, count: "auto" } };
    if (!/^[0-9]{1,9}$/.test(count)) return refused("scale");
    return { ok: true, command: { verb: "scale", pool, count: Number.parseInt(count, 10) } };
  }
  return refused(verb);
}

// ---- processCommands, with a recording GitHub ----

const config = RepoConfig.parse({
  pools: [
    { name: "workers", target: { file: "t.tfvars", path: "worker_count" }, min: 2, max: 6 },
    { name: "gpu", target: { file: "t.tfvars", path: "gpu_count" }, min: 0, max: 2 },
  ],
});

const dashboard = 1;
const pull: BotPullRequest = {
  number: 7,
  key: "resources-media-plex",
  branch: "pr-autoscaler/resources-media-plex",
  title: "Right-size media/plex",
  body: "",
  url: "https://github.com/octocat/infra/pull/7",
  headSha: "a".repeat(40),
  labels: ["autoscaling", "rightsizing"],
  createdAt: "2026-01-01T00:00:00Z",
  fingerprint: undefined,
  control: "bot",
  handsOffReason: undefined,
  upToDate: true,
  handsOffNoticed: false,
};
const repoState: RepoState = {
  defaultBranch: "main",
  head: { sha: "b".repeat(40), treeSha: "c".repeat(40) },
  pullRequests: [pull],
  recentlyClosed: [],
  strayBranches: [],
};

/** GitHub refuses comment bodies longer than this many characters. */
const maxCommentLength = 65_536;

interface Recorded {
  replies: string[];
  reactions: string[];
  holds: number[];
  closed: number[];
}

function recordingGitHub(comment: CommentRecord, recorded: Recorded): CommandGitHub {
  return {
    newComments: async () => ({ comments: [comment], newest: comment.id }),
    permission: async (login) =>
      login === "alice"
        ? { allowed: true, permission: "write" }
        : { allowed: false, permission: "read" },
    react: async (_id, content) => {
      recorded.reactions.push(content);
    },
    reply: async (_comment, body) => {
      recorded.replies.push(body);
    },
    setHold: async (issue) => {
      recorded.holds.push(issue);
    },
    turnOffAutoMerge: async () => {},
    findIssue: async () => undefined,
    pullRequestFiles: async () => [],
  };
}

/** Problems with how processCommands answered the comment; empty when all is right. */
async function processProblems(
  body: string,
  login: string,
  issueNumber: number,
  expected: ExpectedLine[],
): Promise<string[]> {
  const recorded: Recorded = { replies: [], reactions: [], holds: [], closed: [] };
  const comment: CommentRecord = {
    id: 100,
    issueNumber,
    body,
    login,
    isBot: false,
    createdAt: "2026-01-02T00:00:00Z",
  };
  const before: ControlState = emptyControlState(99);
  const result = await processCommands({
    github: recordingGitHub(comment, recorded),
    state: before,
    config,
    repoState,
    dashboardNumber: dashboard,
    forge: {
      closePullRequest: async (pr) => {
        recorded.closed.push(pr.number);
        return { action: "closed" };
      },
    },
  });
  const problems: string[] = [];
  if (result.error !== undefined)
    problems.push(`${login}: the comment was not processed: ${errorMessage(result.error)}`);
  const long = recorded.replies.find((reply) => reply.length > maxCommentLength);
  if (long) problems.push(`${login}: a reply of ${long.length} characters, which GitHub refuses`);
  const changed =
    JSON.stringify({ ...result.state, lastComment: 0 }) !==
    JSON.stringify({ ...before, lastComment: 0 });
  const acted =
    changed || recorded.reactions.length + recorded.holds.length + recorded.closed.length > 0;
  if (expected.length === 0) {
    if (acted || recorded.replies.length > 0)
      problems.push(`${login}: answered a comment without commands`);
    return problems;
  }
  if (login !== "alice") {
    if (acted) problems.push(`${login} (read access): the commands were obeyed`);
    if (recorded.replies.length !== 1 || !recorded.replies[0]?.includes("write access"))
      problems.push(`${login} (read access): not one polite reply`);
    return problems;
  }
  for (const [pool, request] of Object.entries(result.state.scale)) {
    const limits = config.pools.find((p) => p.name === pool);
    if (
      !limits ||
      !Number.isInteger(request.count) ||
      request.count < limits.min ||
      request.count > limits.max
    )
      problems.push(`a scale request of ${request.count} for ${pool}, outside the pool's limits`);
  }
  for (const pool of Object.keys(result.state.paused.pools))
    if (!config.pools.some((p) => p.name === pool))
      problems.push(`paused a pool ${pool} that does not exist`);
  if (recorded.reactions.length > 0 && expected.some((line) => !line.ok))
    problems.push("a 👍 for a comment with a line that could not be read");
  if (expected.some((line) => !line.ok) && recorded.replies.length !== 1)
    problems.push("a line that could not be read, and not one reply saying why");
  return problems;
}

// ---- cases ----

function sameCommand(actual: Command, expected: Command): boolean {
  return JSON.stringify(actual) === JSON.stringify(expected);
}

/** Judges parseCommands against the oracle; null when they agree. */
function parseVerdict(body: string, expected: ExpectedLine[]): Outcome | null {
  let lines: ReturnType<typeof parseCommands>;
  try {
    lines = parseCommands(body);
  } catch (error) {
    return crash(`parseCommands threw ${errorMessage(error)}`, error);
  }
  for (const line of lines) {
    if (!line.ok || line.command.verb !== "scale" || line.command.count === "auto") continue;
    const count = line.command.count;
    if (!Number.isSafeInteger(count) || count < 0 || count > 999_999_999)
      return crash(
        `parsed scale ${line.command.pool}=${count}: not a whole number in 0..999999999`,
      );
  }
  if (lines.length !== expected.length)
    return crash(
      `parsed ${lines.length} command lines, the grammar has ${expected.length}: ${excerpt(JSON.stringify(lines), 300)}`,
    );
  for (const [index, line] of lines.entries()) {
    const want = expected[index] as ExpectedLine;
    if (want.ok && !line.ok)
      return crash(`line ${index + 1} refused (${line.problem}); the grammar allows it`);
    if (want.ok && line.ok && !sameCommand(line.command, want.command))
      return crash(
        `line ${index + 1} parsed as ${JSON.stringify(line.command)}, not ${JSON.stringify(want.command)}`,
      );
    if (!want.ok && line.ok)
      return crash(
        `line ${index + 1} parsed as ${JSON.stringify(line.command)}; the grammar refuses it`,
      );
    if (!want.ok && !line.ok) {
      const names = want.names.slice(0, 20).toLowerCase();
      if (!line.problem.toLowerCase().includes(names))
        return crash(
          `line ${index + 1} refused without naming ${JSON.stringify(names)}: ${line.problem}`,
        );
    }
  }
  return null;
}

function commandCase(id: string, body: string, what: string, index: number): ReliabilityCase {
  return {
    id,
    input: what,
    payload: () => ({ body }),
    async run(): Promise<Outcome> {
      const expected = expectedCommands(body);
      const verdict = parseVerdict(body, expected);
      if (verdict) return verdict;
      // On the dashboard and on a right-sizing pull request, in turn.
      const place = index % 2 === 0 ? dashboard : pull.number;
      const problems = [
        ...(await processProblems(body, "alice", place, expected)),
        ...(await processProblems(body, "mallory", place, expected)),
      ];
      if (problems.length > 0) return crash(problems.join("; "));
      const refused = expected.filter((line) => !line.ok).length;
      if (refused > 0)
        return { kind: "clear-error", detail: `${refused} of ${expected.length} lines refused` };
      return handled(`${expected.length} commands`);
    },
  };
}

function handWritten(): [string, string][] {
  const cmd = (rest: string) => `/autoscaler ${rest}`;
  return [
    ["scale-negative", cmd("scale workers=-1")],
    ["scale-1e309", cmd("scale workers=1e309")],
    ["scale-nan", cmd("scale workers=NaN")],
    ["scale-infinity", cmd("scale workers=Infinity")],
    ["scale-hex", cmd("scale workers=0x5")],
    ["scale-fraction", cmd("scale workers=2.5")],
    ["scale-five-digits", cmd("scale workers=99999")],
    ["scale-leading-zeros", cmd("scale workers=0005")],
    ["scale-zero", cmd("scale workers=0")],
    ["scale-below-min", cmd("scale workers=1")],
    ["scale-above-max", cmd("scale workers=7")],
    ["scale-fullwidth-digit", cmd("scale workers=５")],
    ["scale-arabic-indic-digit", cmd("scale workers=٣")],
    ["scale-space-in-pool", cmd("scale work ers=3")],
    ["scale-spaces-around-equals", cmd("scale workers = 3")],
    ["scale-unknown-pool", cmd("scale nosuch=3")],
    ["scale-auto-upper", cmd("scale workers=AUTO")],
    ["scale-missing-count", cmd("scale workers=")],
    ["scale-missing-pool", cmd("scale =3")],
    ["scale-two-pools", cmd("scale workers=3 gpu=1")],
    ["scale-double-equals", cmd("scale workers==3")],
    ["scale-plus", cmd("scale workers=+3")],
    ["scale-unicode-pool", cmd("scale wörkers=3")],
    ["alone", "/autoscaler"],
    ["alone-spaces", "/autoscaler   "],
    ["help-with-arguments", cmd("help me please")],
    ["mixed-case-verb", "/autoscaler PAUSE"],
    ["mixed-case-prefix", "/AutoScaler pause"],
    ["upper-prefix-resume-all", "/AUTOSCALER resume ALL"],
    ["cyrillic-a", "/аutoscaler pause"],
    ["fullwidth-slash", "／autoscaler pause"],
    ["zero-width-in-prefix", "/auto\u200bscaler pause"],
    ["zero-width-after-prefix", "/autoscaler\u200bpause"],
    ["zero-width-after-verb", "/autoscaler pause\u200b"],
    ["zero-width-in-pool", cmd("pause work\u200bers")],
    ["rtl-override-pool", cmd("pause \u202eskrow")],
    ["nbsp-separator", "/autoscaler\u00a0pause"],
    ["ideographic-space", "/autoscaler\u3000pause"],
    ["crlf", "/autoscaler pause\r\n/autoscaler resume\r\n"],
    ["lone-cr", "/autoscaler pause\r/autoscaler scale workers=3"],
    ["line-separator", "/autoscaler pause\u2028/autoscaler resume"],
    ["tab-separated", "/autoscaler\tscale\tworkers=3"],
    ["fenced", "```\n/autoscaler pause\n```"],
    ["fenced-info", "```sh\n/autoscaler pause\n```\n/autoscaler resume"],
    ["tilde-fence-holding-backticks", "~~~\n```\n/autoscaler pause\n```\n~~~\n/autoscaler resume"],
    ["longer-fence", "````\n```\n/autoscaler pause\n````"],
    ["unclosed-fence", "```\n/autoscaler pause"],
    ["indented-code", "Try this:\n\n    /autoscaler pause\n"],
    ["indented-at-start", "    /autoscaler pause"],
    ["tab-indented-code", "\t/autoscaler pause"],
    ["indented-continuation", "Pausing for the night\n    /autoscaler pause"],
    ["three-spaces", "   /autoscaler pause"],
    ["quoted", "> /autoscaler pause"],
    ["quoted-nested", ">> /autoscaler pause\n> > /autoscaler resume"],
    ["html-comment", "<!--\n/autoscaler pause\n-->\n/autoscaler resume"],
    ["html-comment-one-line", "<!-- /autoscaler pause -->"],
    ["inline-code", "`/autoscaler pause`"],
    ["mid-line", "please run /autoscaler pause"],
    ["prefix-glued", "/autoscalers pause"],
    ["prefix-hyphen", "/autoscaler-pause"],
    ["hold-trailing", cmd("hold now")],
    ["ignore-trailing", cmd("ignore this one")],
    ["unhold", cmd("unhold")],
    ["recheck-trailing", cmd("recheck everything")],
    ["pause-two-pools", cmd("pause workers gpu")],
    ["pause-path", cmd("pause ../../etc")],
    ["pause-backticks", cmd("pause `@everyone`")],
    ["pause-mention", cmd("pause @octo-org/admins")],
    ["pause-long-pool", cmd(`pause ${"w".repeat(64)}`)],
    ["unknown-verb-backticks", cmd("fro`b` @someone")],
    ["long-pool-100k", cmd(`pause ${"a".repeat(100_000)}`)],
    ["long-verb-100k", `/autoscaler ${"x".repeat(100_000)}`],
    ["prose-100k", `${"Movie night. ".repeat(8000)}\n/autoscaler scale workers=5`],
    ["thousand-commands", "/autoscaler scale workers=3\n".repeat(1000)],
    ["thousand-bad-commands", "/autoscaler frobnicate\n".repeat(1000)],
    ["thousand-quoted", "> /autoscaler pause\n".repeat(1000)],
    ["empty", ""],
    ["whitespace", " \n\t\n"],
    ["nul", "/autoscaler pause\u0000"],
    ["bom", "\ufeff/autoscaler pause"],
    ["mention-style", "@pr-autoscaler pause"],
  ];
}

const indents = ["", "", "", " ", "   ", "    ", "\t", "\u00a0"];
const leads = ["", "", "", "", "> ", ">", "```", "~~~", "````", "<!--", "-->", "- ", "`"];
const prefixes = [
  "/autoscaler",
  "/autoscaler",
  "/autoscaler",
  "/Autoscaler",
  "/AUTOSCALER",
  "/autoscaler\u200b",
  "/аutoscaler",
  "/autoscale",
  "/autoscalers",
  "autoscaler",
  "",
];
const separators = [" ", " ", " ", "  ", "\t", "\u00a0", "", "\u3000"];
const verbs = [
  "pause",
  "resume",
  "scale",
  "scale",
  "recheck",
  "ignore",
  "hold",
  "unhold",
  "help",
  "Pause",
  "SCALE",
  "frobnicate",
  "",
  "pause\u200b",
];
const pools = [
  "workers",
  "gpu",
  "all",
  "ALL",
  "nosuch",
  "work ers",
  "../x",
  "a".repeat(64),
  "wörkers",
  "`x`",
  "@org/team",
  "",
];
const counts = [
  "3",
  "2",
  "0",
  "-1",
  "1e309",
  "NaN",
  "Infinity",
  "2.5",
  "0x5",
  "99999",
  "0005",
  "auto",
  "AUTO",
  "５",
  "٣",
  "",
  " 4",
  "4 ",
];
const lineEnds = ["\n", "\n", "\n", "\r\n", "\r", "\u2028", "\n\n"];

const argument: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...pools),
  fc
    .tuple(
      fc.constantFrom(...pools),
      fc.constantFrom("=", " = ", "==", " ="),
      fc.constantFrom(...counts),
    )
    .map(([pool, equals, count]) => `${pool}${equals}${count}`),
  fc.constantFrom(...trickyStrings.slice(0, 40)),
);

const commandish: fc.Arbitrary<string> = fc
  .record({
    indent: fc.constantFrom(...indents),
    lead: fc.constantFrom(...leads),
    prefix: fc.constantFrom(...prefixes),
    separator: fc.constantFrom(...separators),
    verb: fc.constantFrom(...verbs),
    args: fc.array(argument, { maxLength: 3 }),
  })
  .map(({ indent, lead, prefix, separator, verb, args }) =>
    `${indent}${lead}${prefix}${separator}${verb} ${args.join(" ")}`.trimEnd(),
  );

const commentBody: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.oneof(
        { weight: 4, arbitrary: commandish },
        { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
      ),
      fc.constantFrom(...lineEnds),
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((lines) => lines.map(([line, end]) => line + end).join(""));

export const commandsFamily: InputFamily = {
  name: "commands",
  description:
    "comment bodies (hand-written and generated around the `/autoscaler` grammar) given to parseCommands and to processCommands as people with and without write access",
  async open(options): Promise<FamilySession> {
    const bodies = sample(commentBody, options.generated, familySeed(options.seed, "commands"));
    const cases = [
      ...handWritten().map(([name, body], index) =>
        commandCase(`commands/${name}`, body, name, index),
      ),
      ...bodies.map((body, index) =>
        commandCase(`commands/gen-${index}`, body, excerpt(body), index),
      ),
    ];
    return { cases, close: async () => {} };
  },
};
