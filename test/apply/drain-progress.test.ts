import { describe, expect, it } from "@jest/globals";
import { createProgress, formatDuration } from "../../src/apply/drain-progress.ts";

function capture(terminal: boolean, width?: number) {
  let out = "";
  const progress = createProgress(
    (text) => {
      out += text;
    },
    terminal,
    width,
  );
  return { progress, output: () => out };
}

describe("createProgress", () => {
  it("on a terminal, overwrites the status in place and keeps logged lines above it", () => {
    const { progress, output } = capture(true);
    progress.status("w1: 3 pods left");
    progress.status("w1: 2 pods left");
    progress.log("pod/apps/web-1 evicted");
    progress.end();
    expect(output()).toBe(
      "\r\u001b[2Kw1: 3 pods left" +
        "\r\u001b[2Kw1: 2 pods left" +
        "\r\u001b[2Kpod/apps/web-1 evicted\nw1: 2 pods left" +
        "\r\u001b[2Kw1: 2 pods left\n",
    );
  });

  it("on a terminal, cuts a long status so it cannot wrap", () => {
    const { progress, output } = capture(true, 10);
    progress.status("0123456789abcdef");
    expect(output()).toBe("\r\u001b[2K012345678…");
  });

  it("elsewhere, prints a status as a plain line only when it changes", () => {
    const { progress, output } = capture(false);
    progress.status("w1: 3 pods left");
    progress.status("w1: 3 pods left");
    progress.log("pod/apps/web-1 evicted");
    progress.status("w1: 2 pods left");
    progress.end();
    expect(output()).toBe("w1: 3 pods left\npod/apps/web-1 evicted\nw1: 2 pods left\n");
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [999, "0s"],
    [45_000, "45s"],
    [600_000, "10m"],
    [5_400_000, "1h30m"],
    [5_430_000, "1h30m"],
    [90_061_000, "1d1h"],
    [-5, "0s"],
  ])("%d ms is %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
