import type { ExitCode } from "../errors.ts";
import type { CliIo } from "./io.ts";

/** One sub-command of `pr-autoscaler`. Its one-line summary lives in the registry in main.ts. */
export interface Command {
  name: string;
  /** Full help: usage line, arguments and options. */
  usage: string;
  run(args: string[], io: CliIo): Promise<ExitCode>;
}
