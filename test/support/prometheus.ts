import { type ChildProcess, execFile, spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface RunningPrometheus {
  /** Base URL, e.g. http://127.0.0.1:40123. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a real Prometheus on 127.0.0.1 over the given OpenMetrics text: the samples are
 * backfilled with `promtool tsdb create-blocks-from openmetrics`, and Prometheus runs with no
 * scrape targets. Samples must fall inside the default retention (15 days before now).
 * Throws when prometheus or promtool is missing, so the tests fail rather than skip.
 */
export async function startPrometheus(openMetrics: string): Promise<RunningPrometheus> {
  const prometheus = await requireBinary("prometheus");
  const promtool = await requireBinary("promtool");
  const dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-prometheus-"));
  try {
    const input = join(dir, "series.om");
    const data = join(dir, "data");
    const config = join(dir, "prometheus.yml");
    await writeFile(input, openMetrics);
    await writeFile(config, "global:\n  scrape_interval: 15s\n");
    await backfill(promtool, input, data);
    // Port 0: Prometheus binds a free port itself and logs it. A port found free here and
    // handed over could be taken meanwhile, by another test's Prometheus too, which would then
    // answer this one's queries.
    const child = spawn(
      prometheus,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${data}`,
        "--web.listen-address=127.0.0.1:0",
        "--log.level=info",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    const url = await waitUntilReady(child);
    return { url, stop: () => stop(child, dir) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function requireBinary(name: string): Promise<string> {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  throw new Error(
    `${name} is not on PATH. These tests run against a real Prometheus: install it ` +
      "(Debian/Ubuntu: apt-get install prometheus, which brings prometheus and promtool).",
  );
}

async function backfill(promtool: string, input: string, data: string): Promise<void> {
  try {
    await run(promtool, ["tsdb", "create-blocks-from", "openmetrics", input, data]);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`promtool could not backfill the test series: ${stderr || error}`);
  }
}

/** The line Prometheus' web server logs once it listens, with the port it bound. */
const LISTENING = /msg="Listening on" address=(127\.0\.0\.1:\d+)/;

/** Prometheus' base URL once it listens there and says it is ready. */
async function waitUntilReady(child: ChildProcess): Promise<string> {
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let exited: number | null | undefined;
  child.once("exit", (code) => {
    exited = code;
  });
  child.once("error", (error) => {
    stderr += String(error);
    exited = null;
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      throw new Error(`prometheus exited with code ${exited} before it was ready:\n${stderr}`);
    }
    const address = LISTENING.exec(stderr)?.[1];
    try {
      if (address && (await fetch(`http://${address}/-/ready`)).ok) return `http://${address}`;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`prometheus was not ready within 30 s:\n${stderr}`);
}

async function stop(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
  await rm(dir, { recursive: true, force: true });
}
