/**
 * A served cluster and a command runner for the `wait-nodes` tests: the command run in-process
 * against the fake API server, with a clock that moves only when the wait sleeps.
 */
import { expect } from "@jest/globals";
import type { WaitResult } from "../../src/apply/wait-nodes.ts";
import { createWaitNodesCommand } from "../../src/cli/wait-nodes-command.ts";
import type { FakeKubeApiserver } from "../support/fake-kube-apiserver.ts";
import {
  ampleLateReadMs,
  type CommandRun,
  runCommand,
  useDrainCluster,
  virtualClock,
} from "./drain-support.ts";

export interface WaitRunOptions {
  /** The kubeconfig `--kubeconfig` names; undefined: the arguments name their own. */
  kubeconfig: string | undefined;
  cwd: string;
  /** Where the virtual clock starts. */
  start: number;
  /** The clock to run on instead, e.g. a `movableClock` the test moves during a request. */
  clock?: ReturnType<typeof virtualClock>;
  /**
   * Looks at or near the deadline get the command's own least time (1 s), as for users, rather
   * than `ampleLateReadMs`: for the tests of a look the deadline cuts short.
   */
  ownLateRead?: boolean;
}

/** Runs `wait-nodes` as main() does, on a virtual clock. */
export async function runWait(args: string[], options: WaitRunOptions): Promise<CommandRun> {
  const clock = options.clock ?? virtualClock(options.start);
  const command = createWaitNodesCommand({
    clock,
    ...(options.ownLateRead ? {} : { lateReadMs: ampleLateReadMs }),
  });
  return runCommand(command, args, { ...options, sleeps: clock.sleeps });
}

/** The `--json` result a wait printed. */
export function waitJson(run: CommandRun): WaitResult {
  return JSON.parse(run.stdout) as WaitResult;
}

/** The wait exited `code` and its report holds each of `parts`. */
export function expectReport(run: CommandRun, code: number, ...parts: string[]): void {
  expect(run.code).toBe(code);
  for (const part of parts) expect(run.stdout).toContain(part);
}

/** The cluster {@link useWaitCluster} serves each test, and the waits run against it. */
export interface WaitTestCluster {
  readonly fake: FakeKubeApiserver;
  readonly dir: string;
  readonly kubeconfig: string;
  /**
   * Runs `wait-nodes` against this cluster in its temp dir; `kubeconfig: false` leaves the
   * kubeconfig to the arguments.
   */
  wait(
    args: string[],
    options?: Partial<Pick<WaitRunOptions, "cwd" | "clock" | "ownLateRead">> & {
      kubeconfig?: boolean;
    },
  ): Promise<CommandRun>;
  /** Runs `change` before the answer to the wait's n-th list of the nodes. */
  onList(change: (n: number) => void): void;
  /** Each of `cases`, its arguments and a part of its message, exits 2 with that message. */
  expectUsageErrors(cases: [args: string[], message: string][]): Promise<void>;
}

/**
 * Serves a fresh cluster to each test of the calling file (see `useDrainCluster`); `name` names
 * its temp dir, and each wait's clock starts at `start`.
 */
export function useWaitCluster(name: string, start: number): WaitTestCluster {
  const cluster = useDrainCluster(name);
  const wait: WaitTestCluster["wait"] = (args, options = {}) =>
    runWait(args, {
      kubeconfig: options.kubeconfig === false ? undefined : cluster.kubeconfig,
      cwd: options.cwd ?? cluster.dir,
      start,
      ...(options.clock !== undefined ? { clock: options.clock } : {}),
      ...(options.ownLateRead ? { ownLateRead: true } : {}),
    });
  return {
    get fake() {
      return cluster.fake;
    },
    get dir() {
      return cluster.dir;
    },
    get kubeconfig() {
      return cluster.kubeconfig;
    },
    wait,
    onList: (change) => {
      let lists = 0;
      cluster.fake.onRequest = (request) => {
        if (request.method === "GET" && request.path === "/api/v1/nodes") change(++lists);
      };
    },
    expectUsageErrors: async (cases) => {
      for (const [args, message] of cases) {
        const run = await wait(args);
        expect({ args, code: run.code, stderr: run.stderr }).toEqual({
          args,
          code: 2,
          stderr: expect.stringContaining(message),
        });
      }
    },
  };
}
