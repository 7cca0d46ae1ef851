import { createHash } from "node:crypto";
import { editValue, targetEditOptions } from "../editors/edit-file.ts";
import type {
  CountChange,
  DesiredPullRequest,
  FileReader,
  FileChange as ForgeFileChange,
} from "../forge/forge.ts";
import type { NodeProposal, Proposal } from "../planning/proposal.ts";
import type {
  ResourceChange,
  ResourcesProposal,
  WorkloadRightsizing,
} from "../rightsizing/resources-proposal.ts";
import { applyChanges } from "../rightsizing/write-resources.ts";

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
    ...(proposal.kind === "nodes" ? { change: { from: proposal.from, to: proposal.to } } : {}),
    build: (read) =>
      proposal.kind === "nodes" ? buildNodes(proposal, read) : buildResources(proposal, read),
  };
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
    throw new Error(`${file} no longer exists on the default branch; the next run plans again`);
  return text;
}
