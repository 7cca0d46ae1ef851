import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import {
  commentTag,
  hasCommentTag,
  MAX_BODY_LENGTH,
  readIssueMarker,
  readPullRequestMarker,
  replacePullRequestMarker,
  saidBy,
  visibleBody,
  withIssueMarker,
  withinCommentLimit,
  withPullRequestMarker,
  writtenBy,
} from "../../src/forge/marker.ts";

const marker = {
  key: "nodes-workers",
  fingerprint: "workers-4",
  sha: "c1",
  base: "h1",
  labels: ["scale-up"],
};

describe("the hidden pull request marker", () => {
  it("is read back from the body it was appended to", () => {
    const body = withPullRequestMarker("## Why\n\nPods are pending.", marker);
    expect(
      body.startsWith("## Why\n\nPods are pending.\n\n<!-- pr-autoscaler:pull-request {"),
    ).toBe(true);
    expect(readPullRequestMarker(body)).toEqual(marker);
    expect(visibleBody(body)).toBe("## Why\n\nPods are pending.");
  });

  it("survives any label text, and no value can close the HTML comment early", () => {
    fc.assert(
      fc.property(fc.array(fc.string()), fc.string(), (labels, text) => {
        const body = withPullRequestMarker(text, { ...marker, labels });
        expect(readPullRequestMarker(body)).toEqual({ ...marker, labels });
        const hidden = body.slice(body.lastIndexOf("<!-- pr-autoscaler:pull-request"));
        expect(hidden.indexOf("-->")).toBe(hidden.length - 3);
      }),
    );
  });

  it("is replaced without touching what people wrote", () => {
    const body = `${withPullRequestMarker("Plan", marker)}\n\nEdited by a human.`;
    const replaced = replacePullRequestMarker(body, { ...marker, handsOff: "h2" });
    expect(visibleBody(replaced)).toBe("Plan\n\nEdited by a human.");
    expect(readPullRequestMarker(replaced)).toEqual({ ...marker, handsOff: "h2" });
  });

  it("records the values' fingerprint and when they last changed, and reads older markers without them", () => {
    const changed = {
      ...marker,
      valuesFingerprint: "3f1c0a9e4b7d2c61",
      changedAt: "2025-06-06T13:58:00.000Z",
    };
    const body = withPullRequestMarker("Scale workers from 3 to 2 nodes", changed);
    expect(readPullRequestMarker(body)).toEqual(changed);
    // A marker written before these were recorded: the values' change is unknown, the grace
    // period counts from the opening.
    const older = readPullRequestMarker(withPullRequestMarker("Plan", marker));
    expect(older?.valuesFingerprint).toBeUndefined();
    expect(older?.changedAt).toBeUndefined();
  });

  it("is undefined when missing or unreadable", () => {
    expect(readPullRequestMarker(null)).toBeUndefined();
    expect(readPullRequestMarker("No marker here")).toBeUndefined();
    expect(readPullRequestMarker("<!-- pr-autoscaler:pull-request {not json} -->")).toBeUndefined();
    expect(
      readPullRequestMarker('<!-- pr-autoscaler:pull-request {"fingerprint":"x"} -->'),
    ).toBeUndefined();
  });

  it("keeps the body within GitHub's limit", () => {
    const body = withPullRequestMarker("x".repeat(70_000), marker);
    expect(body.length).toBeLessThanOrEqual(MAX_BODY_LENGTH);
    expect(body).toContain("… (shortened: the full text is longer than GitHub allows)");
    expect(readPullRequestMarker(body)).toEqual(marker);
  });

  it("stays within GitHub's limit for a right-sizing pull request over many workloads, leaving lists out and saying so", () => {
    // `group: repo` over 200 workloads of three containers, cpu and memory each changed.
    const lists = (count: number) => {
      const workloads: string[] = [];
      const containers: string[] = [];
      const requests: string[] = [];
      for (let i = 0; i < count; i++) {
        const workload = `production-apps/Deployment/service-${String(i).padStart(4, "0")}-api`;
        workloads.push(workload);
        for (const container of ["app", "istio-proxy", "metrics-exporter"]) {
          containers.push(`${workload}/${container}`);
          for (const resource of ["cpu", "memory"])
            requests.push(`${workload}/${container}/${resource}`);
        }
      }
      return { workloads, containers, requests };
    };
    const resources = { ...marker, key: "resources", from: undefined, to: undefined };
    const many = { ...resources, ...lists(200) };
    // In full, the marker alone would be longer than GitHub allows a description to be.
    expect(JSON.stringify(many).length).toBeGreaterThan(MAX_BODY_LENGTH);
    const body = withPullRequestMarker(`## Why\n\n${"x".repeat(60_000)}`, many);
    expect(body.length).toBeLessThanOrEqual(MAX_BODY_LENGTH);
    const { requests: _requests, ...withoutRequests } = many;
    expect(readPullRequestMarker(body)).toEqual(withoutRequests);
    expect(visibleBody(body)).toMatch(
      /\n\n_Note: this pull request changes too many requests for the hidden record pr-autoscaler keeps in its description to name them all: the record leaves out the requests it changes, naming only their containers\. .*not kept as it was\._$/,
    );
    expect(body).toContain("… (shortened: the full text is longer than GitHub allows)");

    // Far more: the workloads and containers are left out too, as in a marker written before
    // they were recorded.
    const more = withPullRequestMarker("## Why", { ...resources, ...lists(1000) });
    expect(more.length).toBeLessThanOrEqual(MAX_BODY_LENGTH);
    expect(readPullRequestMarker(more)).toEqual(resources);
    expect(visibleBody(more)).toContain(
      "the record leaves out the workloads, containers and requests it changes.",
    );
    // Written again from what it reads back, it says so once.
    const again = replacePullRequestMarker(more, { ...resources, keptSaid: 1 });
    expect(visibleBody(again)).toBe(visibleBody(more));

    // Few workloads: every list is kept, and nothing is said.
    const few = { ...resources, ...lists(3) };
    const small = withPullRequestMarker("## Why", few);
    expect(readPullRequestMarker(small)).toEqual(few);
    expect(visibleBody(small)).toBe("## Why");
  });
});

