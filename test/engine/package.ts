/**
 * A scratch "user program" folder with the packed package installed in its
 * node_modules, as `npm install pulumi-digitalocean-image-actions` would leave it.
 *
 * Why: the dynamic-provider server resolves `require()` calls made by the
 * serialized `__provider` text from its working directory (the program's
 * folder under the CLI), and only through the package's `exports` map. Inside
 * this repository the package is not in its own node_modules, so the engine
 * path must run against the packed tarball, never the sources.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const PACKAGE_NAME = "pulumi-digitalocean-image-actions";
/** The repository: the nearest folder up holding this package's package.json (from test/engine/ or, compiled, build/test/engine/). */
export const REPO_ROOT = findRepoRoot(__dirname);

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: string }).name === PACKAGE_NAME) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no ${PACKAGE_NAME} package.json above ${from}`);
  }
}

export interface PreparedPackage {
  /** The scratch program folder: start the dynamic-provider server here. */
  dir: string;
  /** `<dir>/node_modules/pulumi-digitalocean-image-actions`, the unpacked tarball. */
  packageDir: string;
  /** Version from the packed package.json. */
  version: string;
}

export interface PrepareOptions {
  /**
   * `"if-missing"` (default) compiles `dist/` with tsconfig.build.json only when
   * it does not exist (`npm test` builds before jest) and warns when a source
   * under provider/ is newer than dist/; `"if-stale"` recompiles then;
   * `"always"` recompiles.
   */
  build?: "if-missing" | "if-stale" | "always";
}

let prepared: Promise<PreparedPackage> | undefined;

/**
 * Pack the repository and install the tarball into a scratch program folder,
 * without network: the package's dependencies are symlinked to the repository's
 * node_modules. Memoized per module instance (one jest test file); across
 * files and workers the folder is reused when its content fingerprint (packed
 * package.json and dist/provider files) is unchanged.
 */
export function preparePackage(options: PrepareOptions = {}): Promise<PreparedPackage> {
  if (options.build === "always") {
    prepared = undefined;
  }
  prepared ??= Promise.resolve().then(() => prepare(options));
  return prepared;
}

function prepare(options: PrepareOptions): PreparedPackage {
  const dist = path.join(REPO_ROOT, "dist", "provider");
  const stale = fs.existsSync(dist) ? newerSource(dist) : undefined;
  if (options.build === "always" || !fs.existsSync(dist) || (stale && options.build === "if-stale")) {
    build();
  } else if (stale) {
    // An error, not a warning: the test environment holds warnings back, and this one changes what is tested.
    console.error(`engine harness: ${path.relative(REPO_ROOT, stale)} is newer than dist/; packing the existing build (run \`npm run build\` or use build: "if-stale")`);
  }

  const fingerprint = fingerprintSources(dist);
  const cacheRoot = scratchRoot(REPO_ROOT);
  const dir = path.join(cacheRoot, fingerprint);
  const packageDir = path.join(dir, "node_modules", PACKAGE_NAME);
  if (!scratchIsUsable(dir, REPO_ROOT)) {
    fs.mkdirSync(cacheRoot, { recursive: true });
    const staging = fs.mkdtempSync(path.join(cacheRoot, "staging-"));
    try {
      installInto(staging);
      fs.writeFileSync(path.join(staging, ".ready"), REPO_ROOT);
      // A folder whose links no longer resolve is replaced, not reused.
      if (fs.existsSync(dir) && !scratchIsUsable(dir, REPO_ROOT)) fs.rmSync(dir, { recursive: true, force: true });
      try {
        fs.renameSync(staging, dir);
      } catch (err) {
        // Another worker finished the same fingerprint first: use theirs.
        if (!scratchIsUsable(dir, REPO_ROOT)) throw err;
      }
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
  // Marks the build as in use, so that pruning by another run leaves it alone.
  const now = new Date();
  fs.utimesSync(path.join(dir, ".ready"), now, now);
  pruneScratch(path.dirname(cacheRoot), dir, now.getTime());
  const pkg = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8")) as { version: string };
  return { dir, packageDir, version: pkg.version };
}

/**
 * How long a scratch folder of an older build is kept beside the current one:
 * long enough for a test run started on that build (another jest invocation in
 * the same clone) to finish with it, short enough that edits do not pile up
 * one packed copy each.
 */
const SCRATCH_KEPT_MS = 30 * 60_000;

/**
 * Removes what no run will use again: in `keep`'s clone, the folders of older
 * builds (and staging folders of runs that died) untouched for
 * SCRATCH_KEPT_MS; under other keys, the folders of clones that no longer exist
 * (the install checks clone into temporary folders and delete them).
 */
export function pruneScratch(engineRoot: string, keep: string, now: number): void {
  const ownKey = path.dirname(keep);
  for (const key of fs.readdirSync(engineRoot)) {
    const keyDir = path.join(engineRoot, key);
    if (keyDir === ownKey) {
      for (const build of fs.readdirSync(keyDir)) {
        const dir = path.join(keyDir, build);
        if (dir !== keep && now - lastTouched(dir) > SCRATCH_KEPT_MS) fs.rmSync(dir, { recursive: true, force: true });
      }
    } else if (!cloneStillExists(keyDir)) {
      fs.rmSync(keyDir, { recursive: true, force: true });
    }
  }
}

function lastTouched(dir: string): number {
  const ready = path.join(dir, ".ready");
  return fs.statSync(fs.existsSync(ready) ? ready : dir).mtimeMs;
}

/** A key folder whose finished builds all name a clone that is gone belongs to no clone. */
function cloneStillExists(keyDir: string): boolean {
  const clones = fs
    .readdirSync(keyDir)
    .map((build) => path.join(keyDir, build, ".ready"))
    .filter((ready) => fs.existsSync(ready))
    .map((ready) => fs.readFileSync(ready, "utf8"));
  // A key with no finished build yet may be another clone's run in progress.
  return clones.length === 0 || clones.some((clone) => fs.existsSync(clone));
}

/**
 * Where this clone's scratch folders live: the temp folder, keyed by the
 * clone's real path. The folders link into the clone's node_modules, so one
 * made by another clone (possibly deleted since) must never be picked up.
 * Outside the repository on purpose: inside it, Node's resolution would walk
 * up into the repository's node_modules and hide a dependency the manifest
 * forgot to declare.
 */
export function scratchRoot(repoRoot: string): string {
  const key = createHash("sha256").update(fs.realpathSync(repoRoot)).digest("hex").slice(0, 12);
  return path.join(os.tmpdir(), `${PACKAGE_NAME}-engine`, key);
}

/**
 * A finished scratch folder made by `repoRoot` whose every dependency link
 * still resolves into that repository's node_modules (a clone removed and
 * cloned again at the same path, then `npm ci`, qualifies again).
 */
export function scratchIsUsable(dir: string, repoRoot: string): boolean {
  const ready = path.join(dir, ".ready");
  if (!fs.existsSync(ready) || fs.readFileSync(ready, "utf8") !== repoRoot) return false;
  const modules = path.join(dir, "node_modules");
  const links = fs.readdirSync(modules).flatMap((name) =>
    name.startsWith("@") ? fs.readdirSync(path.join(modules, name)).map((sub) => path.join(modules, name, sub)) : [path.join(modules, name)],
  );
  const expected = path.join(repoRoot, "node_modules");
  return links.every((link) => {
    if (!fs.lstatSync(link).isSymbolicLink()) return true;
    const target = fs.readlinkSync(link);
    return target.startsWith(expected + path.sep) && fs.existsSync(target);
  });
}

function build(): void {
  const tsc = require.resolve("typescript/bin/tsc", { paths: [REPO_ROOT] });
  try {
    execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: REPO_ROOT, stdio: "pipe" });
  } catch (err) {
    // tsc still emits on type errors (files being edited elsewhere); only a
    // missing dist/ is fatal here.
    if (!fs.existsSync(path.join(REPO_ROOT, "dist", "provider"))) {
      const out = (err as { stdout?: Buffer }).stdout?.toString() ?? String(err);
      throw new Error(`building dist/ failed:\n${out}`);
    }
  }
}

