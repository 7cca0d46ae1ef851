import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** Where presets come from: the bundled `policies/` folder, or another store in tests. */
export interface PresetStore {
  /** Every preset name, for messages that suggest one. */
  names(): Promise<string[]>;
  /** The preset's text; undefined when there is no such preset. */
  read(name: string): Promise<string | undefined>;
  /** The file named in messages about the preset, e.g. `policies/homelab.yml`. */
  fileOf(name: string): string;
}

/** The `policies/` folder of this package (beside `src/` in a checkout, `dist/` when built). */
export const BUNDLED_PRESETS_DIR = fileURLToPath(new URL("../../policies/", import.meta.url));

const PRESET_FILE = /^([a-z0-9][a-z0-9-]*)\.yml$/;

/** The presets shipped with pr-autoscaler, read from `dir` (default: the bundled folder). */
export function bundledPresets(dir: string = BUNDLED_PRESETS_DIR): PresetStore {
  let listed: Promise<string[]> | undefined;
  const names = () => {
    listed ??= readdir(dir).then((files) =>
      files.flatMap((file) => PRESET_FILE.exec(file)?.[1] ?? []).sort(),
    );
    return listed;
  };
  return {
    names,
    async read(name) {
      // Only names listed in the folder: a name never becomes a path of its own.
      if (!(await names()).includes(name)) return undefined;
      return readFile(`${dir}/${name}.yml`, "utf8");
    },
    fileOf: (name) => `policies/${name}.yml`,
  };
}

/** A store over texts in memory (tests, or presets fetched from elsewhere). */
export function presetsFrom(texts: Record<string, string>): PresetStore {
  return {
    names: async () => Object.keys(texts).sort(),
    read: async (name) => (Object.hasOwn(texts, name) ? texts[name] : undefined),
    fileOf: (name) => `policies/${name}.yml`,
  };
}
