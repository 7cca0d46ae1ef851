import type { DryRunAction } from "./dry-run-forge.ts";

/** The dry run's actions as plain text for a terminal: one block per action. */
export function formatDryRun(actions: DryRunAction[]): string {
  if (actions.length === 0) return "Nothing to do.\n";
  return `${actions.map(formatAction).join("\n")}`;
}

function formatAction(action: DryRunAction): string {
  switch (action.kind) {
    case "open-pull-request":
    case "update-pull-request": {
      const verb =
        action.kind === "open-pull-request"
          ? `Would open a pull request from ${action.branch}`
          : `Would update pull request #${action.number} (${action.branch})`;
      const labels = action.labels.length ? action.labels.join(", ") : "(none)";
      return [
        `${verb}: ${action.title}`,
        `  labels: ${labels}`,
        "  body:",
        indent(action.body, "    "),
        ...action.diffs.map((file) => indent(file.diff, "  ")),
        "",
      ].join("\n");
    }
    case "close-pull-request":
      return `Would close pull request #${action.number} (${action.key}): ${action.reason}\n`;
    case "delete-branch":
      return `Would delete branch ${action.branch}\n`;
    case "ensure-issue":
      return action.open
        ? `Would keep issue "${action.title}" (${action.key}) open with:\n${indent(action.body, "    ")}\n`
        : `Would close issue ${action.key} if it is open\n`;
    case "comment":
      return `Would comment on #${action.issueNumber}:\n${indent(action.body, "    ")}\n`;
    case "check":
      return `Would report check ${action.check.name} (${action.check.conclusion}) on ${action.check.headSha}: ${action.check.title}\n${action.check.annotations
        .map((note) => `  ${note.path}:${note.startLine}: ${note.level}: ${note.message}`)
        .join("\n")}\n`;
    case "status":
      return `Would set status ${action.status.context} to ${action.status.state} on ${action.status.sha}: ${action.status.description}\n`;
  }
}

function indent(text: string, prefix: string): string {
  return text
    .replace(/\n$/, "")
    .split("\n")
    .map((line) => (line === "" ? "" : `${prefix}${line}`))
    .join("\n");
}
