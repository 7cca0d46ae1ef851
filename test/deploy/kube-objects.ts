/**
 * Helpers for the deployment manifests: build a kustomization with kubectl, and check each
 * object against Kubernetes' API schemas (kubernetes-models) and field names (the models of
 * @kubernetes/client-node).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as clientNode from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";

const run = promisify(execFile);

export type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
};

/** The repository root. */
export const projectRoot = fileURLToPath(new URL("../../", import.meta.url));

/** `kubectl kustomize DIR` (offline: a kustomization with only local resources), as objects. */
export async function buildKustomization(dir: string): Promise<KubeObject[]> {
  const { stdout } = await run("kubectl", ["kustomize", dir], {
    cwd: projectRoot,
    maxBuffer: 16 * 1024 * 1024,
  });
  return parseObjects(stdout, dir);
}

/** The objects of a multi-document YAML text. */
export function parseObjects(text: string, what: string): KubeObject[] {
  return parseAllDocuments(text).flatMap((document) => {
    if (document.errors.length > 0) throw new Error(`${what}: ${document.errors[0]?.message}`);
    const object = document.toJS() as KubeObject | null;
    return object === null ? [] : [object];
  });
}

interface ModelClass {
  new (data: unknown): { validate(): void };
  apiVersion: string;
  kind: string;
}

/**
 * The kubernetes-models class for an object's apiVersion and kind. Throws for a kind the
 * models do not know, so a typo in `kind` or an unserved apiVersion fails the check.
 */
export async function modelClass(object: {
  apiVersion: string;
  kind: string;
}): Promise<ModelClass> {
  const [group, version] = object.apiVersion.includes("/")
    ? object.apiVersion.split("/")
    : ["", object.apiVersion];
  const specifier = group
    ? `kubernetes-models/${group}/${version}`
    : `kubernetes-models/${version}`;
  let module: Record<string, unknown>;
  try {
    module = (await import(specifier)) as Record<string, unknown>;
  } catch {
    throw new Error(`no Kubernetes API models for apiVersion ${object.apiVersion}`);
  }
  const found = Object.values(module).find(
    (value): value is ModelClass =>
      typeof value === "function" &&
      (value as Partial<ModelClass>).kind === object.kind &&
      (value as Partial<ModelClass>).apiVersion === object.apiVersion,
  );
  if (!found) throw new Error(`unknown kind ${object.kind} in ${object.apiVersion}`);
  return found;
}

/** Validates an object against its JSON schema; the message of the first violation, if any. */
export async function schemaProblem(object: KubeObject): Promise<string | undefined> {
  const Model = await modelClass(object);
  try {
    new Model(object).validate();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

interface Attribute {
  baseName: string;
  type: string;
}

type AttributeModel = { getAttributeTypeMap(): Attribute[] };

const models = clientNode as unknown as Record<string, AttributeModel | undefined>;

/**
 * Field paths that Kubernetes does not define for the object's kind. The JSON schemas allow
 * unknown properties, so a misspelt `readOnlyRootFileSystem` would pass them; the API server
 * drops such a field (with a warning) and the setting silently does not apply.
 */
export function unknownFields(object: KubeObject): string[] {
  const [, version = object.apiVersion] = object.apiVersion.split("/");
  const typeName = `${version.charAt(0).toUpperCase()}${version.slice(1)}${object.kind}`;
  if (!models[typeName]) throw new Error(`no client-node model ${typeName}`);
  const problems: string[] = [];
  walkModel(object, typeName, object.kind, problems);
  return problems;
}

function walkModel(value: unknown, type: string, path: string, problems: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) {
        walkModel(item, array[1] as string, `${path}[${index}]`, problems);
      }
    }
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      walkModel(item, map[1] as string, `${path}.${key}`, problems);
    }
    return;
  }
  const model = models[type];
  if (!model || typeof model.getAttributeTypeMap !== "function") return;
  if (typeof value !== "object" || Array.isArray(value)) return;
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const attributeType = attributes.get(key);
    if (attributeType === undefined) problems.push(`${path}.${key}`);
    else walkModel(item, attributeType, `${path}.${key}`, problems);
  }
}
