/**
 * `--prometheus URL` of `snapshot` and `plan`: a URL the client cannot use is a usage error
 * (exit 2) before anything is read, and its message never repeats credentials or a query.
 */
import { describe, expect, it } from "@jest/globals";
import { runCli } from "../support/cli.ts";

const PASS = "Prom-Url-Pa55word";

describe("a --prometheus URL that cannot be used", () => {
  it.each<[string, string, string]>([
    [
      "no scheme",
      `monitor:${PASS}@prometheus.home.arpa:9090`,
      `"monitor:***@prometheus.home.arpa:9090" must start with http:// or https://`,
    ],
    [
      "a query token",
      `http://prometheus.home.arpa:9090/?token=${PASS}`,
      `"http://prometheus.home.arpa:9090/?***" must not have a ?query`,
    ],
    [
      "a bad port",
      `http://monitor:${PASS}@prometheus.home.arpa:99999`,
      `"http://monitor:***@prometheus.home.arpa:99999" is not a valid URL`,
    ],
    [
      "a # in the password",
      `http://monitor:${PASS}#x@prometheus.home.arpa:9090`,
      `"http://monitor:***@prometheus.home.arpa:9090" is not a valid URL`,
    ],
    [
      "an @ and a / in the password",
      `http://monitor:a@b/${PASS}@prometheus.home.arpa:9090`,
      `"http://monitor:***@prometheus.home.arpa:9090" has an "@" after its host`,
    ],
    [
      "a space in the host",
      `http://monitor:${PASS}@prometheus home:9090`,
      `"http://monitor:***@prometheus home:9090" is not a valid URL`,
    ],
  ])("%s: refused with exit 2, without the password", async (_, url, message) => {
    for (const command of ["snapshot", "plan"]) {
      const run = await runCli([command, "--kubeconfig", "/nonexistent", "--prometheus", url]);
      expect({ command, code: run.code }).toEqual({ command, code: 2 });
      expect(run.stderr).toContain(`--prometheus: Prometheus URL ${message}`);
      expect(run.stdout + run.stderr).not.toContain(PASS);
    }
  });

  it("says how to write a password that holds a URL's own delimiters", async () => {
    const run = await runCli([
      "snapshot",
      "--prometheus",
      `http://monitor:${PASS}#x@prometheus.home.arpa:9090`,
    ]);
    expect(run.stderr).toContain("percent-encoded (%2F, %23, %3F, %40)");
  });
});
