/**
 * Checks requests against GitHub's published REST API description (@octokit/openapi,
 * api.github.com.deref.json): the method and path must be an operation, path and query
 * parameters must be declared (and of the declared type), and a JSON body must validate against
 * the operation's request body schema. Loaded once per test file; schemas compile on first use.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

type Json = Record<string, unknown>;

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Json;
}

export interface Operation {
  method: string;
  template: string;
  operationId: string;
  parameters: Parameter[];
  requestBody: { required: boolean; schema: Json | undefined } | undefined;
  responses: Record<string, Json>;
  pattern: RegExp;
  /** Literal path segments: the most literal template wins when several match. */
  literals: number;
}

export interface RequestToCheck {
  method: string;
  url: string;
  /** The raw request body ("" when none). */
  body: string;
}

export interface RequestCheck {
  operation: Operation | undefined;
  problems: string[];
}

const DESCRIPTION = "@octokit/openapi/generated/api.github.com.deref.json";
const API_ORIGIN = "https://api.github.com";

let operationsByMethod: Map<string, Operation[]> | undefined;
const ajv = createAjv();
const validators = new Map<string, ValidateFunction>();

/** Every operation of the description for `method`, indexed on first use. */
function operationsFor(method: string): Operation[] {
  operationsByMethod ??= indexDescription();
  return operationsByMethod.get(method.toLowerCase()) ?? [];
}

function indexDescription(): Map<string, Operation[]> {
  const file = createRequire(import.meta.url).resolve(DESCRIPTION);
  const description = JSON.parse(readFileSync(file, "utf8")) as { paths: Record<string, Json> };
  const index = new Map<string, Operation[]>();
  for (const [template, item] of Object.entries(description.paths)) {
    const shared = (item.parameters as Parameter[] | undefined) ?? [];
    for (const [method, value] of Object.entries(item)) {
      if (method === "parameters") continue;
      const operation = value as Json;
      const list = index.get(method) ?? [];
      list.push(toOperation(method, template, operation, shared));
      index.set(method, list);
    }
  }
  return index;
}

function toOperation(method: string, template: string, raw: Json, shared: Parameter[]): Operation {
  const body = raw.requestBody as
    | { required?: boolean; content?: Record<string, { schema?: Json }> }
    | undefined;
  const segments = template.split("/").slice(1);
  const pattern = segments
    .map((segment) => (/^\{[^}]+\}$/.test(segment) ? "([^/]+)" : escapeRegExp(segment)))
    .join("/");
  return {
    method,
    template,
    operationId: String(raw.operationId),
    parameters: [...shared, ...((raw.parameters as Parameter[] | undefined) ?? [])],
    requestBody: body
      ? {
          required: body.required === true,
          schema: body.content?.["application/json"]?.schema,
        }
      : undefined,
    responses: (raw.responses as Record<string, Json> | undefined) ?? {},
    pattern: new RegExp(`^/${pattern}$`),
    literals: segments.filter((segment) => !segment.startsWith("{")).length,
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The operation `method path` names (path as sent, percent-encoded), if any. */
export function findOperation(method: string, pathname: string): Operation | undefined {
  const matches = operationsFor(method).filter((operation) => operation.pattern.test(pathname));
  return matches.sort((a, b) => b.literals - a.literals)[0];
}

/** The operation with this method and path template, e.g. ("POST", "/repos/{owner}/{repo}/pulls"). */
export function operationByTemplate(method: string, template: string): Operation {
  const found = operationsFor(method).find((operation) => operation.template === template);
  if (!found) throw new Error(`no operation ${method} ${template} in the GitHub description`);
  return found;
}

/** What is wrong with a request according to the description (nothing: an empty list). */
export function checkRequest(request: RequestToCheck): RequestCheck {
  const url = new URL(request.url);
  if (url.origin !== API_ORIGIN) {
    return { operation: undefined, problems: [`${url.origin} is not GitHub's REST API`] };
  }
  const operation = findOperation(request.method, url.pathname);
  if (!operation) {
    return {
      operation: undefined,
      problems: [`${request.method} ${url.pathname} is not an operation of GitHub's REST API`],
    };
  }
  const problems = [
    ...checkPathParameters(operation, url.pathname),
    ...checkQuery(operation, url.searchParams),
    ...checkBody(operation, request.body),
  ].map(
    (problem) => `${request.method} ${operation.template} (${operation.operationId}): ${problem}`,
  );
  return { operation, problems };
}

function checkPathParameters(operation: Operation, pathname: string): string[] {
  const values = operation.pattern.exec(pathname)?.slice(1) ?? [];
  const names = [...operation.template.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] ?? "");
  return names.flatMap((name, index) => {
    const parameter = operation.parameters.find((p) => p.in === "path" && p.name === name);
    const value = decodeURIComponent(values[index] ?? "");
    return parameter ? checkParameterValue(operation, parameter, value) : [];
  });
}

