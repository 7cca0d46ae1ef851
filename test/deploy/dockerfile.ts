/**
 * Reads a Dockerfile into its stages and instructions, and a .dockerignore into a matcher:
 * enough of both formats for the image test to do what `docker build` would do with the
 * project's Dockerfile, and to fail loudly on anything it does not understand.
 */

export interface Instruction {
  keyword: string;
  /** The text after the keyword, with line continuations joined. */
  text: string;
  /** Options such as `--from=build`, by name. */
  flags: Record<string, string>;
  /** The arguments: the JSON array of the exec form, or the words of the shell form. */
  args: string[];
  /** Whether the arguments were written as a JSON array. */
  exec: boolean;
}

export interface Stage {
  /** `AS name`, or the stage's index for an unnamed stage. */
  name: string;
  base: string;
  instructions: Instruction[];
}

/** The stages of a Dockerfile in order; the last one is the image. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const line of logicalLines(text)) {
    const instruction = parseInstruction(line);
    if (instruction.keyword === "FROM") {
      const [base, as, name] = instruction.args;
      if (base === undefined) throw new Error(`FROM without an image: ${line}`);
      const stageName = as?.toUpperCase() === "AS" && name ? name : String(stages.length);
      stages.push({ name: stageName, base, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) {
      if (instruction.keyword === "ARG") continue;
      throw new Error(`${instruction.keyword} before the first FROM`);
    }
    stage.instructions.push(instruction);
  }
  return stages;
}

/** Instructions joined across `\` continuations, without comments and blank lines. */
function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let current = "";
  for (const raw of text.split(/\r?\n/)) {
    const trimmed = raw.trim();
    if (current === "" && (trimmed === "" || trimmed.startsWith("#"))) continue;
    if (current !== "" && trimmed.startsWith("#")) continue;
    if (trimmed.endsWith("\\")) {
      current += `${trimmed.slice(0, -1).trim()} `;
      continue;
    }
    lines.push(`${current}${trimmed}`.trim());
    current = "";
  }
  if (current.trim() !== "") lines.push(current.trim());
  return lines;
}

function parseInstruction(line: string): Instruction {
  const match = /^(\S+)\s*(.*)$/s.exec(line);
  const keyword = (match?.[1] ?? "").toUpperCase();
  let text = match?.[2] ?? "";
  const flags: Record<string, string> = {};
  if (keyword !== "RUN" || text.startsWith("--")) {
    for (;;) {
      const flag = /^--([a-z-]+)=(\S+)\s+/.exec(text);
      if (!flag) break;
      flags[flag[1] as string] = flag[2] as string;
      text = text.slice(flag[0].length);
    }
  }
  // HEALTHCHECK's options come before its own CMD.
  if (keyword === "HEALTHCHECK" && text.startsWith("CMD ")) text = text.slice(4).trim();
  if (text.startsWith("[")) {
    const args = JSON.parse(text) as unknown;
    if (!Array.isArray(args) || !args.every((arg) => typeof arg === "string")) {
      throw new Error(`${keyword}: the exec form must be an array of strings: ${text}`);
    }
    return { keyword, text, flags, args, exec: true };
  }
  return {
    keyword,
    text,
    flags,
    args: text.split(/\s+/).filter((word) => word !== ""),
    exec: false,
  };
}

/**
 * Whether `.dockerignore` lets a path (relative to the build context, `/`-separated) into the
 * context: the last pattern that matches the path or one of its parent directories decides,
 * `!` patterns re-include. Patterns: `*` and `?` within one path segment, `**` across them.
 */
export function dockerIgnoreAllows(ignoreText: string, path: string): boolean {
  const patterns = ignoreText
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const parts = path.split("/");
  let included = true;
  for (const pattern of patterns) {
    const negated = pattern.startsWith("!");
    const regex = globRegex((negated ? pattern.slice(1) : pattern).replace(/^\/+|\/+$/g, ""));
    for (let length = 1; length <= parts.length; length++) {
      if (regex.test(parts.slice(0, length).join("/"))) {
        included = negated;
        break;
      }
    }
  }
  return included;
}

function globRegex(pattern: string): RegExp {
  let source = "";
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index] as string;
    if (char === "*" && pattern[index + 1] === "*") {
      source += ".*";
      index++;
    } else if (char === "*") source += "[^/]*";
    else if (char === "?") source += "[^/]";
    else source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}
