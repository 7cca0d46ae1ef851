import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { KubeApiError, retryAfter } from "../../src/cluster/kube-client.ts";
import {
  describeRetry,
  maxRetryAfterMs,
  type RetryClock,
  type RetryNote,
  retryDelay,
} from "../../src/cluster/kube-list.ts";
import {
  ClusterReadError,
  type ReadSnapshotOptions,
  readSnapshot,
} from "../../src/cluster/read-snapshot.ts";
import type { Snapshot } from "../../src/planning/snapshot.ts";
import { podMetrics } from "../support/kube-fixtures.ts";
import { type Homelab, homelabNow, homelabTimes, startHomelab } from "../support/kube-homelab.ts";

// How the cluster read behaves when the API server, or an aggregated API behind it, answers
// in ways a conforming server does not, or not quickly: a partial or inconsistent read is
// never taken as whole, and what failed is said with what to do about it.

let lab: Homelab;

beforeAll(async () => {
  lab = await startHomelab();
});

afterAll(async () => {
  await lab.close();
});

afterEach(() => {
  lab.fake.clearFaults();
  lab.fake.requests.length = 0;
});

function options(extra: Partial<ReadSnapshotOptions> = {}): ReadSnapshotOptions {
  return { kubeconfig: lab.kubeconfig, env: {}, now: () => homelabNow, retryDelayMs: 0, ...extra };
}

function warningsAbout(snapshot: Snapshot, subject: string) {
  return snapshot.warnings.filter((warning) => warning.subject === subject);
}

/** A list body as the API server writes one. */
function listBody(kind: string, items: unknown[] | null, metadata: Record<string, unknown>) {
  return JSON.stringify({ kind, apiVersion: "v1", metadata, items });
}

describe("answers that are not a whole list", () => {
  it("refuses a 200 answer without items instead of reading a cluster with no pods", async () => {
    for (const body of [
      '{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"}}',
      '{"kind":"Status","apiVersion":"v1","status":"Failure","message":"etcd is busy"}',
    ]) {
      lab.fake.injectFault({ path: "/api/v1/pods", status: 200, body, times: 3 });
      await expect(readSnapshot(options())).rejects.toThrow(ClusterReadError);
      lab.fake.clearFaults();
    }
    lab.fake.injectFault({
      path: "/api/v1/pods",
      status: 200,
      body: '{"kind":"Status","apiVersion":"v1","status":"Failure","message":"etcd is busy"}',
    });
    await expect(readSnapshot(options())).rejects.toThrow(
      /cannot list pods: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/pods: the response is not a list \(a Status object, not a list: etcd is busy\)/,
    );
  });

  it("takes null items (a Go server's empty list) as a list of none", async () => {
    lab.fake.injectFault({
      path: "/apis/policy/v1/poddisruptionbudgets",
      status: 200,
      body: listBody("PodDisruptionBudgetList", null, { resourceVersion: "7" }),
    });
    lab.fake.injectFault({
      path: "/apis/metrics.k8s.io/v1beta1/pods",
      status: 200,
      body: listBody("PodMetricsList", null, {}),
    });
    const snapshot = await readSnapshot(options());
    expect(snapshot.complete).toBe(true);
    expect(snapshot.pdbs).toEqual([]);
    // Read, and empty: every running pod is without metrics, not the API unavailable.
    expect(warningsAbout(snapshot, "metrics/pods")).toEqual([]);
    expect(warningsAbout(snapshot, "pod/media/plex-7d9c65958-ghrmp")).toEqual([
      expect.objectContaining({ code: "metrics-missing" }),
    ]);
  });
});

