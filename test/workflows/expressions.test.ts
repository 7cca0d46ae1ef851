/**
 * The expression evaluator the workflow tests run `if:` and `env:` with follows GitHub's
 * documented semantics; if it did not, the workflow tests would prove nothing about GitHub.
 */
import { describe, expect, it } from "@jest/globals";
import {
  evaluateCondition,
  interpolate,
  parseExpression,
  type Scope,
} from "./support/expressions.ts";

/** `${{ expression }}` as it stands in a workflow file. */
function expr(expression: string): string {
  return `\${{ ${expression} }}`;
}

function scope(failed = false): Scope {
  return {
    contexts: {
      steps: {
        guard: { outcome: "success", outputs: { "exit-code": "1", "drain-nodes": "" } },
        drain: { outcome: "skipped", outputs: {} },
      },
      inputs: { pool: "workers" },
      job: { status: failed ? "failure" : "success" },
    },
    functions: {
      success: () => !failed,
      failure: () => failed,
      always: () => true,
      cancelled: () => false,
    },
  };
}

function value(expression: string, failed = false) {
  return parseExpression(expression)(scope(failed));
}

describe("GitHub expressions", () => {
  it("returns an operand from && and ||, which makes a && 'x' || 'y' a choice", () => {
    expect(value("job.status == 'success' && 'ok' || 'failed'")).toBe("ok");
    expect(value("job.status == 'success' && 'ok' || 'failed'", true)).toBe("failed");
    expect(value("steps.guard.outputs.drain-nodes || 'none'")).toBe("none");
    expect(value("'' && 'x'")).toBe("");
  });

  it("compares strings without regard to case, and a missing property is null", () => {
    expect(value("steps.drain.outcome == 'SKIPPED'")).toBe(true);
    expect(value("steps.nope.outcome")).toBeNull();
    expect(value("steps.nope.outcome != 'success'")).toBe(true);
    expect(value("steps.guard.outputs.exit-code == 1")).toBe(true);
  });

  it("reads hyphenated step ids and output names", () => {
    expect(value("steps.guard.outputs.exit-code")).toBe("1");
  });

  it("adds success() to a condition that names no status function", () => {
    expect(evaluateCondition("steps.guard.outcome == 'success'", scope(true))).toBe(false);
    expect(evaluateCondition("always() && steps.guard.outcome == 'success'", scope(true))).toBe(
      true,
    );
    expect(evaluateCondition(`${expr("failure()")}`, scope(true))).toBe(true);
    expect(evaluateCondition(undefined, scope(true))).toBe(false);
  });

  it("fills in every expression of a string", () => {
    expect(interpolate(`pool-${expr("inputs.pool")}-${expr("steps.drain.outcome")}`, scope())).toBe(
      "pool-workers-skipped",
    );
  });

  it("refuses what GitHub would refuse", () => {
    expect(() => parseExpression("steps.guard.outcome == ")).toThrow("unexpected end");
    expect(() => parseExpression("'unterminated")).toThrow("unterminated string");
    expect(() => value("nothing.here")).toThrow("unknown context nothing");
  });
});
