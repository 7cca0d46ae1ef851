import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { createNodeMiddleware, createProbot } from "probot";
import { prometheusUsageSource } from "../cluster/prometheus-usage-source.ts";
import { UsageError } from "../errors.ts";
import type { BranchPush } from "../forge/forge.ts";
import type { MergeOctokit } from "../merge/merge-octokit.ts";
import type { Snapshot } from "../planning/snapshot.ts";
import { checkPullRequestConfig } from "../reconcile/config-check.ts";
import { reconcile } from "../reconcile/reconcile.ts";
import type { ReconcileResult, TriggerReason } from "../reconcile/reconcile-types.ts";
import type { RepoMemory } from "../reconcile/repo-memory.ts";
import { createRepositoryLedger } from "../reconcile/repository-ledger.ts";
import { answeringOctokit } from "./app-octokit.ts";
import { appSlug } from "./app-slug.ts";
import { afterBotBranchPush } from "./bot-branch-push.ts";
import { createClusterObserver, trackObservations } from "./cluster-observer.ts";
import { fetchWithTimeout } from "./fetch-with-timeout.ts";
import { createKubeLeaderElector, type LeaderElectionTiming } from "./leader-election.ts";
import { createAppMetrics, createGitHubWatch } from "./metrics.ts";
import { createNotifier } from "./notify.ts";
import { createRateLimitGuard, type WrappableOctokit } from "./rate-limit-guard.ts";
import { keepFresh, readinessOf } from "./readiness.ts";
import { createRepositoryRegistry } from "./repositories.ts";
import { createScheduler } from "./scheduler.ts";
import { createAppServer } from "./server.ts";
import type { AppSettings } from "./settings.ts";
import { webhookApp } from "./webhooks.ts";

export interface StartAppOptions {
  settings: AppSettings;
  log: Logger;
  /** How the cluster is read (tests give their own); default the Kubernetes API. */
  observe?: () => Promise<Snapshot>;
  /** Called after every reconcile (tests wait on it; the server only logs). */
  onReconciled?: (result: ReconcileResult) => void;
  /** Do not start the timer (tests trigger reconciles themselves). */
  timer?: boolean;
  /** Leader election's timing (default client-go's: 15 s, 10 s, 2 s; tests shorten it). */
  election?: LeaderElectionTiming;
  /** How long one GitHub request may take, answer included (default 30 s). */
  githubTimeoutMs?: number;
  /**
   * How long `stop` waits, in all, for running reconciles, the read for readiness and queued
   * chat notices before it lets go anyway (default 40 s).
   */
  stopWaitMs?: number;
  /**
   * How long the whole stop may take, the Lease's release included (default 50 s: 10 s under the
   * Deployment's 60 s grace period, for the process to exit). The release gets what is left.
   */
  stopBudgetMs?: number;
  /** How long one chat delivery may take (default 10 s). */
  notifyTimeoutMs?: number;
}

export interface RunningApp {
  /** `http://host:port` the server listens on. */
  url: string;
  trigger(repository: string, reason: TriggerReason): void;
  /**
   * Whether this replica runs the reconcile loop: it holds the Lease, or there is no election;
   * false once a stop has let go of GitHub, even while the Lease still names it.
   */
  leader(): boolean;
  idle(): Promise<void>;
  /**
   * Stops: waits (within the stop's wait) for the running reconcile, then releases the Lease,
   * and waits for queued chat notices within what is left of the wait. Called again, it gives
   * the same promise.
   */
  stop(): Promise<void>;
  /**
   * Stops at once (a second signal): a stop under way, or a new one, waits for nothing more:
   * the running reconcile is given up at its open request, queued notices are dropped, and the
   * Lease is released if that takes no more than 5 s. Resolves when the stop has ended.
   */
  stopNow(): Promise<void>;
}

/** Probot's Octokit as the app uses it: requests, and the hook the rate-limit guard adds. */
type GuardedOctokit = MergeOctokit & WrappableOctokit;

/** How often the list of installed repositories is read again besides installation events. */
const REFRESH_MS = 60 * 60 * 1000;
/** GitHub answers in well under a second; a request still open after this will not be answered. */
const GITHUB_TIMEOUT_MS = 30_000;
/**
 * The stop in all: 10 s under the Deployment's 60 s grace period (deploy/base/deployment.yaml),
 * so the process has exited before the pod is killed.
 */
const STOP_BUDGET_MS = 50_000;
/**
 * The running reconcile, the read for readiness and queued notices: within the budget, with
 * 10 s left for the Lease's release (a read and a write, each given up after 5 s).
 */
