/**
 * The app tells a Flux GitRepository from the repository it manages by that repository's
 * `owner/name`: values files of another repository are not edited here under the same path.
 * Hand-written: the worked example's Plex, its values moved to a file the HelmRelease names.
 */
import { describe, expect, it } from "@jest/globals";
import { gitRepository } from "../support/flux-manifests.ts";
import { OWNER, REPO } from "../support/github-responses.ts";
import { cluster, infraFiles, PLEX_FILE } from "./support/infra.ts";
import { scenario } from "./support/scenario.ts";

const VALUES = "values/plex-prod.yaml";

function files(url: string): Map<string, string> {
  const all = infraFiles();
  all.set(
    PLEX_FILE,
    `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: plex
spec:
  interval: 1h
  chart:
    spec:
      chart: ./charts/app-template
      sourceRef:
        kind: GitRepository
        name: apps
        namespace: flux-system
      valuesFiles:
        - ./${VALUES}
`,
  );
  all.set(
    VALUES,
    `controllers:
  plex:
    containers:
      app:
        image:
          repository: ghcr.io/home-operations/plex
          tag: 1.42.1.10054
        resources:
          requests:
            cpu: 2
            memory: 4Gi
          limits:
            memory: 8Gi
`,
  );
  all.set("kubernetes/flux/sources/apps.yaml", gitRepository("apps", url));
  return all;
}

describe("right-sizing values a GitRepository holds, in the app", () => {
  it("edits the values file when the GitRepository is the repository the app manages", async () => {
    const w = scenario({
      files: files(`https://github.com/${OWNER}/${REPO}.git`),
      cluster: cluster({ pending: 0 }),
    });
    await w.run();
    const pulls = w.github.openPulls().filter((pull) => pull.branch.includes("resources"));
    expect(pulls.map((pull) => pull.branch)).toEqual(["pr-autoscaler/resources-media-plex"]);
    expect(pulls[0]?.body).toContain(VALUES);
  });

  it("opens nothing for them when the GitRepository is another repository", async () => {
    const w = scenario({
      files: files(`https://github.com/${OWNER}/apps`),
      cluster: cluster({ pending: 0 }),
    });
    await w.run();
    const pulls = w.github.openPulls().filter((pull) => pull.branch.includes("resources"));
    expect(pulls).toEqual([]);
  });
});
