import type { PodInfo, Resources } from "./snapshot.ts";

/**
 * Resources free on a node, or needed by a pod, in the units of the snapshot. A dimension the
 * node does not report (`ephemeralStorage` undefined) is not checked; an extended resource the
 * node does not list is zero there.
 */
export interface Room {
  cpu: number;
  memory: number;
  pods: number;
  ephemeralStorage?: number;
  extended: Record<string, number>;
}

/**
 * The resources (cpu, memory) whose request the snapshot could not read for the pod: what it
 * takes from a node is then unknown, never zero.
 */
export function unknownRequests(pod: PodInfo): ("cpu" | "memory")[] {
  const unknown: ("cpu" | "memory")[] = [];
  if (pod.requests.cpu === undefined) unknown.push("cpu");
  if (pod.requests.memory === undefined) unknown.push("memory");
  return unknown;
}

/** What a pod takes from a node: its effective requests and one pod slot. */
export function podDemand(pod: Pick<PodInfo, "requests">): Room {
  const demand: Room = {
    cpu: pod.requests.cpu ?? 0,
    memory: pod.requests.memory ?? 0,
    pods: 1,
    extended: { ...pod.requests.extended },
  };
  if (pod.requests.ephemeralStorage !== undefined)
    demand.ephemeralStorage = pod.requests.ephemeralStorage;
  return demand;
}

/**
 * Free room on a node: allocatable minus what its pods request. `undefined` when cpu, memory
 * or pod capacity is unknown, since an unknown capacity cannot be counted on.
 */
export function freeRoom(allocatable: Resources, used: Room | undefined): Room | undefined {
  if (allocatable.cpu === undefined || allocatable.memory === undefined) return undefined;
  if (allocatable.pods === undefined) return undefined;
  const room: Room = {
    cpu: allocatable.cpu - (used?.cpu ?? 0),
    memory: allocatable.memory - (used?.memory ?? 0),
    pods: allocatable.pods - (used?.pods ?? 0),
    extended: {},
  };
  if (allocatable.ephemeralStorage !== undefined)
    room.ephemeralStorage = allocatable.ephemeralStorage - (used?.ephemeralStorage ?? 0);
  for (const [name, amount] of Object.entries(allocatable.extended ?? {}))
    room.extended[name] = amount - (used?.extended[name] ?? 0);
  return room;
}

/** An empty tally to add demands to. */
export function emptyRoom(): Room {
  return { cpu: 0, memory: 0, pods: 0, ephemeralStorage: 0, extended: {} };
}

/** The first dimension in which `demand` does not fit `room`, or `undefined` when it fits. */
export function shortfall(demand: Room, room: Room): string | undefined {
  if (demand.cpu > room.cpu) return "cpu";
  if (demand.memory > room.memory) return "memory";
  if (demand.pods > room.pods) return "pods";
  if (
    room.ephemeralStorage !== undefined &&
    demand.ephemeralStorage !== undefined &&
    demand.ephemeralStorage > room.ephemeralStorage
  )
    return "ephemeral-storage";
  for (const name in demand.extended) {
    const needed = demand.extended[name] ?? 0;
    if (needed > 0 && needed > (room.extended[name] ?? 0)) return name;
  }
  return undefined;
}

export function fitsIn(demand: Room, room: Room): boolean {
  return shortfall(demand, room) === undefined;
}

/** Adds `demand` to `tally` in place. */
export function addTo(tally: Room, demand: Room): void {
  tally.cpu += demand.cpu;
  tally.memory += demand.memory;
  tally.pods += demand.pods;
  if (demand.ephemeralStorage !== undefined)
    tally.ephemeralStorage = (tally.ephemeralStorage ?? 0) + demand.ephemeralStorage;
  for (const name in demand.extended)
    tally.extended[name] = (tally.extended[name] ?? 0) + (demand.extended[name] ?? 0);
}

/** Takes `demand` out of `room` in place. */
export function takeFrom(room: Room, demand: Room): void {
  room.cpu -= demand.cpu;
  room.memory -= demand.memory;
  room.pods -= demand.pods;
  if (room.ephemeralStorage !== undefined && demand.ephemeralStorage !== undefined)
    room.ephemeralStorage -= demand.ephemeralStorage;
  for (const name in demand.extended)
    room.extended[name] = (room.extended[name] ?? 0) - (demand.extended[name] ?? 0);
}

export function copyRoom(room: Room): Room {
  return { ...room, extended: { ...room.extended } };
}
