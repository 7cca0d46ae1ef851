import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createClusterObserver } from "../../src/app/cluster-observer.ts";
import { type Homelab, startHomelab } from "../support/kube-homelab.ts";

let lab: Homelab;

beforeAll(async () => {
  lab = await startHomelab();
});

afterAll(async () => {
  await lab.close();
});

describe("the app's cluster reads", () => {
  it("log each request tried again with how long it waits and why, at warn when the server asked", async () => {
    lab.fake.injectFault({
      path: "/api/v1/pods",
      status: 429,
      reason: "TooManyRequests",
      message: "Too many requests, please try again later.",
      headers: { "Retry-After": "7" },
      times: 2,
    });
    lab.fake.injectFault({ path: "/api/v1/nodes", status: 503, times: 1 });
    const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
    const at =
      (level: string) =>
      (fields: Record<string, unknown>, message: string): void => {
        lines.push({ level, fields, message });
      };
    const log = { warn: at("warn"), debug: at("debug") };
    // The waits take no time: the clock moves by them.
    let now = 0;
    const retryClock = {
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
      },
    };
    const observe = createClusterObserver({
      kubeconfig: lab.kubeconfig,
      log,
      reading: { retryClock, retryDelayMs: 500 },
    });
    const snapshot = await observe();
    expect(snapshot.complete).toBe(true);
    // The 503's own back-off (0.5 s, debug: the server asked for nothing) and the two waits
    // the 429s asked for (warn).
    expect(now).toBe(14_500);
    const debug = lines.filter((line) => line.level === "debug");
    expect(debug).toEqual([
      expect.objectContaining({
        fields: expect.objectContaining({ retry: 1, of: 2, waitSeconds: 0.5 }),
      }),
    ]);
    expect(lines.filter((line) => line.level === "warn")).toEqual(
      [1, 2].map((retry) => ({
        level: "warn",
        message: "Kubernetes API request failed: waiting, then trying again",
        fields: {
          request: expect.stringMatching(/^GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/pods$/),
          retry,
          of: 10,
          waitSeconds: 7,
          retryAfterSeconds: 7,
          why: expect.stringMatching(
            new RegExp(
              `/api/v1/pods: HTTP 429 TooManyRequests: Too many requests, please try again later\\.; trying again in 7 s, as its Retry-After asks \\(retry ${retry} of 10\\)$`,
            ),
          ),
        },
      })),
    );
  });
});