const STOP_WAIT_MS = 40_000;
/** How long a stop told to hurry still waits for the Lease's release: a few Lease requests. */
const RELEASE_NOW_MS = 5_000;

/**
 * Runs the GitHub App: the reconcile loop over every managed repository, and (with a webhook
 * secret) Probot's webhook endpoint, which only makes reconciles come sooner. `/healthz`, `/readyz` and
 * `/metrics` are served either way.
 */
export async function startApp(options: StartAppOptions): Promise<RunningApp> {
  const { settings, log } = options;
  // Aborted when `stop` lets go: every GitHub request of the app fails from then on, unsent.
  const halt = new AbortController();
  const metrics = createAppMetrics();
  const github = createGitHubWatch(metrics);
  const probot = createProbot({
    env: {},
    overrides: {
      appId: settings.appId,
      privateKey: settings.privateKey,
      // Without a secret no webhook endpoint is served; Probot still wants one.
      secret: settings.webhookSecret ?? crypto.randomUUID(),
      log,
      request: {
        fetch: fetchWithTimeout(options.githubTimeoutMs ?? GITHUB_TIMEOUT_MS, halt.signal),
      },
      // Every answer, each attempt of a retried request included, feeds the metrics.
      Octokit: answeringOctokit(github.answered),
      ...(settings.baseUrl ? { baseUrl: settings.baseUrl } : {}),
    },
  });
  const rateLimits = createRateLimitGuard({
    log,
    // A request waiting for an exhausted quota (up to a minute) ends with the app, unsent.
    stopped: halt.signal,
    onLimited: (installation, kind, untilMs) => metrics.rateLimited(installation, kind, untilMs),
  });
  // The metrics see answers at fetch, inside the guard: nothing of the requests it holds back.
  const auth = async (installationId?: number) =>
    rateLimits.guard(
      (await probot.auth(installationId)) as unknown as GuardedOctokit,
      installationId,
    );
  const slug = await appSlug(auth, settings.baseUrl ?? "https://api.github.com");
  const cluster = trackObservations(
    options.observe ??
      createClusterObserver({
        log,
        ...(settings.kubeconfig ? { kubeconfig: settings.kubeconfig } : {}),
        ...(settings.kubeContext ? { context: settings.kubeContext } : {}),
        ...(settings.prometheusUrl
          ? {
              usageSource: prometheusUsageSource({
                url: settings.prometheusUrl,
                ...(settings.prometheusToken
                  ? { headers: { authorization: `Bearer ${settings.prometheusToken}` } }
                  : {}),
                ...(settings.prometheusWindowSeconds
                  ? { windowSeconds: settings.prometheusWindowSeconds }
                  : {}),
              }),
            }
          : {}),
      }),
    { onRead: (error, at) => metrics.clusterRead(error, at) },
  );
  const registry = createRepositoryRegistry({
    auth,
    repositories: settings.repositories,
    botLogin: `${slug}[bot]`,
    observe: cluster.observe,
    settings: settings.reconcile,
    log,
  });
  // Shared by the reconciles of every repository: app-wide limits, pools claimed by one only.
  const ledger = createRepositoryLedger({
    log,
    // A repository not reconciled yet by this process (a follower, one just installed).
    request: (repository) => scheduler.trigger(repository, "start"),
  });
  const notifier = settings.notifyWebhookUrl
    ? createNotifier({
        url: settings.notifyWebhookUrl,
        log,
        ...(options.notifyTimeoutMs === undefined ? {} : { timeoutMs: options.notifyTimeoutMs }),
        secrets: [
          settings.privateKey,
          settings.webhookSecret ?? "",
          settings.prometheusToken ?? "",
        ],
        onDelivery: (event, outcome) => metrics.notified(event, outcome),
        // Followers reconcile on webhooks too: the leader alone tells of failure streaks.
        tellsHealth: () => elector?.isLeader() ?? true,
      })
    : undefined;
  let refreshed = false;
  let refreshedAt = 0;
  const refresh = async () => {
    try {
      await registry.refresh();
      metrics.managed(registry.names());
      ledger.manage(registry.names());
      refreshed = true;
      refreshedAt = Date.now();
    } catch (error) {
      log.error({ err: error }, "could not list the repositories the app is installed on");
    }
  };
  await refresh();

  const quietUntil = (repository: string) => {
    const installation = registry.installation(repository);
    return installation === undefined ? undefined : rateLimits.quietUntil(installation);
  };
  const scheduler = createScheduler({
    repositories: () => registry.names(),
    intervalMs: settings.intervalMs,
    // GitHub asked for quiet: the installation's repositories wait, whatever asks for them.
    notBefore: quietUntil,
    onDeferred: (repository, until, reasons) =>
      log.debug(
        { repository, reasons, until: new Date(until).toISOString() },
        "reconcile put off until GitHub's rate limit ends",
      ),
    run: async (repository, reasons) => {
      const target = registry.target(repository);
      if (!target) return;
      const started = performance.now();
      try {
        const result = await reconcile(target, reasons, { ledger });
        metrics.observe(result, (performance.now() - started) / 1000);
        logResult(log, result, reasons, quietUntil(repository));
        // Stopped under it: its unsent requests are no failure streak of the repository's.
        if (!halt.signal.aborted) void notifier?.reconciled(result);
        options.onReconciled?.(result);
      } catch (error) {
        if (halt.signal.aborted) {
          // Not a failure of the repository's: the app stopped under it.
          log.warn(
            { repository, reasons, err: error },
            "reconcile given up: the app stopped before it ended (the next leader resumes it)",
          );
          return;
        }
        metrics.failed(repository, (performance.now() - started) / 1000);
        void notifier?.failed(repository, error);
        log.error(
          { repository, reasons, err: error },
          "reconcile failed; the next one tries again",
        );
      }
    },
  });
  // With several replicas, the Lease's holder alone runs the timer; every replica takes
  // webhooks and triggers (a reconcile is idempotent, and creating a branch is the lock).
  const timer = options.timer !== false;
  const elector = settings.leaderElection
    ? createKubeLeaderElector({
        ...settings.leaderElection.timing,
        ...options.election,
        settings: settings.leaderElection,
        ...(settings.kubeconfig ? { kubeconfig: settings.kubeconfig } : {}),
        ...(settings.kubeContext ? { context: settings.kubeContext } : {}),
        log,
        onStartedLeading: () => {
          metrics.leader(true);
          if (timer) scheduler.start();
        },
        onStoppedLeading: () => {
          metrics.leader(false);
          scheduler.pause();
        },
      })
    : undefined;

  const actions = {
    trigger: (repository: string, reason: TriggerReason) => {
      if (registry.target(repository)) scheduler.trigger(repository, reason);
    },
    async checkPullRequest(
      repository: string,
      pull: { number: number; headSha: string; fromFork: boolean },
    ) {
      const target = registry.target(repository);
      if (!target?.github) return;
      try {
        const files = await target.github.commands.pullRequestFiles(pull.number);
        const action = await checkPullRequestConfig({
          forge: target.forge,
          owner: target.owner,
          repo: target.repo,
          number: pull.number,
          headSha: pull.headSha,
          ...(pull.fromFork ? { ref: `refs/pull/${pull.number}/head` } : {}),
          files,
          ...(target.github.readOtherRepo ? { readOtherRepo: target.github.readOtherRepo } : {}),
          ...(target.github.repoPathsAt ? { listFiles: target.github.repoPathsAt } : {}),
          knownTargets: knownTargets(target.memory),
        });
        log.info(
          { repository, pull: pull.number, check: action },
          "checked the configuration of a pull request",
        );
      } catch (error) {
        log.error(
          { repository, pull: pull.number, err: error },
          "could not check the configuration of a pull request",
        );
      }
    },
    async botBranchPushed(repository: string, push: BranchPush) {
      const target = registry.target(repository);
      if (target && (await afterBotBranchPush(target, push, log)))
        scheduler.trigger(repository, "pull-request");
    },
    async installationChanged() {
      await refresh();
      for (const repository of registry.names()) scheduler.trigger(repository, "installation");
    },
  };
  const webhooks = settings.webhookSecret
    ? await createNodeMiddleware(webhookApp(actions), {
        probot,
        webhooksPath: settings.webhookPath,
      })
    : undefined;
  const server = createAppServer({
    registry: metrics.registry,
    ...(webhooks ? { webhooks } : {}),
    ready: () =>
      readinessOf({
        intervalMs: settings.intervalMs,
        listed: () => refreshed,
        lastObservation: cluster.lastSuccessAt,
        lastGitHubSuccess: github.lastSuccessAt,
      }),
  });
  await listen(server, settings);
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
  log.info(
    {
      url,
      webhooks: webhooks ? settings.webhookPath : "off (no WEBHOOK_SECRET)",
      repositories: registry.names(),
    },
    "pr-autoscaler is running",
  );
  // Hourly, and at every interval while the first listing has not succeeded.
  const refresher = setInterval(() => {
    if (!refreshed || Date.now() - refreshedAt >= REFRESH_MS) void refresh();
  }, settings.intervalMs);
  refresher.unref();
  // On every replica, leader or not: readiness rests on recent reads, not on reconciles.
  const freshness = keepFresh({
    intervalMs: settings.intervalMs,
    lastObservation: cluster.lastSuccessAt,
    lastGitHubSuccess: github.lastSuccessAt,
    observe: cluster.observe,
    probeGitHub: async () => (await auth()).request("GET /app"),
    log,
  });
  metrics.leader(!elector);
  if (elector) elector.start();
  else if (timer) scheduler.start();

  // Aborted by `stopNow`: the stop waits for nothing more.
  const hurry = new AbortController();
  let stopping: Promise<void> | undefined;
  // Set once the stop lets go of GitHub: the replica leads no more, released Lease or not.
  let stepped = false;
  async function stopApp(): Promise<void> {
    clearInterval(refresher);
    ledger.close();
    const begun = performance.now();
    const budgetMs = options.stopBudgetMs ?? STOP_BUDGET_MS;
    const waitMs = Math.min(options.stopWaitMs ?? STOP_WAIT_MS, budgetMs);
    const left = () => Math.max(0, begun + waitMs - performance.now());
    const budgetLeft = () => Math.max(0, begun + budgetMs - performance.now());
    const waited = () => Math.round(performance.now() - begun);
    // A look for readiness only reads; one under way (a Kubernetes API that does not answer)
    // is waited for no longer than the reconciles, and is otherwise left to end with the process.
    const looked = freshness.stop();
    // The running reconcile's requests are not cut short: a write under way is let finish
    // (each request gives up after GITHUB_TIMEOUT_MS anyway), and the reconcile with it.
    if (!(await settlesWithin(scheduler.stop(), waitMs, hurry.signal)))
      log.warn(
        { waitedMs: waited() },
        "stopping: a reconcile is still running; the Lease is released anyway, and the reconcile is given up: it sends GitHub nothing more (the next leader resumes it: every step is safe to repeat)",
      );
    if (!(await settlesWithin(looked, left(), hurry.signal)))
      log.warn(
        { waitedMs: waited() },
        "stopping: a read of the cluster or GitHub for readiness is still running; the Lease is released anyway",
      );
    // From here no request of this app reaches GitHub: the one a reconcile waits on is given
    // up, and what a reconcile, a webhook or a refresh still asks for fails unsent. Before the
    // Lease is released, so the next leader never works beside it. An AbortError: Octokit
    // passes it on as it is, and its retry plugin does not repeat it.
    halt.abort(
      Object.assign(new Error("the app stopped: no more requests to GitHub"), {
        name: "AbortError",
      }),
    );
    // It runs no reconcile from here: not the leader, even while a release the budget cuts
    // short leaves the Lease naming it until it expires.
    stepped = true;
    metrics.leader(false);
    // Released after the last reconcile ended (or was given up), so the next leader starts
    // at once rather than when the Lease expires. Each Lease request gives up after a few
    // seconds, but a renewal under way comes first: with a Kubernetes API that does not
    // answer, the release is waited for within what is left of the budget, and, told to
    // hurry, RELEASE_NOW_MS more at most. The process exits without it.
    if (
      elector &&
      !(await settlesWithin(elector.stop(), budgetLeft(), hurry.signal, RELEASE_NOW_MS))
    )
      log.warn(
        { waitedMs: waited() },
        hurry.signal.aborted
          ? "stopping now: the Lease is not released yet; another replica takes over when it expires"
          : "stopping: the Lease is not released in time; another replica takes over when it expires",
      );
    // Notices of what was done (a pull request opened) go out after the release, within
    // what is left of the wait: a chat that does not answer holds the stop no longer.
    if (notifier) {
      await settlesWithin(notifier.idle(), left(), hurry.signal);
      const dropped = notifier.close();
      if (dropped.length > 0)
        log.warn(
          {
            waitedMs: waited(),
            notices: dropped.map((notice) => `${notice.event}: ${notice.text}`),
          },
          "stopping: chat notices not delivered in time are dropped",
        );
    }
    // A webhook delivery still being answered is cut short only by a stop told to hurry.
    if (hurry.signal.aborted) server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  return {
    url,
    trigger: actions.trigger,
    leader: () => !stepped && (elector?.isLeader() ?? true),
    async idle() {
      await scheduler.idle();
      await notifier?.idle();
    },
    stop() {
      stopping ??= stopApp();
      return stopping;
    },
    stopNow() {
      hurry.abort();
      stopping ??= stopApp();
      return stopping;
    },
  };
}

/** Listens on PORT and HOST; a port taken or an address this machine lacks names the setting. */
async function listen(server: Server, settings: AppSettings): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(settings.port, settings.host, () => resolve());
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = `${settings.host ?? "every address"} port ${settings.port}`;
    if (code === "EADDRINUSE")
      throw new UsageError(`PORT ${settings.port} is in use on ${where}: set PORT to a free port`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EAI_AGAIN")
      throw new UsageError(
        `HOST ${settings.host} is not an address of this machine: set HOST to one of its addresses, or leave it unset to listen on every address`,
      );
    if (code === "EACCES")
      throw new UsageError(
        `PORT ${settings.port} needs privileges this process lacks: set PORT to 1024 or above`,
      );
    throw error;
  }
}

