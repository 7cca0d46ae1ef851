import { InputError } from "../errors.ts";

/**
 * Prometheus could not answer a usage query: unreachable, an HTTP error, an error body, or an
 * answer of the wrong shape. The message names the server (without credentials) and the query.
 * Exit code 1: the command was understood, but the source it depends on failed.
 */
export class PrometheusError extends InputError {
  /** Server URL without credentials. */
  readonly url: string;
  readonly query: string | undefined;
  /** HTTP status, when Prometheus (or a proxy in front of it) answered. */
  readonly status: number | undefined;

  constructor(message: string, details: { url: string; query?: string; status?: number }) {
    super(message, undefined, 1);
    this.name = "PrometheusError";
    this.url = details.url;
    this.query = details.query;
    this.status = details.status;
  }
}
