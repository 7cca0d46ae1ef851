/**
 * Markdown pieces for pull request comments. Everything that comes from a plan (addresses, VM
 * names, reasons) is written so that it shows as the characters it is: it can neither break a
 * table nor become HTML.
 */

/** Inline code that shows `text` exactly, whatever backticks it holds. */
export function code(text: string): string {
  const oneLine = text.replace(/\r?\n/g, " ");
  const longest = Math.max(0, ...[...oneLine.matchAll(/`+/g)].map((run) => run[0].length));
  const fence = "`".repeat(longest + 1);
  const pad = longest > 0 || oneLine.startsWith(" ") ? " " : "";
  return `${fence}${pad}${oneLine}${pad}${fence}`;
}

/** Plain text for a table cell or a list item: one line, no HTML, no column breaks. */
export function text(value: string): string {
  return value
    .replace(/\r?\n/g, " ")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll("|", "\\|");
}

/** A table; cells are markdown already (use `code`/`text`). Pipes inside code are escaped. */
export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(escapePipes).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** GFM splits cells at every unescaped pipe, even inside code spans. */
function escapePipes(cell: string): string {
  return cell.replace(/(?<!\\)\|/g, "\\|");
}

/** A fenced block showing `body` as it is. */
export function codeBlock(body: string): string {
  const longest = Math.max(0, ...[...body.matchAll(/`{3,}/g)].map((run) => run[0].length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}text\n${body.replace(/\n+$/, "")}\n${fence}`;
}

/** A collapsed section. */
export function details(summary: string, body: string): string {
  return `<details><summary>${text(summary)}</summary>\n\n${body}\n\n</details>`;
}

/**
 * The end of `body` when it is longer than `limit` characters (the end of a log says why it
 * failed), cut at a line start.
 */
export function tail(body: string, limit: number): { text: string; cut: boolean } {
  if (body.length <= limit) return { text: body, cut: false };
  const end = body.slice(body.length - limit);
  const newline = end.indexOf("\n");
  return { text: newline >= 0 ? end.slice(newline + 1) : end, cut: true };
}
