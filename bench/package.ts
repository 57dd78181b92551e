/**
 * The package as the provider process runs it: the compiled `dist/` that
 * `npm run build` makes and `npm pack` ships. The dynamic-provider shim loads
 * `pulumi-digitalocean-image-actions/dynamic`, which the package's exports map
 * resolves to `dist/provider/dynamic/index.js`; the benchmark requires that same
 * file, so it measures the shipped code, not a second compilation of the sources.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The repository root, from `build/bench/` (compiled) or `bench/` (type-checked in place). */
export const REPO_ROOT = path.resolve(__dirname, fs.existsSync(path.resolve(__dirname, "..", "package.json")) ? ".." : path.join("..", ".."));

function loadDist<T>(relative: string): T {
  const file = path.join(REPO_ROOT, "dist", relative);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first (\`npm run bench\` does)`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file) as T;
}

export type DynamicModule = typeof import("../provider/dynamic");
export type SimulatorModule = typeof import("../provider/simulator");
export type SessionModule = typeof import("../provider/session");

/** `pulumi-digitalocean-image-actions/dynamic`: the handlers the provider process calls. */
export const loadDynamic = (): DynamicModule => loadDist<DynamicModule>("provider/dynamic/index.js");

/** `pulumi-digitalocean-image-actions/simulator`. */
export const loadSimulator = (): SimulatorModule => loadDist<SimulatorModule>("provider/simulator/index.js");

/** The provider's per-process session registry, the same module instance the handlers use. */
export const loadSession = (): SessionModule => loadDist<SessionModule>("provider/session.js");
