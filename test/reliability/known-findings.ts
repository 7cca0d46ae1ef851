/**
 * Inputs that the reliability run found crashing, listed in docs/reliability.md under "Open
 * findings" with their cause. The test leaves exactly these out of its assertion, and fails
 * when one of them stops crashing, so that a fix takes it off this list. Empty once all are
 * fixed. A generated id (`gen-N`) names a change to a fixture file: when the fixtures change,
 * `node bench/reliability.ts --generated 12 --no-write` shows the ids the test now runs into.
 */
export const knownFindings: ReadonlyMap<string, string> = new Map([
  // Negative quantities are read as negative amounts (resources.ts, metrics-usage.ts).
  ["kube-objects/node-capacity-negative", "negative-quantity"],
  ["kube-objects/node-capacity-negative-number", "negative-quantity"],
  ["kube-objects/pod-requests-negative", "negative-quantity"],
  ["kube-objects/pod-overhead-garbage", "negative-quantity"],
  ["kube-objects/vpa-recommendation-negative", "negative-quantity"],
  ["kube-objects/vpa-policy-garbage", "negative-quantity"],
  ["kube-objects/node-metrics-negative", "negative-quantity"],
  ["kube-objects/pod-metrics-garbage", "negative-quantity"],
  ["kube-objects/gen-6", "negative-quantity"],
  ["kube-api/duplicate-keys-json", "negative-quantity"],
  // Negative and fractional counts in PDBs and HPAs are kept (autoscaler-info.ts).
  ["kube-objects/pdb-negative", "negative-count"],
  ["kube-objects/pdb-fraction", "negative-count"],
  ["kube-objects/hpa-negative", "negative-count"],
  ["kube-objects/hpa-fraction", "negative-count"],
  ["kube-api/pdb-fraction", "negative-count"],
  // loadSnapshot accepts negative amounts, windows and out-of-range percentiles (snapshot-file.ts).
  ["snapshot/capacity-negative", "snapshot-negative"],
  ["snapshot/usage-negative", "snapshot-negative"],
  ["snapshot/usage-window-negative", "snapshot-negative"],
  ["snapshot/usage-percentile-absurd", "snapshot-negative"],
  ["snapshot/extended-negative", "snapshot-negative"],
]);
