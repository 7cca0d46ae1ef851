import { createHash } from "node:crypto";
import { editValue, readValue, targetEditOptions } from "../editors/edit-file.ts";
import { parsePath } from "../editors/path.ts";
import type { ScalarValue } from "../editors/value.ts";
import { InputError } from "../errors.ts";
import type {
  CountChange,
  DesiredPullRequest,
  FileReader,
  FileChange as ForgeFileChange,
} from "../forge/forge.ts";
import type { NodeProposal, Proposal, FileChange as ProposalChange } from "../planning/proposal.ts";
import type {
  ResourceChange,
  ResourcesProposal,
  WorkloadRightsizing,
} from "../rightsizing/resources-proposal.ts";
import { identityOf } from "../rightsizing/workload-keys.ts";
import { applyChanges, resourcePath } from "../rightsizing/write-resources.ts";

/** The labels every pull request of the bot carries, and those that tell the kinds apart. */
export const LABELS = {
  all: "autoscaling",
  up: "scale-up",
  down: "scale-down",
  rightsizing: "rightsizing",
} as const;

/** Titles like Renovate's: what changes, from what to what. */
export function pullRequestTitle(proposal: Proposal): string {
  if (proposal.kind === "nodes")
    return `Scale ${proposal.pool} from ${proposal.from} to ${proposal.to} node${proposal.to === 1 ? "" : "s"}`;
  return resourcesTitle(proposal);
}

/**
 * The count change of a node pull request of the bot's: as its marker records it, or, for one
 * written before the marker did, read back from its title; undefined when neither says (someone
 * retitled an old one).
 */
export function nodeChange(pr: {
  key: string;
  title: string;
  change?: CountChange;
}): CountChange | undefined {
  if (!pr.key.startsWith("nodes-")) return undefined;
  if (pr.change) return pr.change;
  const match = /^Scale \S+ from (\d+) to (\d+) nodes?$/.exec(pr.title);
  return match ? { from: Number(match[1]), to: Number(match[2]) } : undefined;
}

function resourcesTitle(proposal: ResourcesProposal): string {
  const [first, ...others] = proposal.workloads;
  if (!first) return "Right-size container requests";
  if (others.length > 0) {
    const where = proposal.namespace ? ` in ${proposal.namespace}` : "";
    return `Right-size ${proposal.workloads.length} workloads${where}`;
  }
  const name = `${first.workload.namespace}/${first.workload.name}`;
  const parts = proposal.changes.map((change) => changeText(change, first));
  if (parts.length > 3) return `Right-size ${name}: ${parts.length} values`;
  return `Right-size ${name}: ${parts.join(", ")}`;
}

/** `cpu 2 → 450m`, `memory limit 4Gi → 6Gi`, with the container first when there are several. */
function changeText(change: ResourceChange, workload: WorkloadRightsizing): string {
  const segments = change.path.split(".");
  const resource = segments.at(-1) ?? "value";
  const limit = segments.at(-2) === "limits" ? " limit" : "";
  const container =
    workload.containers.length > 1
      ? workload.containers.find(
          (c) => c.location.file === change.file && change.path.startsWith(`${c.location.path}.`),
        )?.name
      : undefined;
  const before =
    change.before === undefined || change.before === null ? "unset" : String(change.before);
  return `${container ? `${container} ` : ""}${resource}${limit} ${before} → ${String(change.after)}`;
}

export function pullRequestLabels(proposal: Proposal): string[] {
  if (proposal.kind === "resources") return [LABELS.all, LABELS.rightsizing];
  return [LABELS.all, proposal.direction === "up" ? LABELS.up : LABELS.down];
}

/**
 * A hash of what the pull request must contain: the values it writes and, so the body is
 * refreshed when they change, the policy's decision and who asked. Usage numbers are left out:
 * they move every minute, and an unchanged plan must cause no update.
 */
export function planFingerprint(proposal: Proposal, extra: Record<string, string> = {}): string {
  const changes = proposal.changes
    .map((change) => [change.file, change.path, String(change.after)])
    .sort((a, b) => a.join("\u0000").localeCompare(b.join("\u0000")));
  const essentials = JSON.stringify({ key: proposal.key, changes, extra });
  return createHash("sha256").update(essentials).digest("hex").slice(0, 16);
}

export interface DesiredPullRequestInput {
  proposal: Proposal;
  body: string;
  /** Decisions besides the values that the body shows (policy verdict, manual request). */
  fingerprintExtra?: Record<string, string>;
}

/**
 * The pull request the forge converges on. Its `build` re-applies the proposal's changes with
 * the editors to the files as they are on the head the forge builds on, so a rebuild on a
 * moved default branch keeps what people changed there and still edits only the values.
 */