describe("pages that do not form one list", () => {
  it("stops a server that gives the same continue token again, instead of asking forever", async () => {
    const [first] = lab.fake.list("nodes");
    lab.fake.injectFault({
      path: "/api/v1/nodes",
      status: 200,
      body: listBody("NodeList", [first], { resourceVersion: "7", continue: "again" }),
      times: 50,
    });
    const snapshot = await readSnapshot(options({ maxRestarts: 1 }));
    expect(snapshot.complete).toBe(false);
    expect(snapshot.nodes.map((node) => node.name)).toEqual([
      (first?.metadata as { name?: string } | undefined)?.name,
    ]);
    expect(warningsAbout(snapshot, "nodes")).toEqual([
      expect.objectContaining({
        code: "list-partial",
        message: expect.stringMatching(
          /\/api\/v1\/nodes: the pages do not form one list: the server gave the same continue token again$/,
        ),
      }),
    ]);
    // Each attempt: the first page, then the page that gave its token back.
    expect(lab.fake.requestCount({ path: "/api/v1/nodes" })).toBe(4);
  });

  it("never counts a node twice when a page repeats one of an earlier page", async () => {
    const nodes = lab.fake.list("nodes");
    // The second page starts at the first page's last node, as from a server that lost its place.
    lab.fake.injectFault({
      path: "/api/v1/nodes",
      continued: false,
      status: 200,
      body: listBody("NodeList", nodes.slice(0, 2), { resourceVersion: "1", continue: "t" }),
      times: Number.POSITIVE_INFINITY,
    });
    lab.fake.injectFault({
      path: "/api/v1/nodes",
      continued: true,
      status: 200,
      body: listBody("NodeList", nodes.slice(1, 3), { resourceVersion: "1" }),
      times: Number.POSITIVE_INFINITY,
    });
    const snapshot = await readSnapshot(options({ maxRestarts: 1 }));
    expect(snapshot.complete).toBe(false);
    const names = snapshot.nodes.map((node) => node.name);
    expect(names).toHaveLength(2);
    expect(new Set(names).size).toBe(2);
    expect(warningsAbout(snapshot, "nodes")).toEqual([
      expect.objectContaining({
        code: "list-partial",
        message: expect.stringContaining(
          `the pages do not form one list: ${names[1]} appears twice`,
        ),
      }),
    ]);
  });

  it("starts again when a page is of another revision, and is incomplete if that goes on", async () => {
    // Once: the list is read again from scratch and is whole.
    lab.fake.injectFault({
      path: "/api/v1/pods",
      continued: true,
      status: 200,
      body: listBody("PodList", [], { resourceVersion: "1" }),
    });
    const whole = await readSnapshot(options({ pageSize: 2 }));
    expect(whole.complete).toBe(true);
    expect(whole.pods).toHaveLength(lab.fake.count("pods"));
    expect(
      lab.fake.requests.filter((r) => r.path === "/api/v1/pods" && !r.query.continue),
    ).toHaveLength(2);
    lab.fake.clearFaults();

    lab.fake.injectFault({
      path: "/api/v1/pods",
      continued: true,
      status: 200,
      body: listBody("PodList", [], { resourceVersion: "1" }),
      times: Number.POSITIVE_INFINITY,
    });
    const partial = await readSnapshot(options({ pageSize: 2, maxRestarts: 2 }));
    expect(partial.complete).toBe(false);
    expect(partial.pods).toHaveLength(2);
    expect(warningsAbout(partial, "pods")).toEqual([
      expect.objectContaining({
        code: "list-partial",
        message: expect.stringMatching(/a page of resourceVersion 1 after one of \d+$/),
      }),
    ]);
  });

  it("does not take a last page that says more items remain as the end of the list", async () => {
    const pdbs = lab.fake.list("poddisruptionbudgets");
    lab.fake.injectFault({
      path: "/apis/policy/v1/poddisruptionbudgets",
      status: 200,
      body: listBody("PodDisruptionBudgetList", pdbs.slice(0, 1), {
        resourceVersion: "7",
        remainingItemCount: 4,
      }),
      times: Number.POSITIVE_INFINITY,
    });
    const snapshot = await readSnapshot(options({ maxRestarts: 0 }));
    expect(snapshot.complete).toBe(false);
    expect(warningsAbout(snapshot, "poddisruptionbudgets")).toEqual([
      expect.objectContaining({
        code: "list-failed",
        message: expect.stringContaining("the last page says 4 more items remain"),
      }),
    ]);
  });
});