/** A provider/ source file modified after the newest file in dist/provider, if any. */
function newerSource(dist: string): string | undefined {
  const files = (d: string, ext: RegExp): string[] =>
    fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(d, e.name), ext) : ext.test(e.name) ? [path.join(d, e.name)] : []));
  const built = Math.max(0, ...files(dist, /\.js$/).map((f) => fs.statSync(f).mtimeMs));
  return files(path.join(REPO_ROOT, "provider"), /\.ts$/).find((f) => fs.statSync(f).mtimeMs > built);
}

/**
 * Load a module of the packed package as a user's program would import it
 * (`"."`, `"./simulator"`, ... resolved through its `exports` map), bypassing
 * jest's moduleNameMapper, which points the package name at the sources. The
 * packed code shares this process's @pulumi/pulumi (its dependency links
 * resolve to the same real path), so capture() sees its registrations.
 */
export function loadFromPackage<T = Record<string, unknown>>(pkg: PreparedPackage, subpath = "."): T {
  const manifest = JSON.parse(fs.readFileSync(path.join(pkg.packageDir, "package.json"), "utf8")) as {
    exports?: Record<string, string | { default?: string; require?: string }>;
  };
  const entry = manifest.exports?.[subpath];
  const target = typeof entry === "string" ? entry : (entry?.require ?? entry?.default);
  if (!target) throw new Error(`${PACKAGE_NAME} does not export "${subpath}"`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(pkg.packageDir, target)) as T;
}

