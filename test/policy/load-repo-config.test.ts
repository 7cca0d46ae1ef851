import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import {
  type ConfigIssue,
  formatConfigIssues,
  loadRepoConfig,
} from "../../src/policy/load-repo-config.ts";
import type { RepoConfig } from "../../src/policy/repo-config.ts";
import { poolWith } from "./support/minimal-pool.ts";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "config");
const fixture = (name: string) => readFileSync(join(FIXTURES, name), "utf8");

function valid(text: string): RepoConfig {
  const result = loadRepoConfig(text);
  if (!result.ok) throw new Error(formatConfigIssues(result.issues));
  return result.config;
}

function issues(text: string): ConfigIssue[] {
  const result = loadRepoConfig(text, "infra/.github/pr-autoscaler.yml");
  if (result.ok) throw new Error("expected the config to be refused");
  return result.issues;
}

/** A pool with the given extra lines, indented under the list item. */
const pool = poolWith;

describe("loadRepoConfig: valid configs", () => {
  it("fills every default for a minimal pool", () => {
    const config = valid(fixture("minimal.yml"));
    expect(config.pools).toHaveLength(1);
    const [workers] = config.pools;
    expect(workers).toMatchObject({
      name: "workers",
      target: { file: "terraform/terraform.tfvars", path: "worker_count" },
      min: 1,
      max: 5,
      newNode: { from: "most-common", labels: {}, taints: [] },
      removal: { indexBase: 0 },
      scaleUp: { pendingPods: true, cpu: 80, memory: 85, window: 300_000 },
      scaleDown: {
        enabled: true,
        cpu: 30,
        memory: 40,
        requests: 50,
        unneededTime: 600_000,
        delayAfterScaleUp: 600_000,
        margin: 10,
      },
      cooldown: 300_000,
      provisionTimeout: 900_000,
      maxUnready: 45,
      schedules: [],
    });
    expect(workers?.selector).toBeUndefined();
    expect(workers?.scaleUp.requests).toBeUndefined();
    expect(workers?.removal.nameTemplate).toBeUndefined();
  });

  it("reads the full example with quantities and durations converted", () => {
    const [workers] = valid(fixture("full.yml")).pools;
    expect(workers?.newNode.memory).toBe(15 * 2 ** 30);
    expect(workers?.host).toEqual({
      memory: 64 * 2 ** 30,
      reserved: { memory: 8 * 2 ** 30 },
      node: { memory: 16 * 2 ** 30 },
    });
    expect(workers?.removal).toEqual({ nameTemplate: "talos-worker-{index}", indexBase: 1 });
    expect(workers?.scaleUp.requests).toBe(90);
    expect(workers?.schedules).toEqual([
      {
        name: "friday-evening",
        cron: "0 18 * * 5",
        timezone: "Europe/Berlin",
        duration: 6 * 3_600_000,
        min: 3,
      },
    ]);
    expect(workers?.selector?.matchExpressions).toEqual([
      { key: "node-role.kubernetes.io/control-plane", operator: "DoesNotExist" },
    ]);
  });

  it("reads two pools of one Pulumi stack file with configured node shapes", () => {
    const [general, gpu] = valid(fixture("pulumi-two-pools.yml")).pools;
    expect(general?.target.path).toBe('config."talos:workerCount"');
    expect(general?.host).toEqual({ maxNodes: 4 });
    expect(gpu?.newNode).toMatchObject({
      cpu: 7800,
      memory: 30 * 2 ** 30,
      pods: 110,
      labels: { "nvidia.com/gpu.present": "true" },
      taints: [{ key: "nvidia.com/gpu", effect: "NoSchedule" }],
    });
    expect(gpu?.scaleDown.enabled).toBe(false);
    expect(gpu?.min).toBe(0);
  });

  it("accepts a file with an empty pools list, and one without pools", () => {
    expect(valid("pools: []\n").pools).toEqual([]);
    expect(valid("{}\n").pools).toEqual([]);
  });

  it("accepts cpu as a number of cores and memory as plain bytes", () => {
    const [workers] = valid(pool("newNode:\n  cpu: 3.5\n  memory: 1073741824")).pools;
    expect(workers?.newNode.cpu).toBe(3500);
    expect(workers?.newNode.memory).toBe(2 ** 30);
  });
});

