/**
 * The reliability run's vocabulary: an input family yields cases, each case feeds one
 * malformed or hostile input to one of pr-autoscaler's readers or editors and says what came
 * out. See docs/reliability.md for how outcomes are judged.
 */
import { InputError } from "../src/errors.ts";

/**
 * - `clear-error`: refused with an error of a known type that says what is wrong and where.
 * - `handled`: a result that is correct for the input (unknown stays unknown, with a warning).
 * - `crash`: any other exception, an error that does not say where, a hang, or a result that
 *   breaks an invariant (NaN, a negative amount, a number made up from garbage).
 * - `broken-file`: an edit whose output does not parse, or differs outside the edited value.
 */
export type OutcomeKind = "clear-error" | "handled" | "crash" | "broken-file";

export interface Outcome {
  kind: OutcomeKind;
  /** For people: the error message, or what is wrong with the result. */
  detail: string;
  /** The stack of an unexpected exception. */
  stack?: string;
}

export interface ReliabilityCase {
  /** Stable across runs and counts: `family/name` for hand-written cases, `family/gen-N`. */
  id: string;
  /** The input, shortened, for reports. */
  input: string;
  /** The whole input, to reproduce a finding (`node bench/reliability.ts --dump DIR`). */
  payload(): unknown;
  run(): Outcome | Promise<Outcome>;
}

export interface FamilyOptions {
  /** Generated cases, besides the hand-written ones (which always run). */
  generated: number;
  /** fast-check seed: the same seed gives the same cases. */
  seed: number;
}

export interface FamilySession {
  cases: ReliabilityCase[];
  /** Releases servers and temporary files. */
  close(): Promise<void>;
}

/** One kind of input given to one reader or editor. */
export interface InputFamily {
  /** Short and stable, e.g. `tfvars-edit`; prefixes the case ids. */
  name: string;
  /** What the inputs are and what receives them, for the table. */
  description: string;
  open(options: FamilyOptions): Promise<FamilySession>;
}

export function handled(detail = "handled"): Outcome {
  return { kind: "handled", detail };
}

export function crash(detail: string, error?: unknown): Outcome {
  const stack = error instanceof Error ? error.stack : undefined;
  return stack === undefined ? { kind: "crash", detail } : { kind: "crash", detail, stack };
}

export function brokenFile(detail: string): Outcome {
  return { kind: "broken-file", detail };
}

/**
 * Judges a thrown error: an InputError (or subclass) that names one of `where` (the file, in
 * its location or its message; or the PATH or URL it is about) is a clear error; an InputError
 * that names none is a crash, as is anything else.
 */
export function judgeError(error: unknown, where: string | readonly string[] | undefined): Outcome {
  if (!(error instanceof InputError)) {
    return crash(`unexpected ${errorName(error)}: ${errorMessage(error)}`, error);
  }
  const message = error.message.trim();
  if (message === "") return crash("an InputError without a message", error);
  const places = where === undefined ? [] : typeof where === "string" ? [where] : where;
  const named = places.some((place) => error.location?.file === place || message.includes(place));
  if (places.length > 0 && !named) {
    return crash(`an InputError that names none of ${places.join(", ")}: ${message}`, error);
  }
  return { kind: "clear-error", detail: message };
}

export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Shortens a text for the report: one line, at most `max` characters. */
export function excerpt(text: string, max = 160): string {
  const flat = JSON.stringify(text);
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
