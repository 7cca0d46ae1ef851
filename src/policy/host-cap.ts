/** How many nodes of a pool fit on the host(s) under it, as configured. All parts optional. */
export interface HostCapacity {
  /** A plain cap on the number of nodes. */
  maxNodes?: number;
  /** Host CPU in millicores. */
  cpu?: number;
  /** Host memory in bytes. */
  memory?: number;
  /** What the host keeps for itself and for other machines (control plane VMs, other guests). */
  reserved?: { cpu?: number; memory?: number };
  /** Size of one node's machine (VM size, not its allocatable). */
  node?: { cpu?: number; memory?: number };
}

/** One limit that makes up the cap, with the numbers behind it. */
export interface HostCapPart {
  kind: "max-nodes" | "cpu" | "memory";
  nodes: number;
  host?: number;
  reserved?: number;
  perNode?: number;
}

/**
 * The largest node count the host allows, and which limits produce it. `undefined` cap when
 * nothing is configured. A dimension without a per-node size contributes nothing (validation
 * insists on one).
 */
export function hostCap(host: HostCapacity | undefined): { cap?: number; parts: HostCapPart[] } {
  if (!host) return { parts: [] };
  const parts: HostCapPart[] = [];
  if (host.maxNodes !== undefined) parts.push({ kind: "max-nodes", nodes: host.maxNodes });
  for (const kind of ["cpu", "memory"] as const) {
    const total = host[kind];
    const perNode = host.node?.[kind];
    if (total === undefined || perNode === undefined || perNode <= 0) continue;
    const reserved = host.reserved?.[kind] ?? 0;
    const nodes = Math.max(0, Math.floor((total - reserved) / perNode));
    parts.push({ kind, nodes, host: total, reserved, perNode });
  }
  if (parts.length === 0) return { parts };
  return { cap: Math.min(...parts.map((part) => part.nodes)), parts };
}

/**
 * A pool's bounds, with the host cap when it is below the max (the most the pool reaches):
 * `workers (2-6 nodes, host cap 3)`, as `validate` and the passing config check list pools.
 */
export function poolBoundsText(pool: {
  name: string;
  min: number;
  max: number;
  host?: HostCapacity | undefined;
}): string {
  const { cap } = hostCap(pool.host);
  const capped = cap !== undefined && cap < pool.max ? `, host cap ${cap}` : "";
  return `${pool.name} (${pool.min}-${pool.max} nodes${capped})`;
}

/** What `scheduleCapNotes` reads of a pool: its name, host and schedule windows. */
interface CappedPool {
  name: string;
  host?: HostCapacity | undefined;
  schedules: readonly { name?: string | undefined; min: number }[];
}

/**
 * Schedules whose min the host cap lowers: valid, as the cap is the host's and may grow, but the
 * window then brings fewer nodes than it names, which the plan's bounds show only once it is open.
 * The validated configuration's notes hold them, which `validate` and the
 * `pr-autoscaler/config` check give, passing or failing; `plan` gives them too, and the app's dashboard with the
 * plan's.
 */
export function scheduleCapNotes(pools: readonly CappedPool[]): string[] {
  const notes: string[] = [];
  for (const pool of pools) {
    const { cap } = hostCap(pool.host);
    if (cap === undefined) continue;
    pool.schedules.forEach((schedule, i) => {
      if (schedule.min > cap)
        notes.push(
          `pool ${pool.name}: schedule ${schedule.name ?? `schedules[${i}]`} asks for a min of ${schedule.min}, above the host cap of ${cap}: while it is open, the pool's min is ${cap}`,
        );
    });
  }
  return notes;
}
