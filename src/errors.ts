/** Where in a user's file or config something is wrong. Lines and columns are 1-based. */
export interface SourceLocation {
  file?: string;
  line?: number;
  column?: number;
}

/** Exit codes shared by every command: 0 ok, 1 refused or failed, 2 usage or bad input. */
export type ExitCode = 0 | 1 | 2;

/**
 * An error caused by the user's input (a file, a path, a flag). Its message is meant to be
 * shown as it is: it says what is wrong, where, and what to do next.
 */
export class InputError extends Error {
  readonly location: SourceLocation | undefined;
  readonly exitCode: ExitCode;

  constructor(message: string, location?: SourceLocation, exitCode: ExitCode = 2) {
    super(message);
    this.name = "InputError";
    this.location = location;
    this.exitCode = exitCode;
  }
}

/** A command line that cannot be understood (unknown flag, missing argument). */
export class UsageError extends InputError {
  constructor(message: string) {
    super(message, undefined, 2);
    this.name = "UsageError";
  }
}

/** An action that was understood but refused for safety (a plan guard refusal, a blocked drain). */
export class RefusedError extends InputError {
  constructor(message: string, location?: SourceLocation) {
    super(message, location, 1);
    this.name = "RefusedError";
  }
}

/** Renders `file:line:column: message`, leaving out the parts that are unknown. */
export function formatLocated(message: string, location?: SourceLocation): string {
  if (!location?.file && location?.line === undefined) return message;
  const parts = [location.file ?? "<input>"];
  if (location.line !== undefined) parts.push(String(location.line));
  if (location.line !== undefined && location.column !== undefined)
    parts.push(String(location.column));
  return `${parts.join(":")}: ${message}`;
}
