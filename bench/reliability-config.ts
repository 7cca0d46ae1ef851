/**
 * Configuration families: `.github/pr-autoscaler.yml` given to loadRepoConfig, and whole
 * repositories (the config and the policy files it extends) given to
 * validateRepoConfiguration. Each problem must come back as an issue with its file, line and
 * column; a config that is accepted must hold only finite numbers and consistent bounds.
 */
import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import { type ConfigIssue, loadRepoConfig } from "../src/policy/load-repo-config.ts";
import { validateRepoConfiguration } from "../src/policy/policy-validate.ts";
import { REPO_CONFIG_PATH } from "../src/policy/repo-config.ts";
import {
  crash,
  excerpt,
  type FamilySession,
  handled,
  type InputFamily,
  judgeError,
  type Outcome,
  type ReliabilityCase,
} from "./reliability-case.ts";
import {
  allPaths,
  familySeed,
  formatPathKeys,
  hostileValue,
  invariantViolations,
  type Mutation,
  mutate,
  mutation,
  nested,
  type PathKey,
  sample,
  withAt,
} from "./reliability-values.ts";

const fixture = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), "utf8");

const configFiles = (): string[] => [
  fixture("test/fixtures/config/full.yml"),
  fixture("test/fixtures/config/minimal.yml"),
  fixture("test/fixtures/config/pulumi-two-pools.yml"),
  fixture("examples/talos-proxmox/.github/pr-autoscaler.yml"),
  fixture("test/fixtures/policy/homelab-repo/.github/pr-autoscaler.yml"),
];

const policyFiles = (): string[] => [
  fixture("test/fixtures/policy/homelab-repo/.github/autoscaler/quiet-hours.yml"),
  ...readdirSync(new URL("../policies/", import.meta.url))
    .filter((name) => name.endsWith(".yml"))
    .sort()
    .map((name) => fixture(`policies/${name}`)),
];

const yamlSyntax = [
  ":",
  "- ",
  "  ",
  "\t",
  "{",
  "}",
  "[",
  "]",
  "&a ",
  "*a",
  "#",
  '"',
  "'",
  "---\n",
  "|\n",
];

/** A change to a parsed file: a value replaced, removed, an unknown key added, or text damage. */
interface DataChange {
  file: number;
  path: number;
  op: "replace" | "remove" | "unknown-key" | "wrap" | "text";
  value: unknown;
  text: Mutation;
}

const dataChange: fc.Arbitrary<DataChange> = fc.record({
  file: fc.nat(),
  path: fc.nat(),
  op: fc.constantFrom("replace", "replace", "replace", "remove", "unknown-key", "wrap", "text"),
  value: hostileValue,
  text: mutation(yamlSyntax),
});

/** The YAML text of `base` after `change`. */
function changedText(base: string, change: DataChange): { text: string; what: string } {
  if (change.op === "text") return { text: mutate(base, change.text), what: "text damage" };
  const data = parse(base) as unknown;
  const paths = allPaths(data);
  const path = paths[change.path % paths.length] as PathKey[];
  let changed: unknown;
  if (change.op === "replace") changed = withAt(data, path, change.value);
  else if (change.op === "remove") changed = withAt(data, path, undefined);
  else if (change.op === "wrap") changed = withAt(data, path, [pick(data, path)]);
  else {
    // Under the nearest mapping at or above the path.
    let at = path;
    while (at.length > 0 && !isMapping(pick(data, at))) at = at.slice(0, -1);
    changed = isMapping(pick(data, at)) ? withAt(data, [...at, "unknownKey"], change.value) : data;
  }
  // A number YAML cannot write as such (NaN, ±Infinity) is written as .nan/.inf, as a user might.
  return { text: stringify(changed ?? null), what: `${change.op} at ${formatPathKeys(path)}` };
}

