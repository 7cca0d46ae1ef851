/**
 * A GraphQL request to GitHub, checked against the schema excerpt of test/merge/fixtures and read
 * into what a fake needs to answer it: the root fields with their arguments' values (variables
 * filled in) and the selections each answer must carry.
 */
import { checkGraphqlRequest, type GraphqlCheck } from "../../merge/graphql-check.ts";

type Operation = NonNullable<GraphqlCheck["operation"]>;
type Selection = Operation["selections"][number];
type Value = NonNullable<ReturnType<Selection["args"]["get"]>>;

export interface GraphqlField {
  name: string;
  /** The field's arguments, their variables replaced by the values sent. */
  args: Record<string, unknown>;
  selections: Selection[] | undefined;
}

export interface GraphqlRequest {
  /** What is wrong with the request (nothing: an empty list). */
  problems: string[];
  type: Operation["type"] | undefined;
  fields: GraphqlField[];
}

/** Reads a GraphQL request body (`{query, variables}`) as GitHub's endpoint receives it. */
export function readGraphqlRequest(body: Record<string, unknown>): GraphqlRequest {
  if (typeof body.query !== "string")
    return { problems: ["the request has no query"], type: undefined, fields: [] };
  const variables = (body.variables ?? {}) as Record<string, unknown>;
  const check = checkGraphqlRequest(body.query, variables);
  if (!check.operation || check.problems.length > 0)
    return { problems: check.problems, type: undefined, fields: [] };
  const fields = check.operation.selections.map((selection) => ({
    name: selection.name,
    args: Object.fromEntries(
      [...selection.args].map(([name, value]) => [name, argumentValue(value, variables)]),
    ),
    selections: selection.selections,
  }));
  return { problems: [], type: check.operation.type, fields };
}

function argumentValue(value: Value, variables: Record<string, unknown>): unknown {
  switch (value.kind) {
    case "variable":
      return variables[value.name] ?? null;
    case "list":
      return value.items.map((item) => argumentValue(item, variables));
    case "object":
      return Object.fromEntries(
        [...value.fields].map(([name, item]) => [name, argumentValue(item, variables)]),
      );
    case "int":
    case "float":
      return Number(value.text);
    case "boolean":
      return value.text === "true";
    case "null":
      return null;
    default:
      return value.text;
  }
}

/** The fields of `object` that `selections` ask for, nested objects as their selections say. */
export function selectFields(
  selections: readonly Selection[] | undefined,
  object: Record<string, unknown> | null,
): Record<string, unknown> | null {
  if (object === null) return null;
  const answer: Record<string, unknown> = {};
  for (const selection of selections ?? []) {
    const value = object[selection.name] ?? null;
    answer[selection.name] =
      selection.selections && typeof value === "object"
        ? selectFields(selection.selections, value as Record<string, unknown> | null)
        : value;
  }
  return answer;
}
