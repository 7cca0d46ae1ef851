/**
 * The label that holds a pull request: while it is on, nothing merges it by itself. The app sets
 * it for `/autoscaler hold` from someone with write access and removes it for `/autoscaler unhold`;
 * people may also set or remove it by hand.
 */
export const HOLD_LABEL = "pr-autoscaler: hold";

/** A command to the bot in a comment. */
export type HoldCommand = "hold" | "unhold";

const COMMAND = /^\/autoscaler\s+(hold|unhold)\s*$/im;

/** The hold command a comment gives, on a line of its own; undefined when it gives none. */
export function holdCommandIn(comment: string): HoldCommand | undefined {
  const match = COMMAND.exec(comment);
  return match?.[1]?.toLowerCase() as HoldCommand | undefined;
}

/** Whether the labels hold the pull request. */
export function isHeld(labels: readonly string[]): boolean {
  return labels.includes(HOLD_LABEL);
}
