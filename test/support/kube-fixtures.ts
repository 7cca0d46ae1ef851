import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

type Raw = Record<string, unknown>;

/** Absolute path of a file under test/fixtures/kube/. */
export function kubeFixturePath(relative: string): string {
  return fileURLToPath(new URL(`../fixtures/kube/${relative}`, import.meta.url));
}

/** The objects in a fixture file (JSON, or YAML with one or more documents). */
export function loadKubeObjects(relative: string): Raw[] {
  const text = readFileSync(kubeFixturePath(relative), "utf8");
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw document.errors[0];
      return document.toJS() as Raw | null;
    })
    .filter((object): object is Raw => object !== null);
}

/** A metrics-server NodeMetrics object. */
export function nodeMetrics(
  name: string,
  usage: { cpu: string; memory: string },
  timestamp: string,
  window = "20.035s",
): Raw {
  return {
    kind: "NodeMetrics",
    apiVersion: "metrics.k8s.io/v1beta1",
    metadata: { name, creationTimestamp: timestamp },
    timestamp,
    window,
    usage,
  };
}

/** A metrics-server PodMetrics object. */
export function podMetrics(
  namespace: string,
  name: string,
  containers: Record<string, { cpu: string; memory: string }>,
  timestamp: string,
  window = "15.107s",
): Raw {
  return {
    kind: "PodMetrics",
    apiVersion: "metrics.k8s.io/v1beta1",
    metadata: { name, namespace, creationTimestamp: timestamp },
    timestamp,
    window,
    containers: Object.entries(containers).map(([container, usage]) => ({
      name: container,
      usage,
    })),
  };
}
