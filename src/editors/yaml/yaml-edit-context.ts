import type { Document } from "yaml";
import type { PathSegment } from "../path.ts";
import type { ScalarValue } from "../value.ts";
import type { YamlFile } from "./yaml-file.ts";
import type { Splice } from "./yaml-splice.ts";
import type { YamlStyle } from "./yaml-style.ts";

/** Everything an edit of one value needs to know. */
export interface EditContext {
  file: YamlFile;
  index: number;
  document: Document.Parsed;
  path: readonly PathSegment[];
  value: ScalarValue;
  style: YamlStyle;
}

/** Alternative ways to make the edit, best first, and where in the file it happens. */
export interface EditPlan {
  candidates: Splice[][];
  at: number | undefined;
  /** An explicit tag on the edited value (e.g. `!!str`), named when no candidate fits. */
  tag?: string;
}
