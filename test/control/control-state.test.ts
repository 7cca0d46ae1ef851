import { describe, expect, it } from "@jest/globals";
import {
  controlMarker,
  emptyControlState,
  heldControlState,
  isPaused,
  readControlBlock,
  recordedLastComment,
} from "../../src/control/control-state.ts";

const STATE = { ...emptyControlState(41), scale: { workers: { by: "alice", at: "t", count: 5 } } };
const BLOCK = controlMarker(STATE);

describe("reading the dashboard's command state block", () => {
  it("reads the block it wrote", () => {
    expect(readControlBlock(`${BLOCK}\n\nThe dashboard.`)).toEqual({ state: STATE });
  });

  it.each([
    ["no block", "The dashboard.", "the block is missing", ""],
    [
      "a block split over two lines",
      '<!-- pr-autoscaler:control {"version":1,\n"lastComment":4} -->',
      "the block is not closed on its line",
      "",
    ],
    [
      "a block whose object lost its braces",
      '<!-- pr-autoscaler:control "version":1 -->',
      "its JSON is not one object",
      '<!-- pr-autoscaler:control "version":1 -->',
    ],
    [
      "a block that holds something else",
      '<!-- pr-autoscaler:control {"version":1,"lastComment":-3,"paused":{}} -->',
      "its JSON does not hold a command state (`lastComment`: Too small: expected number to be >=0)",
      '<!-- pr-autoscaler:control {"version":1,"lastComment":-3,"paused":{}} -->',
    ],
  ])("says what is wrong with %s, keeping the block as found", (_, body, problem, block) => {
    expect(readControlBlock(body)).toEqual({ problem, block });
  });

  it("says where JSON that does not parse stops", () => {
    const read = readControlBlock(BLOCK.replace('"version":1,', '"version":1,,'));
    expect(read).toEqual({
      problem: expect.stringMatching(/^its JSON does not parse \(.*position 13/),
      block: BLOCK.replace('"version":1,', '"version":1,,'),
    });
  });
});

describe("a state held because the block could not be read", () => {
  const held = heldControlState({ problem: "the block is missing", block: "" }, 17, "t");

  it("pauses everything, every pool included", () => {
    expect(isPaused(held)).toBe(true);
    expect(isPaused(held, "workers")).toBe(true);
    expect(isPaused(emptyControlState(), "workers")).toBe(false);
  });

  it("writes back the block as found, and the last comment recorded before", () => {
    const broken = '<!-- pr-autoscaler:control {"version":1,, -->';
    const state = heldControlState({ problem: "p", block: broken }, 17, "t");
    expect(controlMarker({ ...state, lastComment: 30 })).toBe(broken);
    expect(recordedLastComment({ ...state, lastComment: 30 })).toBe(17);
    expect(recordedLastComment({ ...STATE, lastComment: 30 })).toBe(30);
  });
});
