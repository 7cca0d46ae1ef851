import { parsePath } from "../editors/path.ts";
import { isPlainObject, valueAt } from "../editors/verify.ts";
import { parseBytes, parseCpu, QuantityError } from "../planning/quantity.ts";
import type { RepoIndex } from "./repo-index.ts";
import type { ResourceName, ResourcesLocation } from "./resources-proposal.ts";

/** A request or limit as the file holds it. */
export interface FileAmount {
  /** The value in snapshot units; absent when the file sets none or it is unreadable. */
  amount?: number;
  /** The raw value, kept to write numbers back as numbers. */
  raw?: unknown;
  /** Set when the value is present but not a quantity. */
  unreadable?: boolean;
}

export interface FileResources {
  requests: Record<ResourceName, FileAmount>;
  limits: Record<ResourceName, FileAmount>;
}

/** Reads `requests` and `limits` of cpu and memory at the location, as the file sets them. */
export function readFileResources(index: RepoIndex, location: ResourcesLocation): FileResources {
  const document = index.documents.find(
    (candidate) => candidate.file === location.file && candidate.index === location.document,
  );
  const resources = document ? valueAt(document.data, parsePath(location.path)) : undefined;
  const section = (name: "requests" | "limits") => {
    const values =
      isPlainObject(resources) && isPlainObject(resources[name]) ? resources[name] : {};
    return { cpu: amount("cpu", values.cpu), memory: amount("memory", values.memory) };
  };
  return { requests: section("requests"), limits: section("limits") };
}

function amount(resource: ResourceName, raw: unknown): FileAmount {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== "string" && typeof raw !== "number") return { raw, unreadable: true };
  try {
    const text = String(raw).trim();
    return { amount: resource === "cpu" ? parseCpu(text) : parseBytes(text), raw };
  } catch (error) {
    if (error instanceof QuantityError) return { raw, unreadable: true };
    throw error;
  }
}
