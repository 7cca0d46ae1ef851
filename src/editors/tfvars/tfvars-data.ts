import type { TfvarsDocument, TfvarsNode } from "./tfvars-syntax.ts";

/** How expressions and computed keys appear in plain data. */
export interface DataStyle {
  /** Expressions become `{ [expressionKey]: "<source text>" }`. */
  expressionKey: string;
  /** A computed object key becomes this prefix followed by its source text. */
  computedKeyPrefix: string;
}

/** What `readTfvarsValue` returns: `{ expression: "var.x" }`, computed keys as their source. */
export const READ_STYLE: DataStyle = { expressionKey: "expression", computedKeyPrefix: "" };

/**
 * For comparisons, markers no tfvars key can collide with in practice: an expression must never
 * look equal to an object that happens to have an `expression` key.
 */
export const VERIFY_STYLE: DataStyle = {
  expressionKey: "\u0000expression",
  computedKeyPrefix: "\u0000computed key ",
};

/**
 * The plain data a node stands for: literals as JS values, objects as plain objects, tuples as
 * arrays, and any other expression as its source text under `style.expressionKey` (it is never
 * evaluated).
 */
export function nodeData(text: string, node: TfvarsNode, style: DataStyle): unknown {
  switch (node.kind) {
    case "literal":
      return node.value;
    case "tuple":
      return node.items.map((item) => nodeData(text, item, style));
    case "object": {
      const data: Record<string, unknown> = {};
      for (const { key, value } of node.items) {
        const name =
          key.kind === "static"
            ? key.name
            : `${style.computedKeyPrefix}${text.slice(key.span.start, key.span.end)}`;
        setOwn(data, name, nodeData(text, value, style));
      }
      return data;
    }
    case "expression":
      return { [style.expressionKey]: text.slice(node.span.start, node.span.end) };
  }
}

/** The data of a whole document: one entry per attribute. */
export function documentData(document: TfvarsDocument, style: DataStyle): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const attribute of document.attributes) {
    setOwn(data, attribute.name, nodeData(document.text, attribute.value, style));
  }
  return data;
}

/** Sets a property even when it is named `__proto__`, which plain assignment would not. */
function setOwn(data: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(data, key, { value, enumerable: true, writable: true, configurable: true });
}
