/** The signals that cancel a drain: Ctrl-C, and what CI runners and service managers send. */
export type StopSignal = "SIGINT" | "SIGTERM";

const stopSignals: readonly StopSignal[] = ["SIGINT", "SIGTERM"];

/** The exit status a shell gives a command that a signal ended: 128 plus its number. */
export function signalExitCode(signal: StopSignal): 130 | 143 {
  return signal === "SIGINT" ? 130 : 143;
}

/** The first SIGINT or SIGTERM as a cancel, and what a second one does. */
export interface StopSignals {
  /** Aborted at the first signal; its reason says which (`received SIGINT`). */
  readonly signal: AbortSignal;
  /** The first signal received, if any. */
  received(): StopSignal | undefined;
  /**
   * Ends the process with `code` once what was written has been flushed: requests a cancel
   * abandoned would otherwise keep it running until they time out.
   */
  exit(code: number): void;
  /** Stops listening: the signals' default actions apply again. */
  dispose(): void;
}

/** An output stream, as far as an exit after a cancel needs one. */
export interface SignalOutput {
  write(text: string, done: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
}

/** The process, as far as watching for signals needs it; tests pass an emitter. */
export interface SignalProcess {
  on(event: StopSignal, listener: () => void): unknown;
  off(event: StopSignal, listener: () => void): unknown;
  exit(code: number): void;
  stdout: SignalOutput;
  stderr: SignalOutput;
}

export interface WatchSignalsOptions {
  /** Written to stderr when a second signal ends the process without waiting. */
  forcedExitNote: string;
  /** The command that names itself in that note (default `drain`). */
  command?: string;
  /** How long an exit waits for the output to flush (default 1 s). */
  flushMs?: number;
}

/**
 * Watches for SIGINT and SIGTERM. The first aborts {@link StopSignals.signal} and stops output
 * errors from ending the process: a shell pipe's reader (`| tee`) may have had the same
 * signal and gone, and an EPIPE must not stop the uncordon. A second ends the process at once
 * with its own exit status (130 or 143), after `forcedExitNote`.
 */
export function watchSignals(
  options: WatchSignalsOptions,
  target: SignalProcess = process,
): StopSignals {
  const controller = new AbortController();
  let first: StopSignal | undefined;
  const listeners = stopSignals.map((name) => {
    const listener = () => {
      if (first === undefined) {
        first = name;
        target.stdout.on("error", ignore);
        target.stderr.on("error", ignore);
        controller.abort(`received ${name}`);
        return;
      }
      target.stderr.write(
        `pr-autoscaler ${options.command ?? "drain"}: received ${name} again: ${options.forcedExitNote}\n`,
        ignore,
      );
      target.exit(signalExitCode(name));
    };
    target.on(name, listener);
    return { name, listener };
  });
  return {
    signal: controller.signal,
    received: () => first,
    exit: (code) => exitWhenFlushed(target, code, options.flushMs ?? 1_000),
    dispose: () => {
      for (const { name, listener } of listeners) target.off(name, listener);
    },
  };
}

function exitWhenFlushed(target: SignalProcess, code: number, flushMs: number): void {
  let waiting = 2;
  let done = false;
  const exit = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    target.exit(code);
  };
  // A reader that stopped reading must not hold the exit.
  const timer = setTimeout(exit, flushMs);
  timer.unref();
  const flushed = () => {
    waiting -= 1;
    if (waiting === 0) exit();
  };
  target.stdout.write("", flushed);
  target.stderr.write("", flushed);
}

function ignore(): void {}