describe("a comment longer than GitHub allows", () => {
  it("is shortened before its hidden tag, which is kept and still found", () => {
    // A kept pull request's comment naming 800 containers held unjudged.
    const data = { key: "resources", notice: "3f1c0a9e4b7d2c61", said: "1" };
    const reasons = Array.from(
      { length: 800 },
      (_, i) =>
        `Deployment production-apps/service-${String(i).padStart(4, "0")}-api: container app: the VPA service-${i} recommends nothing for it`,
    ).join("; ");
    const body = `pr-autoscaler keeps this pull request as it is: ${reasons}.\n\n${commentTag("kept", data)}`;
    expect(body.length).toBeGreaterThan(MAX_BODY_LENGTH);
    const posted = withinCommentLimit(body);
    expect(posted.length).toBeLessThanOrEqual(MAX_BODY_LENGTH);
    expect(posted).toContain("… (shortened: the full text is longer than GitHub allows)");
    expect(hasCommentTag(posted, "kept", data)).toBe(true);
    expect(posted.startsWith("pr-autoscaler keeps this pull request as it is: ")).toBe(true);
    // One within the limit is posted as it is.
    expect(withinCommentLimit("Closing.")).toBe("Closing.");
  });
});

describe("issue markers and comment tags", () => {
  it("finds an issue's key and a comment's tag", () => {
    expect(readIssueMarker(withIssueMarker("Dashboard", { key: "dashboard" }))).toEqual({
      key: "dashboard",
    });
    const said = `Closing.\n\n${commentTag("closing", { sha: "c1" })}`;
    expect(hasCommentTag(said, "closing", { sha: "c1" })).toBe(true);
    expect(hasCommentTag(said, "closing", { sha: "c2" })).toBe(false);
    expect(hasCommentTag(undefined, "closing", { sha: "c1" })).toBe(false);
  });

  it("keeps the dashboard's last comment taken in its issue marker", () => {
    const body = withIssueMarker("Dashboard", { key: "dashboard", lastComment: 1042 });
    expect(
      body.endsWith('<!-- pr-autoscaler:issue {"key":"dashboard","lastComment":1042} -->'),
    ).toBe(true);
    expect(readIssueMarker(body)).toEqual({ key: "dashboard", lastComment: 1042 });
  });

  it("counts a tag only in the comments of the account named", () => {
    const tag = commentTag("closing", { sha: "c1" });
    const bot = { body: tag, user: { login: "pr-autoscaler[bot]" } };
    const copy = { body: tag, user: { login: "mallory" } };
    expect(writtenBy(bot, "PR-Autoscaler[bot]")).toBe(true);
    expect(writtenBy({ body: tag, user: null }, "pr-autoscaler[bot]")).toBe(false);
    expect(saidBy([copy], "pr-autoscaler[bot]", "closing", { sha: "c1" })).toBe(false);
    expect(saidBy([copy, bot], "pr-autoscaler[bot]", "closing", { sha: "c1" })).toBe(true);
    expect(saidBy([bot], "pr-autoscaler[bot]", "closing", { sha: "c2" })).toBe(false);
  });
});
