/**
 * Where a pool's count lives, against a served cluster: a JSON tfvars file, a YAML file of
 * several documents with the target's `document`, a file whose name does not tell its format,
 * and node names a name template writes with leading zeros.
 */
import { describe, expect, it } from "@jest/globals";
import {
  freshNodeMetrics,
  type InfraFiles,
  type PlanJson,
  type Raw,
  worker,
} from "./served-cluster.ts";
import {
  apps,
  cluster,
  config,
  everyWorker,
  FOUR,
  fillers,
  plan,
  planFull,
  serveForTest,
  tdarr,
  WORKERS,
} from "./served-plan.ts";

/** CONFIG with the pool's count at `path` of `file`, the target's other keys `more` after. */
function withTarget(file: string, path: string, ...more: string[]): string {
  const keys = [`file: ${file}`, `path: ${path}`, ...more].map((key) => `      ${key}\n`);
  return config({
    "    target:\n      file: terraform/terraform.tfvars\n      path: worker_count\n": `    target:\n${keys.join("")}`,
  });
}

/**
 * The repo's files with no terraform.tfvars: the pool's count is at `path` of `file`, whose
 * text is `text`, the target's other keys `more` after, as `withTarget` writes them.
 */
function countIn(file: string, text: string, path: string, ...more: string[]): InfraFiles {
  return { tfvars: null, config: withTarget(file, path, ...more), other: { [file]: text } };
}

/** Plans three full workers and a tdarr pod (`suffix`) that needs a fourth, for `files`. */
function planOneMore(suffix: string, files: InfraFiles): Promise<PlanJson> {
  return planFull([tdarr(suffix)], files);
}

/** The pool is held: no proposal, and a warning that says `message`. */
function expectHeld(output: PlanJson, message: string): void {
  expect(output.proposals).toEqual([]);
  const note = output.notes.find((entry) => entry.subject === "pool/workers");
  expect(note?.level).toBe("warning");
  expect(note?.message).toContain(message);
}

/** A count file in JSON, as Terraform reads it. */
const JSON_TFVARS = "terraform/terraform.tfvars.json";

/** The file of MACHINE_DEPLOYMENTS. */
const WORKERS_YAML = "clusters/homelab/workers.yaml";

/** Two Cluster API MachineDeployments, workers second: `spec.replicas` could mean either. */
const MACHINE_DEPLOYMENTS = `apiVersion: cluster.x-k8s.io/v1beta1
kind: MachineDeployment
metadata:
  name: control-plane-spares
spec:
  replicas: 0
---
apiVersion: cluster.x-k8s.io/v1beta1
kind: MachineDeployment
metadata:
  name: workers
spec:
  replicas: 3 # raised by pr-autoscaler
`;

