/**
 * How long `pr-autoscaler report` takes to remove secrets from what it posts: a job log the size
 * the report keeps (12,000 characters), a large one, one long line without a line break (a
 * minified JSON log line, which a careless pattern scans quadratically) and a log full of key
 * lines. `node bench/redact.ts`; prints milliseconds per call.
 */
import { performance } from "node:perf_hooks";
import { redactSecrets } from "../src/apply/report-redact.ts";

const env = {
  GITHUB_TOKEN: "ghs_16C7e42F292c6912E7710c838347Ae178B4a",
  NOTIFY_WEBHOOK_URL: "https://hooks.slack.example/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
};

const planLines = [
  'proxmox_vm_qemu.worker["talos-worker-4"]: Refreshing state... [id=pve/qemu/104]',
  "Plan: 1 to add, 0 to change, 0 to destroy.",
  "pr-autoscaler guard: ok: 1 VM added (talos-worker-5), as expected",
  "node/talos-worker-4 cordoned",
  "evicting pod media/plex-7d9c5b8f6-x2x9z",
];

function log(size: number): string {
  let out = "";
  for (let i = 0; out.length < size; i++) out += `${planLines[i % planLines.length]}\n`;
  return out;
}

const keyBody = Array.from(
  { length: 25 },
  () => "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
).join("\n");

const cases: [string, string][] = [
  ["12,000-character job log", log(12_000)],
  ["1 MB job log", log(1_000_000)],
  ["100 kB line without a break", "x".repeat(100_000)],
  [
    "100 kB of base64 key lines, no BEGIN",
    `${keyBody}\n-----END RSA PRIVATE KEY-----\n`.repeat(60),
  ],
];

for (const [name, text] of cases) {
  redactSecrets(text, env);
  const runs = text.length > 200_000 ? 5 : 50;
  const start = performance.now();
  for (let i = 0; i < runs; i++) redactSecrets(text, env);
  const ms = (performance.now() - start) / runs;
  console.log(`${name} (${text.length.toLocaleString("en")} chars): ${ms.toFixed(2)} ms per call`);
}
