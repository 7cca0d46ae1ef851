import { describe, expect, it } from "@jest/globals";
import { cluster, NODES_ONLY_CONFIG } from "./support/infra.ts";
import { oneNodeShort, scenario } from "./support/scenario.ts";

/** The requests that open or update the pull request itself, in order. */
const PULL_REQUEST_STEPS =
  /^(POST \/git\/(trees|commits|refs)|GET \/git\/ref\/|PATCH \/git\/refs|POST \/pulls|PATCH \/pulls|POST \/issues\/\d+\/labels|PUT \/issues\/\d+\/labels|GET \/contents\/terraform)/;

describe("GitHub requests per reconcile", () => {
  it("opens a pull request with 5 requests, updates it with 5, and idles on 2 answered 304", async () => {
    const world = oneNodeShort(NODES_ONLY_CONFIG);
    await world.run();
    const opening = world.github.calls().filter((call) => PULL_REQUEST_STEPS.test(call));
    expect(opening).toEqual([
      "GET /contents/terraform/terraform.tfvars",
      "POST /git/trees",
      "POST /git/commits",
      "POST /git/refs",
      "POST /pulls",
      "POST /issues/1/labels",
    ]);
    // The file was read once, for planning; building the commit reused it.
    expect(opening.slice(1)).toHaveLength(5);

    await world.run();
    world.github.reset();
    await world.run();
    expect(world.github.calls()).toEqual(["GET /branches/main", "GET /pulls"]);
    expect(world.github.charged()).toEqual([]);

    world.cluster = cluster({ pending: 2, plex: false });
    world.github.reset();
    await world.run();
    expect(world.github.calls().filter((call) => PULL_REQUEST_STEPS.test(call))).toEqual([
      "POST /git/trees",
      "POST /git/commits",
      // Read just before the update: a person's push since is not overwritten.
      "GET /git/ref/heads/pr-autoscaler/nodes-workers",
      "PATCH /pulls/1",
      "PATCH /git/refs/heads/pr-autoscaler/nodes-workers",
    ]);
  });

  it("idles on 2 requests with right-sizing on: the file tree is read once per commit", async () => {
    const world = scenario({ cluster: cluster({ pending: 0 }) });
    await world.run();
    await world.run();
    world.github.reset();
    await world.run();
    expect(world.github.calls()).toEqual(["GET /branches/main", "GET /pulls"]);
  });

  it("reads only the files a push changed", async () => {
    const world = scenario({ cluster: cluster({ pending: 0, plex: false }) });
    await world.run();
    world.github.push({ "kubernetes/apps/media/plex/app/helmrelease.yaml": "# moved elsewhere\n" });
    world.github.reset();
    await world.run();
    const reads = world.github.calls().filter((call) => call.startsWith("GET /git/"));
    expect(reads).toEqual([
      expect.stringMatching(/^GET \/git\/trees\//),
      expect.stringMatching(/^GET \/git\/blobs\//),
    ]);
  });
});

describe("what does not cause a write", () => {
  it("a small move in usage rewrites neither the pull request nor the dashboard", async () => {
    const world = scenario({ cluster: cluster({ pending: 1, plex: false, cpuPerNode: "2" }) });
    await world.run();
    await world.run();
    world.cluster = cluster({ pending: 1, plex: false, cpuPerNode: "2050m" });
    world.github.reset();
    const result = await world.run();
    expect(result.dashboard).toBe("unchanged");
    expect(result.pullRequests).toEqual([expect.objectContaining({ action: "unchanged" })]);
    expect(world.github.calls()).toEqual(["GET /branches/main", "GET /pulls"]);
  });
});
