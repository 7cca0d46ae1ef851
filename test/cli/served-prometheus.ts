/**
 * What the `plan --prometheus` tests against a served cluster share: where their backfilled
 * series end, one real Prometheus over them for the tests of a file or a describe block, and a
 * plan for a moment of those series.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect } from "@jest/globals";
import type { CliRun } from "../support/cli.ts";
import { type RunningPrometheus, startPrometheus } from "../support/prometheus.ts";
import { openMetricsOf, rootCgroup } from "../support/prometheus-series.ts";
import type { InfraFiles, Raw } from "./served-cluster.ts";
import { cluster, serveForTest, WORKERS } from "./served-plan.ts";

/** The end of the series, Unix seconds: the minute boundary a minute before the file is loaded. */
export function seriesEnd(): number {
  return Math.floor(Date.now() / 60_000) * 60 - 60;
}

/** Unix seconds T as the ISO time `--now` takes. */
export function isoAt(t: number): string {
  return new Date(t * 1000).toISOString();
}

/** What a query frontend answers: an HTTP status and a body. */
export interface FrontendReply {
  status: number;
  body: string;
}

/**
 * A query frontend on 127.0.0.1 before the Prometheus at `upstream` (a Thanos querier, a proxy),
 * started before the tests of the enclosing file and closed after them: each query it gets,
 * with a way to pass it on, goes through `reply`. Its URL once started.
 */
export function frontendForTests(
  upstream: { readonly url: string },
  reply: (query: string, passOn: () => Promise<FrontendReply>) => Promise<FrontendReply>,
): { readonly url: string } {
  let server: Server | undefined;
  let url = "";
  beforeAll(async () => {
    const started = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => {
        body += chunk;
      });
      req.on("end", async () => {
        const passOn = async (): Promise<FrontendReply> => {
          const answer = await fetch(`${upstream.url}${req.url}`, {
            method: req.method ?? "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body,
          });
          return { status: answer.status, body: await answer.text() };
        };
        const { status, body: text } = await reply(
          new URLSearchParams(body).get("query") ?? "",
          passOn,
        );
        res.writeHead(status, { "content-type": "application/json" });
        res.end(text);
      });
    });
    await new Promise<void>((resolve) => started.listen(0, "127.0.0.1", resolve));
    server = started;
    url = `http://127.0.0.1:${(started.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });
  return {
    get url() {
      if (!url) throw new Error("the query frontend has not started");
      return url;
    },
  };
}

/**
 * One real Prometheus over the OpenMetrics text `openMetrics` writes, started before the tests
 * of the enclosing file (or describe block) and stopped after them; its URL once started.
 */
export function prometheusForTests(openMetrics: () => string): { readonly url: string } {
  let prometheus: RunningPrometheus | undefined;
  beforeAll(async () => {
    prometheus = await startPrometheus(openMetrics());
  }, 120_000);
  afterAll(async () => {
    await prometheus?.stop();
  });
  return {
    get url() {
      if (!prometheus) throw new Error("Prometheus has not started");
      return prometheus.url;
    },
  };
}

/**
 * Runs `plan --prometheus URL --now T` with `args` added, against `objects` served (cluster()
 * unless given) and an infra repo of `files`; the plan must succeed.
 */
export async function planOnPrometheus(
  url: string,
  t: number,
  options: { args?: string[]; objects?: Raw[]; files?: InfraFiles } = {},
): Promise<CliRun> {
  const served = await serveForTest(options.objects ?? cluster());
  const run = await served.run(
    ["--prometheus", url, "--now", isoAt(t), ...(options.args ?? [])],
    options.files,
  );
  expect(run.code).toBe(0);
  return run;
}

/**
 * The last hour up to END of each worker's kubelet cAdvisor root cgroup at CORES and BYTES
 * throughout, as OpenMetrics.
 */
export function steadyWorkers(cores: number, bytes: number, end: number): string {
  const series = WORKERS.flatMap((node, index) =>
    rootCgroup({ node, ip: `192.168.50.2${index}`, cores, bytes }, end - 3600),
  );
  return openMetricsOf(series, end - 3600, end);
}
