import { createRequire } from "node:module";
import { z } from "zod";

/**
 * hcl2-parser: HashiCorp's Go HCL parser (through hcl2json) compiled to JavaScript. It is the
 * independent check on every tfvars edit. It has no positions and takes about 300 ms to load,
 * so it is loaded on first use only.
 */
const HclReferenceModule = z.object({
  parseToObject: z.custom<(text: string) => unknown>((value) => typeof value === "function"),
});
type HclReferenceModule = z.infer<typeof HclReferenceModule>;

/** `parseToObject` answers `[data, error]`; error is null when the text parsed. */
const HclParseResult = z.tuple([z.unknown(), z.unknown()]);

export type ReferenceParse = { ok: true; data: unknown } | { ok: false; reason: string };

let loaded: HclReferenceModule | undefined;

function referenceModule(): HclReferenceModule {
  if (loaded) return loaded;
  const globals = globalThis as { require?: unknown };
  const hadRequire = Object.hasOwn(globals, "require");
  const previousRequire = globals.require;
  const stackTraceLimit = Error.stackTraceLimit;
  try {
    const require = createRequire(import.meta.url);
    loaded = HclReferenceModule.parse(require("hcl2-parser"));
    return loaded;
  } finally {
    // The GopherJS runtime sets both globals while loading; keep the process as it was.
    Error.stackTraceLimit = stackTraceLimit;
    if (hadRequire) globals.require = previousRequire;
    else delete globals.require;
  }
}

/**
 * Parses HCL text with HashiCorp's parser into hcl2json's data: literals as JSON values, heredocs
 * as their text, any other expression as the string "${<source>}". Never throws: a syntax error
 * or a crash inside the parser comes back as `{ ok: false }`.
 */
export function parseWithReference(text: string): ReferenceParse {
  const module = referenceModule();
  const stackTraceLimit = Error.stackTraceLimit;
  // GopherJS finds the frames of Go's recover() by counting stack lines: it needs them all.
  Error.stackTraceLimit = Number.POSITIVE_INFINITY;
  try {
    const result = HclParseResult.safeParse(module.parseToObject(text));
    if (!result.success) return { ok: false, reason: "it returned an unexpected result" };
    const [data, error] = result.data;
    if (error !== null && error !== undefined)
      return { ok: false, reason: "it reports a syntax error" };
    if (typeof data !== "object" || data === null)
      return { ok: false, reason: "it returned no data" };
    return { ok: true, data };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `it stopped with an internal error (${message})` };
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}