describe("a metrics API that hangs", () => {
  /**
   * The time the reader gives a request. The requests that are answered must beat it too, and
   * on a loaded machine the fake API server, in this process, can take seconds to answer: a
   * short limit gave up on them as well. What hangs, hangs for a minute.
   */
  const timeoutMs = 3_000;
  const hang = 60_000;

  it("asks it once, and does not ask it for pods after it hung for nodes", async () => {
    lab.fake.injectFault({
      path: "/apis/metrics.k8s.io/v1beta1/nodes",
      delayMs: hang,
      times: Number.POSITIVE_INFINITY,
    });
    const snapshot = await readSnapshot(options({ timeoutMs }));
    expect(lab.fake.requestCount({ path: "/apis/metrics.k8s.io/v1beta1/nodes" })).toBe(1);
    expect(lab.fake.requestCount({ path: "/apis/metrics.k8s.io/v1beta1/pods" })).toBe(0);
    expect(snapshot.complete).toBe(true);
    expect(snapshot.metrics).toMatchObject({ nodes: "unavailable", pods: "unavailable" });
    expect(snapshot.nodes.every((node) => node.usage === undefined)).toBe(true);
    expect(snapshot.pods.every((pod) => pod.usage === undefined)).toBe(true);
    expect(warningsAbout(snapshot, "metrics/nodes")).toEqual([
      expect.objectContaining({
        code: "metrics-unavailable",
        message: expect.stringContaining(
          "/apis/metrics.k8s.io/v1beta1/nodes: no response within 3 s",
        ),
      }),
    ]);
    expect(warningsAbout(snapshot, "metrics/pods")).toEqual([
      expect.objectContaining({
        code: "metrics-unavailable",
        message: expect.stringContaining(
          "pods metrics: not asked for, as the metrics API did not answer for nodes",
        ),
      }),
    ]);
  });

  it("says a response that stopped part way stopped, not that none came", async () => {
    lab.fake.injectFault({ path: "/api/v1/nodes", stall: true });
    await expect(readSnapshot(options({ timeoutMs, retries: 0 }))).rejects.toThrow(
      /cannot list nodes: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/nodes: the response stopped: nothing more arrived for 3 s$/,
    );
  });

  it("still tries the core API again after a timeout", async () => {
    lab.fake.injectFault({ path: "/api/v1/nodes", delayMs: hang, times: 1 });
    const snapshot = await readSnapshot(options({ timeoutMs }));
    expect(snapshot.complete).toBe(true);
    expect(lab.fake.requestCount({ path: "/api/v1/nodes" })).toBe(2);
  });
});

