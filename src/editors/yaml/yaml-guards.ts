import { type Document, isScalar, type Scalar, visit } from "yaml";
import { formatPath } from "../path.ts";
import { dataEqual } from "../verify.ts";
import type { EditContext } from "./yaml-edit-context.ts";
import { lineAt } from "./yaml-file.ts";
import { nodeStart, refusal } from "./yaml-messages.ts";
import { aliasUses, isMergePair, keyText, type WalkStep } from "./yaml-walk.ts";

/** Anchored nodes on the way that other places use through aliases or merge keys. */
export function refuseSharedAnchors(context: EditContext, steps: readonly WalkStep[]): void {
  const uses = aliasUses(context.document);
  const target = steps.length > context.path.length ? steps[steps.length - 1]?.node : undefined;
  for (const step of steps) {
    const node = step.node;
    const aliases = node ? uses.get(node) : undefined;
    if (!node || !aliases || aliases.length === 0) continue;
    const anchor = (node as { anchor?: string }).anchor ?? "";
    const lines = [...new Set(aliases.map((alias) => lineAt(context.file, nodeStart(alias) ?? 0)))];
    throw refusal(
      context.file,
      nodeStart(node),
      `cannot edit ${formatPath(context.path)}: it is ${node === target ? "" : "inside "}the anchor &${anchor}, which is also used at line${lines.length === 1 ? "" : "s"} ${lines.join(", ")}; editing it would change those places too. Edit it by hand, or write the value out in full where it should differ`,
    );
  }
}

/** Keys on the way that YAML 1.1 reads as something else (`on`, `yes`, `y`…). */
export function refuseYaml11Keys(context: EditContext, steps: readonly WalkStep[]): void {
  for (const step of steps) {
    const key = step.pair?.key;
    if (!step.pair || !isScalar(key) || isMergePair(step.pair)) continue;
    const key11 = scalarIn11(context, nodeStart(key));
    if (!key11) continue;
    const read11 = key11.value === null ? "" : String(key11.value);
    if (read11 !== keyText(step.pair))
      throw refusal(
        context.file,
        nodeStart(key),
        `cannot edit ${formatPath(context.path)}: the key ${JSON.stringify(keyText(step.pair))} reads as ${JSON.stringify(key11.value)} under YAML 1.1 (as Helm reads it); quote the key by hand first`,
      );
  }
}

/** A current value YAML 1.1 and 1.2 read differently (`0755`, `yes`, `on`) is never rewritten. */
export function refuseYaml11Value(context: EditContext, target: Scalar): void {
  const scalar11 = scalarIn11(context, nodeStart(target));
  if (!scalar11 || dataEqual(scalar11.value, target.value)) return;
  const source = context.file.text.slice(target.range?.[0] ?? 0, target.range?.[1] ?? 0);
  throw refusal(
    context.file,
    nodeStart(target),
    `cannot edit ${formatPath(context.path)}: its current value ${source} reads as ${JSON.stringify(scalar11.value)} under YAML 1.1 (as Helm reads it) but ${JSON.stringify(target.value)} under YAML 1.2; such values are never rewritten automatically. Edit it by hand`,
  );
}

const scalarIndexes = new WeakMap<Document.Parsed, Map<number, Scalar>>();

function scalarIn11(context: EditContext, offset: number | undefined): Scalar | undefined {
  const document = context.file.documents11[context.index];
  if (!document || offset === undefined) return undefined;
  let index = scalarIndexes.get(document);
  if (!index) {
    const built = new Map<number, Scalar>();
    visit(document, {
      Scalar(_key, scalar) {
        const start = scalar.range?.[0];
        if (start !== undefined && !built.has(start)) built.set(start, scalar);
      },
    });
    scalarIndexes.set(document, built);
    index = built;
  }
  return index.get(offset);
}
