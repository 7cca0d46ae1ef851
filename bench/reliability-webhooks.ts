/**
 * Webhook deliveries: GitHub's own example payloads (@octokit/webhooks-examples) with a field
 * removed or replaced (wrong types, huge strings, hostile repository names, overflowing
 * numbers), and hand-written deliveries (bodies that are not JSON or not objects, missing
 * headers, bad signatures, 5 MB and 26 MB bodies, unknown events, repeated delivery ids), posted
 * to the app's HTTP server with Probot's middleware and the app's handlers (webhookApp), whose
 * actions are recorded. What each delivery must lead to is decided here from docs/app.md ("The
 * loop and the webhooks"): which event asks for which reconcile, for which repository.
 */
import { createHash, createHmac, generateKeyPairSync } from "node:crypto";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { pino } from "pino";
import { createNodeMiddleware, createProbot } from "probot";
import { Registry } from "prom-client";
import { createAppServer } from "../src/app/server.ts";
import { type WebhookActions, webhookApp } from "../src/app/webhooks.ts";
import {
  crash,
  excerpt,
  type FamilySession,
  handled,
  type InputFamily,
  type Outcome,
  type ReliabilityCase,
} from "./reliability-case.ts";
import { expectedCommands } from "./reliability-commands.ts";
import {
  allPaths,
  familySeed,
  formatPathKeys,
  hostileValue,
  nested,
  type PathKey,
  sample,
  withAt,
} from "./reliability-values.ts";

const secret = "webhook secret of the reliability run";
const webhookPath = "/api/github/webhooks";

/** What the app was asked to do, as the recording actions saw it. */
type Action =
  | { kind: "trigger"; repository: string; reason: string }
  | {
      kind: "check";
      repository: string;
      pull: { number: number; headSha: string; fromFork: boolean };
    }
  | {
      kind: "pushed";
      repository: string;
      push: { number: number; nodeId: string; pusher: string; autoMergeBy?: string };
    }
  | { kind: "installation" };

interface Expectation {
  /** The delivery must be refused with a 4xx naming this. */
  reject?: string;
  /** Fields the app reads that are not GitHub's shape: a warning names one, nothing is done. */
  bad: string[];
  /** What must be asked of the app otherwise. */
  actions: Action[];
}

// ---- the oracle ----

