/** Small helpers for the GitHub-flavoured Markdown of pull request bodies and the dashboard. */

/** A table; cells are escaped so a `|` or a newline in a value cannot break it. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll(/\r?\n/g, " ");
}

/** Inline code, safe for any text (a backtick in it would end the span early). */
export function code(text: string): string {
  return `\`${text.replaceAll("`", "'")}\``;
}

/** A fenced block whose fence is longer than any backtick run inside it. */
export function fenced(text: string, language = ""): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = "`".repeat(longest + 1);
  return `${fence}${language}\n${text.replace(/\n$/, "")}\n${fence}`;
}

/** A collapsed section. */
export function details(summary: string, body: string): string {
  return `<details>\n<summary>${escapeHtml(summary)}</summary>\n\n${body}\n\n</details>`;
}

export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** Bullet list; an empty list gives `empty` (or nothing). */
export function bullets(items: readonly string[], empty?: string): string {
  if (items.length === 0) return empty ?? "";
  return items.map((item) => `- ${item.replaceAll(/\r?\n/g, " ")}`).join("\n");
}

/** Joins non-empty sections with a blank line between them. */
export function sections(...parts: (string | undefined | false)[]): string {
  return parts
    .filter((part): part is string => typeof part === "string" && part !== "")
    .join("\n\n");
}
