import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { createAppLogger, settingsSecrets } from "../app/app-logger.ts";
import { registerApp } from "../app/register-app.ts";
import { hasAppCredentials, readAppSettings } from "../app/settings.ts";
import { startApp } from "../app/start-app.ts";
import { terminalStyle } from "../app/terminal-style.ts";
import { type StopSignal, signalExitCode } from "../apply/drain-signals.ts";
import { UsageError } from "../errors.ts";
import { integerFlag, parseCommandArgs } from "./args.ts";
import type { Command } from "./command.ts";
import { showDemo } from "./demo-command.ts";
import type { CliIo } from "./io.ts";

const environment = `Environment:
  APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH   the GitHub App (required)
  WEBHOOK_SECRET          the app's webhook secret; unset: no webhook endpoint, the loop alone
  PR_AUTOSCALER_REPOS     owner/name,… to manage (default: every repository the app is installed on)
  PR_AUTOSCALER_INTERVAL  time between reconciles of a repository (default 60s, jittered)
  PR_AUTOSCALER_MAX_OPEN, PR_AUTOSCALER_MAX_PER_HOUR   limits on the bot's pull requests (5, 3)
  PR_AUTOSCALER_COMMAND_POLL, PR_AUTOSCALER_MERGE_POLL  looks without webhooks (5m, 5m)
  KUBECONFIG, KUBE_CONTEXT  the cluster (default: ~/.kube/config, or in-cluster)
  PROMETHEUS_URL, PROMETHEUS_WINDOW   usage from Prometheus instead of metrics-server
  PROMETHEUS_TOKEN        bearer token sent to Prometheus, when it needs one
  NOTIFY_WEBHOOK_URL      Slack-compatible incoming webhook: pull requests opened and merged,
                          repeated failures (docs/observability.md)
  PORT (3000), HOST, WEBHOOK_PATH (/api/github/webhooks), GHE_HOST, GHE_PROTOCOL, LOG_LEVEL (info)
  LEADER_ELECTION, POD_NAME, POD_NAMESPACE   whether a Lease picks the replica that runs the loop
  LEADER_ELECTION_LEASE, LEADER_ELECTION_NAMESPACE, LEADER_ELECTION_LEASE_DURATION,
  LEADER_ELECTION_RENEW_DEADLINE, LEADER_ELECTION_RETRY_PERIOD   its Lease (docs/app.md)
`;

const serveUsage = `Usage: pr-autoscaler serve [--kubeconfig F] [--context C]

Runs the GitHub App: a reconcile of every managed repository every PR_AUTOSCALER_INTERVAL, and
GitHub's webhooks at WEBHOOK_PATH, which make a reconcile come sooner. /healthz, /readyz and
/metrics are served on the same port. Stops cleanly on SIGINT or SIGTERM (exit 0): the running
reconcile finishes, the Lease is released. A second signal stops now: the reconcile is given up,
the Lease still released (exit 130 or 143); a third exits at once. See docs/app.md and
docs/observability.md.

${environment}`;

const startUsage = `Usage: pr-autoscaler start

What \`npm start\` runs: the GitHub App (pr-autoscaler serve) when APP_ID is set, and otherwise
the demo (pr-autoscaler demo) against the example repo, with how to install the app.

${environment}`;

/** `pr-autoscaler serve`: the GitHub App. */
export const serveCommand: Command = {
  name: "serve",
  usage: serveUsage,
  async run(args, io) {
    const { values } = parseCommandArgs(
      args,
      { kubeconfig: { type: "string" }, context: { type: "string" } },
      { min: 0, max: 0, names: "no arguments" },
    );
    const env = withDotEnv(io);
    if (!hasAppCredentials(env))
      throw new UsageError(
        'no GitHub App configured: set APP_ID and PRIVATE_KEY (see README.md, "Installing the GitHub App"), or run `pr-autoscaler demo`',
      );
    return serve({ ...io, env }, values);
  },
};

/** `pr-autoscaler start` (`npm start`): the app when one is configured, else the demo. */
export const startCommand: Command = {
  name: "start",
  usage: startUsage,
  async run(args, io) {
    parseCommandArgs(args, {}, { min: 0, max: 0, names: "no arguments" });
    const env = withDotEnv(io);
    if (hasAppCredentials(env)) return serve({ ...io, env }, {});
    const style = terminalStyle(io.isTty, io.env);
    io.stdout(
      `${style.dim("No GitHub App is configured (APP_ID is not set), so this is the demo. With APP_ID and PRIVATE_KEY set, npm start runs the app.")}\n\n`,
    );
    return showDemo(io);
  },
};

