/** A range of UTF-16 offsets into the file text: `start` inclusive, `end` exclusive. */
export interface Span {
  start: number;
  end: number;
}

/** A number, string (without interpolation), bool or null written directly in the file. */
export interface LiteralNode {
  kind: "literal";
  value: string | number | boolean | null;
  span: Span;
}

/** An object constructor `{ key = value, ... }` (also `key: value`). */
export interface ObjectNode {
  kind: "object";
  items: ObjectItem[];
  span: Span;
}

/** A tuple constructor `[a, b, ...]`. */
export interface TupleNode {
  kind: "tuple";
  items: TfvarsNode[];
  span: Span;
}

/** What kind of non-literal expression a value is, in the words error messages use. */
export type ExpressionForm =
  | "reference"
  | "function call"
  | "operation"
  | "conditional expression"
  | "for expression"
  | "parenthesized expression"
  | "string template with interpolation"
  | "heredoc";

/**
 * Anything that is not a plain literal: the editor skips over it without evaluating it and
 * keeps its source text. `name` is set when the expression is one bare identifier.
 */
export interface ExpressionNode {
  kind: "expression";
  form: ExpressionForm;
  span: Span;
  name?: string;
}

export type TfvarsNode = LiteralNode | ObjectNode | TupleNode | ExpressionNode;

/** An object key known without evaluation: an identifier, a literal string, number or bool. */
export interface StaticKey {
  kind: "static";
  name: string;
  span: Span;
}

/** An object key that is an expression, such as `(var.name)` or `"${local.prefix}-a"`. */
export interface ComputedKey {
  kind: "computed";
  span: Span;
}

export interface ObjectItem {
  key: StaticKey | ComputedKey;
  value: TfvarsNode;
}

/** One `name = value` line of the file. */
export interface TfvarsAttribute {
  name: string;
  nameSpan: Span;
  value: TfvarsNode;
}

/** A parsed tfvars file: its attributes in file order, with the text they point into. */
export interface TfvarsDocument {
  file: string;
  text: string;
  attributes: TfvarsAttribute[];
}
