/** Text styles for a terminal: ANSI colours when they are wanted, plain text otherwise. */
export interface TerminalStyle {
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  cyan(text: string): string;
  yellow(text: string): string;
}

const plain: TerminalStyle = {
  bold: (text) => text,
  dim: (text) => text,
  green: (text) => text,
  red: (text) => text,
  cyan: (text) => text,
  yellow: (text) => text,
};

function ansi(open: number, close: number): (text: string) => string {
  return (text) => (text === "" ? text : `\u001b[${open}m${text}\u001b[${close}m`);
}

const coloured: TerminalStyle = {
  bold: ansi(1, 22),
  dim: ansi(2, 22),
  green: ansi(32, 39),
  red: ansi(31, 39),
  cyan: ansi(36, 39),
  yellow: ansi(33, 39),
};

/**
 * Colour when stdout is a terminal and NO_COLOR (https://no-color.org) is unset or empty;
 * FORCE_COLOR set to anything but 0 turns it on anyway.
 */
export function terminalStyle(
  isTty: boolean,
  env: Record<string, string | undefined>,
): TerminalStyle {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return coloured;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return plain;
  return isTty ? coloured : plain;
}

/** The text without ANSI escapes (for measuring width). */
export function visible(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape character is what is removed.
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}