describe("loadRepoConfig: refused configs say what and where", () => {
  it("reports a wrong type at the value's line and column", () => {
    const text = pool('min: "2"');
    expect(issues(text)).toEqual([
      {
        file: "infra/.github/pr-autoscaler.yml",
        line: 7,
        column: 10,
        path: "pools[0].min",
        message: 'expected a number, got the string "2"',
      },
    ]);
  });

  it("reports a whole number where a fraction was given", () => {
    const [issue] = issues(pool("maxUnready: 45\nmin: 1.5"));
    expect(issue).toMatchObject({ line: 8, path: "pools[0].min" });
    expect(issue?.message).toBe("expected a whole number, got 1.5");
  });

  it("points at an unknown key and suggests the key that was meant", () => {
    const [issue] = issues(pool("scaleDown:\n  unneded: 10m"));
    expect(issue).toMatchObject({ line: 8, column: 7, path: "pools[0].scaleDown.unneded" });
    expect(issue?.message).toBe('unknown key "unneded"; did you mean "unneededTime"?');
  });

  it("lists the allowed keys when nothing is close", () => {
    const [issue] = issues(pool("colour: blue"));
    expect(issue?.line).toBe(7);
    expect(issue?.message).toMatch(
      /^unknown key "colour"; allowed keys: name, target, selector, min, max/,
    );
  });

  it("refuses a pool named all, in any case, at its line: the commands take all for every pool", () => {
    for (const name of ["all", "ALL", "All"]) {
      const text = `pools:\n  - name: workers\n    target: {file: a.tfvars, path: n}\n    max: 3\n  - name: ${name}\n    target: {file: b.tfvars, path: n}\n    max: 3\n`;
      expect(issues(text)).toEqual([
        {
          file: "infra/.github/pr-autoscaler.yml",
          line: 5,
          column: 11,
          path: "pools[1].name",
          message:
            "a pool cannot be named all: `/autoscaler pause all` means every pool, so it could not be paused alone; choose another name",
        },
      ]);
    }
    expect(valid(pool("").replace("name: workers", "name: all-workers")).pools[0]?.name).toBe(
      "all-workers",
    );
  });

  it("reports an unknown top-level section", () => {
    const [issue] = issues("pool:\n  - name: workers\n");
    expect(issue).toMatchObject({ line: 1, column: 1, path: "pool" });
    expect(issue?.message).toBe('unknown key "pool"; did you mean "pools"?');
  });

  it("reports a missing required key at its mapping", () => {
    const text = "pools:\n  - name: workers\n    max: 3\n";
    const [issue] = issues(text);
    expect(issue).toMatchObject({ line: 2, column: 5, path: "pools[0].target" });
    expect(issue?.message).toBe('missing required key "target"');
  });

  it("refuses min greater than max", () => {
    const [issue] = issues(pool("min: 7"));
    expect(issue).toMatchObject({ line: 7, path: "pools[0].min" });
    expect(issue?.message).toBe("min (7) is greater than max (6)");
  });

  it("refuses a bad cron expression", () => {
    const text = pool('schedules:\n  - cron: "0 25 * * 5"\n    duration: 6h\n    min: 2');
    const [issue] = issues(text);
    expect(issue).toMatchObject({ line: 8, column: 15, path: "pools[0].schedules[0].cron" });
    expect(issue?.message).toMatch(/^"0 25 \* \* 5" is not a valid cron expression .*hour/);
  });

  it("refuses a six-field cron expression: seconds are not part of the syntax", () => {
    const text = pool('schedules:\n  - cron: "0 0 18 * * 5"\n    duration: 6h\n    min: 2');
    expect(issues(text)[0]?.path).toBe("pools[0].schedules[0].cron");
  });

  it.each([
    ["MON-FRI", "it has 1 field, not 5"],
    ["0 9 * * * MON-FRI 2026", "it has 7 fields, not 5"],
    [
      "@every 5m",
      "the macros are @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly",
    ],
    ["@reboot", "the macros are @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly"],
  ])("says what is wrong with the cron expression %j in the config's own terms", (cron, why) => {
    const text = pool(`schedules:\n  - cron: "${cron}"\n    duration: 6h\n    min: 2`);
    expect(issues(text).map((issue) => issue.message)).toEqual([
      `${JSON.stringify(cron)} is not a valid cron expression (${why}); write five fields: minute hour day-of-month month day-of-week`,
    ]);
  });

  it.each(["0 0 30 2 *", "0 18 31 4,6,9,11 *", "0 0 30W 2 *"])(
    "refuses a cron expression that never starts, naming no day its months have: %s",
    (cron) => {
      const text = pool(`schedules:\n  - cron: "${cron}"\n    duration: 6h\n    min: 2`);
      expect(issues(text)).toEqual([
        {
          file: expect.any(String),
          line: 8,
          column: 15,
          path: "pools[0].schedules[0].cron",
          message: `"${cron}" never starts: the months it names have none of the days it names (as February has no 30th)`,
        },
      ]);
    },
  );

  it("takes a cron expression that starts only in some years, or on a week day the day misses", () => {
    for (const cron of ["0 0 29 2 *", "0 0 31 2 MON", "0 0 L 2 *"])
      expect(
        loadRepoConfig(pool(`schedules:\n  - {cron: "${cron}", duration: 6h, min: 2}`)).ok,
      ).toBe(true);
  });

  it("refuses an unknown time zone and suggests the closest", () => {
    const text = pool(
      'schedules:\n  - cron: "0 18 * * 5"\n    timezone: Europe/Berln\n    duration: 6h\n    min: 2',
    );
    const [issue] = issues(text);
    expect(issue).toMatchObject({ line: 9, column: 19, path: "pools[0].schedules[0].timezone" });
    expect(issue?.message).toContain(
      'unknown time zone "Europe/Berln" (did you mean "Europe/Berlin"?)',
    );
  });

  it("refuses a bad quantity", () => {
    const [issue] = issues(pool("newNode:\n  memory: 16GB"));
    expect(issue).toMatchObject({ line: 8, column: 15, path: "pools[0].newNode.memory" });
    expect(issue?.message).toMatch(
      /^"16GB" is not a positive memory quantity \(unknown suffix "GB".*\): write it like 16Gi, 512Mi or 8G$/,
    );
  });

  it("refuses a zero or negative size", () => {
    expect(issues(pool("newNode:\n  cpu: 0"))[0]?.message).toBe(
      "0 is not a positive CPU quantity: write it like 4, 3.5 or 3500m",
    );
    expect(issues(pool("newNode:\n  memory: -1Gi"))[0]?.path).toBe("pools[0].newNode.memory");
  });

  it("reads a new node's extended resources, as a number or a quantity", () => {
    const [workers] = valid(
      pool('newNode:\n  extendedResources:\n    nvidia.com/gpu: 2\n    example.com/fpga: "1k"'),
    ).pools;
    expect(workers?.newNode.extendedResources).toEqual({
      "nvidia.com/gpu": 2,
      "example.com/fpga": 1000,
    });
  });

  it("refuses an extended resource name Kubernetes would refuse, saying what is wrong", () => {
    const refused = (name: string) =>
      issues(pool(`newNode:\n  extendedResources:\n    "${name}": 1`)).map((issue) => [
        issue.path,
        issue.message,
      ]);
    expect(refused("gpu")).toEqual([
      [
        "pools[0].newNode.extendedResources.gpu",
        '"gpu" has no domain: an extended resource is named like nvidia.com/gpu (a domain, a slash, a name)',
      ],
    ]);
    expect(refused("memory")[0]?.[1]).toBe(
      "memory is not an extended resource: set newNode.memory",
    );
    expect(refused("kubernetes.io/gpu")[0]?.[1]).toBe(
      `"kubernetes.io/gpu" is in the kubernetes.io domain, which names Kubernetes' own resources, not extended ones`,
    );
    expect(refused("requests.nvidia.com/gpu")[0]?.[1]).toMatch(/starts with "requests\."/);
    expect(refused("Nvidia.com/gpu")[0]?.[1]).toMatch(/^"Nvidia.com" is not a domain/);
    expect(refused("nvidia.com/-gpu")[0]?.[1]).toMatch(/^"-gpu" is not a resource name/);
    expect(refused(`nvidia.com/${"g".repeat(64)}`)[0]?.[1]).toMatch(/at most 63 characters/);
  });

  it("refuses an extended resource amount that is not a whole number above 0", () => {
    const amount = (text: string) =>
      issues(pool(`newNode:\n  extendedResources:\n    nvidia.com/gpu: ${text}`))[0];
    expect(amount("0.5")).toMatchObject({
      path: 'pools[0].newNode.extendedResources["nvidia.com/gpu"]',
      message:
        "0.5 is not a positive extended resource quantity (not a whole number: extended resources come in whole units): write it like 1 or 2",
    });
    expect(amount("0")?.message).toBe(
      "0 is not a positive extended resource quantity: write it like 1 or 2",
    );
    expect(amount('"1500m"')?.message).toMatch(/^"1500m" .*whole units/);
    expect(amount("two")?.message).toMatch(
      /^"two" is not a positive extended resource quantity \(/,
    );
  });

  it("reads the custom controller kinds whose pods move, and refuses what is no kind", () => {
    const [workers] = valid(
      pool("scaleDown:\n  replicatedKinds: [Cluster, Rollout, Cluster.postgresql.cnpg.io]"),
    ).pools;
    expect(workers?.scaleDown.replicatedKinds).toEqual([
      "Cluster",
      "Rollout",
      "Cluster.postgresql.cnpg.io",
    ]);
    expect(
      valid(pool("scaleDown:\n  replicatedKinds: ['*']")).pools[0]?.scaleDown.replicatedKinds,
    ).toEqual(["*"]);
    expect(valid(pool("")).pools[0]?.scaleDown.replicatedKinds).toEqual([]);
    expect(
      issues(pool("scaleDown:\n  replicatedKinds: [postgresql.cnpg.io/Cluster]")),
    ).toMatchObject([
      {
        path: "pools[0].scaleDown.replicatedKinds[0]",
        message:
          'expected a controller kind such as Cluster (letters, digits and "-", at most 63, as Kubernetes names kinds), the kind of one API group such as Cluster.postgresql.cnpg.io (the group in lowercase letters, digits, "-" and ".", as Kubernetes names groups), or "*" for every kind',
      },
    ]);
    const longGroup = `Cluster.${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}`;
    for (const kind of [
      "Cluster.PostgreSQL.cnpg.io",
      "Cluster.",
      ".cnpg.io",
      "Cluster.cnpg..io",
      "Cluster.-cnpg.io",
      "*.cnpg.io",
      longGroup,
    ])
      expect(issues(pool(`scaleDown:\n  replicatedKinds: ['${kind}']`))).toMatchObject([
        { path: "pools[0].scaleDown.replicatedKinds[0]" },
      ]);
    // A group of 253 characters, the most Kubernetes takes.
    expect(
      loadRepoConfig(pool(`scaleDown:\n  replicatedKinds: ['${longGroup.slice(0, -2)}']`)).ok,
    ).toBe(true);
  });

  it("reads whether a pool's emptyDir data may go with its nodes, off unless set to true", () => {
    expect(valid(pool("")).pools[0]?.scaleDown.deleteEmptyDirData).toBe(false);
    expect(
      valid(pool("scaleDown:\n  deleteEmptyDirData: true")).pools[0]?.scaleDown.deleteEmptyDirData,
    ).toBe(true);
    const [issue] = issues(pool('scaleDown:\n  deleteEmptyDirData: "yes"'));
    expect(issue).toMatchObject({
      file: "infra/.github/pr-autoscaler.yml",
      line: 8,
      column: 27,
      path: "pools[0].scaleDown.deleteEmptyDirData",
      message: 'expected true or false, got the string "yes"',
    });
  });

  it("reads whether a pool keeps its nodes for kube-system pods, off unless set to true", () => {
    expect(valid(pool("")).pools[0]?.scaleDown.skipNodesWithSystemPods).toBe(false);
    expect(
      valid(pool("scaleDown:\n  skipNodesWithSystemPods: true")).pools[0]?.scaleDown
        .skipNodesWithSystemPods,
    ).toBe(true);
    const [issue] = issues(pool("scaleDown:\n  skipNodesWithSystemPods: 1"));
    expect(issue).toMatchObject({
      file: "infra/.github/pr-autoscaler.yml",
      line: 8,
      column: 32,
      path: "pools[0].scaleDown.skipNodesWithSystemPods",
      message: "expected true or false, got 1",
    });
  });

  it("refuses a bad duration", () => {
    const [issue] = issues(pool("cooldown: 5 minutes"));
    expect(issue).toMatchObject({ line: 7, path: "pools[0].cooldown" });
    expect(issue?.message).toContain("is not a duration");
  });

  it("refuses an unneeded time under a minute but takes 0, which decides on the current usage", () => {
    const [issue] = issues(pool("scaleDown:\n  unneededTime: 30s"));
    expect(issue).toMatchObject({ line: 8, path: "pools[0].scaleDown.unneededTime" });
    expect(issue?.message).toContain("must be 0 or at least 1m");
    const zero = loadRepoConfig(pool("scaleDown:\n  unneededTime: 0"), "pr-autoscaler.yml");
    expect(zero.ok && zero.config.pools[0]?.scaleDown.unneededTime).toBe(0);
  });

  it("refuses a provision timeout under a minute, which would report every change as failed at once", () => {
    for (const value of ["0", "0s", "30s"]) {
      const [issue] = issues(pool(`provisionTimeout: ${value}`));
      expect(issue).toMatchObject({ line: 7, path: "pools[0].provisionTimeout" });
      expect(issue?.message).toBe(
        "must be at least 1m: a new VM takes longer than that to boot and join, and 0 would report every change as failed as soon as it merges",
      );
    }
    const minute = loadRepoConfig(pool("provisionTimeout: 1m"), "pr-autoscaler.yml");
    expect(minute.ok && minute.config.pools[0]?.provisionTimeout).toBe(60_000);
  });

  it("refuses a bad PATH with the editors' own message", () => {
    const text = pool("").replace("path: worker_count", 'path: nodes["w-1"');
    const [issue] = issues(text);
    expect(issue).toMatchObject({ line: 5, column: 13, path: "pools[0].target.path" });
    expect(issue?.message).toBe('PATH "nodes[\\"w-1\\"" at character 12: expected \']\'');
  });

  it("says a PATH in brackets left unquoted was read as a YAML list", () => {
    const text = pool("").replace("path: worker_count", 'path: ["worker_count"]');
    const [issue] = issues(text);
    expect(issue).toMatchObject({ line: 5, column: 13, path: "pools[0].target.path" });
    expect(issue?.message).toBe(
      `expected a PATH such as worker_count, got a YAML list: quote a PATH that starts with "[" (path: '["worker_count"]')`,
    );
    const number = issues(pool("").replace("path: worker_count", "path: 3"));
    expect(number[0]?.message).toBe("expected a PATH such as worker_count");
  });

  it("refuses a target file outside the repository", () => {
    const text = pool("").replace("file: terraform/terraform.tfvars", "file: ../secrets.tfvars");
    expect(issues(text)[0]).toMatchObject({ line: 4, path: "pools[0].target.file" });
  });

  it("refuses an enum value and suggests the one meant", () => {
    const [issue] = issues(pool("newNode:\n  from: smalest"));
    expect(issue?.message).toBe(
      'the string "smalest" is not allowed: use one of "most-common", "smallest"; did you mean "smallest"?',
    );
  });

  it("refuses scale-down thresholds at or above the scale-up ones", () => {
    const [issue] = issues(pool("scaleUp:\n  cpu: 50\nscaleDown:\n  cpu: 60"));
    expect(issue).toMatchObject({ line: 10, path: "pools[0].scaleDown.cpu" });
    expect(issue?.message).toContain("must be below the scale-up threshold (50 %)");
  });

  it("refuses a percentage above 100", () => {
    const [issue] = issues(pool("scaleUp:\n  memory: 120"));
    expect(issue).toMatchObject({ line: 8, path: "pools[0].scaleUp.memory" });
    expect(issue?.message).toBe("must be at most 100 %");
  });

  it("refuses a percentage below 1 as the fraction it most likely is, saying what to write", () => {
    // cluster-autoscaler's scale-down-utilization-threshold is a fraction: 0.5 there is 50 here.
    expect(issues(pool("scaleDown:\n  requests: 0.5"))).toMatchObject([
      {
        line: 8,
        path: "pools[0].scaleDown.requests",
        message: "must be at least 1 %: 0.5 reads as 0.5 %, not as a fraction; write 50 for 50 %",
      },
    ]);
    // A scale-up fraction is said to be one, not compared with the margin as a percentage.
    expect(issues(pool("scaleUp:\n  cpu: 0.8\nmaxUnready: 0.07"))).toMatchObject([
      { path: "pools[0].scaleUp.cpu", message: expect.stringContaining("write 80 for 80 %") },
      { path: "pools[0].maxUnready", message: expect.stringContaining("write 7 for 7 %") },
    ]);
    const low = loadRepoConfig(pool("scaleDown:\n  cpu: 1.5"), "pr-autoscaler.yml");
    expect(low.ok && low.config.pools[0]?.scaleDown.cpu).toBe(1.5);
  });

  it("refuses a host cap below min, and host memory without a node size", () => {
    expect(issues(pool("min: 3\nhost:\n  maxNodes: 2"))[0]?.message).toBe(
      "the host holds at most 2 nodes, fewer than min (3)",
    );
    const [issue] = issues(pool("host:\n  memory: 64Gi"));
    expect(issue).toMatchObject({ line: 8, path: "pools[0].host.memory" });
    expect(issue?.message).toContain("needs node.memory");
  });

  it("refuses a schedule name that is empty, or another window's of the same pool", () => {
    const window = (name: string, cron: string) =>
      `  - name: ${name}\n    cron: "${cron}"\n    duration: 6h\n    min: 2`;
    expect(issues(pool(`schedules:\n${window('""', "0 18 * * 5")}`))).toMatchObject([
      {
        line: 8,
        path: "pools[0].schedules[0].name",
        message: "must not be empty: leave name out to call the window schedules[N]",
      },
    ]);
    const twice = [window("evening", "0 18 * * 5"), window("evening", "0 18 * * 6")];
    expect(issues(pool(`schedules:\n${twice.join("\n")}`))).toMatchObject([
      {
        line: 12,
        path: "pools[0].schedules[1].name",
        message:
          "schedules[0] is named evening too: explanations tell a window by its name, so give each its own",
      },
    ]);
    // Two pools may each name a window alike: a window is always told with its pool.
    const evening = '{name: evening, cron: "0 18 * * 5", duration: 6h, min: 2}';
    const both = [
      "pools:",
      `  - {name: workers, target: {file: w.tfvars, path: n}, max: 6, schedules: [${evening}]}`,
      `  - {name: gpu, target: {file: g.tfvars, path: n}, max: 2, schedules: [${evening}]}`,
    ].join("\n");
    expect(loadRepoConfig(both, "pr-autoscaler.yml")).toMatchObject({ ok: true });
  });

  it("refuses a schedule min above max", () => {
    const text = pool('schedules:\n  - cron: "0 18 * * 5"\n    duration: 6h\n    min: 9');
    expect(issues(text)[0]).toMatchObject({ line: 10, path: "pools[0].schedules[0].min" });
  });

  it.each(["0", "0s", "30s"])(
    "refuses a schedule lasting %p: it could open and close between two reconciles",
    (duration) => {
      const text = pool(
        `schedules:\n  - cron: "0 18 * * 5"\n    duration: ${duration}\n    min: 2`,
      );
      expect(issues(text)).toEqual([
        {
          file: "infra/.github/pr-autoscaler.yml",
          line: 9,
          column: 19,
          path: "pools[0].schedules[0].duration",
          message:
            "must be at least 1m: the app reconciles once a minute by default, so a shorter window could open and close between two reconciles",
        },
      ]);
    },
  );

  it("accepts a schedule of one minute", () => {
    const text = pool('schedules:\n  - cron: "0 18 * * 5"\n    duration: 1m\n    min: 2');
    expect(valid(text).pools[0]?.schedules[0]?.duration).toBe(60_000);
  });

  // Each text also breaks a cross-field rule (min ≤ max, host cap ≥ min, schedule min ≤ max,
  // scale-down below scale-up) through the value that is wrong on its own.
  it.each<[string, string, string]>([
    ["a scale-up threshold of 0", pool("scaleUp:\n  cpu: 0"), "pools[0].scaleUp.cpu"],
    [
      "a scale-down threshold of 150",
      pool("scaleDown:\n  memory: 150"),
      "pools[0].scaleDown.memory",
    ],
    ["a host cap below 0", pool("host:\n  maxNodes: -1"), "pools[0].host.maxNodes"],
    ["a max of 0", pool("").replace("max: 6", "max: 0"), "pools[0].max"],
    [
      "a max of 0 under a schedule",
      pool('min: 0\nschedules:\n  - {cron: "0 18 * * 5", duration: 1h, min: 1}').replace(
        "max: 6",
        "max: 0",
      ),
      "pools[0].max",
    ],
  ])("reports %s once, not again in a comparison built on it", (_, text, path) => {
    expect(issues(text).map((issue) => issue.path)).toEqual([path]);
  });

  it("refuses In without values in a selector", () => {
    const text = pool("selector:\n  matchExpressions:\n    - key: pool\n      operator: In");
    expect(issues(text)[0]).toMatchObject({
      path: "pools[0].selector.matchExpressions[0].values",
      message: "operator In needs a non-empty values list",
    });
  });

  it("refuses a selector value written as a wildcard, which no node's label could match", () => {
    const text = pool('selector:\n  matchLabels:\n    kubernetes.io/hostname: "talos-worker-*"');
    expect(issues(text)).toMatchObject([
      {
        line: 9,
        column: 33,
        path: 'pools[0].selector.matchLabels["kubernetes.io/hostname"]',
        message:
          "\"talos-worker-*\" is not a label value: letters, digits, '-', '_' and '.', beginning and ending with a letter or digit, at most 63, or empty; '*' is no wildcard there (a selector lists the values it takes with operator In)",
      },
    ]);
  });

  it("refuses label and taint keys and values Kubernetes refuses, a key at its own place", () => {
    const text = pool(
      [
        "selector:",
        "  matchLabels: {Node.Example.com/pool: a, node-role.kubernetes.io/worker: ''}",
        "  matchExpressions:",
        "    - {key: 'node pool', operator: Exists}",
        "    - {key: pool, operator: NotIn, values: [a b]}",
        "newNode:",
        "  labels: {example.com/: x}",
        "  taints:",
        "    - {key: '', effect: NoSchedule}",
        "    - {key: gpu, value: 'yes please', effect: NoSchedule}",
      ].join("\n"),
    );
    expect(issues(text).map(({ line, column, path }) => [line, column, path])).toEqual([
      [8, 21, 'pools[0].selector.matchLabels["Node.Example.com/pool"]'],
      [10, 17, "pools[0].selector.matchExpressions[0].key"],
      [11, 49, "pools[0].selector.matchExpressions[1].values[0]"],
      [13, 16, 'pools[0].newNode.labels["example.com/"]'],
      [15, 17, "pools[0].newNode.taints[0].key"],
      [16, 29, "pools[0].newNode.taints[1].value"],
    ]);
    expect(issues(text)[0]?.message).toBe(
      "\"Node.Example.com/pool\" is not a label key: its prefix \"Node.Example.com\" must be a DNS name (lower-case letters, digits, '-' and '.', at most 253), like node.kubernetes.io",
    );
  });

  it("refuses two pools with one name or one target", () => {
    const one = pool("");
    const text = `${one}\n${one.split("\n").slice(1).join("\n")}\n`;
    const found = issues(text);
    expect(found.map((issue) => issue.path)).toEqual(["pools[1].name", "pools[1].target"]);
    expect(found[0]?.line).toBe(8);
  });

  it("refuses a second pool whose target is the first one's spelled otherwise", () => {
    const one = pool("");
    const second = one.split("\n").slice(1).join("\n").replace("name: workers", "name: more");
    const path = `${one}\n${second.replace("path: worker_count", 'path: "[\\"worker_count\\"]"')}\n`;
    expect(issues(path).map((issue) => [issue.path, issue.message])).toEqual([
      ["pools[1].target", "pools[0] already scales terraform/terraform.tfvars worker_count"],
    ]);
  });

  /** Two pools scaling `spec.replicas` of clusters/workers.yaml, each with its target's `document`. */
  function machineDeploymentPools(first?: number, second?: number): string {
    const target = (document?: number) => [
      "    target:",
      "      file: clusters/workers.yaml",
      "      path: spec.replicas",
      ...(document === undefined ? [] : [`      document: ${document}`]),
    ];
    return [
      "pools:",
      "  - name: workers",
      ...target(first),
      "    max: 6",
      "  - name: gpu",
      ...target(second),
      "    max: 2",
      "",
    ].join("\n");
  }

  it("takes two pools scaling the same PATH in two documents of one file", () => {
    const config = valid(machineDeploymentPools(0, 1));
    expect(config.pools.map((entry) => entry.target.document)).toEqual([0, 1]);
  });

  it("refuses a pool scaling a PATH of a file whose documents another pool tells apart", () => {
    expect(
      issues(machineDeploymentPools(1)).map((issue) => [issue.path, issue.line, issue.message]),
    ).toEqual([
      [
        "pools[1].target",
        10,
        "pools[0] already scales clusters/workers.yaml spec.replicas (document 1); when they are two documents of the file, set target.document on both",
      ],
    ]);
    expect(issues(machineDeploymentPools(1, 1)).map((issue) => issue.message)).toEqual([
      "pools[0] already scales clusters/workers.yaml spec.replicas (document 1)",
    ]);
  });

  it.each([
    ["./terraform/terraform.tfvars", "terraform/terraform.tfvars"],
    ["terraform//terraform.tfvars", "terraform/terraform.tfvars"],
    ["terraform/./terraform.tfvars", "terraform/terraform.tfvars"],
    ["terraform/terraform.tfvars/", "terraform/terraform.tfvars"],
  ])("refuses the file %j, spelled otherwise than from the root", (file, root) => {
    const text = pool("").replace("file: terraform/terraform.tfvars", `file: ${file}`);
    expect(issues(text)).toEqual([
      expect.objectContaining({
        line: 4,
        path: "pools[0].target.file",
        message: `${JSON.stringify(file)} must be written from the repository root without '.' or empty parts, like ${JSON.stringify(root)}`,
      }),
    ]);
  });

  it("refuses an empty file and a file of comments only", () => {
    for (const text of ["", "# nothing yet\n"]) {
      expect(issues(text)).toEqual([
        {
          file: "infra/.github/pr-autoscaler.yml",
          line: 1,
          column: 1,
          path: "",
          message: "the file is empty: add a `pools:` list (see docs/configuration.md)",
        },
      ]);
    }
  });

  it("refuses a top level that is not a mapping", () => {
    expect(issues("- workers\n")[0]?.message).toBe("expected a mapping, got a list");
  });

  it("reports YAML syntax errors with their position", () => {
    const [issue] = issues("pools:\n  - name: workers\n    max: [1, 2\n");
    expect(issue?.line).toBeGreaterThanOrEqual(3);
    expect(issue?.message).toMatch(/^YAML syntax: /);
  });

  it("reports duplicate keys as YAML errors, naming the key and where it is first", () => {
    const [issue] = issues("pools:\n  - name: a\n    'name': b\n");
    expect(issue).toMatchObject({ line: 3, column: 5 });
    expect(issue?.message).toBe(
      'YAML syntax: the key "name" is written twice in one mapping (first at line 2); keep one',
    );
  });

  it("refuses a second YAML document at the line where it starts", () => {
    const refusal = (line: number) => ({
      file: "infra/.github/pr-autoscaler.yml",
      line,
      column: 1,
      path: "",
      message: "the file must hold one YAML document, but a second one starts here",
    });
    expect(issues(`${pool("")}\n---\npools: []\n`)).toEqual([refusal(8)]);
    expect(issues("pools: []\n...\n# more\npools: []\n")).toEqual([refusal(4)]);
    // A document marker before the only document is fine.
    expect(valid(`---\n${pool("")}\n`).pools).toHaveLength(1);
  });

  it("reports every problem at once, in file order", () => {
    const found = issues(pool("min: -1\nscaleUp:\n  window: soon\n  cpuu: 80"));
    expect(found.map((issue) => [issue.line, issue.path])).toEqual([
      [7, "pools[0].min"],
      [9, "pools[0].scaleUp.window"],
      [10, "pools[0].scaleUp.cpuu"],
    ]);
  });
});

describe("formatConfigIssues", () => {
  it("renders file:line:column: path: message, one per line", () => {
    const text = formatConfigIssues([
      { file: "a.yml", line: 3, column: 5, path: "pools[0].max", message: "must be at least 1" },
      { file: "a.yml", line: 1, column: 1, path: "", message: "the file is empty" },
    ]);
    expect(text).toBe("a.yml:3:5: pools[0].max: must be at least 1\na.yml:1:1: the file is empty");
  });
});
