/**
 * Observe benchmark: how fast and how lean `pr-autoscaler snapshot` reads a large cluster,
 * against kubectl and against the floor (fetch + JSON.parse, nothing else).
 *
 *   node bench/observe.ts [--nodes 5000] [--pods 150000] [--vpas 10000] [--runs 1] [--no-kubectl]
 *                         [--bin bin/pr-autoscaler.js]
 *
 * The cluster is served by bench/observe-server.ts in its own process; each client runs as a
 * child process measured by /usr/bin/time (wall time, peak RSS, CPU time), or by polling
 * /proc when that is not installed. The load average is printed with each figure: other work
 * on the machine moves wall times far more than anything measured here. Prints figures;
 * asserts nothing.
 */
import { spawn } from "node:child_process";
import { existsSync, openSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "5000" },
    pods: { type: "string", default: "150000" },
    vpas: { type: "string", default: "10000" },
    runs: { type: "string", default: "1" },
    "no-kubectl": { type: "boolean", default: false },
    bin: { type: "string", default: "bin/pr-autoscaler.js" },
  },
});

const root = new URL("..", import.meta.url).pathname;
const node = process.execPath;
const pageSize = 500;

interface Measurement {
  seconds: number;
  peakRssMb: number;
  /** User + system CPU seconds, when /usr/bin/time measured them. */
  cpuSeconds?: number;
  /** One-minute load average when the client finished. */
  load: number;
  code: number | null;
  stderr: string;
}

async function startServer(kubeconfig: string) {
  const child = spawn(
    node,
    [
      join(root, "bench/observe-server.ts"),
      "--kubeconfig",
      kubeconfig,
      "--nodes",
      values.nodes,
      "--pods",
      values.pods,
      "--vpas",
      values.vpas,
      "--page-size",
      String(pageSize),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    if (line.startsWith("ready ")) return { child, url: line.slice("ready ".length) };
  }
  throw new Error("the benchmark server exited before it was ready");
}

/** Peak RSS of a running process from /proc (VmHWM), in MB. */
function highWaterMark(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

async function measure(command: string, args: string[], stdoutFile: string): Promise<Measurement> {
  const timeFile = `${stdoutFile}.time`;
  const useTime = existsSync("/usr/bin/time");
  const [program, argv]: [string, string[]] = useTime
    ? ["/usr/bin/time", ["-f", "%e %M %U %S", "-o", timeFile, command, ...args]]
    : [command, args];
  const started = performance.now();
  const child = spawn(program, argv, { stdio: ["ignore", openSync(stdoutFile, "w"), "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let peak = 0;
  const poll = useTime
    ? undefined
    : setInterval(() => {
        peak = Math.max(peak, highWaterMark(child.pid as number));
      }, 20);
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (poll) clearInterval(poll);
  const wall = (performance.now() - started) / 1000;
  const load = loadavg()[0] ?? 0;
  if (!useTime) return { seconds: wall, peakRssMb: peak, load, code, stderr };
  const [seconds, kilobytes, user, system] = (await readFile(timeFile, "utf8"))
    .trim()
    .split(/\s+/)
    .slice(-4)
    .map(Number);
  return {
    seconds: seconds ?? wall,
    peakRssMb: (kilobytes ?? 0) / 1024,
    cpuSeconds: (user ?? 0) + (system ?? 0),
    load,
    code,
    stderr,
  };
}

function best(runs: Measurement[]): Measurement {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

const dir = await mkdtemp(join(tmpdir(), "pr-autoscaler-bench-"));
const kubeconfig = join(dir, "kubeconfig");
const { child: server, url } = await startServer(kubeconfig);
const runs = Number(values.runs);
const results = new Map<string, Measurement>();
try {
  const clients: [string, string, string[]][] = [
    [
      "floor (fetch + JSON.parse)",
      node,
      [join(root, "bench/observe-floor.ts"), "--server", url, "--page-size", String(pageSize)],
    ],
    [
      "pr-autoscaler snapshot",
      node,
      [
        resolve(root, values.bin),
        "snapshot",
        "--kubeconfig",
        kubeconfig,
        "--metrics-max-age",
        "86400",
        "--page-size",
        String(pageSize),
      ],
    ],
  ];
  if (!values["no-kubectl"]) {
    clients.push([
      "kubectl get -o json",
      "kubectl",
      [
        "--kubeconfig",
        kubeconfig,
        "--cache-dir",
        join(dir, "kubectl-cache"),
        "get",
        "nodes,pods,vpa",
        "-A",
        "-o",
        "json",
        `--chunk-size=${pageSize}`,
      ],
    ]);
  }
  for (const [label, command, args] of clients) {
    const attempts: Measurement[] = [];
    for (let run = 0; run < runs; run++) {
      const result = await measure(command, args, join(dir, `out-${results.size}-${run}`));
      if (result.code !== 0) throw new Error(`${label} failed (${result.code}):\n${result.stderr}`);
      attempts.push(result);
    }
    const chosen = best(attempts);
    results.set(label, chosen);
    const cpu = chosen.cpuSeconds === undefined ? "" : `   CPU ${chosen.cpuSeconds.toFixed(1)} s`;
    process.stdout.write(
      `${label.padEnd(28)} ${chosen.seconds.toFixed(2).padStart(7)} s   peak RSS ${chosen.peakRssMb.toFixed(0).padStart(6)} MB${cpu}   load ${chosen.load.toFixed(1)}\n`,
    );
  }
} finally {
  server.kill("SIGTERM");
  await rm(dir, { recursive: true, force: true });
}

const ours = results.get("pr-autoscaler snapshot") as Measurement;
const floor = results.get("floor (fetch + JSON.parse)") as Measurement;
const kubectl = results.get("kubectl get -o json");
process.stdout.write(
  `\ncluster: ${values.nodes} nodes, ${values.pods} pods, ${values.vpas} VPAs; page size ${pageSize}; best of ${runs}\n`,
);
process.stdout.write(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}; Node.js ${process.version}\n`,
);
process.stdout.write(
  `snapshot / floor:   ${(ours.seconds / floor.seconds).toFixed(2)}x time (goal <= 1.5x)` +
    (ours.cpuSeconds && floor.cpuSeconds
      ? `, ${(ours.cpuSeconds / floor.cpuSeconds).toFixed(2)}x CPU`
      : "") +
    "\n",
);
if (kubectl) {
  process.stdout.write(
    `snapshot / kubectl: ${(ours.seconds / kubectl.seconds).toFixed(2)}x time (goal <= 1.0x), ${(ours.peakRssMb / kubectl.peakRssMb).toFixed(2)}x memory\n`,
  );
}
process.stdout.write(`snapshot peak RSS:  ${ours.peakRssMb.toFixed(0)} MB (goal <= 400 MB)\n`);