/**
 * The pools' target files of the configuration the last reconcile read on the default branch
 * (none before the first, or while it has errors).
 */
function knownTargets(memory: RepoMemory): string[] {
  return memory.configuration?.value.config?.pools.map((pool) => pool.target.file) ?? [];
}

/**
 * Whether `work` ends within `ms`, and within `afterCutMs` of `cut` being aborted (at once by
 * default); it goes on either way.
 */
async function settlesWithin(
  work: Promise<unknown>,
  ms: number,
  cut?: AbortSignal,
  afterCutMs = 0,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  let onCut = () => {};
  const until = performance.now() + ms;
  const late = new Promise<false>((resolve) => {
    const within = (wait: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => resolve(false), wait);
    };
    // Cut: work that has ended still counts (it settles before a timer of 0).
    within(cut?.aborted ? Math.min(ms, afterCutMs) : ms);
    onCut = () => within(Math.min(Math.max(0, until - performance.now()), afterCutMs));
    cut?.addEventListener("abort", onCut, { once: true });
  });
  try {
    return await Promise.race([work.then(() => true), late]);
  } finally {
    clearTimeout(timer);
    cut?.removeEventListener("abort", onCut);
  }
}

/** One line per reconcile that did something; idle ones at debug level. */
export function logResult(
  log: Logger,
  result: ReconcileResult,
  reasons: TriggerReason[],
  quietUntil: number | undefined,
): void {
  const changed = result.pullRequests.filter((outcome) => outcome.action !== "unchanged");
  const summary = {
    repository: result.repository,
    reasons,
    // The run ended under a GitHub rate limit: what failed is done by the next, at this time.
    ...(quietUntil === undefined ? {} : { rateLimitedUntil: new Date(quietUntil).toISOString() }),
    status: result.status,
    head: result.head.slice(0, 7),
    // The note says why: the holds that left it open, the reason it was closed, GitHub's refusal.
    pullRequests: changed.map(
      (o) =>
        `${o.key}: ${o.action}${o.number ? ` #${o.number}` : ""}${o.note ? ` (${o.note})` : ""}`,
    ),
    // The note says why: a check still running, GitHub's refusal, a review asked for.
    merges: result.merges.map((m) => `#${m.number}: ${m.action}${m.note ? ` (${m.note})` : ""}`),
    commands: result.commands.map((c) => `${c.login}: ${c.outcome}`),
    dashboard: result.dashboard,
  };
  const misnamed = result.misnamedConfig;
  if (misnamed)
    log.warn(
      { repository: result.repository, file: misnamed.file },
      `no configuration: ${misnamed.message}; the repository is left alone`,
    );
  const unreadable = result.controlUnreadable;
  if (unreadable)
    log.warn(
      { repository: result.repository, problem: unreadable.problem, action: unreadable.action },
      unreadable.action === "held"
        ? "the dashboard's command state could not be read: everything is paused until someone comments /autoscaler resume, which forgets the pauses, requests, ignores and refusals it held"
        : "the dashboard's command state could not be read: this process's own is written back",
    );
  if (result.errors.length > 0)
    log.warn({ ...summary, errors: result.errors }, "reconciled with errors");
  else if (
    changed.length + result.merges.length + result.commands.length > 0 ||
    // "skipped": no dashboard to write (a repository without configuration).
    (result.dashboard !== "unchanged" && result.dashboard !== "skipped")
  )
    log.info(summary, "reconciled");
  else log.debug(summary, "reconciled, nothing to do");
}
