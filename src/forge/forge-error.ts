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

/**
 * A file that exists but is not a text file of its own: a directory, a symbolic link, a
 * submodule, bytes that are not UTF-8. Asking again gives the same answer.
 */
export class NotATextFileError extends ForgeError {
  readonly path: string;
  /** What is wrong, without the step: "terraform/terraform.tfvars is a directory, not a file". */
  readonly problem: string;

  constructor(step: string, path: string, problem: string) {
    super(step, problem);
    this.name = "NotATextFileError";
    this.path = path;
    this.problem = problem;
  }
}

/**
 * The repository has no commit yet (created, nothing pushed): no branch, no files, no
 * configuration. Not a failure: there is nothing to do until something is pushed.
 */
export class EmptyRepositoryError extends ForgeError {
  constructor(step: string) {
    super(step, "the repository is empty: nothing has been pushed to it yet", 409);
    this.name = "EmptyRepositoryError";
  }
}
