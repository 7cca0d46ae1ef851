import type { PathSegment } from "../editors/path.ts";
import { isPlainObject } from "../editors/verify.ts";
import type { WorkloadId } from "./resources-proposal.ts";

/** What is known of the Helm release a values object feeds. */
export interface ReleaseContext {
  /** Names the release may have (HelmRelease, Application, or folder names for a values file). */
  releases: string[];
  /** The chart's name, when known. */
  chart?: string;
}

/** A place in a values object where one container's `resources` mapping is (or would be). */
export interface ValuesMatch {
  /** Path from the values root to `resources`. */
  segments: PathSegment[];
  /** What matched, e.g. `controllers.plex.containers.app`. */
  how: string;
  /**
   * True when the chart's own naming rules tie the values to the workload (bjw-s app-template
   * controllers); false for layout guesses (top-level `resources`, a component key).
   */
  structured: boolean;
  /** Why the place cannot be edited although it is the container's (see LocationCandidate). */
  blocked?: string;
  /**
   * The Bitnami-style `resourcesPreset` (`nano`) beside a place with no `resources` key: it gives
   * the container its resources, and there is nothing to edit (see LocationCandidate).
   */
  preset?: string;
}

/** The container of the workload being looked for, and how many containers it has. */
export interface ContainerQuery {
  workload: WorkloadId;
  container: string;
  containerCount: number;
}

const CONTROLLER_KINDS: Record<string, string> = {
  deployment: "Deployment",
  statefulset: "StatefulSet",
  daemonset: "DaemonSet",
  cronjob: "CronJob",
  job: "Job",
};

/** Component keys that charts commonly use for their main workload. */
const PRIMARY_KEYS = ["primary", "master", "server", "controller", "deployment", "app", "main"];

const key = (name: string | number): PathSegment =>
  typeof name === "number" ? { kind: "index", index: name } : { kind: "key", key: name };

/** Every place in VALUES that may set the container's resources. */
export function valuesMatches(
  values: Record<string, unknown>,
  release: ReleaseContext,
  query: ContainerQuery,
): ValuesMatch[] {
  const appTemplate = appTemplateRoots(values);
  if (appTemplate.length > 0)
    return appTemplate.flatMap((root) => appTemplateMatches(root, release, query));
  return [
    ...topLevelMatch(values, release, query),
    ...componentMatches(values, release, query),
    ...extraContainerMatches(values, release, query),
  ];
}

/** Maps of extra containers keyed by name, as app-template v1 and common charts write them. */
const EXTRA_CONTAINER_MAPS = ["sidecars", "additionalContainers", "initContainers"];

/**
 * `sidecars.<name>.resources` (also `additionalContainers`, `initContainers`) in the values of
 * the chart's main workload: the entry's `name:`, else its key, names the container.
 */
function extraContainerMatches(
  values: Record<string, unknown>,
  release: ReleaseContext,
  query: ContainerQuery,
): ValuesMatch[] {
  if (!chartFullnames(values, release).includes(query.workload.name)) return [];
  const matches: ValuesMatch[] = [];
  for (const field of EXTRA_CONTAINER_MAPS) {
    const entries = values[field];
    if (!isPlainObject(entries)) continue;
    for (const [id, entry] of Object.entries(entries)) {
      if (!isPlainObject(entry)) continue;
      const name = typeof entry.name === "string" ? entry.name : id;
      if (name !== query.container) continue;
      matches.push({
        segments: [key(field), key(id), key("resources")],
        how: `${field}.${id}.resources`,
        structured: false,
      });
    }
  }
  return matches;
}

interface AppTemplateRoot {
  prefix: PathSegment[];
  values: Record<string, unknown>;
  controllers: Record<string, unknown>;
}

/** `controllers:` at the root, or under a chart alias (`app-template:`) in an umbrella chart. */
function appTemplateRoots(values: Record<string, unknown>): AppTemplateRoot[] {
  if (isPlainObject(values.controllers))
    return [{ prefix: [], values, controllers: values.controllers }];
  const roots: AppTemplateRoot[] = [];
  for (const [alias, nested] of Object.entries(values)) {
    if (isPlainObject(nested) && isPlainObject(nested.controllers))
      roots.push({ prefix: [key(alias)], values: nested, controllers: nested.controllers });
  }
  return roots;
}

