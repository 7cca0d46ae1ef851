import type { OwnerRef, Resources, Toleration } from "../planning/snapshot.ts";
import { record } from "./raw.ts";

/**
 * One copy of each distinct small value for a whole read: strings, label maps, resource
 * amounts, tolerations, owners.
 *
 * Why: a large cluster is mostly replicas. The 20 pods of a Deployment carry the same labels,
 * node selector, tolerations, owner and container requests, and `JSON.parse` gives each its
 * own copy of every one of them. Sharing them is what keeps a snapshot of 150,000 pods in a
 * few hundred bytes per pod (docs/performance.md).
 *
 * Shared values are frozen: one pod's labels are also its replicas', so changing them in
 * place would be a bug, and a frozen object makes that bug throw instead of spreading.
 * Equal values are found by a hash over interned strings and compared field by field, so
 * nothing is shared that is not equal.
 */
export class ValueSharing {
  readonly #ids = new Map<string, number>();
  readonly #strings: string[] = [];
  readonly #records = new HashTable<Readonly<Record<string, string>>>();
  readonly #resources = new HashTable<Readonly<Resources>>();
  readonly #tolerations = new HashTable<readonly Toleration[]>();
  readonly #owners = new HashTable<Readonly<OwnerRef>>();
  /** Scratch for the string entries being shared (key, value, key, value…). */
  readonly #entries: string[] = [];

  /** The shared copy of `text`. */
  readonly string = (text: string): string => this.#strings[this.#id(text)] as string;