function isMapping(value: unknown): boolean {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function pick(data: unknown, path: readonly PathKey[]): unknown {
  let value = data;
  for (const key of path) value = (value as Record<PathKey, unknown>)?.[key];
  return value;
}

/** Issues must each say where: the file, a line within it (or just past its end), a column. */
function issueProblems(issues: readonly ConfigIssue[], text: Record<string, string>): string[] {
  const problems: string[] = [];
  if (issues.length === 0) problems.push("refused without an issue");
  for (const issue of issues) {
    const lines = (text[issue.file] ?? "").split("\n").length;
    if (text[issue.file] === undefined) problems.push(`an issue in an unknown file ${issue.file}`);
    if (!(issue.line >= 1 && issue.line <= lines + 1)) {
      problems.push(`${issue.file}: line ${issue.line} is outside the file (${lines} lines)`);
    }
    if (!(issue.column >= 1)) problems.push(`${issue.file}: column ${issue.column}`);
    if (issue.message.trim() === "") problems.push(`${issue.file}:${issue.line}: an empty message`);
  }
  return problems;
}

interface PoolBounds {
  name?: string;
  min?: number;
  max?: number;
}

/** What an accepted config must hold: finite numbers, and min ≤ max in every pool. */
function configProblems(config: unknown): string[] {
  const problems = invariantViolations(config, "config").filter((p) =>
    / is (NaN|-?Infinity)$/.test(p),
  );
  const pools = ((config as { pools?: PoolBounds[] }).pools ?? []) as PoolBounds[];
  for (const pool of pools) {
    if (pool.min !== undefined && pool.max !== undefined && pool.min > pool.max) {
      problems.push(`pool ${pool.name}: min ${pool.min} > max ${pool.max}`);
    }
    for (const bound of [pool.min, pool.max]) {
      if (bound !== undefined && (bound < 0 || !Number.isInteger(bound))) {
        problems.push(`pool ${pool.name}: a node count of ${bound}`);
      }
    }
  }
  return problems;
}

function loadCase(id: string, text: string, what: string): ReliabilityCase {
  return {
    id,
    input: `${what}: ${excerpt(text, 100)}`,
    payload: () => ({ file: REPO_CONFIG_PATH, text }),
    run(): Outcome {
      let result: ReturnType<typeof loadRepoConfig>;
      try {
        result = loadRepoConfig(text, REPO_CONFIG_PATH);
      } catch (error) {
        return judgeError(error, REPO_CONFIG_PATH);
      }
      if (result.ok) {
        const problems = configProblems(result.config);
        return problems.length === 0
          ? handled("accepted")
          : crash(`accepted: ${problems.join("; ")}`);
      }
      const problems = issueProblems(result.issues, { [REPO_CONFIG_PATH]: text });
      return problems.length === 0
        ? { kind: "clear-error", detail: result.issues[0]?.message ?? "" }
        : crash(problems.join("; "));
    },
  };
}

const handWrittenConfigs: [string, string][] = [
  ["empty", ""],
  ["only-comments", "# nothing here\n"],
  ["null-document", "~\n"],
  ["scalar-document", "just a string\n"],
  ["list-document", "- pools\n"],
  ["pools-not-list", "pools: workers\n"],
  ["pool-not-mapping", "pools:\n  - workers\n"],
  ["max-nan", "pools:\n  - name: w\n    target: {file: a.tfvars, path: n}\n    max: .nan\n"],
  ["max-inf", "pools:\n  - name: w\n    target: {file: a.tfvars, path: n}\n    max: .inf\n"],
  ["max-negative", "pools:\n  - name: w\n    target: {file: a.tfvars, path: n}\n    max: -3\n"],
  ["max-fraction", "pools:\n  - name: w\n    target: {file: a.tfvars, path: n}\n    max: 2.5\n"],
  ["max-huge", "pools:\n  - name: w\n    target: {file: a.tfvars, path: n}\n    max: 1e308\n"],
  ["max-string", 'pools:\n  - name: w\n    target: {file: a.tfvars, path: n}\n    max: "5"\n'],
  [
    "min-above-max",
    "pools:\n  - name: w\n    target: {file: a.tfvars, path: n}\n    min: 6\n    max: 5\n",
  ],
  [
    "yaml11-boolean",
    "pools:\n  - name: w\n    target: {file: a.tfvars, path: n}\n    max: 5\n    scaleDown: {enabled: yes}\n",
  ],
  [
    "percent-zero",
    "pools:\n  - name: w\n    target: {file: a.tfvars, path: n}\n    max: 5\n    scaleUp: {cpu: 0}\n",
  ],
  [
    "percent-over",
    "pools:\n  - name: w\n    target: {file: a.tfvars, path: n}\n    max: 5\n    scaleUp: {cpu: 150}\n",
  ],
  [
    "duration-negative",
    "pools:\n  - name: w\n    target: {file: a.tfvars, path: n}\n    max: 5\n    cooldown: -5m\n",
  ],
  [
    "duration-huge",
    "pools:\n  - name: w\n    target: {file: a.tfvars, path: n}\n    max: 5\n    cooldown: 99999999999999999999d\n",
  ],
  [
    "memory-negative",
    "pools:\n  - name: w\n    target: {file: a.tfvars, path: n}\n    max: 5\n    newNode: {memory: -16Gi}\n",
  ],
  [
    "memory-garbage",
    "pools:\n  - name: w\n    target: {file: a.tfvars, path: n}\n    max: 5\n    newNode: {memory: 16 GB}\n",
  ],
  [
    "cron-garbage",
    'pools:\n  - name: w\n    target: {file: a.tfvars, path: n}\n    max: 5\n    schedules: [{name: s, cron: "* * * * * * * *", duration: 1h, min: 1}]\n',
  ],
  [
    "timezone-garbage",
    'pools:\n  - name: w\n    target: {file: a.tfvars, path: n}\n    max: 5\n    schedules: [{name: s, cron: "0 18 * * 5", timezone: Mars/Olympus, duration: 1h, min: 1}]\n',
  ],
  [
    "target-path-garbage",
    'pools:\n  - name: w\n    target: {file: a.tfvars, path: "a["}\n    max: 5\n',
  ],
  [
    "target-file-escape",
    "pools:\n  - name: w\n    target: {file: ../../etc/passwd, path: n}\n    max: 5\n",
  ],
  [
    "target-file-absolute",
    "pools:\n  - name: w\n    target: {file: /etc/passwd, path: n}\n    max: 5\n",
  ],
  [
    "duplicate-pool",
    "pools:\n  - name: w\n    target: {file: a.tfvars, path: n}\n    max: 5\n  - name: w\n    target: {file: b.tfvars, path: n}\n    max: 5\n",
  ],
  ["duplicate-key", "pools: []\npools: []\n"],
  ["unknown-key-typo", "pool:\n  - name: w\n"],
  ["proto-key", "__proto__:\n  polluted: true\npools: []\n"],
  ["tabs", "pools:\n\t- name: w\n"],
  ["unclosed-flow", "pools: [{name: w\n"],
  [
    "alias-bomb",
    `a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\npools: *e\n`,
  ],
  ["undefined-alias", "pools: *nothing\n"],
  ["deep-nesting", stringify({ pools: [{ name: "w", selector: nested(300) }] })],
  [
    "many-pools",
    stringify({
      pools: Array.from({ length: 2000 }, (_, i) => ({
        name: `p${i}`,
        target: { file: "a.tfvars", path: "n" },
        max: 5,
      })),
    }),
  ],
  ["bom", "\ufeffpools: []\n"],
  ["nul", "pools: []\u0000\n"],
  ["custom-tag", "pools: !include other.yml\n"],
  [
    "directive-yaml-1.1",
    "%YAML 1.1\n---\npools:\n  - name: w\n    target: {file: a.tfvars, path: n}\n    max: 0x05\n",
  ],
  ["two-documents", "pools: []\n---\npools: []\n"],
  ["automerge-not-mapping", "pools: []\nautomerge: yes\n"],
];

export const repoConfigFamily: InputFamily = {
  name: "repo-config",
  description:
    "`.github/pr-autoscaler.yml` (real ones changed, and hand-written) given to loadRepoConfig",
  async open(options): Promise<FamilySession> {
    const bases = configFiles();
    const changes = sample(dataChange, options.generated, familySeed(options.seed, "repo-config"));
    const cases = [
      ...handWrittenConfigs.map(([name, text]) => loadCase(`repo-config/${name}`, text, name)),
      ...changes.map((change, index) => {
        const { text, what } = changedText(bases[change.file % bases.length] as string, change);
        return loadCase(`repo-config/gen-${index}`, text, what);
      }),
    ];
    return { cases, close: async () => {} };
  },
};

/** A repository's files for validateRepoConfiguration: path → text. */
type RepoFiles = Record<string, string>;

function validateCase(id: string, files: RepoFiles, what: string): ReliabilityCase {
  return {
    id,
    input: `${what}: ${excerpt(JSON.stringify(files), 120)}`,
    payload: () => files,
    async run(): Promise<Outcome> {
      let result: Awaited<ReturnType<typeof validateRepoConfiguration>>;
      try {
        result = await validateRepoConfiguration({
          read: async (repo, path) => (repo === undefined ? files[path] : files[`${repo}:${path}`]),
          owner: "alice",
          repository: "alice/homelab-infra",
        });
      } catch (error) {
        return judgeError(error, Object.keys(files));
      }
      if (result.ok) {
        const problems = result.config ? configProblems(result.config) : [];
        return problems.length === 0 ? handled("valid") : crash(`accepted: ${problems.join("; ")}`);
      }
      const texts = Object.fromEntries(
        Object.entries(files).map(([path, text]) => [path.replace(/^[^:]+:/, ""), text]),
      );
      const problems = issueProblems(result.issues, texts);
      return problems.length === 0
        ? { kind: "clear-error", detail: result.issues[0]?.message ?? "" }
        : crash(problems.join("; "));
    },
  };
}

const minimalPools = "pools:\n  - name: w\n    target: {file: a.tfvars, path: n}\n    max: 5\n";
const policyPath = ".github/autoscaler/policy.yml";
const withExtends = (target: string, rest = "") =>
  `${minimalPools}automerge:\n  extends: ${JSON.stringify(target)}\n${rest}`;

const handWrittenRepos: [string, RepoFiles][] = [
  ["extends-missing-file", { [REPO_CONFIG_PATH]: withExtends(policyPath) }],
  ["extends-missing-preset", { [REPO_CONFIG_PATH]: withExtends("preset:reckless") }],
  ["extends-self", { [REPO_CONFIG_PATH]: withExtends(REPO_CONFIG_PATH) }],
  [
    "extends-cycle",
    {
      [REPO_CONFIG_PATH]: withExtends(policyPath),
      [policyPath]: `extends: ${REPO_CONFIG_PATH}\n`,
    },
  ],
  [
    "extends-too-deep",
    Object.fromEntries([
      [REPO_CONFIG_PATH, withExtends(".github/p0.yml")],
      ...Array.from({ length: 8 }, (_, i) => [
        `.github/p${i}.yml`,
        `extends: .github/p${i + 1}.yml\n`,
      ]),
      [".github/p8.yml", "rules: []\n"],
    ]),
  ],
  ["extends-other-repo-missing", { [REPO_CONFIG_PATH]: withExtends("alice/.github") }],
  ["extends-garbage-reference", { [REPO_CONFIG_PATH]: withExtends("::/..//\u0000") }],
  ["extends-url", { [REPO_CONFIG_PATH]: withExtends("https://example.invalid/policy.yml") }],
  ["extends-parent-dir", { [REPO_CONFIG_PATH]: withExtends("../../etc/passwd") }],
  [
    "policy-undefined-alias",
    { [REPO_CONFIG_PATH]: withExtends(policyPath), [policyPath]: "rules: *nothing\n" },
  ],
  [
    "policy-alias-bomb",
    {
      [REPO_CONFIG_PATH]: withExtends(policyPath),
      [policyPath]: `a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nrules: *e\n`,
    },
  ],
  ["config-undefined-alias", { [REPO_CONFIG_PATH]: `${minimalPools}automerge: *nothing\n` }],
  ["policy-empty", { [REPO_CONFIG_PATH]: withExtends(policyPath), [policyPath]: "" }],
  ["policy-not-yaml", { [REPO_CONFIG_PATH]: withExtends(policyPath), [policyPath]: "rules: [\n" }],
  ["policy-list", { [REPO_CONFIG_PATH]: withExtends(policyPath), [policyPath]: "- a\n- b\n" }],
  [
    "policy-rule-garbage",
    {
      [REPO_CONFIG_PATH]: withExtends(policyPath),
      [policyPath]: "rules:\n  - name: r\n    match: {kind: spaceships}\n    action: launch\n",
    },
  ],
  [
    "policy-caps-negative",
    { [REPO_CONFIG_PATH]: withExtends(policyPath), [policyPath]: "maxPerDay: {nodes: -1}\n" },
  ],
  [
    "policy-window-garbage",
    {
      [REPO_CONFIG_PATH]: withExtends(policyPath),
      [policyPath]: 'notDuring:\n  - {name: x, cron: "61 25 * * 8", duration: -1h}\n',
    },
  ],
  [
    "policy-timezone-garbage",
    { [REPO_CONFIG_PATH]: withExtends("preset:homelab", "  timezone: Not/AZone\n") },
  ],
  [
    "policy-huge",
    {
      [REPO_CONFIG_PATH]: withExtends(policyPath),
      [policyPath]: stringify({
        rules: Array.from({ length: 3000 }, (_, i) => ({ name: `r${i}`, action: "review" })),
      }),
    },
  ],
];

export const policyFamily: InputFamily = {
  name: "policy",
  description:
    "repo config and the policy files it extends (presets and real files changed, and hand-written) given to validateRepoConfiguration",
  async open(options): Promise<FamilySession> {
    const policies = policyFiles();
    const changes = sample(dataChange, options.generated, familySeed(options.seed, "policy"));
    const cases = [
      ...handWrittenRepos.map(([name, files]) => validateCase(`policy/${name}`, files, name)),
      ...changes.map((change, index) => {
        const { text, what } = changedText(
          policies[change.file % policies.length] as string,
          change,
        );
        const files = { [REPO_CONFIG_PATH]: withExtends(policyPath), [policyPath]: text };
        return validateCase(`policy/gen-${index}`, files, what);
      }),
    ];
    return { cases, close: async () => {} };
  },
};
