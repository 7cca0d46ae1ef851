/**
 * A forge request that failed, naming the step ("create branch pr-autoscaler/nodes-workers") so a
 * log line says what was being done. Every step is safe to repeat: the next reconcile resumes.
 */
export class ForgeError extends Error {
  readonly step: string;
  /** The HTTP status, when the forge answered. */
  readonly status: number | undefined;

  constructor(step: string, detail: string, status?: number, options?: { cause?: unknown }) {
    super(`${step}: ${detail}`, options);
    this.name = "ForgeError";
    this.step = step;
    this.status = status;
  }
}