function appTemplateMatches(
  root: AppTemplateRoot,
  release: ReleaseContext,
  query: ContainerQuery,
): ValuesMatch[] {
  const enabled = Object.entries(root.controllers).filter(
    ([, controller]) => isPlainObject(controller) && controller.enabled !== false,
  ) as [string, Record<string, unknown>][];
  const fullnames = appTemplateFullnames(root.values, release);
  const global = isPlainObject(root.values.global) ? root.values.global : {};
  // The identifier is appended when there are several controllers, or always when told so.
  const appendId = enabled.length > 1 || global.alwaysAppendIdentifierToResourceName === true;
  const matches: ValuesMatch[] = [];
  for (const [id, controller] of enabled) {
    const type = typeof controller.type === "string" ? controller.type.toLowerCase() : "deployment";
    if (CONTROLLER_KINDS[type] !== query.workload.kind) continue;
    const names = controllerNames(id, controller, fullnames, appendId);
    if (!names.includes(query.workload.name)) continue;
    for (const list of ["containers", "initContainers"]) {
      const containers = controller[list];
      if (!isPlainObject(containers) || !isPlainObject(containers[query.container])) continue;
      const local = ["controllers", id, list, query.container];
      const blocked = defaultResourcesBlock(
        controller,
        containers[query.container] as Record<string, unknown>,
        list,
        [...root.prefix.map(describeSegment), "controllers", id].join("."),
      );
      matches.push({
        segments: [...root.prefix, ...local.map(key), key("resources")],
        how: [...root.prefix.map(describeSegment), ...local].join("."),
        structured: true,
        ...(blocked ? { blocked } : {}),
      });
      break;
    }
  }
  return matches;
}

const AMOUNTS = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"];

/** The requests and limits a `resources` mapping sets (`requests.cpu`…). */
export function amountsOf(resources: unknown): string[] {
  return AMOUNTS.filter((field) => {
    const [section, name] = field.split(".") as [string, string];
    const values = isPlainObject(resources) ? resources[section] : undefined;
    return isPlainObject(values) && values[name] !== undefined && values[name] !== null;
  });
}

/**
 * Why the container's own `resources` cannot be edited when the controller's
 * `defaultContainerOptions.resources` reach it (CONTROLLER at LABEL, the container's values
 * CONTAINER in LIST). The common library applies those defaults to each container (and init
 * container, unless `applyDefaultContainerOptionsToInitContainers` is not true): with
 * `defaultContainerOptionsStrategy: overwrite` (its default) a container whose own `resources`
 * are empty gets the defaults whole, so resources written on it would replace them whole (and
 * the defaults are every such container's); with `merge` the defaults are merged under the
 * container's own, so a request or limit only they set is unseen by a decision made on the
 * container's. Undefined when the defaults do not reach the container's resources.
 */
function defaultResourcesBlock(
  controller: Record<string, unknown>,
  container: Record<string, unknown>,
  list: string,
  label: string,
): string | undefined {
  const defaults = isPlainObject(controller.defaultContainerOptions)
    ? controller.defaultContainerOptions.resources
    : undefined;
  if (!isPlainObject(defaults) || Object.keys(defaults).length === 0) return undefined;
  const toInit = controller.applyDefaultContainerOptionsToInitContainers;
  if (list === "initContainers" && toInit !== undefined && toInit !== true) return undefined;
  const strategy = controller.defaultContainerOptionsStrategy ?? "overwrite";
  const place = `${label}.defaultContainerOptions.resources`;
  const own = container.resources;
  if (strategy === "overwrite") {
    if (isPlainObject(own) && Object.keys(own).length > 0) return undefined;
    return `the container sets no resources of its own, so it gets ${place} (defaultContainerOptionsStrategy overwrite), as does every other container of the controller that sets none: resources written on the container would replace them whole, and a change there would change the others too; set the container's requests and limits on the container`;
  }
  if (strategy !== "merge") return undefined;
  const mine = new Set(amountsOf(own));
  const fields = amountsOf(defaults).filter((field) => !mine.has(field));
  if (fields.length === 0) return undefined;
  return `${place} also sets ${fields.join(", ")} of these resources (defaultContainerOptionsStrategy merge), which the container does not: an edit of one would be decided without the other; set them in one place`;
}

