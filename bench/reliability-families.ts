/** Every input family the reliability run tries, in the order of the table. */
import { appInputFamilies } from "./reliability-app.ts";
import type { InputFamily } from "./reliability-case.ts";
import { policyFamily, repoConfigFamily } from "./reliability-config.ts";
import { tfvarsEditFamily, yamlEditFamily } from "./reliability-editors.ts";
import { guardFamily } from "./reliability-guard.ts";
import { kubeApiFamily, kubeObjectsFamily } from "./reliability-kube.ts";
import { prometheusFamily } from "./reliability-prometheus.ts";
import { snapshotFamily } from "./reliability-snapshot.ts";

/** The readers' and editors' families. */
export const readerFamilies: InputFamily[] = [
  tfvarsEditFamily,
  yamlEditFamily,
  repoConfigFamily,
  policyFamily,
  kubeObjectsFamily,
  kubeApiFamily,
  prometheusFamily,
  snapshotFamily,
  guardFamily,
];

export const reliabilityFamilies: InputFamily[] = [...readerFamilies, ...appInputFamilies];

/** The seed the figures in docs/reliability.md were made with. */
export const defaultSeed = 20261127;
