import type { CliIo } from "../../src/cli/io.ts";
import { main } from "../../src/cli/main.ts";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process, as `main` does for the real process, with captured streams. */
export async function runCli(
  argv: string[],
  cwd = process.cwd(),
  env: Record<string, string | undefined> = {},
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    cwd,
    env,
    isTty: false,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}
