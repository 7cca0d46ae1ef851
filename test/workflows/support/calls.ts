/** Reading the recorded tool calls of a workflow sandbox run. */
import { expect } from "@jest/globals";
import type { Call } from "./workflow-sandbox.ts";

/** The calls of `tool`, optionally only those whose first argument is `first`. */
export function callsOf(calls: Call[], tool: string, first?: string): Call[] {
  return calls.filter(
    (call) => call.tool === tool && (first === undefined || call.args[0] === first),
  );
}

/** The arguments of the one `pr-autoscaler report MODE` call with --result (or the plan one). */
export function reportArgs(calls: Call[], mode: "plan" | "apply", result?: string): string[] {
  const matching = callsOf(calls, "pr-autoscaler", "report").filter(
    (call) => call.args[1] === mode && (result === undefined || call.args.includes(result)),
  );
  expect(matching).toHaveLength(1);
  return matching[0]?.args ?? [];
}

/** The value after `name` in `args`. */
export function flag(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
}