function fingerprintSources(dist: string): string {
  const hash = createHash("sha256");
  hash.update(fs.readFileSync(path.join(REPO_ROOT, "package.json")));
  // The files shipped besides dist/ (README, example seed...): every plain path in the manifest's "files".
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { files?: string[] };
  for (const file of (manifest.files ?? []).filter((f) => !f.includes("*"))) {
    const shipped = path.join(REPO_ROOT, file);
    if (fs.existsSync(shipped)) hash.update(file).update(fs.readFileSync(shipped));
  }
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (/\.(js|d\.ts)$/.test(entry.name)) hash.update(path.relative(dist, p)).update(fs.readFileSync(p));
    }
  };
  if (fs.existsSync(dist)) walk(dist);
  return hash.digest("hex").slice(0, 16);
}

function installInto(dir: string): void {
  // npm pack honours "files" and .npmignore exactly as a publish would.
  const packOut = execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false" },
  }).toString();
  const [{ filename }] = JSON.parse(packOut) as [{ filename: string }];
  const tarball = path.join(dir, path.basename(filename));

  const packageDir = path.join(dir, "node_modules", PACKAGE_NAME);
  fs.mkdirSync(packageDir, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", packageDir, "--strip-components=1"]);
  fs.rmSync(tarball);

  // The package's own dependencies, resolved like an installed copy would:
  // link each to the repository's node_modules (their transitive dependencies
  // then resolve from the link's real path).
  const pkg = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8")) as {
    version: string;
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
  const deps = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
  for (const dep of deps) {
    const target = path.join(REPO_ROOT, "node_modules", dep);
    if (!fs.existsSync(target)) throw new Error(`dependency ${dep} is not installed in ${REPO_ROOT}/node_modules`);
    const link = path.join(dir, "node_modules", dep);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(target, link, "dir");
  }

  // What a user's program folder has next to its node_modules.
  fs.writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ name: "engine-harness-program", private: true, dependencies: { [PACKAGE_NAME]: pkg.version } }, null, 2),
  );
}