/**
 * The common library's fullname: `global.fullnameOverride` or `fullnameOverride`; else the
 * release, with `-<global.nameOverride>` unless the release already holds that name.
 */
function appTemplateFullnames(values: Record<string, unknown>, release: ReleaseContext): string[] {
  const global = isPlainObject(values.global) ? values.global : {};
  const plain = (value: unknown) =>
    typeof value === "string" && value !== "" && !value.includes("{{") ? value : undefined;
  const override = plain(global.fullnameOverride) ?? plain(values.fullnameOverride);
  if (override) return [override];
  const name = plain(global.nameOverride);
  if (!name) return release.releases;
  return release.releases.map((releaseName) =>
    releaseName.includes(name) ? releaseName : `${releaseName}-${name}`,
  );
}

/**
 * Names a controller's workload can have, as the common library's
 * `determineResourceNameFromValues` makes them: `forceRename` as written; else the fullname
 * after `<prefix>-`, then `-<controller key>` when APPENDID unless the name already ends so,
 * then `-<suffix>`; in lower case. A name equal to the key stays as it is in current versions
 * and was doubled by older ones (`vaultwarden`, `vaultwarden-vaultwarden`): both are taken. A
 * controller keyed `main` also matches the bare fullname, as app-template 2.x named it.
 */
function controllerNames(
  id: string,
  controller: Record<string, unknown>,
  fullnames: readonly string[],
  appendId: boolean,
): string[] {
  if (typeof controller.forceRename === "string") return [controller.forceRename.toLowerCase()];
  const prefix = typeof controller.prefix === "string" ? controller.prefix : "";
  const suffix = typeof controller.suffix === "string" ? controller.suffix : "";
  const names = new Set<string>();
  for (const fullname of fullnames) {
    const base = prefix && fullname !== prefix ? `${prefix}-${fullname}` : fullname;
    const withId =
      !appendId || base.endsWith(`-${id}`)
        ? [base]
        : base === id
          ? [base, `${base}-${id}`]
          : [`${base}-${id}`];
    for (const name of withId)
      names.add(
        (suffix && !name.endsWith(`-${suffix}`) ? `${name}-${suffix}` : name).toLowerCase(),
      );
    if (id === "main") names.add(fullname.toLowerCase());
  }
  return [...names];
}

/** Names a conventional chart gives its main workload: fullnameOverride, release, release-chart. */
function chartFullnames(values: Record<string, unknown>, release: ReleaseContext): string[] {
  if (typeof values.fullnameOverride === "string" && values.fullnameOverride !== "")
    return [values.fullnameOverride];
  const names = new Set<string>();
  for (const name of release.releases) {
    names.add(name);
    const chart = typeof values.nameOverride === "string" ? values.nameOverride : release.chart;
    if (chart && !name.includes(chart)) names.add(`${name}-${chart}`);
  }
  return [...names];
}

/** `resources:` at the root: the chart's main container, when the pod has one container. */
function topLevelMatch(
  values: Record<string, unknown>,
  release: ReleaseContext,
  query: ContainerQuery,
): ValuesMatch[] {
  const preset = Object.hasOwn(values, "resources") ? undefined : activePreset(values);
  if (!Object.hasOwn(values, "resources") && !preset) return [];
  if (!preset && !(isPlainObject(values.resources) || values.resources === null)) return [];
  if (!chartFullnames(values, release).includes(query.workload.name)) return [];
  const single =
    query.containerCount === 1 ||
    query.container === release.chart ||
    release.releases.includes(query.container);
  if (!single) return [];
  const blocked = preset ? undefined : presetBlock(values, "");
  return [
    {
      segments: [key("resources")],
      how: "resources (the chart's main container)",
      structured: false,
      ...(blocked ? { blocked } : {}),
      ...(preset ? { preset } : {}),
    },
  ];
}

/** The `resourcesPreset` of HOLDER that applies while its resources are empty (not `none`). */
function activePreset(holder: Record<string, unknown>): string | undefined {
  const preset = holder.resourcesPreset;
  return typeof preset === "string" && preset !== "" && preset !== "none" ? preset : undefined;
}

