import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { WorkloadId } from "../../src/rightsizing/resources-proposal.ts";
import { identityOf, workloadKeys } from "../../src/rightsizing/workload-keys.ts";

const deployment = (namespace: string, name: string): WorkloadId => ({
  namespace,
  kind: "Deployment",
  name,
});
const statefulSet = (namespace: string, name: string): WorkloadId => ({
  namespace,
  kind: "StatefulSet",
  name,
});

function keysOf(workloads: WorkloadId[]): Record<string, string> {
  return Object.fromEntries(workloadKeys(workloads));
}

describe("workloadKeys", () => {
  it("keeps resources-<namespace>-<name> for every workload when nothing collides", () => {
    expect(
      keysOf([
        deployment("media", "plex"),
        statefulSet("media", "jellyfin"),
        deployment("db", "x"),
      ]),
    ).toEqual({
      "media/Deployment/plex": "resources-media-plex",
      "media/StatefulSet/jellyfin": "resources-media-jellyfin",
      "db/Deployment/x": "resources-db-x",
    });
  });

  it("leaves a key an open pull request holds to its workload, and the detail to the other", () => {
    const both = [deployment("db", "redis"), statefulSet("db", "redis")];
    const plain = new Map([["db/Deployment/redis", "resources-db-redis"]]);
    expect(Object.fromEntries(workloadKeys(both, plain))).toEqual({
      "db/Deployment/redis": "resources-db-redis",
      "db/StatefulSet/redis": "resources-db-redis-statefulset",
    });
    // The StatefulSet gone, the Deployment's pull request keeps the key with its kind.
    const kind = new Map([["db/Deployment/redis", "resources-db-redis-deployment"]]);
    expect(Object.fromEntries(workloadKeys([deployment("db", "redis")], kind))).toEqual({
      "db/Deployment/redis": "resources-db-redis-deployment",
    });
    // A key held by another workload's identity, or by none of its levels, changes nothing.
    const stray = new Map([["db/Deployment/redis", "resources-db-cache"]]);
    expect(Object.fromEntries(workloadKeys(both, stray))).toEqual(keysOf(both));
  });

  it("adds the kind when a Deployment and a StatefulSet share namespace and name", () => {
    expect(keysOf([deployment("db", "redis"), statefulSet("db", "redis")])).toEqual({
      "db/Deployment/redis": "resources-db-redis-deployment",
      "db/StatefulSet/redis": "resources-db-redis-statefulset",
    });
  });

  it("adds a hash of the identity when the kind does not tell two workloads apart", () => {
    expect(keysOf([deployment("home-auto", "zigbee"), deployment("home", "auto-zigbee")])).toEqual({
      "home-auto/Deployment/zigbee": "resources-home-auto-zigbee-58b2f8b6",
      "home/Deployment/auto-zigbee": "resources-home-auto-zigbee-e1cb3359",
    });
  });

  it("leaves a plain key to its workload when another's longer key meets it", () => {
    const keys = keysOf([
      deployment("db", "redis"),
      statefulSet("db", "redis"),
      deployment("db", "redis-deployment"),
    ]);
    expect(keys["db/Deployment/redis-deployment"]).toBe("resources-db-redis-deployment");
    expect(keys["db/StatefulSet/redis"]).toBe("resources-db-redis-statefulset");
    expect(keys["db/Deployment/redis"]).toMatch(/^resources-db-redis-[0-9a-f]{8}$/);
  });

  it("lengthens the hash when even the hashed key is another workload's plain key", () => {
    const keys = keysOf([
      deployment("home-auto", "zigbee"),
      deployment("home", "auto-zigbee"),
      deployment("home-auto", "zigbee-58b2f8b6"),
    ]);
    expect(keys["home-auto/Deployment/zigbee-58b2f8b6"]).toBe(
      "resources-home-auto-zigbee-58b2f8b6",
    );
    expect(keys["home-auto/Deployment/zigbee"]).toMatch(
      /^resources-home-auto-zigbee-58b2f8b6[0-9a-f]{8}$/,
    );
    expect(new Set(Object.values(keys)).size).toBe(3);
  });

  const names = fc.constantFrom("a", "b", "a-b", "b-a", "a-a", "a-deployment", "b-statefulset");
  const identities = fc.array(
    fc.record({
      namespace: names,
      kind: fc.constantFrom("Deployment", "StatefulSet", "DaemonSet"),
      name: names,
    }),
    { maxLength: 12 },
  );

  it("gives distinct workloads distinct keys, whatever their order", () => {
    fc.assert(
      fc.property(identities, (workloads) => {
        const keys = workloadKeys(workloads);
        const distinct = new Set(workloads.map(identityOf));
        expect(keys.size).toBe(distinct.size);
        expect(new Set(keys.values()).size).toBe(distinct.size);
        expect(workloadKeys([...workloads].reverse())).toEqual(keys);
      }),
    );
  });

  it("keeps the plain key of every workload whose plain key no other workload renders", () => {
    fc.assert(
      fc.property(identities, (workloads) => {
        const keys = workloadKeys(workloads);
        const plain = (w: WorkloadId) => `resources-${w.namespace}-${w.name}`;
        for (const workload of workloads) {
          const alone = workloads.every(
            (other) =>
              identityOf(other) === identityOf(workload) || plain(other) !== plain(workload),
          );
          if (alone) expect(keys.get(identityOf(workload))).toBe(plain(workload));
        }
      }),
    );
  });
});