describe("an API server that accepts connections but never answers", () => {
  it("ends the read at its limit, requests waiting for a connection included", async () => {
    // More lists than the client has connections: those queued behind the hung ones must not
    // start late with a whole timeout of their own. The limit is short, the timeout is not:
    // the read ends only if every request is cut at the read's limit.
    lab.fake.injectFault({ path: /^\//, delayMs: 60_000, times: Number.POSITIVE_INFINITY });
    await expect(readSnapshot(options({ readDeadlineMs: 1_500 }))).rejects.toThrow(
      /^cannot list (nodes|pods): GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/(nodes|pods): no response before the read's limit of 1\.5 s was reached$/,
    );
  });
});

describe("pod metrics without every container", () => {
  it("leaves a pod's usage unknown when a container it runs is not in its sample", async () => {
    // plex runs an app container and a log-shipper sidecar; its sample has only the first.
    lab.fake.put(
      "podmetrics",
      podMetrics(
        "media",
        "plex-7d9c65958-ghrmp",
        { plex: { cpu: "1200m", memory: "900Mi" } },
        homelabTimes.fresh,
      ),
    );
    try {
      const snapshot = await readSnapshot(options());
      const plex = snapshot.pods.find((pod) => pod.name === "plex-7d9c65958-ghrmp");
      expect(plex?.usage).toBeUndefined();
      expect(plex?.containers[0]?.usage).toMatchObject({ cpu: 1200 });
      expect(plex?.initContainers[0]?.usage).toBeUndefined();
      expect(snapshot.metrics.pods).toBe("partial");
      expect(warningsAbout(snapshot, "pod/media/plex-7d9c65958-ghrmp")).toEqual([
        {
          code: "metrics-missing",
          message: "no metrics for container log-shipper; the pod's usage unknown",
          subject: "pod/media/plex-7d9c65958-ghrmp",
        },
      ]);
    } finally {
      lab.fake.put(
        "podmetrics",
        podMetrics(
          "media",
          "plex-7d9c65958-ghrmp",
          {
            plex: { cpu: "1200000000n", memory: "900Mi" },
            "log-shipper": { cpu: "5m", memory: "40Mi" },
          },
          homelabTimes.fresh,
        ),
      );
    }
  });
});

describe("what a refused or missing list says", () => {
  it("names the verb and resource the account lacks, as kubectl auth can-i checks them", async () => {
    for (const path of [
      "/api/v1/persistentvolumes",
      "/apis/policy/v1/poddisruptionbudgets",
      "/apis/metrics.k8s.io/v1beta1/pods",
    ]) {
      lab.fake.injectFault({ path, status: 403, body: "" });
    }
    const snapshot = await readSnapshot(options());
    expect(snapshot.complete).toBe(false);
    const message = (subject: string) => warningsAbout(snapshot, subject)[0]?.message;
    expect(message("persistentvolumes")).toMatch(
      /HTTP 403 \(forbidden: the account needs "list" on persistentvolumes; check with kubectl auth can-i list persistentvolumes\); pods on node-local volumes cannot be told apart$/,
    );
    expect(message("poddisruptionbudgets")).toMatch(
      /HTTP 403 \(forbidden: the account needs "list" on poddisruptionbudgets\.policy in all namespaces; check with kubectl auth can-i list poddisruptionbudgets\.policy --all-namespaces\)$/,
    );
    expect(message("metrics/pods")).toContain(
      'the account needs "list" on pods.metrics.k8s.io in all namespaces; check with kubectl auth can-i list pods.metrics.k8s.io --all-namespaces',
    );
  });

  it("says when the VPA API is served only in a version that is not read", async () => {
    lab.fake.injectFault({
      path: "/apis/autoscaling.k8s.io/v1/verticalpodautoscalers",
      status: 404,
      reason: "NotFound",
    });
    lab.fake.injectFault({
      path: "/apis/autoscaling.k8s.io",
      status: 200,
      body: JSON.stringify({
        kind: "APIGroup",
        apiVersion: "v1",
        name: "autoscaling.k8s.io",
        versions: [{ groupVersion: "autoscaling.k8s.io/v1beta2", version: "v1beta2" }],
        preferredVersion: { groupVersion: "autoscaling.k8s.io/v1beta2", version: "v1beta2" },
      }),
    });
    const snapshot = await readSnapshot(options());
    expect(snapshot.complete).toBe(true);
    expect(snapshot.vpas).toEqual([]);
    expect(warningsAbout(snapshot, "verticalpodautoscalers")).toEqual([
      {
        code: "vpa-not-installed",
        message:
          "autoscaling.k8s.io/v1 is not served by this cluster (404); autoscaling.k8s.io is served only as v1beta2, which is not read; none are considered",
        subject: "verticalpodautoscalers",
      },
    ]);
  });
});

describe("waiting as the server asks", () => {
  it("reads Retry-After as seconds or as a date", () => {
    const now = Date.parse("2025-01-12T00:00:00Z");
    expect(retryAfter("3", now)).toBe(3000);
    expect(retryAfter(" 0 ", now)).toBe(0);
    expect(retryAfter("Sun, 12 Jan 2025 00:00:05 GMT", now)).toBe(5000);
    expect(retryAfter("Sat, 11 Jan 2025 23:00:00 GMT", now)).toBe(0);
    expect(retryAfter("soon", now)).toBeUndefined();
    expect(retryAfter(undefined, now)).toBeUndefined();
  });

  it("waits the longer of its own back-off and the server's Retry-After, within a bound", () => {
    const throttled = (retryAfterMs?: number) =>
      new KubeApiError(
        "GET /api/v1/pods: HTTP 429",
        "/api/v1/pods",
        429,
        "TooManyRequests",
        undefined,
        {
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        },
      );
    expect(retryDelay(throttled(1000), 500)).toBe(1000);
    expect(retryDelay(throttled(200), 500)).toBe(500);
    expect(retryDelay(throttled(), 500)).toBe(500);
    expect(retryDelay(throttled(3_600_000), 500)).toBe(maxRetryAfterMs);
  });

  it("carries the server's Retry-After on the error of a throttled request", async () => {
    lab.fake.injectFault({
      path: "/api/v1/nodes",
      status: 429,
      reason: "TooManyRequests",
      headers: { "Retry-After": "0" },
      times: Number.POSITIVE_INFINITY,
    });
    const error = await readSnapshot(options({ throttledRetries: 1 })).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ClusterReadError);
    expect(((error as ClusterReadError).cause as KubeApiError).retryAfterMs).toBe(0);
    expect(lab.fake.requestCount({ path: "/api/v1/nodes" })).toBe(2);
  });
});

/** A clock for retries that moves only by the waits, which take no time. */
function virtualClock(): RetryClock & { waits: number[] } {
  let now = 0;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    sleep: async (ms) => {
      waits.push(ms);
      now += ms;
    },
  };
}

