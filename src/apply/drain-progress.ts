/** Progress of a long wait: lines that stay, and a status that the next one replaces. */
export interface Progress {
  /** A line of its own. */
  log(text: string): void;
  /**
   * The current state. On a terminal it overwrites the previous status in place; elsewhere
   * (CI logs) it is printed as a line, and only when it differs from the last one.
   */
  status(text: string): void;
  /** Ends an open status line so that what follows starts on a line of its own. */
  end(): void;
}

const clearLine = "\r\u001b[2K";

/**
 * Progress written through `write`: an updating line when `terminal`, plain lines otherwise.
 * On a terminal the status is cut to `width` columns so it never wraps (a wrapped line cannot
 * be overwritten).
 */
export function createProgress(
  write: (text: string) => void,
  terminal: boolean,
  width = 100,
): Progress {
  let shown: string | undefined;
  let last: string | undefined;
  return {
    log(text) {
      if (terminal && shown !== undefined) write(clearLine);
      write(`${text}\n`);
      if (terminal && shown !== undefined) write(shown);
    },
    status(text) {
      if (!terminal) {
        if (text !== last) write(`${text}\n`);
        last = text;
        return;
      }
      shown = text.length > width ? `${text.slice(0, width - 1)}…` : text;
      write(`${clearLine}${shown}`);
    },
    end() {
      if (terminal && shown !== undefined) write(`${clearLine}${shown}\n`);
      shown = undefined;
      last = undefined;
    },
  };
}

/** `45s`, `10m`, `1h30m`, `2d3h`: the two largest units, rounded down to the second. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const units: [number, string][] = [
    [Math.floor(total / 86_400), "d"],
    [Math.floor((total % 86_400) / 3_600), "h"],
    [Math.floor((total % 3_600) / 60), "m"],
    [total % 60, "s"],
  ];
  const first = units.findIndex(([value]) => value > 0);
  if (first === -1) return "0s";
  return units
    .slice(first, first + 2)
    .filter(([value]) => value > 0)
    .map(([value, unit]) => `${value}${unit}`)
    .join("");
}