/**
 * Why the `resources` of HOLDER (at LABEL, `primary.` or nothing) cannot be edited when a
 * Bitnami-style `resourcesPreset` beside them gives the container its resources: the chart
 * uses `resources` when they are not empty, else the preset's requests and limits (unless it
 * is `none`), so requests written into empty resources would replace the preset whole, and its
 * limits would go with it. Undefined when the resources are set or no preset applies.
 */
function presetBlock(holder: Record<string, unknown>, label: string): string | undefined {
  const { resources, resourcesPreset: preset } = holder;
  if (isPlainObject(resources) && Object.keys(resources).length > 0) return undefined;
  if (typeof preset !== "string" || preset === "" || preset === "none") return undefined;
  return `the chart's resourcesPreset ${preset}${label ? ` (${label}resourcesPreset)` : ""} sets the container's requests and limits while ${label}resources is empty: requests written there would replace the preset whole, its limits with it; set ${label}resources to replace it`;
}

/** `<component>.resources`, for charts that deploy several workloads (`primary`, `server`…). */
function componentMatches(
  values: Record<string, unknown>,
  release: ReleaseContext,
  query: ContainerQuery,
): ValuesMatch[] {
  const fullnames = chartFullnames(values, release);
  const { workload } = query;
  const related =
    fullnames.includes(workload.name) ||
    fullnames.some((fullname) => workload.name.startsWith(`${fullname}-`));
  if (!related) return [];
  const entries = Object.entries(values).filter(
    (entry): entry is [string, Record<string, unknown>] =>
      entry[0] !== "global" && isPlainObject(entry[1]),
  );
  const chosen = chosenComponents(
    entries.filter(([, value]) => Object.hasOwn(value, "resources")),
    fullnames,
    release,
    query,
  );
  // Else a component with a preset and no resources key: named in the note, never edited.
  const presetOnly = entries.filter(
    ([, value]) => !Object.hasOwn(value, "resources") && activePreset(value) !== undefined,
  );
  return (chosen.length > 0 ? chosen : chosenComponents(presetOnly, fullnames, release, query)).map(
    ([name, holder]) => {
      // No resources key: the preset gives the container its resources, with nothing to edit.
      const preset = Object.hasOwn(holder, "resources") ? undefined : activePreset(holder);
      const blocked = preset ? undefined : presetBlock(holder, `${name}.`);
      return {
        segments: [key(name), key("resources")],
        how: `${name}.resources`,
        structured: false,
        ...(blocked ? { blocked } : {}),
        ...(preset ? { preset } : {}),
      };
    },
  );
}

/** The components of COMPONENTS that hold the container's resources (see `componentMatches`). */
function chosenComponents(
  components: [string, Record<string, unknown>][],
  fullnames: string[],
  release: ReleaseContext,
  query: ContainerQuery,
): [string, Record<string, unknown>][] {
  const { workload, container } = query;
  // A component named like the container is that container's in every workload of the chart
  // (Bitnami's `metrics.resources` is the exporter sidecar's in the primary and the replicas);
  // the workload's own component holds its main container's.
  const byContainer = components.filter(([name]) => container === name);
  const named =
    byContainer.length > 0
      ? byContainer
      : components.filter(
          ([name]) =>
            fullnames.some((fullname) => workload.name === `${fullname}-${name}`) ||
            workload.name === name,
        );
  // Only the workload named after the release is the chart's main one: `postgresql-read` or
  // `redis-replicas` are other workloads of the chart, whose values are not `primary`'s.
  if (named.length > 0) return named;
  return fullnames.includes(workload.name) ? primaryComponent(components, release, query) : [];
}

/**
 * The one well-known main component (`primary`, `server`…), for the pod's main container: its
 * only container, or the one named like the chart or the release.
 */
function primaryComponent<T>(
  components: [string, T][],
  release: ReleaseContext,
  query: ContainerQuery,
): [string, T][] {
  const main =
    query.containerCount === 1 ||
    query.container === release.chart ||
    release.releases.includes(query.container);
  const primary = components.filter(([name]) => PRIMARY_KEYS.includes(name));
  return main && primary.length === 1 ? primary : [];
}

function describeSegment(segment: PathSegment): string {
  return segment.kind === "key"
    ? segment.key
    : segment.kind === "index"
      ? `[${segment.index}]`
      : "";
}
