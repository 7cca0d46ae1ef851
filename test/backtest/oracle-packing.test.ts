import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import {
  binPackingBound,
  countBound,
  type PackItem,
  PackingSearch,
  type Placement,
  placementOf,
  poolNeeds,
} from "../../src/backtest/oracle-packing.ts";
import { podInfo } from "../../src/backtest/sim-cluster.ts";
import type { PodArrival, Trace } from "../../src/backtest/trace.ts";
import { header, pod, trace } from "./trace-helpers.ts";

const GI = 2 ** 30;

/** Pods that may go anywhere, needing `cpus` cores and 1 GiB each. */
function cores(...cpus: number[]): PackItem<number>[] {
  return cpus.map((cpu, i) => ({
    pod: i,
    need: { cpu: cpu * 1000, memory: GI },
    placement: { fixed: [], pools: ["any"] },
  }));
}

/** A trace of one pool of `cpu`-core, 16 GiB nodes (and the fixed nodes given), min 0. */
function poolOf(cpu: number, nodes: object[] = []): Trace {
  return trace(header({ nodes }, { count: 0, min: 0, node: { cpu: String(cpu), memory: "16Gi" } }));
}

describe("poolNeeds", () => {
  it("finds the packing first-fit decreasing misses", () => {
    // 5 + 3 + 2 and 4 + 4 + 2 fill two 10-core nodes; first-fit decreasing puts 5 + 4 together
    // and needs a third.
    const result = poolNeeds(poolOf(10), cores(5, 3, 2, 4, 4, 2));
    expect(result).toEqual({ pools: [2], total: 2, exact: true, unplaceable: [] });
  });

  it("counts how many pods of a size one node holds", () => {
    // Three one-core pods per 3.8-core node: 16 need 6, where their sum says 5.
    const pool = trace(header({}, { count: 0, min: 0, node: { cpu: "3800m", memory: "15Gi" } }));
    expect(poolNeeds(pool, cores(...new Array(16).fill(1))).pools).toEqual([6]);
  });

  it("needs the pool up to the node a pod's hostname names", () => {
    const pinned = trace(
      header({}, { min: 0 }),
      pod(0, "a", { nodeSelector: { "kubernetes.io/hostname": "worker-3" } }),
    );
    const arrival = pinned.events[0] as PodArrival;
    const placement = placementOf(podInfo(arrival), pinned);
    expect(placement.pools).toEqual([2]);
    const items = [{ pod: "a", need: { cpu: 1000, memory: GI }, placement }];
    expect(poolNeeds(pinned, items)).toMatchObject({ pools: [3], unplaceable: [] });
  });

  it("returns the pods no node can hold, in the order given", () => {
    const items = cores(20, 1, 30);
    expect(poolNeeds(poolOf(10), items)).toMatchObject({ pools: [1], unplaceable: [0, 2] });
  });

  it("is the fewest nodes any placement uses, fixed nodes and selectors included", () => {
    fc.assert(
      fc.property(packingCase(), ({ cpu, fixedCpu, items }) => {
        const fixed =
          fixedCpu === undefined ? [] : [{ name: "nas", cpu: String(fixedCpu), memory: "16Gi" }];
        const result = poolNeeds(poolOf(cpu, fixed), items);
        const fewest = bruteForce(
          cpu * 1000,
          fixedCpu === undefined ? [] : [fixedCpu * 1000],
          items,
        );
        expect(result.exact).toBe(true);
        expect(result.pools[0]).toBe(fewest);
      }),
      { numRuns: 300 },
    );
  });
});