/** GitHub's owner/name: an owner of letters, digits, '-' (and '_' for managed users), a name of letters, digits, '.', '_', '-'. */
function isRepositoryName(value: unknown): value is string {
  if (typeof value !== "string") return false;
  const [owner, name, ...more] = value.split("/");
  if (more.length > 0 || owner === undefined || name === undefined) return false;
  const ownerOk = /^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(owner) && owner.length <= 100;
  const nameOk =
    /^[A-Za-z0-9._-]+$/.test(name) && name.length <= 100 && name !== "." && name !== "..";
  return ownerOk && nameOk;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function at(payload: unknown, path: string): unknown {
  let value = payload;
  for (const key of path.split("."))
    value = isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
  return value;
}

type Check = (value: unknown) => boolean;
const text: Check = (value) => typeof value === "string";
const object: Check = isObject;

/** The fields of `checks` that fail, the shallowest first (a missing object hides its fields). */
function badFields(payload: unknown, checks: [string, Check][]): string[] {
  const bad: string[] = [];
  for (const [path, check] of checks) {
    if (bad.some((parent) => path.startsWith(`${parent}.`))) continue;
    if (!check(at(payload, path))) bad.push(path);
  }
  return bad;
}

/** The fields of a pull_request event every handler reads. */
const pullRequestFields: [string, Check][] = [
  ["pull_request", object],
  ["pull_request.number", (v) => Number.isSafeInteger(v) && (v as number) > 0],
  ["pull_request.head", object],
  ["pull_request.head.ref", text],
  [
    "pull_request.head.sha",
    (v) => typeof v === "string" && /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(v),
  ],
  ["pull_request.head.repo", (v) => v === null || (isObject(v) && typeof v.full_name === "string")],
];

/** What a push to the bot's branch is read for besides: the pull request's id, who pushed, and who turned auto-merge on. */
function pushFields(payload: unknown): [string, Check][] {
  const absent: Check = (v) => v === undefined || v === null;
  const enabledBy = at(payload, "pull_request.auto_merge.enabled_by");
  return [
    ["pull_request.node_id", text],
    ["pull_request.auto_merge", (v) => absent(v) || isObject(v)],
    ["pull_request.auto_merge.enabled_by", (v) => absent(v) || isObject(v)],
    ["pull_request.auto_merge.enabled_by.login", (v) => !isObject(enabledBy) || text(v)],
    ["sender", object],
    ["sender.login", text],
  ];
}

const botBranch = /^pr-autoscaler\/[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/i;

/** What docs/app.md says a signed delivery of `event` with this payload leads to. */
function expectDelivery(event: string, payload: unknown): Expectation {
  if (!isObject(payload)) return { reject: "not a JSON object", bad: [], actions: [] };
  if (Object.hasOwn(payload, "installation") && payload.installation !== null) {
    const id = at(payload, "installation.id");
    if (!Number.isSafeInteger(id) || (id as number) <= 0)
      return { reject: "installation", bad: [], actions: [] };
  }
  const action = Object.hasOwn(payload, "action") ? payload.action : undefined;
  const repository = [
    ["repository", object],
    ["repository.full_name", isRepositoryName],
  ] as [string, Check][];
  const name = () => at(payload, "repository.full_name") as string;
  const outcome = (checks: [string, Check][], actions: () => Action[]): Expectation => {
    const bad = badFields(payload, checks);
    return bad.length > 0 ? { bad, actions: [] } : { bad, actions: actions() };
  };
  switch (event) {
    case "push":
      return outcome([...repository, ["repository.default_branch", text], ["ref", text]], () =>
        at(payload, "ref") === `refs/heads/${at(payload, "repository.default_branch")}`
          ? [{ kind: "trigger", repository: name(), reason: "push" }]
          : [],
      );
    case "pull_request": {
      if (!["opened", "reopened", "synchronize", "closed"].includes(action as string))
        return { bad: [], actions: [] };
      const read = outcome([...repository, ...pullRequestFields], () => []);
      if (read.bad.length > 0) return read;
      if (action === "closed")
        return {
          bad: [],
          actions: [{ kind: "trigger", repository: name(), reason: "pull-request" }],
        };
      const headRepo = at(payload, "pull_request.head.repo") as { full_name: string } | null;
      const fromFork =
        headRepo === null || headRepo.full_name.toLowerCase() !== name().toLowerCase();
      const ref = at(payload, "pull_request.head.ref") as string;
      const ours = !fromFork && botBranch.test(ref) && !ref.includes("..");
      const number = at(payload, "pull_request.number") as number;
      if (!ours) {
        const headSha = at(payload, "pull_request.head.sha") as string;
        const pull = { number, headSha, fromFork };
        return { bad: [], actions: [{ kind: "check", repository: name(), pull }] };
      }
      if (action !== "synchronize") return { bad: [], actions: [] };
      // A push to the bot's branch: who pushed, and whose auto-merge is on.
      return outcome(pushFields(payload), () => {
        const by = at(payload, "pull_request.auto_merge.enabled_by.login") as string | undefined;
        const push = {
          number,
          nodeId: at(payload, "pull_request.node_id") as string,
          pusher: at(payload, "sender.login") as string,
          ...(by === undefined ? {} : { autoMergeBy: by }),
        };
        return [{ kind: "pushed", repository: name(), push }];
      });
    }
    case "issue_comment": {
      if (action !== "created") return { bad: [], actions: [] };
      return outcome(
        [
          ...repository,
          ["comment", object],
          ["comment.body", (v) => v === undefined || v === null || typeof v === "string"],
          ["sender", object],
          ["sender.login", text],
          ["sender.type", (v) => v === undefined || typeof v === "string"],
        ],
        () => {
          const login = at(payload, "sender.login") as string;
          const bot = at(payload, "sender.type") === "Bot" || login.endsWith("[bot]");
          const body = (at(payload, "comment.body") as string | null | undefined) ?? "";
          return !bot && expectedCommands(body).length > 0
            ? [{ kind: "trigger", repository: name(), reason: "comment" }]
            : [];
        },
      );
    }
    case "check_suite":
      if (action !== "completed") return { bad: [], actions: [] };
      return outcome(repository, () => [{ kind: "trigger", repository: name(), reason: "checks" }]);
    case "status":
      return outcome(repository, () => [{ kind: "trigger", repository: name(), reason: "checks" }]);
    case "installation":
    case "installation_repositories":
      return { bad: [], actions: [{ kind: "installation" }] };
    default:
      return { bad: [], actions: [] };
  }
}

// ---- deliveries ----

interface Delivery {
  event: string | null;
  body: string;
  /** "valid" signs the body with the secret; a string is sent as is; null sends none. */
  signature: "valid" | string | null;
  id: string | null;
  contentType: string | null;
  /** Set when the delivery must be refused whatever its body (headers, signature). */
  mustReject?: string;
  /** Sent this many times with the same delivery id. */
  times?: number;
}

function sign(body: string, key = secret): string {
  return `sha256=${createHmac("sha256", key).update(body).digest("hex")}`;
}

/** A delivery id that is the same in every run (GitHub's are GUIDs; the app reads them only in logs). */
function deliveryId(body: string): string {
  const hex = createHash("sha256").update(body).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function delivery(event: string, body: string, change: Partial<Delivery> = {}): Delivery {
  return {
    event,
    body,
    signature: "valid",
    id: deliveryId(body),
    contentType: "application/json",
    ...change,
  };
}

interface Answer {
  status: number;
  text: string;
  actions: Action[];
  warnings: string[];
}

interface Server {
  post(delivery: Delivery): Promise<Answer>;
  close(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const { privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const logs: string[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => void logs.push(line) });
  const probot = createProbot({ env: {}, overrides: { appId: 1, privateKey, secret, log } });
  const recorded: Action[] = [];
  const actions: WebhookActions = {
    trigger(repository, reason) {
      recorded.push({ kind: "trigger", repository, reason });
    },
    async checkPullRequest(repository, pull) {
      recorded.push({ kind: "check", repository, pull: { ...pull } });
    },
    async botBranchPushed(repository, push) {
      const { autoMergeBy, ...rest } = push;
      const by = autoMergeBy === undefined ? {} : { autoMergeBy };
      recorded.push({ kind: "pushed", repository, push: { ...rest, ...by } });
    },
    async installationChanged() {
      recorded.push({ kind: "installation" });
    },
  };
  const webhooks = await createNodeMiddleware(webhookApp(actions), {
    probot,
    webhooksPath: webhookPath,
  });
  const server = createAppServer({ registry: new Registry(), webhooks });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${webhookPath}`;
  return {
    async post(sent) {
      logs.length = 0;
      recorded.length = 0;
      const headers: Record<string, string> = {};
      if (sent.contentType !== null) headers["content-type"] = sent.contentType;
      if (sent.event !== null) headers["x-github-event"] = sent.event;
      if (sent.id !== null) headers["x-github-delivery"] = sent.id;
      if (sent.signature !== null)
        headers["x-hub-signature-256"] =
          sent.signature === "valid" ? sign(sent.body) : sent.signature;
      const response = await fetch(url, { method: "POST", headers, body: sent.body });
      const answer = await response.text();
      const warnings = logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 40);
      return { status: response.status, text: answer, actions: [...recorded], warnings };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function judge(sent: Delivery, answer: Answer): Outcome {
  const shown = `${answer.status} ${excerpt(answer.text, 120)}`;
  if (answer.status >= 500) return crash(`answered ${shown}`);
  let expectation: Expectation;
  if (sent.mustReject !== undefined)
    expectation = { reject: sent.mustReject, bad: [], actions: [] };
  else {
    let payload: unknown;
    try {
      payload = JSON.parse(sent.body);
    } catch {
      payload = Symbol("not JSON");
    }
    expectation =
      typeof payload === "symbol"
        ? { reject: "Invalid JSON", bad: [], actions: [] }
        : expectDelivery(sent.event ?? "", payload);
  }
  const acted =
    answer.actions.length > 0 ? `; asked ${JSON.stringify(answer.actions).slice(0, 200)}` : "";
  if (expectation.reject !== undefined) {
    if (answer.status < 400 || answer.status >= 500)
      return crash(`not refused (${expectation.reject}): ${shown}${acted}`);
    if (acted) return crash(`refused, yet acted on${acted}`);
    if (answer.text.trim() === "") return crash(`refused without a message: ${answer.status}`);
    return { kind: "clear-error", detail: shown };
  }
  if (answer.status < 200 || answer.status >= 300) return crash(`answered ${shown}, expected 2xx`);
  if (expectation.bad.length > 0) {
    if (acted)
      return crash(`acted on a payload whose ${expectation.bad.join(", ")} is wrong${acted}`);
    const warning = answer.warnings.find(
      (line) =>
        line.includes(sent.event ?? "") && expectation.bad.some((field) => line.includes(field)),
    );
    if (!warning)
      return crash(`${expectation.bad.join(", ")} wrong, and no warning names the event and field`);
    return { kind: "clear-error", detail: excerpt(warning, 200) };
  }
  if (JSON.stringify(answer.actions) !== JSON.stringify(expectation.actions))
    return crash(
      `asked ${JSON.stringify(answer.actions).slice(0, 200)}, expected ${JSON.stringify(expectation.actions).slice(0, 200)}`,
    );
  return handled(
    answer.actions.length === 0 ? "nothing to do" : JSON.stringify(answer.actions).slice(0, 120),
  );
}

function webhookCase(
  id: string,
  server: () => Server,
  sent: Delivery,
  what: string,
): ReliabilityCase {
  return {
    id,
    input: what,
    payload: () => ({
      ...sent,
      body: sent.body.length > 100_000 ? `${sent.body.slice(0, 100_000)}…` : sent.body,
    }),
    async run(): Promise<Outcome> {
      let outcome: Outcome = handled();
      for (let time = 0; time < (sent.times ?? 1); time++) {
        outcome = judge(sent, await server().post(sent));
        if (outcome.kind === "crash") return outcome;
      }
      return outcome;
    },
  };
}

// ---- base payloads ----

interface Base {
  name: string;
  event: string;
  payload: Record<string, unknown>;
}

function examples(event: string): Record<string, unknown>[] {
  const list = createRequire(import.meta.url)(
    "@octokit/webhooks-examples/api.github.com/index.json",
  ) as {
    name: string;
    examples: Record<string, unknown>[];
  }[];
  return list.find((entry) => entry.name === event)?.examples ?? [];
}

/** A payload GitHub published for the event, copied and changed by `change`. */
function example(
  event: string,
  index: number,
  // biome-ignore lint/suspicious/noExplicitAny: payloads are GitHub's JSON, edited field by field.
  change: (payload: Record<string, any>) => void = () => {},
): Record<string, unknown> {
  const payload = structuredClone(examples(event)[index]) as Record<string, unknown>;
  if (payload === undefined) throw new Error(`no example ${index} of ${event}`);
  change(payload);
  return payload;
}

function bases(): Base[] {
  return [
    { name: "push-tag", event: "push", payload: example("push", 0) },
    { name: "push-default", event: "push", payload: example("push", 4) },
    { name: "comment-prose", event: "issue_comment", payload: example("issue_comment", 0) },
    {
      name: "comment-command",
      event: "issue_comment",
      payload: example("issue_comment", 0, (p) => {
        p.comment.body = "Movie night.\r\n/autoscaler scale workers=5";
      }),
    },
    {
      name: "comment-bot",
      event: "issue_comment",
      payload: example("issue_comment", 0, (p) => {
        p.comment.body = "/autoscaler pause";
        p.sender = { ...p.sender, login: "pr-autoscaler[bot]", type: "Bot" };
      }),
    },
    { name: "pr-opened", event: "pull_request", payload: example("pull_request", 0) },
    { name: "pr-closed", event: "pull_request", payload: example("pull_request", 3) },
    { name: "pr-reopened", event: "pull_request", payload: example("pull_request", 18) },
    { name: "pr-synchronize", event: "pull_request", payload: example("pull_request", 22) },
    {
      name: "pr-ours",
      event: "pull_request",
      payload: example("pull_request", 22, (p) => {
        p.pull_request.head.ref = "pr-autoscaler/nodes-workers";
      }),
    },
    { name: "pr-labeled", event: "pull_request", payload: example("pull_request", 8) },
    { name: "check-suite-completed", event: "check_suite", payload: example("check_suite", 0) },
    { name: "check-suite-requested", event: "check_suite", payload: example("check_suite", 4) },
    { name: "status", event: "status", payload: example("status", 0) },
    { name: "installation-created", event: "installation", payload: example("installation", 1) },
    {
      name: "installation-repositories",
      event: "installation_repositories",
      payload: example("installation_repositories", 0),
    },
  ];
}

/** The fields the handlers read: most changes land on one of them. */
const readFields = [
  "repository",
  "repository.full_name",
  "repository.default_branch",
  "ref",
  "action",
  "pull_request",
  "pull_request.number",
  "pull_request.head",
  "pull_request.head.ref",
  "pull_request.head.sha",
  "pull_request.head.repo",
  "pull_request.head.repo.full_name",
  "comment",
  "comment.body",
  "sender",
  "sender.login",
  "sender.type",
  "installation",
  "installation.id",
];

const hostileNames = [
  "../../etc/passwd",
  "octocat/hello/world",
  "octocat",
  "/hello",
  "octocat/",
  "octocat/..",
  "octocat/.",
  "-octocat/hello",
  "octo cat/hello",
  "octocat/hello\n",
  "octocat/hello?x=1",
  "https://github.com/octocat/hello",
  "octocat/héllo",
  "octocat\u202e/olleh",
  "Codertocat/Hello-World ",
  "CODERTOCAT/hello-world",
  `${"a".repeat(101)}/b`,
  "octocat/hello.git",
];

/** Raw JSON number tokens: JSON.parse gives Infinity, -0, rounded or fractional numbers. */
const rawNumbers = [
  "1e999",
  "-1e999",
  "-1",
  "-0",
  "0",
  "1.5",
  "1e21",
  "123456789012345678901234567890",
];
const placeholder = "\u0000raw-number\u0000";

interface WebhookChange {
  base: number;
  focused: boolean;
  field: number;
  op: "replace" | "remove" | "raw-number" | "name" | "huge" | "nested";
  value: unknown;
  number: string;
  name: string;
}

const webhookChange: fc.Arbitrary<WebhookChange> = fc.record({
  base: fc.nat(),
  focused: fc.constantFrom(true, true, true, false),
  field: fc.nat(),
  op: fc.constantFrom(
    "replace",
    "replace",
    "replace",
    "remove",
    "remove",
    "raw-number",
    "name",
    "name",
    "huge",
    "nested",
  ),
  value: hostileValue,
  number: fc.constantFrom(...rawNumbers),
  name: fc.constantFrom(...hostileNames),
});

function changedDelivery(list: Base[], change: WebhookChange): { sent: Delivery; what: string } {
  const base = list[change.base % list.length] as Base;
  const present = readFields.filter((field) => at(base.payload, field) !== undefined);
  const paths =
    change.focused && present.length > 0
      ? present.map((field) => field.split("."))
      : allPaths(base.payload).filter((path) => path.length > 0);
  const path = paths[change.field % paths.length] as PathKey[];
  const where = `${base.name} ${formatPathKeys(path)}`;
  const json = (value: unknown) => JSON.stringify(withAt(base.payload, path, value)) ?? "";
  switch (change.op) {
    case "remove":
      return { sent: delivery(base.event, json(undefined)), what: `${where} removed` };
    case "raw-number":
      return {
        sent: delivery(
          base.event,
          json(placeholder).replace(JSON.stringify(placeholder), change.number),
        ),
        what: `${where} = ${change.number}`,
      };
    case "name":
      return {
        sent: delivery(base.event, json(change.name)),
        what: `${where} = ${excerpt(change.name, 40)}`,
      };
    case "huge":
      return {
        sent: delivery(base.event, json("x".repeat(1_000_000))),
        what: `${where} = 1 MB string`,
      };
    case "nested":
      return { sent: delivery(base.event, json(nested(300))), what: `${where} = 300-deep object` };
    case "replace":
      return {
        sent: delivery(base.event, json(change.value)),
        what: `${where} = ${(JSON.stringify(change.value) ?? "undefined").slice(0, 40)}`,
      };
  }
}

function handWritten(list: Base[]): [string, Delivery][] {
  const body = (name: string) => JSON.stringify(list.find((base) => base.name === name)?.payload);
  const push = body("push-default");
  const comment = (text: string) =>
    JSON.stringify(
      example("issue_comment", 0, (p) => {
        p.comment.body = text;
      }),
    );
  const fixed = "5e3f1b8a-0000-4000-8000-000000000001";
  return [
    ["unsigned", delivery("push", push, { signature: null, mustReject: "x-hub-signature-256" })],
    [
      "wrong-secret",
      delivery("push", push, { signature: sign(push, "not the secret"), mustReject: "signature" }),
    ],
    [
      "signature-of-other-body",
      delivery("push", push, { signature: sign(`${push} `), mustReject: "signature" }),
    ],
    ["signature-empty", delivery("push", push, { signature: "", mustReject: "signature" })],
    [
      "signature-garbage",
      delivery("push", push, { signature: "sha256=zz", mustReject: "signature" }),
    ],
    [
      "signature-sha1-prefix",
      delivery("push", push, {
        signature: sign(push).replace("sha256", "sha1"),
        mustReject: "signature",
      }),
    ],
    [
      "signature-uppercase-hex",
      delivery("push", push, { signature: sign(push).toUpperCase(), mustReject: "signature" }),
    ],
    ["no-event-header", delivery("push", push, { event: null, mustReject: "x-github-event" })],
    ["no-delivery-id", delivery("push", push, { id: null, mustReject: "x-github-delivery" })],
    ["no-content-type", delivery("push", push, { contentType: null, mustReject: "Content-Type" })],
    [
      "form-encoded",
      delivery("push", `payload=${encodeURIComponent(push)}`, {
        contentType: "application/x-www-form-urlencoded",
        mustReject: "Content-Type",
      }),
    ],
    ["not-json", delivery("push", "this is not JSON")],
    ["truncated-json", delivery("push", push.slice(0, Math.floor(push.length / 2)))],
    ["empty-body", delivery("push", "")],
    ["bom", delivery("push", `\ufeff${push}`)],
    ["json-null", delivery("push", "null")],
    ["json-number", delivery("push", "5")],
    ["json-string", delivery("push", '"push"')],
    ["json-true", delivery("issue_comment", "true")],
    ["json-array", delivery("push", `[${push}]`)],
    ["json-empty-object", delivery("push", "{}")],
    ["unknown-event", delivery("frobnicate", push)],
    ["event-with-action-suffix", delivery("push.created", push)],
    ["event-of-other-payload", delivery("issue_comment", push)],
    ["duplicate-delivery-id", delivery("push", push, { id: fixed, times: 2 })],
    [
      "duplicate-comment-delivery",
      delivery("issue_comment", comment("/autoscaler pause"), { id: fixed, times: 3 }),
    ],
    [
      "body-5mb-command-at-end",
      delivery("issue_comment", comment(`${"Movie night. ".repeat(400_000)}\n/autoscaler pause`)),
    ],
    [
      "body-26mb",
      delivery("issue_comment", comment("x".repeat(26 * 1024 * 1024)), { mustReject: "25 MB" }),
    ],
    [
      "deep-nesting",
      delivery("push", `${push.slice(0, -1)},"extra":${"[".repeat(50_000)}${"]".repeat(50_000)}}`),
    ],
    [
      "proto-key",
      delivery("push", push.replace('"ref":', '"__proto__":{"ref":"refs/heads/master"},"ref":')),
    ],
    [
      "duplicate-key-ref",
      delivery(
        "push",
        push.replace(
          '"ref":"refs/heads/master"',
          '"ref":"refs/heads/master","ref":"refs/heads/other"',
        ),
      ),
    ],
    [
      "lone-surrogate-name",
      delivery(
        "push",
        push.replace('"full_name":"Codertocat/Hello-World"', '"full_name":"Codertocat/\\ud800"'),
      ),
    ],
    [
      "installation-id-string",
      delivery(
        "installation",
        JSON.stringify(
          example("installation", 1, (p) => {
            p.installation.id = "957387";
          }),
        ),
      ),
    ],
    [
      "installation-null",
      delivery(
        "installation",
        JSON.stringify(
          example("installation", 1, (p) => {
            p.installation = null;
          }),
        ),
      ),
    ],
    [
      "installation-id-negative",
      delivery(
        "push",
        JSON.stringify(
          example("push", 4, (p) => {
            p.installation = { id: -1 };
          }),
        ),
      ),
    ],
    [
      "installation-id-overflow",
      delivery(
        "status",
        JSON.stringify(
          example("status", 0, (p) => {
            p.installation = { id: 957387 };
          }),
        ).replace('"id":957387', '"id":1e999'),
      ),
    ],
    ["comment-command-in-code", delivery("issue_comment", comment("```\n/autoscaler pause\n```"))],
    ["comment-quoted-command", delivery("issue_comment", comment("> /autoscaler pause"))],
    [
      "comment-null-body",
      delivery(
        "issue_comment",
        JSON.stringify(
          example("issue_comment", 0, (p) => {
            p.comment.body = null;
          }),
        ),
      ),
    ],
    ["comment-command-mid-line", delivery("issue_comment", comment("run /autoscaler pause later"))],
    [
      "comment-bot-login-user-type",
      delivery(
        "issue_comment",
        JSON.stringify(
          example("issue_comment", 0, (p) => {
            p.comment.body = "/autoscaler pause";
            p.sender = { ...p.sender, login: "renovate[bot]", type: "User" };
          }),
        ),
      ),
    ],
    [
      "pr-from-fork-bot-branch",
      delivery(
        "pull_request",
        JSON.stringify(
          example("pull_request", 0, (p) => {
            p.pull_request.head.ref = "pr-autoscaler/nodes-workers";
            p.pull_request.head.repo = {
              ...p.pull_request.head.repo,
              full_name: "mallory/Hello-World",
            };
          }),
        ),
      ),
    ],
    [
      "pr-deleted-fork",
      delivery(
        "pull_request",
        JSON.stringify(
          example("pull_request", 0, (p) => {
            p.pull_request.head.repo = null;
          }),
        ),
      ),
    ],
  ];
}

export const webhooksFamily: InputFamily = {
  name: "webhooks",
  description:
    "webhook deliveries (GitHub's example payloads changed, and hand-written: bad signatures and headers, bodies that are not JSON objects, 5 and 26 MB) posted to the app's server and handlers",
  async open(options): Promise<FamilySession> {
    let server: Server | undefined;
    const running = () => {
      if (!server) throw new Error("the webhook server is not running");
      return server;
    };
    server = await startServer();
    const list = bases();
    const changes = sample(webhookChange, options.generated, familySeed(options.seed, "webhooks"));
    const cases = [
      ...list.map((base) =>
        webhookCase(
          `webhooks/base-${base.name}`,
          running,
          delivery(base.event, JSON.stringify(base.payload)),
          base.name,
        ),
      ),
      ...handWritten(list).map(([name, sent]) =>
        webhookCase(`webhooks/${name}`, running, sent, name),
      ),
      ...changes.map((change, index) => {
        const { sent, what } = changedDelivery(list, change);
        return webhookCase(`webhooks/gen-${index}`, running, sent, what);
      }),
    ];
    return {
      cases,
      close: async () => {
        await server?.close();
        server = undefined;
      },
    };
  },
};