describe("plan against a served cluster: where the count lives", () => {
  it("edits a terraform.tfvars.json count in place, read as the JSON it is", async () => {
    const json = '{\n  "worker_count": 3,\n  "worker_cores": 4\n}\n';
    const output = await planOneMore("json1", countIn(JSON_TFVARS, json, "worker_count"));
    expect(output.proposals[0]).toMatchObject({
      from: 3,
      to: 4,
      changes: [
        { file: "terraform/terraform.tfvars.json", path: "worker_count", before: 3, after: 4 },
      ],
    });
  });

  it("holds a pool whose terraform.tfvars.json is YAML but not JSON, at the line", async () => {
    // Terraform refuses the trailing comma; a pull request would carry the file on unchanged.
    const json = '{\n  "worker_count": 3,\n  "worker_cores": 4,\n}\n';
    const output = await planOneMore("json2", countIn(JSON_TFVARS, json, "worker_count"));
    expectHeld(
      output,
      "terraform/terraform.tfvars.json:4:1: reading worker_count: the file is not valid JSON: expected a value after ',' (JSON has no trailing commas) but found '}'; fix it first",
    );
  });

  it("holds a pool whose count a later *.auto.tfvars overrides, naming where", async () => {
    const output = await planOneMore("auto1", {
      other: { "terraform/prod.auto.tfvars": "# production\nworker_count = 5\n" },
    });
    expectHeld(
      output,
      "terraform/prod.auto.tfvars:2:16: worker_count is set here too, and Terraform reads this file after terraform/terraform.tfvars",
    );
  });

  it("reads the document a multi-document target names, and says so in the change", async () => {
    const output = await planOneMore(
      "doc1",
      countIn(WORKERS_YAML, MACHINE_DEPLOYMENTS, "spec.replicas", "document: 1"),
    );
    expect(output.proposals[0]).toMatchObject({
      from: 3,
      to: 4,
      changes: [
        {
          file: "clusters/homelab/workers.yaml",
          path: "spec.replicas",
          document: 1,
          before: 3,
          after: 4,
        },
      ],
    });
  });

  it("holds the pool, naming the config key to set, when the document is not said", async () => {
    const output = await planOneMore(
      "doc2",
      countIn(WORKERS_YAML, MACHINE_DEPLOYMENTS, "spec.replicas"),
    );
    expectHeld(
      output,
      "spec.replicas could mean document 0 (line 1, MachineDeployment control-plane-spares) or 1 (line 8, MachineDeployment workers); choose one (0 to 1) with --document N, or with the target's document in the config",
    );
  });

  it("reads a file whose name does not tell its format once the target says it", async () => {
    const output = await planOneMore(
      "fmt1",
      countIn(
        "terraform/workers.auto.vars",
        "worker_count = 3 # workers\n",
        "worker_count",
        "format: tfvars",
      ),
    );
    expect(output.proposals[0]).toMatchObject({
      from: 3,
      to: 4,
      changes: [{ file: "terraform/workers.auto.vars", format: "tfvars", before: 3, after: 4 }],
    });
  });

  it("refuses a config whose target's format cannot be told, at its line", async () => {
    const served = await serveForTest(cluster());
    const run = await served.run(["--json"], {
      config: withTarget("terraform/workers.auto.vars", "worker_count"),
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      ".github/pr-autoscaler.yml:4:13: pools[0].target.file: cannot tell the format of terraform/workers.auto.vars from its name (expected *.tfvars, *.yaml, *.yml or *.json); set the target's format: tfvars or yaml",
    );
  });

  it("scales two pools whose counts are two documents' spec.replicas of one file", async () => {
    const pool = (name: string, document: number, label: string) =>
      [
        `  - name: ${name}`,
        "    target:",
        `      file: ${WORKERS_YAML}`,
        "      path: spec.replicas",
        `      document: ${document}`,
        `    selector: {matchLabels: {node.kubernetes.io/pool: ${label}}}`,
        "    min: 0",
        "    max: 6",
        `    newNode: {cpu: 3800m, memory: 15Gi, labels: {node.kubernetes.io/pool: ${label}}}`,
      ].join("\n");
    const workerLabel = { labels: { "node.kubernetes.io/pool": "workers" } };
    const output = await plan(
      [
        ...cluster(WORKERS, everyWorker(workerLabel)),
        ...fillers(),
        tdarr("md1", { nodeSelector: { "node.kubernetes.io/pool": "workers" } }),
        tdarr("md2", { nodeSelector: { "node.kubernetes.io/pool": "spares" } }),
      ],
      {
        tfvars: null,
        config: `pools:\n${pool("spares", 0, "spares")}\n${pool("workers", 1, "workers")}\n`,
        other: { [WORKERS_YAML]: MACHINE_DEPLOYMENTS },
      },
    );
    expect(
      output.proposals.map(({ pool, from, to, changes }) => ({ pool, from, to, changes })),
    ).toEqual([
      {
        pool: "spares",
        from: 0,
        to: 1,
        changes: [
          {
            file: "clusters/homelab/workers.yaml",
            path: "spec.replicas",
            document: 0,
            before: 0,
            after: 1,
          },
        ],
      },
      {
        pool: "workers",
        from: 3,
        to: 4,
        changes: [
          {
            file: "clusters/homelab/workers.yaml",
            path: "spec.replicas",
            document: 1,
            before: 3,
            after: 4,
          },
        ],
      },
    ]);
  });

  it("refuses a document for a tfvars target", async () => {
    const served = await serveForTest(cluster());
    const run = await served.run(["--json"], {
      config: withTarget("terraform/terraform.tfvars", "worker_count", "document: 1"),
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "pools[0].target.document: document applies to YAML files only; a tfvars file holds one",
    );
  });
});

describe("plan against a served cluster: node names with leading zeros", () => {
  /** talos-worker-01 … talos-worker-0N, as format("talos-worker-%02d", count.index + 1) names them. */
  function padded(count: number): Raw[] {
    const names = Array.from({ length: count }, (_, i) => `talos-worker-0${i + 1}`);
    return [
      ...cluster([]),
      ...names.flatMap((name) => [worker(name), freshNodeMetrics(name, "600m", "2Gi")]),
    ];
  }

  it("removes the node the template names at the count index, zeros and all", async () => {
    const output = await plan(padded(4), {
      tfvars: "worker_count = 4\n",
      config: config({ "max: 6": "max: 3" }),
    });
    expect(output.proposals[0]).toMatchObject({ from: 4, to: 3 });
    expect(output.proposals[0]?.reasons.join("\n")).toContain("removing talos-worker-04");
  });

  it("warns when above max and the template names no node of the pool", async () => {
    const output = await plan(padded(4), {
      tfvars: "worker_count = 4\n",
      config: config({ "max: 6": "max: 3", "talos-worker-{index}": "talos-{index}" }),
    });
    expectHeld(
      output,
      "node talos-4 (count index 3) is not among the pool's nodes: either it has not joined yet or is gone, or removal.nameTemplate does not match the names",
    );
  });

  it("leaves a pool at its max that merely cannot name a node as information", async () => {
    const output = await plan([...cluster(FOUR), ...apps()], {
      tfvars: "worker_count = 4\n",
      config: config({ "talos-worker-{index}": "talos-{index}" }),
    });
    expect(output.proposals).toEqual([]);
    expect(output.notes.find((entry) => entry.subject === "pool/workers")?.level).toBe("info");
  });
});
