/**
 * Right-sizing pull requests whose requests can no longer be judged, on the fake GitHub: values a
 * container of unknown needs reads too.
 */
import { describe, expect, it } from "@jest/globals";
import { workloadPod } from "../rightsizing/rightsizing-helpers.ts";
import { CONFIG_PATH, cluster, infraFiles, PLEX_FILE, WORKERS_POOL } from "./support/infra.ts";
import { scenario } from "./support/scenario.ts";

const RIGHTSIZE = `${WORKERS_POOL}rightsizing: {}
`;

describe("a right-sizing pull request whose values another container comes to read", () => {
  it("is kept open, saying the other container's needs are not known, not that the requests are right", async () => {
    const w = scenario({ files: infraFiles({ config: RIGHTSIZE }), cluster: cluster() });
    await w.run();
    const [pull] = w.github.openPulls();
    if (!pull) throw new Error("no pull request opened");
    const { number } = pull;
    const key = pull.branch.slice("pr-autoscaler/".length);

    // A transcoder, with no VPA, is given Plex's values by a target (as a second controller of
    // the same chart values would be).
    w.github.push({
      [CONFIG_PATH]: `${WORKERS_POOL}rightsizing:
  targets:
    - workload: media/plex-transcoder
      file: ${PLEX_FILE}
      path: spec.values.controllers.plex.containers.app.resources
`,
    });
    const snapshot = cluster();
    const transcoder = workloadPod("media/plex-transcoder", "plex-transcoder-5d9f8-abcde", {
      requests: { cpu: "2", memory: "4Gi" },
    });
    w.cluster = { ...snapshot, pods: [...snapshot.pods, transcoder] };
    const held = await w.run(undefined, ["push"]);
    expect(held.pullRequests).toEqual([
      {
        key,
        action: "left-alone",
        number,
        note: `kept open until the requests can be judged again: Deployment media/plex: container app: ${PLEX_FILE} spec.values.controllers.plex.containers.app.resources also sets the resources of Deployment media/plex-transcoder container app (it has no VPA), whose needs are not known`,
      },
    ]);
    expect(w.github.pull(number).state).toBe("open");

    // The transcoder gone, Plex's values are Plex's alone again: the change is still wanted, and
    // made again on the default branch the configuration moved.
    w.cluster = cluster();
    const back = await w.run();
    expect(back.pullRequests).toEqual([
      expect.objectContaining({ key, number, action: "rebuilt" }),
    ]);
  });
});
