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

  it("warns, naming the repository and the file, in the run that finds the config named .yaml", () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const misnamedConfig = {
      file: ".github/pr-autoscaler.yaml",
      message:
        ".github/pr-autoscaler.yaml is there, but only .github/pr-autoscaler.yml is read: rename it",
    };
    const result = reconcileResult({ status: "no-config", dashboard: "skipped", misnamedConfig });
    logResult(log, result, ["timer"], undefined);
    expect(lines[0]).toMatchObject({
      level: 40,
      repository: result.repository,
      file: ".github/pr-autoscaler.yaml",
      msg: "no configuration: .github/pr-autoscaler.yaml is there, but only .github/pr-autoscaler.yml is read: rename it; the repository is left alone",
    });
  });

  it("is info when that repository's pull requests were closed because its configuration went", () => {
    const result = reconcileResult({
      status: "no-config",
      dashboard: "updated",
      pullRequests: [{ key: "nodes-workers", action: "closed", number: 3 }],
    });
    expect(logged(result)).toEqual([30, "reconciled"]);
  });

  it("says why a pull request was left open: the plan's words for what holds the pool", () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const note =
      "held: wanted 7 nodes, the max allows 6; cooldown after the change of 2026-11-24 01:00 UTC, until 2026-11-24 01:15 UTC";
    const result = reconcileResult({
      dashboard: "unchanged",
      pullRequests: [{ key: "nodes-workers", action: "left-alone", number: 12, note }],
    });
    logResult(log, result, ["timer"], undefined);
    expect(lines).toEqual([
      expect.objectContaining({
        msg: "reconciled",
        pullRequests: [`nodes-workers: left-alone #12 (${note})`],
      }),
    ]);
  });

  it("is info when the dashboard was written, debug when it was unchanged", () => {
    expect(logged(reconcileResult({ dashboard: "created" }))).toEqual([30, "reconciled"]);
    expect(logged(reconcileResult({ dashboard: "unchanged" }))).toEqual([
      20,
      "reconciled, nothing to do",
    ]);
  });

  it("warns, with what is wrong, in the run that finds the dashboard's command state unreadable", () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const result = reconcileResult({
      dashboard: "updated",
      paused: true,
      controlUnreadable: { problem: "the block is missing", action: "held" },
    });
    logResult(log, result, ["timer"], undefined);
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      [
        40,
        "the dashboard's command state could not be read: everything is paused until someone comments /autoscaler resume, which forgets the pauses, requests, ignores and refusals it held",
      ],
      [30, "reconciled"],
    ]);
    expect(lines[0]).toMatchObject({
      repository: result.repository,
      problem: "the block is missing",
      action: "held",
    });
  });
});
