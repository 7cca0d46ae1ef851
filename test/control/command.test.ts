import { describe, expect, it } from "@jest/globals";
import { applyCommand, type CommandContext } from "../../src/control/apply-command.ts";
import { parseCommands } from "../../src/control/command.ts";
import { emptyControlState } from "../../src/control/control-state.ts";
import { RepoConfig } from "../../src/policy/repo-config.ts";

describe("parseCommands", () => {
  it("reads each /autoscaler line in order, ignoring quotes and code blocks", () => {
    const body = [
      "Movie night on Friday, let's get ahead of it.",
      "/autoscaler scale workers=5",
      "> /autoscaler pause",
      "```",
      "/autoscaler resume",
      "```",
      "  /autoscaler   hold  ",
    ].join("\n");
    expect(parseCommands(body)).toEqual([
      {
        ok: true,
        text: "/autoscaler scale workers=5",
        command: { verb: "scale", pool: "workers", count: 5 },
      },
      { ok: true, text: "/autoscaler   hold", command: { verb: "hold" } },
    ]);
  });

  it("takes pause and resume for one pool or all, and scale=auto to cancel", () => {
    const verbs = parseCommands(
      "/autoscaler pause\n/autoscaler pause all\n/autoscaler resume gpu\n/autoscaler scale gpu = auto",
    );
    expect(verbs.map((line) => (line.ok ? line.command : line.problem))).toEqual([
      { verb: "pause", pool: undefined },
      { verb: "pause", pool: undefined },
      { verb: "resume", pool: "gpu" },
      { verb: "scale", pool: "gpu", count: "auto" },
    ]);
  });

  it("says what is wrong with a line it cannot read", () => {
    const lines = parseCommands(
      "/autoscaler scale workers\n/autoscaler frobnicate\n/autoscaler hold now",
    );
    expect(lines.map((line) => (line.ok ? "ok" : line.problem))).toEqual([
      "write `/autoscaler scale POOL=N`, e.g. `/autoscaler scale workers=5`",
      "unknown command `frobnicate`",
      "`hold` takes no arguments",
    ]);
  });

  it("does not take a command from the middle of a line", () => {
    expect(parseCommands("please run /autoscaler pause")).toEqual([]);
  });
});

describe("applyCommand", () => {
  const config = RepoConfig.parse({
    pools: [
      { name: "workers", target: { file: "t.tfvars", path: "worker_count" }, min: 2, max: 6 },
    ],
  });
  const context: CommandContext = {
    config,
    place: { kind: "dashboard" },
    by: "alice",
    at: "2025-06-06T12:00:00Z",
  };

  it("is idempotent: the same command twice ends in the same state", () => {
    const once = applyCommand(emptyControlState(), { verb: "pause", pool: "workers" }, context);
    const twice = applyCommand(
      once.state,
      { verb: "pause", pool: "workers" },
      { ...context, by: "bob" },
    );
    expect(twice.state).toEqual(once.state);
    expect(once.state.paused.pools).toEqual({
      workers: { by: "alice", at: "2025-06-06T12:00:00Z" },
    });
  });

  it("resume without a pool lifts every pause", () => {
    let state = applyCommand(
      emptyControlState(),
      { verb: "pause", pool: undefined },
      context,
    ).state;
    state = applyCommand(state, { verb: "pause", pool: "workers" }, context).state;
    expect(applyCommand(state, { verb: "resume", pool: undefined }, context).state.paused).toEqual({
      pools: {},
    });
  });

  it("refuses a count outside the pool's min and max, and an unknown pool", () => {
    expect(
      applyCommand(emptyControlState(), { verb: "scale", pool: "workers", count: 9 }, context),
    ).toMatchObject({
      ok: false,
      reply:
        "Pool `workers` may have 2 to 6 nodes (min and max in .github/pr-autoscaler.yml); 9 is outside.",
    });
    expect(applyCommand(emptyControlState(), { verb: "pause", pool: "gpu" }, context).reply).toBe(
      "There is no pool named `gpu` in .github/pr-autoscaler.yml (pools: `workers`).",
    );
  });

  it("takes hold and ignore only on a pull request", () => {
    expect(applyCommand(emptyControlState(), { verb: "hold" }, context).ok).toBe(false);
    expect(applyCommand(emptyControlState(), { verb: "ignore" }, context).ok).toBe(false);
  });
});
