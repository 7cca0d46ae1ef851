/**
 * The label that holds a pull request: while it is on, nothing merges it by itself. The app sets
 * it for `/autoscaler hold` from someone with write access and removes it for `/autoscaler unhold`;
 * people may also set or remove it by hand.
 */
export const HOLD_LABEL = "pr-autoscaler: hold";

/** Whether the labels hold the pull request. */
export function isHeld(labels: readonly string[]): boolean {
  return labels.includes(HOLD_LABEL);
}
