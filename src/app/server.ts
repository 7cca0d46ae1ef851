import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import type { Readiness } from "./readiness.ts";

/** A webhook handler: resolves to true when it answered the request. */
export type Middleware = (request: IncomingMessage, response: ServerResponse) => unknown;

export interface AppServerOptions {
  registry: Registry;
  /** Probot's middleware for the webhook path; absent without a webhook secret. */
  webhooks?: Middleware;
  /** Answers /readyz (see readinessOf); absent: always ready. */
  ready?: () => Readiness;
}

/**
 * The HTTP server: GitHub's webhooks (signature checked by Probot's middleware), `/healthz`
 * (the process serves), `/readyz` (it listed its repositories, and read the cluster and GitHub
 * recently: 503 says what is missing) and `/metrics` for Prometheus. Everything else is 404.
 */
export function createAppServer(options: AppServerOptions): Server {
  return createServer((request, response) => {
    handle(options, request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
}

async function handle(
  options: AppServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
) {
  const path = (request.url ?? "/").split("?")[0];
  if (request.method === "GET" && path === "/healthz") {
    response.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    return;
  }
  if (request.method === "GET" && path === "/readyz") {
    const readiness = options.ready?.() ?? { ready: true, problems: [] };
    response
      .writeHead(readiness.ready ? 200 : 503, { "content-type": "text/plain" })
      .end(readiness.ready ? "ready\n" : `not ready\n${readiness.problems.join("\n")}\n`);
    return;
  }
  if (request.method === "GET" && path === "/metrics") {
    const body = await options.registry.metrics();
    response.writeHead(200, { "content-type": options.registry.contentType }).end(body);
    return;
  }
  if (options.webhooks && (await options.webhooks(request, response)) === true) return;
  response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
}