export function desiredPullRequest(input: DesiredPullRequestInput): DesiredPullRequest {
  const { proposal } = input;
  return {
    key: proposal.key,
    title: pullRequestTitle(proposal),
    body: input.body,
    labels: pullRequestLabels(proposal),
    fingerprint: planFingerprint(proposal, input.fingerprintExtra),
    ...(proposal.kind === "nodes"
      ? { change: { from: proposal.from, to: proposal.to } }
      : {
          workloads: proposal.workloads.map((workload) => identityOf(workload.workload)),
          containers: changedContainers(proposal),
          requests: changedRequests(proposal),
        }),
    build: (read) =>
      proposal.kind === "nodes" ? buildNodes(proposal, read) : buildResources(proposal, read),
    sameEdit: (base, head) =>
      proposal.kind === "nodes"
        ? replays(proposal.changes, (changes) => buildNodes({ ...proposal, changes }, base), {
            base,
            head,
          })
        : replays(
            resourceSlots(proposal),
            (changes) => buildResources({ ...proposal, changes }, base),
            { base, head },
          ),
  };
}

/** The containers whose values the proposal changes, as `namespace/Kind/name/container`. */
export function changedContainers(proposal: ResourcesProposal): string[] {
  return proposal.workloads.flatMap((workload) =>
    workload.containers
      .filter((container) => container.resources.some((decision) => decision.action === "change"))
      .map((container) => `${identityOf(workload.workload)}/${container.name}`),
  );
}

/** The requests the proposal changes, as `namespace/Kind/name/container/resource`. */
export function changedRequests(proposal: ResourcesProposal): string[] {
  return proposal.workloads.flatMap((workload) =>
    workload.containers.flatMap((container) =>
      container.resources
        .filter((decision) => decision.action === "change")
        .map(
          (decision) => `${identityOf(workload.workload)}/${container.name}/${decision.resource}`,
        ),
    ),
  );
}

/**
 * Every value a right-sizing change may write for its containers (requests and limits of cpu
 * and memory), not only those the plan writes now: an earlier plan may have written others.
 */
function resourceSlots(proposal: ResourcesProposal): ResourceChange[] {
  const slots = new Map<string, ResourceChange>();
  for (const workload of proposal.workloads) {
    for (const { location } of workload.containers) {
      const base = parsePath(location.path);
      for (const section of ["requests", "limits"] as const) {
        for (const resource of ["cpu", "memory"] as const) {
          const path = resourcePath(base, section, resource);
          const slot = { file: location.file, document: location.document, path };
          slots.set(JSON.stringify(slot), { ...slot, before: undefined, after: "" });
        }
      }
    }
  }
  return [...slots.values()];
}

/**
 * Whether the head's files are the edit `build` makes on the base's files when each of `slots`
 * is set to the value the head holds there: a value the head removed, or any other difference
 * in the files, says no.
 */
async function replays<C extends ProposalChange>(
  slots: readonly C[],
  build: (changes: C[]) => Promise<ForgeFileChange[]>,
  read: { base: FileReader; head: FileReader },
): Promise<boolean> {
  const texts = new Map<string, { base: string | undefined; head: string | undefined }>();
  const edits: C[] = [];
  for (const slot of slots) {
    const file = texts.get(slot.file) ?? {
      base: await read.base(slot.file),
      head: await read.head(slot.file),
    };
    texts.set(slot.file, file);
    const value = valueIn(file.head, slot);
    const before = valueIn(file.base, slot);
    if (value === undefined) {
      if (before !== undefined) return false;
      continue;
    }
    if (!isScalar(value)) return false;
    if (value !== before) edits.push({ ...slot, after: value });
  }
  let rebuilt: ForgeFileChange[];
  try {
    rebuilt = await build(edits);
  } catch (error) {
    if (error instanceof InputError) return false;
    throw error;
  }
  const written = new Map(rebuilt.map((change) => [change.path, change.content]));
  return [...texts].every(([path, file]) => (written.get(path) ?? file.base) === file.head);
}

/** The value at the slot's PATH in `text`; undefined when the file or the value is not there. */
function valueIn(text: string | undefined, slot: ProposalChange): unknown {
  if (text === undefined) return undefined;
  try {
    return readValue(text, slot.path, slot.file, targetEditOptions(slot));
  } catch (error) {
    if (error instanceof InputError) return undefined;
    throw error;
  }
}

function isScalar(value: unknown): value is ScalarValue {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

async function buildNodes(proposal: NodeProposal, read: FileReader): Promise<ForgeFileChange[]> {
  const contents = new Map<string, string>();
  for (const change of proposal.changes) {
    const text = contents.get(change.file) ?? (await readExisting(read, change.file));
    contents.set(
      change.file,
      editValue(text, change.path, change.after, change.file, targetEditOptions(change)),
    );
  }
  return [...contents].map(([path, content]) => ({ path, content }));
}

async function buildResources(
  proposal: ResourcesProposal,
  read: FileReader,
): Promise<ForgeFileChange[]> {
  const texts = new Map<string, string>();
  for (const change of proposal.changes) {
    if (!texts.has(change.file)) texts.set(change.file, await readExisting(read, change.file));
  }
  return applyChanges(texts, proposal.changes).map((edit) => ({
    path: edit.file,
    content: edit.after,
  }));
}

async function readExisting(read: FileReader, file: string): Promise<string> {
  const text = await read(file);
  if (text === undefined)
    throw new InputError(
      `${file} no longer exists on the default branch; the next run plans again`,
    );
  return text;
}
