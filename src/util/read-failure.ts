import { InputError } from "../errors.ts";

/**
 * Why a file could not be read, in words: `no such file`, `is a directory`, `permission
 * denied`; another failure by its code (`cannot read it (EIO)`). Node's own message names the
 * path again, and the system call, which a reader does not need.
 */
export function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EISDIR":
      return "is a directory";
    case "ENOTDIR":
      return "no such file (a part of its path is a file, not a directory)";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ELOOP":
      return "cannot read it: too many symbolic links on its path";
    case undefined:
      return `cannot read it: ${error instanceof Error ? error.message : String(error)}`;
    default:
      return `cannot read it (${code})`;
  }
}

/** The refusal of a file that could not be read: `<file>: no such file` (exit 2). */
export function fileReadError(file: string, error: unknown): InputError {
  return new InputError(readFailure(error), { file });
}
