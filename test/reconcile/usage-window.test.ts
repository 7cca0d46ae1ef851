/**
 * A reconcile asks the cluster read for usage over the longest window its pools' checks judge,
 * so Prometheus, when it is the usage source, is read over every check's own window.
 */
import { describe, expect, it } from "@jest/globals";
import { reconcile } from "../../src/reconcile/reconcile.ts";
import type { ReconcileTarget } from "../../src/reconcile/reconcile-types.ts";
import { cluster, infraFiles, WORKERS_POOL } from "./support/infra.ts";
import { scenario } from "./support/scenario.ts";

/** Reconciles the repository configured by `config`, recording what each read asked for. */
async function askedWith(config: string): Promise<unknown[]> {
  const world = scenario({ files: infraFiles({ config }), cluster: cluster() });
  const requests: unknown[] = [];
  const target = world.replica();
  const observed: ReconcileTarget = {
    ...target,
    observe: async (request) => {
      requests.push(request);
      return world.cluster;
    },
  };
  await reconcile(observed, ["timer"]);
  return requests;
}

describe("reconcile: the usage window asked of the cluster read", () => {
  it("asks for the 10 minutes of the default scaleDown.unneededTime", async () => {
    expect(await askedWith(WORKERS_POOL)).toEqual([{ usageWindowSeconds: 600 }]);
  });

  it("asks for the longest of the pools' scaleUp.window and scaleDown.unneededTime", async () => {
    const config = `${WORKERS_POOL}    scaleUp:
      window: 45m
  - name: batch
    target:
      file: terraform/batch.tfvars
      path: batch_count
    selector:
      matchLabels: { example.org/pool: batch }
    max: 4
    scaleDown:
      unneededTime: 30m
`;
    expect(await askedWith(config)).toEqual([{ usageWindowSeconds: 2700 }]);
  });
});
