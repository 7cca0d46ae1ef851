import { readyCondition } from "../cluster/node-info.ts";
import { type Raw, record, string, time } from "../cluster/raw.ts";

/** What a Node's Ready condition says, for the drain and the wait. */
export interface NodeReadiness {
  /** The Ready condition is True. */
  ready: boolean;
  /** Status, reason and message of a Ready condition that is not True; absent when Ready. */
  notReadyReason?: string;
  /** When the Ready condition last changed status (`lastTransitionTime`), when known. */
  changedAt?: string;
}

/** Reads the Ready condition of a core/v1 Node. A node without one is not Ready. */
export function readReadiness(raw: Raw): NodeReadiness {
  const condition = readyCondition(record(raw.status));
  const readiness: NodeReadiness = { ready: condition?.status === "True" };
  if (!readiness.ready) readiness.notReadyReason = notReadyReason(condition);
  const changedAt = time(condition?.lastTransitionTime);
  if (changedAt !== undefined) readiness.changedAt = changedAt;
  return readiness;
}

function notReadyReason(condition: Raw | undefined): string {
  if (condition === undefined) return "no Ready condition yet";
  const status = string(condition.status) ?? "Unknown";
  const reason = string(condition.reason);
  const message = string(condition.message);
  return [`Ready=${status}`, reason, message].filter(Boolean).join(": ");
}
