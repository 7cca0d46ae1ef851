/**
 * The plan the forge tests propose: scale the workers pool in a terraform.tfvars file.
 */
import type { DesiredPullRequest } from "../../src/forge/forge.ts";

export const TFVARS = "terraform/workers.auto.tfvars";
export const KEY = "nodes-workers";
export const LABELS = ["autoscaling", "scale-up"];

/** terraform.tfvars on the default branch, with `count` workers. */
export function tfvars(count: number, extra = ""): string {
  return [
    'proxmox_node  = "pve1"',
    'talos_version = "v1.9.4"',
    "",
    `worker_count  = ${count}${extra}`,
    "worker_cpu    = 4",
    "worker_memory = 8192",
    "",
  ].join("\n");
}

/** The plan "scale the workers to `to`", built from the file on the default branch. */
export function scaleWorkers(
  to: number,
  options: Partial<DesiredPullRequest> = {},
): DesiredPullRequest {
  return {
    key: KEY,
    title: `Scale worker nodes to ${to}`,
    body: `Pods are waiting for room: the workers pool goes to ${to} nodes.`,
    labels: LABELS,
    fingerprint: `workers-${to}`,
    async build(read) {
      const text = await read(TFVARS);
      if (text === undefined) throw new Error(`${TFVARS} is missing`);
      return [{ path: TFVARS, content: withCount(text, to) }];
    },
    async sameEdit(base, head) {
      const [before, after] = [await base(TFVARS), await head(TFVARS)];
      const count = /worker_count\s*= (\d+)/.exec(after ?? "")?.[1];
      return before !== undefined && count !== undefined && after === withCount(before, count);
    },
    ...options,
  };
}

function withCount(text: string, count: number | string): string {
  return text.replace(/worker_count(\s*)= \d+/, `worker_count$1= ${count}`);
}
