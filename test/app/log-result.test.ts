import { describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import { logResult } from "../../src/app/start-app.ts";
import type { ReconcileResult } from "../../src/reconcile/reconcile-types.ts";
import { reconcileResult } from "./support/reconcile-result.ts";

/** The level and message of the one line `result` is logged with. */
function logged(result: ReconcileResult): [number, string] {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  logResult(log, result, ["timer"], undefined);
  expect(lines).toHaveLength(1);
  return [lines[0]?.level ?? 0, lines[0]?.msg ?? ""];
}

describe("the line a reconcile is logged with", () => {
  it("is debug for a repository without configuration, which has no dashboard to write", () => {
    expect(logged(reconcileResult({ status: "no-config", dashboard: "skipped" }))).toEqual([
      20,
      "reconciled, nothing to do",
    ]);
  });

  it("is info when that repository's pull requests were closed because its configuration went", () => {
    const result = reconcileResult({
      status: "no-config",
      dashboard: "updated",
      pullRequests: [{ key: "nodes-workers", action: "closed", number: 3 }],
    });
    expect(logged(result)).toEqual([30, "reconciled"]);
  });

  it("is info when the dashboard was written, debug when it was unchanged", () => {
    expect(logged(reconcileResult({ dashboard: "created" }))).toEqual([30, "reconciled"]);
    expect(logged(reconcileResult({ dashboard: "unchanged" }))).toEqual([
      20,
      "reconciled, nothing to do",
    ]);
  });
});
