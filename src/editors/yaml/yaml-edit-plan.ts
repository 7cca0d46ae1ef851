import { isAlias, isScalar, type Scalar } from "yaml";
import { formatPath } from "../path.ts";
import { planCreate } from "./yaml-create.ts";
import type { EditContext, EditPlan } from "./yaml-edit-context.ts";
import type { YamlFile } from "./yaml-file.ts";
import { refuseSharedAnchors, refuseYaml11Keys, refuseYaml11Value } from "./yaml-guards.ts";
import { describeNode, nodeStart, refusal, stopRefusal } from "./yaml-messages.ts";
import { type ScalarSite, scalarCandidates } from "./yaml-scalar-text.ts";
import { fillEmpty, lineIndent } from "./yaml-splice.ts";
import { isFlowCollection, type WalkStep, walkPath } from "./yaml-walk.ts";

export type { EditContext, EditPlan } from "./yaml-edit-context.ts";

/**
 * Works out the splices that set PATH to VALUE: the target's own bytes when it exists, or
 * lines added for missing mappings. Refuses aliases, shared anchors, values inside merged
 * anchors, list items that do not exist, and values YAML 1.1 reads differently.
 */
export function planYamlEdit(context: EditContext): EditPlan {
  const walk = walkPath(context.document, context.path, { follow: false });
  const { stop, steps } = walk;
  if (stop?.reason === "alias")
    throw stopRefusal(context.file, context.document, context.path, stop, "edit");
  refuseSharedAnchors(context, steps);
  refuseYaml11Keys(context, steps);
  if (!stop) return planReplace(context, steps);
  if (stop.reason === "missing-key") return planCreate(context, steps, stop.container, stop.at);
  if (stop.reason === "merged-key" && stop.at === context.path.length - 1)
    return planCreate(context, steps, stop.map, stop.at);
  throw stopRefusal(context.file, context.document, context.path, stop, "edit");
}

function planReplace(context: EditContext, steps: readonly WalkStep[]): EditPlan {
  const { file, path } = context;
  const target = steps[steps.length - 1]?.node ?? null;
  const whole = formatPath(path);
  if (isAlias(target))
    throw refusal(
      file,
      nodeStart(target),
      `cannot edit ${whole}: it is an alias (*${target.source}); editing the anchor would change every place that uses it. Write the value out here by hand first`,
    );
  if (!isScalar(target))
    throw refusal(
      file,
      nodeStart(target) ?? nodeStart(steps[steps.length - 1]?.pair?.key),
      `cannot edit ${whole}: it is ${describeNode(target)}; give the PATH of a single value inside it`,
    );
  refuseYaml11Value(context, target);
  const [start, end] = target.range ?? [0, 0];
  const source = file.text.slice(start, end);
  const site: ScalarSite = {
    inFlow: isFlowCollection(steps[steps.length - 2]?.node),
    lineEnding: context.style.lineEnding,
    blockIndent: " ".repeat(lineIndent(file.text, start) + context.style.indent),
  };
  const empty = source === "";
  const texts = scalarCandidates(empty ? undefined : target.type, context.value, site, source);
  const candidates = texts.map((text) => [
    empty ? fillEmpty(file.text, start, text) : { start, end, text },
  ]);
  return { candidates, at: start, ...(target.tag ? { tag: tagSource(file, target) } : {}) };
}

function tagSource(file: YamlFile, scalar: Scalar): string {
  const start = scalar.range?.[0] ?? 0;
  const lineStart = file.text.lastIndexOf("\n", start - 1) + 1;
  return /!\S*/.exec(file.text.slice(lineStart, start))?.[0] ?? String(scalar.tag);
}