const registerUsage = `Usage: pr-autoscaler register [--org ORG] [--webhook-url URL] [--port N]

Registers pr-autoscaler as a GitHub App from its manifest (app.yml: the permissions and events
README.md "Permissions" explains), through GitHub's manifest flow: open the address it prints,
confirm the app's name on GitHub, and the app's id, private key and webhook secret are written to
./.env and ./<app>.private-key.pem (mode 600). Then install the app on your infra repository and
run npm start, which reads ./.env.

Options:
  --org ORG          register the app under this organization (default: your user)
  --webhook-url URL  where GitHub sends webhooks: your server's public URL, ending in
                     /api/github/webhooks, or a smee.io channel for a local run; without it the
                     app has no webhooks and keeps in step with its reconcile loop alone
  --port N           port of the local page (default 3000)
`;

/** `pr-autoscaler register`: GitHub's manifest flow for app.yml. */
export const registerCommand: Command = {
  name: "register",
  usage: registerUsage,
  async run(args, io) {
    const { values } = parseCommandArgs(
      args,
      { org: { type: "string" }, "webhook-url": { type: "string" }, port: { type: "string" } },
      { min: 0, max: 0, names: "no arguments" },
    );
    const webhookUrl = values["webhook-url"];
    if (webhookUrl !== undefined && !/^https?:\/\/\S+$/.test(webhookUrl))
      throw new UsageError(
        `--webhook-url expects an http(s) URL, got ${JSON.stringify(webhookUrl)}`,
      );
    const port = integerFlag(values.port, "--port");
    const registered = await registerApp({
      dir: io.cwd,
      ...(values.org ? { org: values.org } : {}),
      ...(webhookUrl ? { webhookUrl } : {}),
      ...(port !== undefined ? { port } : {}),
      onListening: (url) =>
        io.stdout(`Open ${url} in your browser to register pr-autoscaler with GitHub.\n`),
    });
    io.stdout(
      [
        `Registered the GitHub App ${registered.slug} (App ID ${registered.appId}).`,
        `Wrote ${registered.envFile} and ${registered.keyFile}; keep both private.`,
        `Next: install it on your infra repository (${registered.htmlUrl}/installations/new), then run npm start.`,
        "",
      ].join("\n"),
    );
    return 0;
  },
};

/**
 * The environment with ./.env under it (what `register` wrote): variables already set win, so a
 * deployment's environment is never overridden by a stray file.
 */
function withDotEnv(io: CliIo): Record<string, string | undefined> {
  const file = join(io.cwd, ".env");
  if (!existsSync(file)) return io.env;
  return { ...parseEnv(readFileSync(file, "utf8")), ...io.env };
}

async function serve(io: CliIo, flags: { kubeconfig?: string; context?: string }): Promise<0> {
  const settings = readAppSettings(io.env, io.cwd);
  if (flags.kubeconfig) settings.kubeconfig = flags.kubeconfig;
  if (flags.context) settings.kubeContext = flags.context;
  const log = createAppLogger({ level: settings.logLevel, secrets: settingsSecrets(settings) });
  const app = await startApp({ settings, log });
  // The first SIGINT or SIGTERM stops; a second (either) stops now, still releasing the Lease;
  // a third exits at once. Kubernetes sends one SIGTERM, then SIGKILL after the grace period.
  let signals = 0;
  let hurried: StopSignal | undefined;
  await new Promise<void>((resolve) => {
    for (const name of ["SIGINT", "SIGTERM"] as const)
      process.on(name, () => {
        signals += 1;
        if (signals === 1) resolve();
        else if (signals === 2) {
          hurried = name;
          log.warn(
            { signal: name },
            "stopping now (a second signal): the running reconcile is given up, chat notices are dropped, and the Lease is released if that takes 5 s at most",
          );
          void app.stopNow();
        } else {
          log.warn(
            { signal: name },
            "stopped at once (a third signal): a Lease still held is taken over when it expires",
          );
          process.exit(signalExitCode(name));
        }
      });
  });
  log.info("stopping: waiting for running reconciles");
  await app.stop();
  // A stop cut short says so, as a shell does for a command a signal ended: 128 + its number.
  if (hurried !== undefined) process.exit(signalExitCode(hurried));
  // The app has stopped: the Lease is released and GitHub is sent nothing more. A read still
  // open (a Kubernetes API that does not answer keeps its socket for minutes) does not hold
  // the process: it exits with this command's code soon after, if it has not ended by itself.
  setTimeout(() => {
    log.warn("stopped: a request still open (a read no one answered) ends with the process");
    process.exit();
  }, 1000).unref();
  return 0;
}