describe("poolNeeds with two pools", () => {
  // A pool of `small`-core nodes and one of `large`-core nodes, min 0 each.
  const twoPools = (small: number, large: number) =>
    trace(
      header({
        pools: [
          { ...header().pools[0], count: 0, min: 0, node: { cpu: String(small), memory: "16Gi" } },
          {
            name: "large",
            count: 0,
            nodeName: "large-{index}",
            node: { cpu: String(large), memory: "16Gi" },
          },
        ],
      }),
    );

  it("is the fewest nodes in all any placement uses", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 4, max: 10 }),
        fc.array(
          fc.record({
            cpu: fc.integer({ min: 1, max: 10 }),
            on: fc.constantFrom("small", "large", "both"),
          }),
          { maxLength: 6 },
        ),
        (small, large, pods) => {
          const items = pods
            .map(
              ({ cpu, on }, i): PackItem<number> => ({
                pod: i,
                need: { cpu: cpu * 1000, memory: GI },
                placement: {
                  fixed: [],
                  pools: [
                    on !== "large" && cpu <= small ? "any" : undefined,
                    on !== "small" && cpu <= large ? "any" : undefined,
                  ],
                },
              }),
            )
            .filter((item) => item.placement.pools.some((slot) => slot !== undefined));
          const result = poolNeeds(twoPools(small, large), items);
          expect(result.exact).toBe(true);
          expect(result.total).toBe(fewestInAll([small * 1000, large * 1000], items));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("PackingSearch", () => {
  // The pods above that first-fit decreasing puts on three nodes: their sum says two, and only a
  // search finds the packing.
  const pool = poolOf(10);
  const items = cores(5, 3, 2, 4, 4, 2);

  it("settles for the proven lower bound when its branches run out", () => {
    expect(poolNeeds(pool, items, new PackingSearch(0))).toMatchObject({
      pools: [2],
      exact: false,
    });
  });

  it("reuses what it found for the same pods", () => {
    const search = new PackingSearch(100_000);
    expect(poolNeeds(pool, items, search)).toMatchObject({ pools: [2], exact: true });
    const left = search.left;
    expect(left).toBeLessThan(100_000);
    expect(poolNeeds(pool, [...items].reverse(), search)).toMatchObject({
      pools: [2],
      exact: true,
    });
    expect(search.left).toBe(left);
  });
});

describe("bin packing bounds", () => {
  it("are never above the fewest bins", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 10 }), { maxLength: 7 }), (sizes) => {
        const items = cores(...sizes);
        const fewest = bruteForce(10_000, [], items);
        const thousands = sizes.map((size) => size * 1000);
        expect(binPackingBound(thousands, 10_000)).toBeLessThanOrEqual(fewest);
        expect(countBound(thousands, 10_000)).toBeLessThanOrEqual(fewest);
      }),
      { numRuns: 300 },
    );
  });

  it("L2 counts the big sizes each on their own and the small ones in what is left", () => {
    // 6, 6 and 6 need a bin each; 4 + 4 + 4 fit beside them in 10-sized bins.
    expect(binPackingBound([6, 6, 6, 4, 4, 4], 10)).toBe(3);
    // Sizes of 6 and 5: no two 6s share, a 5 fits beside nothing but a 5.
    expect(binPackingBound([6, 6, 5, 5, 5], 10)).toBe(4);
  });
});

/**
 * Pool nodes of `cpu` cores, maybe one fixed node, and up to six pods of 1 to `cpu` cores,
 * each allowed or not on the fixed node and on the pool.
 */
function packingCase() {
  return fc
    .record({
      cpu: fc.integer({ min: 2, max: 10 }),
      fixedCpu: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
      pods: fc.array(
        fc.record({
          cpu: fc.integer({ min: 1, max: 10 }),
          onFixed: fc.boolean(),
          onPool: fc.boolean(),
        }),
        { maxLength: 6 },
      ),
    })
    .map(({ cpu, fixedCpu, pods }) => ({
      cpu,
      fixedCpu,
      items: pods
        // Pods that fit no node alone are left out of the count; the comparison is on the rest.
        .filter(
          (entry) =>
            (entry.onPool && entry.cpu <= cpu) ||
            (entry.onFixed && fixedCpu !== undefined && entry.cpu <= fixedCpu),
        )
        .map(
          (entry, i): PackItem<number> => ({
            pod: i,
            need: { cpu: entry.cpu * 1000, memory: GI },
            placement: {
              fixed: fixedCpu === undefined ? [] : [entry.onFixed],
              // A pod bigger than a pool node is one only the fixed node takes.
              pools: [entry.onPool && entry.cpu <= cpu ? "any" : undefined],
            } satisfies Placement,
          }),
        ),
    }))
    .filter(({ fixedCpu, items }) => {
      // Pods only the fixed node takes must fit it together, or no count places them all.
      const fixedOnly = items.filter((item) => item.placement.pools[0] === undefined);
      const sum = fixedOnly.reduce((total, item) => total + item.need.cpu, 0);
      return sum <= (fixedCpu ?? 0) * 1000;
    });
}

/** The fewest pool bins of `capacity` that, beside the fixed bins, hold every item. */
function bruteForce(capacity: number, fixed: number[], items: readonly PackItem<number>[]): number {
  for (let count = 0; ; count++) {
    const free = [...fixed, ...new Array<number>(count).fill(capacity)];
    const fits = (i: number): boolean => {
      const item = items[i];
      if (!item) return true;
      return free.some((room, b) => {
        const allowed = b < fixed.length ? item.placement.fixed[b] : item.placement.pools[0];
        if (!allowed || item.need.cpu > room) return false;
        free[b] = room - item.need.cpu;
        const placed = fits(i + 1);
        free[b] = room;
        return placed;
      });
    };
    if (fits(0)) return count;
  }
}

/** The fewest bins in all, of the pools' capacities, that hold every item. */
function fewestInAll(capacities: readonly number[], items: readonly PackItem<number>[]): number {
  for (let total = 0; ; total++)
    for (let first = 0; first <= total; first++) {
      const free = [
        ...new Array<number>(first).fill(capacities[0] as number),
        ...new Array<number>(total - first).fill(capacities[1] as number),
      ];
      const pool = (b: number) => (b < first ? 0 : 1);
      const fits = (i: number): boolean => {
        const item = items[i];
        if (!item) return true;
        return free.some((room, b) => {
          if (item.placement.pools[pool(b)] === undefined || item.need.cpu > room) return false;
          free[b] = room - item.need.cpu;
          const placed = fits(i + 1);
          free[b] = room;
          return placed;
        });
      };
      if (fits(0)) return total;
    }
}
