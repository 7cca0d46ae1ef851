/**
 * Which node a decrease removes, against a served cluster whose workers are named as Talos names
 * them: by the hostname Terraform gives each VM of its `count` (talos-worker-1 …), or, when
 * nothing sets one, by the hostname Talos generates (`talos-` and two random groups of three
 * letters and digits, such as talos-2gd-0k3). Without `removal.nameTemplate` a node is named only
 * when the names end in as many numbers in a row as there are nodes, as count indices do.
 */
import { describe, expect, it } from "@jest/globals";
import { CONFIG, TFVARS } from "./served-cluster.ts";
import {
  apps,
  cluster,
  fillers,
  judgedNow,
  plan,
  poolDecision,
  poolNote,
  tdarr,
} from "./served-plan.ts";

/** The pool without a name template, removing quiet nodes on metrics-server's sample. */
const BY_SUFFIX = CONFIG.replace(
  "    removal:\n      nameTemplate: talos-worker-{index}\n      indexBase: 1\n",
  "    scaleDown:\n      unneededTime: 0\n",
);

describe("plan against a served cluster: the node a decrease removes, by its name", () => {
  it("takes talos-worker-10 before talos-worker-9, by the number and not the text", async () => {
    const names = Array.from({ length: 10 }, (_, index) => `talos-worker-${index + 1}`);
    const output = await plan([...cluster(names), ...apps(names.slice(0, 8))], {
      config: BY_SUFFIX.replace("max: 6", "max: 12").replace(
        "unneededTime: 0\n",
        "unneededTime: 0\n      maxEmptyBulk: 2\n",
      ),
      tfvars: TFVARS.replace("worker_count      = 3", "worker_count      = 10"),
    });
    expect(output.proposals[0]).toMatchObject({ from: 10, to: 8 });
    expect(output.proposals[0]?.reasons.join("\n")).toContain(
      "scale down 10 → 8, removing talos-worker-10, talos-worker-9",
    );
  });

  it("names no node when Talos generated the hostnames, even one ending in a digit", async () => {
    // talos-2gd-0k3 ends in 3 by chance: it is no count index, and Terraform destroys the VM
    // at the highest index, whichever hostname that VM was given.
    const names = ["talos-7rd-ipn", "talos-2gd-0k3", "talos-q1z-r8m"];
    const output = await plan([...cluster(names), ...apps(names)], { config: BY_SUFFIX });
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "not removed: no node to remove: talos-7rd-ipn does not end in a number as talos-2gd-0k3 does, so which node is at the highest count index is not known; set removal.nameTemplate",
    );
  });

  it("names no node when every generated hostname ends in a digit", async () => {
    const names = ["talos-2gd-0k3", "talos-q1z-r81", "talos-x9b-4n2"];
    const output = await plan([...cluster(names), ...apps(names)], { config: BY_SUFFIX });
    expect(output.proposals).toEqual([]);
    expect(poolNote(output)).toContain(
      "not removed: no node to remove: the numbers the node names end in (2, 3, 81) are not 3 in a row, as names made from the count index are, so the highest need not be the VM a decrease destroys; set removal.nameTemplate",
    );
  });

  it("lists eleven workers' names by their number, as the API server's text order does not", async () => {
    // The API server lists nodes by name as text: talos-worker-10 and talos-worker-11 come
    // between talos-worker-1 and talos-worker-2 there.
    const names = Array.from({ length: 11 }, (_, index) => `talos-worker-${index + 1}`);
    const output = await plan(
      [
        ...cluster(names, {
          "talos-worker-2": { ready: false },
          "talos-worker-11": { ready: false },
          "talos-worker-7": { unschedulable: true },
          "talos-worker-10": { unschedulable: true },
        }),
        ...fillers(names),
        tdarr("q7x2m"),
      ],
      judgedNow(11, { "max: 6": "max: 14" }),
    );
    const reasons = output.proposals[0]?.reasons.join("\n");
    expect(reasons).toContain(
      "nodes: 11 in the pool, 9 Ready; not Ready: talos-worker-2, talos-worker-11; cordoned: talos-worker-7, talos-worker-10",
    );
    expect(reasons).toContain(
      "(of the Ready nodes that take pods: cordoned talos-worker-7, talos-worker-10 left out)",
    );
    expect(poolDecision(output).nodes).toMatchObject({
      unready: ["talos-worker-2", "talos-worker-11"],
      cordoned: ["talos-worker-7", "talos-worker-10"],
    });
  });
});
