import type { RemovalConfig } from "../policy/repo-config.ts";
import { counted } from "../util/plural.ts";

/** The digits a name ends in. */
const NUMBERED_NAME = /(\d+)$/;

/**
 * Orders node names as a person reads them and as the removal rule counts them: by the text
 * before the number a name ends in, then by that number (talos-worker-7 before talos-worker-10,
 * which plain text order puts first), then by the whole name (talos-worker-09 before
 * talos-worker-9). A name without such a number comes before the numbered ones of its text.
 */
export function compareNodeNames(a: string, b: string): number {
  const x = NUMBERED_NAME.exec(a);
  const y = NUMBERED_NAME.exec(b);
  const stemA = x ? a.slice(0, x.index) : a;
  const stemB = y ? b.slice(0, y.index) : b;
  if (stemA !== stemB) return stemA < stemB ? -1 : 1;
  const byNumber = (x ? Number(x[1]) : -1) - (y ? Number(y[1]) : -1);
  if (byNumber !== 0) return byNumber;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The node a decrease of the count removes, or why it cannot be told. */
export type RemovalPick = { node: string } | { problem: string };

/**
 * Which node goes when the count drops from `current` to `current - 1`. With a name template the
 * node at count index `current - 1`; by default the node with the highest numeric suffix, which
 * is the one Terraform `count` destroys. Refuses when the node is not in the pool, when a node
 * the template names lies outside the count, when (by default) the pool's nodes are not as many
 * as the count, when a name has no number at its end, when two names share the highest number,
 * or when the numbers are not as many in a row as there are nodes (they are then not count
 * indices).
 */
export function nodeToRemove(
  memberNames: readonly string[],
  current: number,
  removal: RemovalConfig,
): RemovalPick {
  // A pool at 0 (one that grows from no node) has no count index to take away: naming advice
  // such as "set removal.nameTemplate" would send the operator after a problem it does not have.
  if (current < 1) return { problem: `the count is ${current}` };
  if (removal.nameTemplate !== undefined) return byTemplate(memberNames, current, removal);
  // The highest number is the highest count index only while every VM of the count is a node:
  // with count 5 and nodes 1 to 4 (the fifth never joined), Terraform destroys the fifth VM.
  if (memberNames.length !== current)
    return {
      problem: `${counted(memberNames.length, "node")} for a count of ${current}: which node a decrease removes is known once they match (or set removal.nameTemplate)`,
    };
  return byHighestSuffix(memberNames);
}

/**
 * The nodes a decrease of the count by up to `count` removes, in the order Terraform destroys
 * them (the node `nodeToRemove` names first, then the one after it at `current - 1`, and so
 * on). Stops at the first decrease whose node cannot be told, ending the list with its problem.
 */
export function nodesToRemove(
  memberNames: readonly string[],
  current: number,
  removal: RemovalConfig,
  count: number,
): RemovalPick[] {
  const picks: RemovalPick[] = [];
  let remaining = [...memberNames];
  for (let step = 0; step < count && current - step > 0; step++) {
    const pick = nodeToRemove(remaining, current - step, removal);
    picks.push(pick);
    if ("problem" in pick) break;
    remaining = remaining.filter((name) => name !== pick.node);
  }
  return picks;
}

/**
 * The member the template names at the count index, its number written with or without leading
 * zeros (`format("talos-worker-%02d", count.index + 1)` names `talos-worker-09`).
 */
function byTemplate(
  memberNames: readonly string[],
  current: number,
  removal: RemovalConfig,
): RemovalPick {
  const index = current - 1 + removal.indexBase;
  const template = removal.nameTemplate ?? "";
  const name = template.replaceAll("{index}", String(index));
  const pattern = new RegExp(
    `^${template
      .split("{index}")
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join("(\\d+)")}$`,
  );
  // A node the template places outside the count means the template or indexBase does not
  // match the names (or the node is still going): then index `current - 1` may not be the
  // node Terraform destroys, so none is named.
  for (const member of memberNames) {
    const numbers = pattern.exec(member)?.slice(1);
    const at = numbers?.length ? Number(numbers[0]) - removal.indexBase : undefined;
    if (at !== undefined && (at < 0 || at >= current))
      return {
        problem: `${member} is at count index ${at} by ${template} (indexBase ${removal.indexBase}), outside the count of ${current}: either it is still going, or removal.indexBase does not match the names`,
      };
  }
  const matches = memberNames.filter((member) => {
    const numbers = pattern.exec(member)?.slice(1);
    return numbers?.every((digits) => Number(digits) === index) === true;
  });
  const [first, second] = matches;
  if (first && !second) return { node: first };
  if (first && second)
    return {
      problem: `${first} and ${second} both match ${template} at count index ${current - 1}; keep one naming`,
    };
  // While the nodes of a raise join, the one at the last index is not listed yet: say so beside
  // the naming, which an operator would otherwise suspect first.
  return {
    problem: `node ${name} (count index ${current - 1}) is not among the pool's nodes: either it has not joined yet or is gone, or removal.nameTemplate does not match the names`,
  };
}

function byHighestSuffix(memberNames: readonly string[]): RemovalPick {
  const named = memberNames.map((name) => ({ name, digits: NUMBERED_NAME.exec(name)?.[1] }));
  const numbered = named.filter((entry) => entry.digits !== undefined);
  const [model] = numbered;
  if (!model) return { problem: "no node name ends in a number; set removal.nameTemplate" };
  // A name without a number (Talos' generated talos-7rd-ipn) tells no count index, so the
  // highest number among the others is not the VM a decrease destroys.
  const unnumbered = named.find((entry) => entry.digits === undefined);
  if (unnumbered)
    return {
      problem: `${unnumbered.name} does not end in a number as ${model.name} does, so which node is at the highest count index is not known; set removal.nameTemplate`,
    };
  let best: { name: string; number: number }[] = [];
  for (const { name, digits } of numbered) {
    const number = Number(digits);
    const top = best[0]?.number ?? -1;
    if (number > top) best = [{ name, number }];
    else if (number === top) best.push({ name, number });
  }
  const [first, second] = best;
  if (second)
    return {
      problem: `${first?.name} and ${second.name} share the highest number; set removal.nameTemplate`,
    };
  // Names Terraform `count` gives from the index (`talos-worker-${count.index + 1}`, with the
  // Proxmox host in it or not) end in as many numbers in a row as there are nodes. Others
  // (Talos' generated talos-2gd-0k3 and talos-q1z-r81, whose digits are chance, or names taken
  // from a list) do not say which one is at the highest count index.
  const numbers = numbered.map((entry) => Number(entry.digits)).sort((a, b) => a - b);
  const lowest = numbers[0] as number;
  if (numbers.some((number, at) => number !== lowest + at))
    return {
      problem: `the numbers the node names end in (${numbers.join(", ")}) are not ${numbers.length} in a row, as names made from the count index are, so the highest need not be the VM a decrease destroys; set removal.nameTemplate`,
    };
  return { node: (first as { name: string }).name };
}
