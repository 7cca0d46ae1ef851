import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StubRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  form: URLSearchParams;
}

export interface StubAnswer {
  status: number;
  contentType?: string;
  body: string;
}

export interface PrometheusStub {
  url: string;
  requests: StubRequest[];
  stop(): Promise<void>;
}

/**
 * An HTTP server on 127.0.0.1 standing in for what sits between us and Prometheus when the
 * failure is not one a real Prometheus produces on demand: a proxy's HTML error page, a hang,
 * a partial answer from remote storage. `answer` returning undefined never answers.
 */
export async function startPrometheusStub(
  answer: (request: StubRequest) => StubAnswer | undefined,
): Promise<PrometheusStub> {
  const requests: StubRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      const request: StubRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        form: new URLSearchParams(body),
      };
      requests.push(request);
      const reply = answer(request);
      if (!reply) {
        hanging.add(res);
        return;
      }
      res.writeHead(reply.status, { "Content-Type": reply.contentType ?? "application/json" });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A successful answer of the query API carrying DATA, as Prometheus' HTTP API writes it. */
function successAnswer(data: Record<string, unknown>, warnings?: string[]): StubAnswer {
  return {
    status: 200,
    body: JSON.stringify({ status: "success", data, ...(warnings ? { warnings } : {}) }),
  };
}

/** A successful instant-vector answer, as Prometheus' HTTP API writes it. */
export function vectorAnswer(
  series: { metric: Record<string, string>; value: string }[],
  warnings?: string[],
): StubAnswer {
  return successAnswer(
    {
      resultType: "vector",
      result: series.map((s) => ({ metric: s.metric, value: [1_700_000_000, s.value] })),
    },
    warnings,
  );
}

/** A successful range-vector answer (a subquery's points), as Prometheus' HTTP API writes it. */
export function matrixAnswer(
  series: { metric: Record<string, string>; values: [number, string][] }[],
): StubAnswer {
  return successAnswer({
    resultType: "matrix",
    result: series.map((s) => ({ metric: s.metric, values: s.values })),
  });
}