  #id(text: string): number {
    let id = this.#ids.get(text);
    if (id === undefined) {
      id = this.#strings.length;
      this.#ids.set(text, id);
      this.#strings.push(text);
    }
    return id;
  }

  /** A shared map of the string entries of `value` (labels, nodeSelector); others are dropped. */
  stringRecord(value: unknown): Readonly<Record<string, string>> {
    const source = record(value);
    const entries = this.#entries;
    entries.length = 0;
    let hash = 0;
    for (const key in source) {
      const item = source[key];
      if (typeof item !== "string") continue;
      const keyId = this.#id(key);
      const valueId = this.#id(item);
      entries.push(this.#strings[keyId] as string, this.#strings[valueId] as string);
      hash = mix(mix(hash, keyId), valueId);
    }
    if (entries.length === 0) return emptyRecord;
    const found = this.#records.find(hash, (candidate) => sameEntries(candidate, entries));
    if (found) return found;
    const created: Record<string, string> = {};
    for (let index = 0; index < entries.length; index += 2) {
      created[entries[index] as string] = entries[index + 1] as string;
    }
    return this.#records.add(hash, Object.freeze(created));
  }

  /** The shared copy of equal amounts (key order included); a new `value` is frozen and kept. */
  resources(value: Resources): Readonly<Resources> {
    let hash = 0;
    for (const name in value) {
      hash = mix(hash, this.#id(name));
      const amount = value[name as keyof Resources];
      if (typeof amount === "number") hash = mixNumber(hash, amount);
      else
        for (const extended in amount)
          hash = mixNumber(mix(hash, this.#id(extended)), amount[extended] as number);
    }
    const found = this.#resources.find(hash, (candidate) => sameResources(candidate, value));
    if (found) return found;
    if (value.extended) Object.freeze(value.extended);
    return this.#resources.add(hash, Object.freeze(value));
  }

  /**
   * A list of the shared copies of equal tolerations (a new `list`'s are frozen and kept,
   * their strings shared). The list itself is the pod's own: JSON.stringify takes a slow path
   * for any frozen list that is not empty (a third more time to write a snapshot), and a
   * shared list that is not frozen could be changed for every replica at once.
   */
  tolerations(list: Toleration[]): Toleration[] {
    if (list.length === 0) return noItems();
    let hash = list.length;
    for (const toleration of list) {
      hash = mix(hash, toleration.key === undefined ? -1 : this.#id(toleration.key));
      hash = mix(hash, toleration.value === undefined ? -1 : this.#id(toleration.value));
      hash = mix(hash, tolerationCode(toleration));
    }
    const found = this.#tolerations.find(hash, (candidate) => sameTolerations(candidate, list));
    if (found) return found.slice();
    for (const toleration of list) {
      if (toleration.key !== undefined) toleration.key = this.string(toleration.key);
      if (toleration.value !== undefined) toleration.value = this.string(toleration.value);
      Object.freeze(toleration);
    }
    return this.#tolerations.add(hash, list).slice();
  }

  /** The shared copy of an equal owner reference; `group` empty for the core group. */
  owner(kind: string, name: string, group = ""): Readonly<OwnerRef> {
    const kindId = this.#id(kind);
    const nameId = this.#id(name);
    const groupId = this.#id(group);
    const hash = mix(mix(mix(0, kindId), nameId), groupId);
    const sharedKind = this.#strings[kindId] as string;
    const sharedName = this.#strings[nameId] as string;
    const sharedGroup = this.#strings[groupId] as string;
    const found = this.#owners.find(
      hash,
      (candidate) =>
        candidate.kind === sharedKind &&
        candidate.name === sharedName &&
        (candidate.group ?? "") === sharedGroup,
    );
    if (found) return found;
    const owner: OwnerRef = { kind: sharedKind, name: sharedName };
    if (sharedGroup !== "") owner.group = sharedGroup;
    return this.#owners.add(hash, Object.freeze(owner));
  }
}

/**
 * The one empty list every absent list of a read shares (frozen: add by replacing it; an empty
 * frozen list costs JSON.stringify nothing, unlike a frozen list with items).
 */
export const emptyList: readonly never[] = Object.freeze([]);

/**
 * {@link emptyList} typed for a model field. The model's lists are mutable for those who
 * build one; a field holding this list is replaced when something is added, never pushed to.
 */
export function noItems<T>(): T[] {
  return emptyList as unknown as T[];
}

/** The one empty map every absent map of a read shares. */
export const emptyRecord: Readonly<Record<string, string>> = Object.freeze({});

/** Values by hash; values whose hashes collide wait in a second map. */
class HashTable<T> {
  readonly #first = new Map<number, T>();
  readonly #more = new Map<number, T[]>();

  find(hash: number, equal: (candidate: T) => boolean): T | undefined {
    const first = this.#first.get(hash);
    if (first === undefined) return undefined;
    return equal(first) ? first : this.#more.get(hash)?.find(equal);
  }

  add(hash: number, value: T): T {
    if (!this.#first.has(hash)) {
      this.#first.set(hash, value);
      return value;
    }
    const more = this.#more.get(hash);
    if (more) more.push(value);
    else this.#more.set(hash, [value]);
    return value;
  }
}

function mix(hash: number, value: number): number {
  return (Math.imul(hash ^ value, 0x9e3779b1) + 0x7f4a7c15) | 0;
}

function mixNumber(hash: number, value: number): number {
  return mix(mix(hash, value | 0), (value / 0x100000000) | 0);
}

function sameEntries(candidate: Readonly<Record<string, string>>, entries: string[]): boolean {
  let index = 0;
  for (const key in candidate) {
    if (key !== entries[index] || candidate[key] !== entries[index + 1]) return false;
    index += 2;
  }
  return index === entries.length;
}

function sameResources(a: Readonly<Resources>, b: Resources): boolean {
  if (
    a.cpu !== b.cpu ||
    a.memory !== b.memory ||
    a.pods !== b.pods ||
    a.ephemeralStorage !== b.ephemeralStorage
  ) {
    return false;
  }
  if (a.extended === undefined || b.extended === undefined) return a.extended === b.extended;
  // In the same order too, so that what is shared writes the same JSON.
  const names = Object.keys(a.extended);
  const others = Object.keys(b.extended);
  return (
    names.length === others.length &&
    names.every(
      (name, index) => name === others[index] && a.extended?.[name] === b.extended?.[name],
    )
  );
}

const operatorCodes = { Exists: 1, Equal: 2 } as const;
const effectCodes = { NoSchedule: 1, PreferNoSchedule: 2, NoExecute: 3 } as const;

function tolerationCode(toleration: Toleration): number {
  return (
    (toleration.operator ? operatorCodes[toleration.operator] : 0) * 4 +
    (toleration.effect ? effectCodes[toleration.effect] : 0)
  );
}

function sameTolerations(a: readonly Toleration[], b: readonly Toleration[]): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) {
    const x = a[index] as Toleration;
    const y = b[index] as Toleration;
    if (
      x.key !== y.key ||
      x.operator !== y.operator ||
      x.value !== y.value ||
      x.effect !== y.effect
    ) {
      return false;
    }
  }
  return true;
}