describe("a server that asks to be asked again later (429 with Retry-After)", () => {
  function throttle(retryAfter: string, times: number) {
    lab.fake.injectFault({
      path: "/api/v1/nodes",
      status: 429,
      reason: "TooManyRequests",
      message: "Too many requests, please try again later.",
      headers: { "Retry-After": retryAfter },
      times,
    });
  }

  it("is asked again up to ten times, after the wait it asks for each time, as client-go does", async () => {
    throttle("1", 10);
    const clock = virtualClock();
    const retries: RetryNote[] = [];
    const snapshot = await readSnapshot(
      options({ retryClock: clock, onRetry: (note) => retries.push(note) }),
    );
    expect(snapshot.complete).toBe(true);
    expect(lab.fake.requestCount({ path: "/api/v1/nodes" })).toBe(11);
    expect(clock.waits).toEqual(Array(10).fill(1000));
    expect(retries.map((note) => [note.retry, note.of, note.waitMs])).toEqual(
      Array.from({ length: 10 }, (_, i) => [i + 1, 10, 1000]),
    );
    expect(describeRetry(retries[0] as RetryNote)).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/nodes: HTTP 429 TooManyRequests: Too many requests, please try again later\.; trying again in 1 s, as its Retry-After asks \(retry 1 of 10\)$/,
    );
  });

  it("stops after ten retries: the list fails", async () => {
    throttle("1", Number.POSITIVE_INFINITY);
    const clock = virtualClock();
    await expect(readSnapshot(options({ retryClock: clock }))).rejects.toThrow(
      /cannot list nodes: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/nodes: HTTP 429 TooManyRequests/,
    );
    expect(lab.fake.requestCount({ path: "/api/v1/nodes" })).toBe(11);
  });

  it("never waits past the read's deadline: the list fails there, saying why", async () => {
    throttle("30", Number.POSITIVE_INFINITY);
    const clock = virtualClock();
    await expect(
      readSnapshot(options({ retryClock: clock, readDeadlineMs: 60_000 })),
    ).rejects.toThrow(
      /cannot list nodes: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/nodes: HTTP 429 TooManyRequests: Too many requests, please try again later\.; not tried again: after the 30 s wait it would pass the read's limit of 60 s$/,
    );
    expect(clock.waits).toEqual([30_000, 30_000]);
    expect(lab.fake.requestCount({ path: "/api/v1/nodes" })).toBe(3);
  });

  it("still retries a failure that says nothing of when twice, after its own back-off", async () => {
    lab.fake.injectFault({ path: "/api/v1/nodes", status: 503, times: Number.POSITIVE_INFINITY });
    const clock = virtualClock();
    await expect(readSnapshot(options({ retryClock: clock, retryDelayMs: 500 }))).rejects.toThrow(
      /cannot list nodes: .*HTTP 503/,
    );
    expect(clock.waits).toEqual([500, 1000]);
    expect(lab.fake.requestCount({ path: "/api/v1/nodes" })).toBe(3);
  });
});

describe("a server that trickles a body for ever", () => {
  /**
   * The limit for one request. Every answered request must beat it too, and on a loaded
   * machine the fake API server, in this process, can take seconds to answer.
   */
  const requestDeadlineMs = 5_000;

  it("is cut off at the limit for one request, not retried, and the read stops", async () => {
    lab.fake.injectFault({
      path: "/api/v1/pods",
      trickleMs: 50,
      times: Number.POSITIVE_INFINITY,
    });
    await expect(readSnapshot(options({ requestDeadlineMs }))).rejects.toThrow(
      /cannot list pods: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/pods: the response did not end within 5 s, the limit for one request \(it kept arriving, too slowly\)$/,
    );
    expect(lab.fake.requestCount({ path: "/api/v1/pods" })).toBe(1);
  });

  it("leaves a list read in part incomplete: no action is taken on it", async () => {
    lab.fake.injectFault({
      path: "/api/v1/pods",
      continued: true,
      trickleMs: 50,
      times: Number.POSITIVE_INFINITY,
    });
    const snapshot = await readSnapshot(options({ requestDeadlineMs, pageSize: 2 }));
    expect(snapshot.complete).toBe(false);
    expect(snapshot.pods).toHaveLength(2);
    expect(warningsAbout(snapshot, "pods")).toEqual([
      expect.objectContaining({
        code: "list-partial",
        message: expect.stringContaining("the limit for one request"),
      }),
    ]);
  });
});
