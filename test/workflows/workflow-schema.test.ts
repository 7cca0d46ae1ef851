/**
 * The workflows are valid GitHub workflow files by SchemaStore's JSON schema for them
 * (test/fixtures/workflows/github-workflow.json, source in SOURCES.md there).
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { Ajv, type ValidateFunction } from "ajv";
import { parse } from "yaml";
import { APPLY_WORKFLOW, EXAMPLE_CALLER } from "./support/workflow-sandbox.ts";

const SCHEMA = fileURLToPath(
  new URL("../fixtures/workflows/github-workflow.json", import.meta.url),
);

let validate: ValidateFunction;

beforeAll(async () => {
  const schema = JSON.parse(await readFile(SCHEMA, "utf8")) as Record<string, unknown>;
  // The schema is draft-07 and uses tuple `items` with `additionalItems`, which strict mode flags.
  const ajv = new Ajv({ strict: false, allErrors: true });
  validate = ajv.compile(schema);
});

function errors(document: unknown): string[] {
  if (validate(document)) return [];
  return (validate.errors ?? []).map(
    (error) => `${error.instancePath || "(root)"} ${error.message}`,
  );
}

async function workflow(file: string): Promise<Record<string, unknown>> {
  return parse(await readFile(file, "utf8")) as Record<string, unknown>;
}

describe("SchemaStore's github-workflow schema", () => {
  it.each([
    ["the reusable apply workflow", APPLY_WORKFLOW],
    ["the example infra repo's caller", EXAMPLE_CALLER],
  ])("accepts %s", async (_name, file) => {
    expect(errors(await workflow(file))).toEqual([]);
  });

  it("refuses a step with a key GitHub does not know", async () => {
    const document = await workflow(APPLY_WORKFLOW);
    const jobs = document.jobs as Record<string, { steps: Record<string, unknown>[] }>;
    const step = jobs.apply?.steps[4];
    if (!step) throw new Error("the apply job has fewer steps than expected");
    step.timeout = 5;
    expect(errors(document)).toEqual(
      expect.arrayContaining(["/jobs/apply/steps/4 must NOT have additional properties"]),
    );
  });

  it("refuses a reusable workflow secret without `required`", async () => {
    const document = await workflow(APPLY_WORKFLOW);
    const call = (
      document.on as Record<string, { secrets: Record<string, Record<string, unknown>> }>
    ).workflow_call;
    if (!call?.secrets.kubeconfig) throw new Error("no kubeconfig secret");
    delete call.secrets.kubeconfig.required;
    expect(errors(document)).toEqual(
      expect.arrayContaining([
        "/on/workflow_call/secrets/kubeconfig must have required property 'required'",
      ]),
    );
  });
});
