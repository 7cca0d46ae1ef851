/**
 * The bot's commits carry git trailers naming the target and the plan, so a branch whose pull
 * request is gone can still be recognised as the bot's (and adopted or removed safely).
 */
const KEY_TRAILER = "Pr-Autoscaler-Key";
const FINGERPRINT_TRAILER = "Pr-Autoscaler-Fingerprint";

export interface CommitTrailers {
  key: string;
  fingerprint: string | undefined;
}

/** `<title>\n\nPr-Autoscaler-Key: …\nPr-Autoscaler-Fingerprint: …` */
export function botCommitMessage(title: string, key: string, fingerprint: string): string {
  const subject = title.replace(/\s+/g, " ").trim();
  return `${subject}\n\n${KEY_TRAILER}: ${key}\n${FINGERPRINT_TRAILER}: ${fingerprint}\n`;
}

/** The bot's trailers from the last paragraph of a commit message, if it has them. */
export function readBotTrailers(message: string): CommitTrailers | undefined {
  const paragraphs = message.trimEnd().split(/\n\s*\n/);
  const last = paragraphs.at(-1) ?? "";
  const values = new Map<string, string>();
  for (const line of last.split("\n")) {
    const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) values.set(match[1].toLowerCase(), match[2].trim());
  }
  const key = values.get(KEY_TRAILER.toLowerCase());
  if (!key) return undefined;
  return { key, fingerprint: values.get(FINGERPRINT_TRAILER.toLowerCase()) };
}

/** The pull request number a merge or squash commit names: "Merge pull request #12 …" or "… (#12)". */
export function pullRequestNumberOf(message: string): number | undefined {
  const subject = message.split("\n", 1)[0] ?? "";
  const match = /^Merge pull request #(\d+) /.exec(subject) ?? /\(#(\d+)\)\s*$/.exec(subject);
  return match?.[1] ? Number(match[1]) : undefined;
}