function checkQuery(operation: Operation, query: URLSearchParams): string[] {
  const problems: string[] = [];
  for (const [name, value] of query) {
    const parameter = operation.parameters.find((p) => p.in === "query" && p.name === name);
    if (!parameter) problems.push(`unknown query parameter "${name}"`);
    else problems.push(...checkParameterValue(operation, parameter, value));
  }
  for (const parameter of operation.parameters) {
    if (parameter.in === "query" && parameter.required && !query.has(parameter.name)) {
      problems.push(`missing required query parameter "${parameter.name}"`);
    }
  }
  return problems;
}

function checkParameterValue(operation: Operation, parameter: Parameter, raw: string): string[] {
  if (!parameter.schema) return [];
  const validate = validatorFor(`${operation.operationId} ${parameter.in} ${parameter.name}`, () =>
    toJsonSchema(parameter.schema),
  );
  const value = coerce(raw, parameter.schema);
  if (validate(value)) return [];
  return [
    `${parameter.in} parameter "${parameter.name}"=${JSON.stringify(raw)} ${describeErrors(validate)}`,
  ];
}

/** Query and path values are text; the schema says what they stand for. */
function coerce(raw: string, schema: Json): unknown {
  const type = schema.type;
  if ((type === "integer" || type === "number") && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (type === "boolean" && (raw === "true" || raw === "false")) return raw === "true";
  if (type === "array") return raw.split(",");
  return raw;
}

function checkBody(operation: Operation, body: string): string[] {
  if (body === "") {
    return operation.requestBody?.required ? ["the request body is required"] : [];
  }
  if (!operation.requestBody) return ["this operation takes no request body"];
  const schema = operation.requestBody.schema;
  if (!schema) return ["this operation takes no JSON body"];
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return ["the request body is not JSON"];
  }
  const validate = validatorFor(`${operation.operationId} body`, () => toJsonSchema(schema));
  return validate(value) ? [] : [`request body ${describeErrors(validate)}`];
}

function validatorFor(key: string, schema: () => unknown): ValidateFunction {
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(schema() as Json);
    validators.set(key, validate);
  }
  return validate;
}

function describeErrors(validate: ValidateFunction): string {
  return (validate.errors ?? [])
    .map((error) => `${error.instancePath || "(root)"} ${error.message ?? "is invalid"}`)
    .join("; ");
}

/**
 * OpenAPI 3.0 schema → JSON Schema: `nullable: true` becomes a "null" type (or an anyOf), and
 * OpenAPI-only keywords are dropped. Walks schema positions only, so a property named "example"
 * stays a property.
 */
export function toJsonSchema(schema: unknown): unknown {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema as Json)) {
    if (key === "properties" || key === "patternProperties") {
      out[key] = Object.fromEntries(
        Object.entries(value as Json).map(([name, inner]) => [name, toJsonSchema(inner)]),
      );
    } else if (key === "items" || key === "additionalProperties" || key === "not") {
      out[key] = toJsonSchema(value);
    } else if (key === "allOf" || key === "anyOf" || key === "oneOf") {
      out[key] = (value as unknown[]).map(toJsonSchema);
    } else if (!OPENAPI_ONLY.has(key) && !key.startsWith("x-")) {
      out[key] = value;
    }
  }
  if ((schema as Json).nullable !== true) return out;
  if (typeof out.type === "string") {
    out.type = [out.type, "null"];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    return out;
  }
  return { anyOf: [out, { type: "null" }] };
}

const OPENAPI_ONLY = new Set([
  "nullable",
  "example",
  "examples",
  "discriminator",
  "xml",
  "externalDocs",
  "deprecated",
]);

function createAjv(): Ajv {
  const instance = new Ajv({ strict: false, allErrors: true, logger: false });
  // ajv-formats is CommonJS: its default export arrives wrapped under native ESM.
  const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
    addFormatsModule) as unknown as (ajv: Ajv) => Ajv;
  addFormats(instance);
  // Formats GitHub uses that are not standard: accepted as they are.
  for (const format of ["repo.nwo", "timestamp"]) instance.addFormat(format, true);
  return instance;
}

/** A JSON example of an operation's response, deep-copied (real shapes for fixtures). */
export function responseExample(
  method: string,
  template: string,
  status: number,
  name?: string,
): unknown {
  const response = operationByTemplate(method, template).responses[String(status)];
  const content = (response?.content as Record<string, Json> | undefined)?.["application/json"];
  const examples = content?.examples as Record<string, { value?: unknown }> | undefined;
  const chosen = name ? examples?.[name] : Object.values(examples ?? {})[0];
  if (chosen?.value === undefined) {
    throw new Error(
      `no ${status} example for ${method} ${template}${name ? ` named ${name}` : ""}`,
    );
  }
  return structuredClone(chosen.value);
}
