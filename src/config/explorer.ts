/**
 * cosmiconfig explorers without cosmiconfig's "meta config". `cosmiconfig()` first reads
 * `package.json` and `.config/config.{js,cjs,ts,…}` in the working folder for settings of its
 * own — running that code, and failing every command on a broken package.json — before we could
 * check anything (§8: a cloned repository is untrusted). The Explorer class with explicit options
 * searches the same places without that step. cosmiconfig has no exports map, so the class's
 * path is stable within the locked major.
 */
import { createRequire } from "node:module";
import type { CosmiconfigResult, Loader } from "cosmiconfig";
import { CODE_LOADERS, loadJson } from "./loaders.js";

export interface ConfigExplorer {
  search(from?: string): Promise<CosmiconfigResult>;
  load(file: string): Promise<CosmiconfigResult>;
}

const require = createRequire(import.meta.url);

/** `wrap` is applied to every loader in effect (e.g. to refuse `$import` in what each one parsed). */
export function createExplorer(
  moduleName: string,
  loaders: Record<string, Loader> = {},
  wrap: (loader: Loader) => Loader = (loader) => loader,
): ConfigExplorer {
  const { defaultLoaders, getDefaultSearchPlaces } = require("cosmiconfig") as typeof import("cosmiconfig");
  const effective: Record<string, Loader> = { ...defaultLoaders, ".json": loadJson, ...CODE_LOADERS, ...loaders };
  const { Explorer } = require("cosmiconfig/dist/Explorer.js") as { Explorer: new (options: object) => ConfigExplorer };
  return new Explorer({
    moduleName,
    searchPlaces: getDefaultSearchPlaces(moduleName),
    // An empty file found by the search is an error naming it (load.ts), not a silent "no config".
    ignoreEmptySearchPlaces: false,
    cache: false,
    transform: (result: CosmiconfigResult) => result,
    loaders: Object.fromEntries(Object.entries(effective).map(([ext, loader]) => [ext, wrap(loader)])),
    metaConfigFilePath: null,
    mergeImportArrays: true,
    mergeSearchPlaces: true,
    applyPackagePropertyPathToConfiguration: false,
    // Project tree upward (to the home folder), then the user config folder (§3).
    searchStrategy: "global",
  });
}
