/**
 * `npm run test:install-matrix`: the packed package installed the way users
 * install it, with npm, pnpm, yarn 4 and yarn classic, into a program that pins the lowest
 * supported @pulumi/pulumi and into one on the latest, then driven through that
 * program's own dynamic-provider server.
 *
 * Each cell: install from the registry (one shared cache per package manager),
 * check that the tree holds exactly one @pulumi/pulumi and that the package
 * resolves the program's copy, type-check the README's imports with the
 * tsconfig of Pulumi's TypeScript template, register the three resources
 * through the program's own SDK (under its mocks, which record the serialized
 * `__provider` exactly as `pulumi up` stores it), then create, create again
 * from empty state (the snapshot and the copy adopt, no write), up again (diff none, no request),
 * refresh, a region missing at refresh restored by the next up, and destroy against the simulator.
 *
 *   npm run test:install-matrix                                 # npm, pnpm, yarn, yarn classic x floor, latest
 *   npm run test:install-matrix -- --pm pnpm --sdk 3.200.0      # one cell
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { loadSeed, startSimulator, type Simulator } from "../provider/simulator";
import { EngineStack, PACKAGE_NAME, REPO_ROOT, startDynamicProvider, type CapturedResource, type PropertyMap } from "../test/engine/harness";

const PACKAGE_MANAGERS = ["npm", "pnpm", "yarn", "yarn-classic"] as const;
type PackageManager = (typeof PACKAGE_MANAGERS)[number];
const TIME_SCALE = 0.001;
const WEB_NEWEST_BACKUP = 100000104;
const GOLDEN_SNAPSHOT = 100000010;
const DB_DROPLET = 3164495;

interface Cell {
  pm: PackageManager;
  sdk: string;
}

interface CellResult extends Cell {
  ok: boolean;
  seconds: number;
  installSeconds?: number;
  error?: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { pm: { type: "string" }, sdk: { type: "string" }, keep: { type: "boolean" } } });
  const sdks = values.sdk ? values.sdk.split(",") : [peerFloor(), latestSdk()];
  const pms = values.pm ? (values.pm.split(",") as PackageManager[]) : [...PACKAGE_MANAGERS];
  for (const pm of pms) if (!PACKAGE_MANAGERS.includes(pm)) throw new Error(`--pm: one of ${PACKAGE_MANAGERS.join(", ")}, got ${pm}`);

  const started = Date.now();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "do-image-actions-matrix-"));
  const tarball = pack(work);
  console.log(`packed ${path.basename(tarball)}; @pulumi/pulumi ${sdks.join(" and ")}; ${pms.join(", ")}; in ${work}`);
  const results: CellResult[] = [];
  try {
    for (const sdk of sdks) {
      for (const pm of pms) {
        const result = await runCell({ pm, sdk }, work, tarball);
        results.push(result);
        console.log(`${result.ok ? "PASS" : "FAIL"} ${pm.padEnd(4)} @pulumi/pulumi ${sdk.padEnd(8)} ${result.seconds.toFixed(0)} s (install ${result.installSeconds?.toFixed(0) ?? "-"} s)${result.error ? `\n  ${result.error.replace(/\n/g, "\n  ")}` : ""}`);
      }
    }
    const installed = results.find((r) => r.ok);
    if (installed) results.push(typeScriptCell(installed, work));
  } finally {
    if (!values.keep) fs.rmSync(work, { recursive: true, force: true });
  }
  const failed = results.filter((r) => !r.ok);
  console.log(`${results.length - failed.length} of ${results.length} passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (failed.length > 0) process.exitCode = 1;
}

function typeScriptCell(installed: CellResult, work: string): CellResult {
  const started = Date.now();
  const cell = { pm: installed.pm, sdk: installed.sdk };
  try {
    const versions = typecheckAcrossTypeScript(path.join(work, `${cell.pm}-${cell.sdk}`), work);
    console.log(`PASS TypeScript ${versions.join(", ")} in the ${cell.pm} program on @pulumi/pulumi ${cell.sdk}`);
    return { ...cell, ok: true, seconds: (Date.now() - started) / 1000 };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    console.log(`FAIL TypeScript range in the ${cell.pm} program on @pulumi/pulumi ${cell.sdk}\n  ${error.replace(/\n/g, "\n  ")}`);
    return { ...cell, ok: false, seconds: (Date.now() - started) / 1000, error };
  }
}

/** The lowest version the peer range admits: the floor the README promises. */
function peerFloor(): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { peerDependencies?: Record<string, string> };
  const range = manifest.peerDependencies?.["@pulumi/pulumi"];
  const floor = range && /^>=(\d+\.\d+\.\d+)/.exec(range)?.[1];
  if (!floor) throw new Error(`peerDependencies["@pulumi/pulumi"] should start with ">=x.y.z", got ${range}`);
  return floor;
}

function latestSdk(): string {
  return run("npm", ["view", "@pulumi/pulumi@latest", "version"], REPO_ROOT).trim();
}

function pack(work: string): string {
  const out = run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", work], REPO_ROOT);
  const [{ filename }] = JSON.parse(out) as [{ filename: string }];
  return path.join(work, path.basename(filename));
}

async function runCell(cell: Cell, work: string, tarball: string): Promise<CellResult> {
  const started = Date.now();
  const dir = path.join(work, `${cell.pm}-${cell.sdk}`);
  let installSeconds: number | undefined;
  try {
    stageProgram(dir, cell, tarball);
    install(cell.pm, dir, work);
    installSeconds = (Date.now() - started) / 1000;
    checkOneSdk(dir, cell.sdk);
    typecheck(dir);
    await engineRun(dir);
    return { ...cell, ok: true, seconds: (Date.now() - started) / 1000, installSeconds };
  } catch (err) {
    return { ...cell, ok: false, seconds: (Date.now() - started) / 1000, installSeconds, error: err instanceof Error ? err.message : String(err) };
  }
}

/** A user's program folder: its own SDK pin, the package from the tarball, the README's imports. */
function stageProgram(dir: string, cell: Cell, tarball: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(tarball, path.join(dir, "package.tgz"));
  const manifest = {
    name: `matrix-${cell.pm}`,
    private: true,
    dependencies: { "@pulumi/pulumi": cell.sdk, [PACKAGE_NAME]: "file:./package.tgz" },
  };
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest, null, 2));
  if (cell.pm === "yarn") {
    // Yarn 4 (berry), with the node_modules linker: Pulumi's dynamic-provider
    // server and closure serialization resolve modules through node_modules
    // folders, which Plug'n'Play does not create.
    fs.writeFileSync(path.join(dir, ".yarnrc.yml"), "nodeLinker: node-modules\nenableTelemetry: false\n");
    fs.writeFileSync(path.join(dir, "yarn.lock"), "");
  }
  // The compiler options of Pulumi's TypeScript template (`pulumi new typescript`).
  const tsconfig = {
    compilerOptions: {
      strict: true,
      outDir: "bin",
      target: "es2020",
      module: "commonjs",
      moduleResolution: "node",
      sourceMap: true,
      experimentalDecorators: true,
      pretty: true,
      noFallthroughCasesInSwitch: true,
      noImplicitReturns: true,
      forceConsistentCasingInFileNames: true,
      noEmit: true,
      // The template installs @types/node; this checkout's copy stands in for it.
      typeRoots: [path.join(REPO_ROOT, "node_modules", "@types")],
      types: ["node"],
    },
    files: ["index.ts"],
  };
  fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  fs.writeFileSync(path.join(dir, "index.ts"), DOCUMENTED_IMPORTS);
  fs.writeFileSync(path.join(dir, "program.js"), PROGRAM);
}

/** Every import the README shows, used as it shows them. */
const DOCUMENTED_IMPORTS = `
import { BackupVault, ImageRegionCopy, isoWeek, SnapshotFromBackup, type BackupVaultArgs } from "${PACKAGE_NAME}";
import { loadSeed, startSimulator, type Simulator } from "${PACKAGE_NAME}/simulator";

const kept = new SnapshotFromBackup("web-weekly", { dropletId: 3164494, name: "web-2026-W48", tags: ["dr"], triggers: { week: isoWeek(new Date()) } }, { retainOnDelete: true });
new ImageRegionCopy("web-weekly-dr", { imageId: kept.id, regions: ["ams3", "sfo3"] });
const args: BackupVaultArgs = { dropletId: 3164494, rotationKey: "2026-W48", keep: 4, copyToRegions: ["ams3"], namePattern: "web-{key}", tags: ["backup-vault"] };
new BackupVault("web-weekly", args, { retainOnDelete: true });
export const simulator: Promise<Simulator> = startSimulator({ timeScale: 0.01, seed: loadSeed("examples/seed.json") });
`;

/**
 * Runs in the program's folder with the program's own @pulumi/pulumi: registers
 * the three resources under that SDK's mocks and prints what the engine would
 * receive. A second SDK copy under the package would register elsewhere, and
 * nothing would be printed for it.
 */
const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const registered = [];
pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      return { id: args.name + "-id", state: args.inputs };
    },
    call: (args) => args.inputs,
  },
  "matrix",
  "dev",
  false,
);
const { SnapshotFromBackup, ImageRegionCopy, BackupVault } = require("${PACKAGE_NAME}");
const resources = [
  new SnapshotFromBackup("kept", { backupId: ${WEB_NEWEST_BACKUP}, name: "kept", tags: ["matrix"] }),
  new ImageRegionCopy("copies", { imageId: ${GOLDEN_SNAPSHOT}, regions: ["ams3"] }),
  new BackupVault("vault", { dropletId: ${DB_DROPLET}, rotationKey: "2026-W48", keep: 2 }),
];
Promise.all(resources.map((r) => new Promise((resolve) => r.urn.apply(resolve)))).then(() => {
  process.stdout.write(JSON.stringify(registered));
});
`;

/**
 * Yarn 1.x, the last line of "yarn classic" (frozen since 2020, and still what
 * many Pulumi programs use): installed into the matrix's folder from the
 * registry rather than as a devDependency, as nothing else here needs it.
 */
const YARN_CLASSIC = "1.22.22";

function install(pm: PackageManager, dir: string, work: string): void {
  const env = { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };
  if (pm === "npm") {
    run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], dir, env);
  } else if (pm === "pnpm") {
    // CI=true makes pnpm default to a frozen lockfile; this program has none yet.
    run(bin("pnpm"), ["install", "--no-frozen-lockfile", "--reporter=append-only"], dir, env);
  } else if (pm === "yarn-classic") {
    const prefix = path.join(work, `yarn-${YARN_CLASSIC}`);
    if (!fs.existsSync(path.join(prefix, "node_modules", "yarn"))) {
      run("npm", ["install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", prefix, `yarn@${YARN_CLASSIC}`], work, env);
    }
    // Yarn classic caches a file: tarball by name and version, so a global cache would serve a
    // package packed by an earlier run: a cache of this run's own.
    const cache = path.join(work, "yarn-classic-cache");
    run(process.execPath, [path.join(prefix, "node_modules", "yarn", "bin", "yarn.js"), "install", "--non-interactive", "--no-progress", "--cache-folder", cache], dir, env);
  } else {
    // CI=true makes yarn default to immutable installs, for the same reason.
    run(bin("yarn"), ["install"], dir, { ...env, YARN_ENABLE_IMMUTABLE_INSTALLS: "false", YARN_ENABLE_PROGRESS_BARS: "false" });
  }
}

/** A package manager from this checkout's devDependencies (pinned there; never a global install). */
function bin(name: string): string {
  return path.join(REPO_ROOT, "node_modules", ".bin", name);
}

/**
 * Exactly one @pulumi/pulumi anywhere in the tree (pnpm's .pnpm store folder
 * included), at the pinned version, and the package resolves that same copy.
 */
function checkOneSdk(dir: string, sdk: string): void {
  const copies = new Map<string, string>();
  const walk = (modules: string, depth: number): void => {
    if (depth > 8 || !fs.existsSync(modules)) return;
    for (const entry of fs.readdirSync(modules, { withFileTypes: true })) {
      const full = path.join(modules, entry.name);
      if (entry.name === ".bin") continue;
      if (entry.name.startsWith("@") || entry.name === ".pnpm") {
        walk(full, depth + 1);
        continue;
      }
      const manifest = path.join(full, "package.json");
      if (fs.existsSync(manifest)) {
        const { name, version } = JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: string; version?: string };
        if (name === "@pulumi/pulumi") copies.set(fs.realpathSync(full), version ?? "?");
      }
      walk(path.join(full, "node_modules"), depth + 1);
    }
  };
  walk(path.join(dir, "node_modules"), 0);
  const found = [...copies.entries()].map(([where, version]) => `${version} at ${path.relative(dir, where)}`);
  if (copies.size !== 1 || [...copies.values()][0] !== sdk) throw new Error(`expected one @pulumi/pulumi ${sdk}, found ${found.length}: ${found.join("; ")}`);
  const fromProgram = fs.realpathSync(path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [dir] })));
  const packageDir = fs.realpathSync(path.join(dir, "node_modules", PACKAGE_NAME));
  const fromPackage = fs.realpathSync(path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [packageDir] })));
  if (fromProgram !== fromPackage) throw new Error(`the package resolves @pulumi/pulumi at ${fromPackage}, the program at ${fromProgram}`);
}

function typecheck(dir: string, tsc = path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), project = dir): void {
  const result = spawnSync(process.execPath, [tsc, "-p", project, "--pretty", "false"], { cwd: dir, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`the README's imports do not type-check with ${path.basename(project)}:\n${result.stdout}${result.stderr}`);
}

/**
 * The TypeScript releases the README supports, each with the tsconfig a user of
 * it has: Pulumi's template as it is on 5.x; on 6.x the template's
 * `moduleResolution: "node"` is deprecated and fails without `ignoreDeprecations`;
 * 7.x removed it, so a program there resolves modules as Node 16+ does.
 */
const TYPESCRIPT_RANGE: { version: string; compilerOptions: Record<string, unknown> }[] = [
  { version: "5.0.4", compilerOptions: {} },
  { version: "6.0.3", compilerOptions: { ignoreDeprecations: "6.0" } },
  { version: "7.0.2", compilerOptions: { module: "node16", moduleResolution: "node16" } },
];

/** The README's imports type-checked in an installed program by each supported TypeScript release. */
function typecheckAcrossTypeScript(dir: string, work: string): string[] {
  const template = JSON.parse(fs.readFileSync(path.join(dir, "tsconfig.json"), "utf8")) as { compilerOptions: Record<string, unknown> };
  return TYPESCRIPT_RANGE.map(({ version, compilerOptions }) => {
    const prefix = path.join(work, `typescript-${version}`);
    run("npm", ["install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", prefix, `typescript@${version}`], work);
    const project = path.join(dir, `tsconfig.ts-${version}.json`);
    fs.writeFileSync(project, JSON.stringify({ ...template, compilerOptions: { ...template.compilerOptions, ...compilerOptions } }, null, 2));
    typecheck(dir, path.join(prefix, "node_modules", "typescript", "bin", "tsc"), project);
    return version;
  });
}

async function engineRun(dir: string): Promise<void> {
  const registered = JSON.parse(run(process.execPath, ["program.js"], dir)) as { type: string; name: string; inputs: PropertyMap }[];
  if (registered.length !== 3) throw new Error(`the program's SDK saw ${registered.length} registrations, expected 3`);
  const resources: CapturedResource[] = registered.map((r) => {
    const provider = r.inputs.__provider;
    if (typeof provider !== "string") throw new Error(`${r.name}: no serialized __provider in its inputs`);
    // Closure serialization must not write install paths (pnpm's versioned store folders) into state.
    if (provider.includes(".pnpm") || provider.includes(dir)) throw new Error(`${r.name}: __provider holds an install path`);
    return {
      type: r.type,
      name: r.name,
      urn: `urn:pulumi:dev::matrix::${r.type}::${r.name}`,
      custom: true,
      inputs: r.inputs,
      rawInputs: r.inputs,
      secretPaths: [],
      dependencies: [],
      options: { ignoreChanges: [] },
    };
  });

  const sim: Simulator = await startSimulator({ timeScale: TIME_SCALE, seed: loadSeed(path.join(REPO_ROOT, "examples", "seed.json")) });
  const server = await startDynamicProvider({
    cwd: dir,
    serverEntry: require.resolve("@pulumi/pulumi/cmd/dynamic-provider/index.js", { paths: [dir] }),
    env: { DO_IMAGE_ACTIONS_TIME_SCALE: String(TIME_SCALE), DIGITALOCEAN_TOKEN: undefined, DIGITALOCEAN_ACCESS_TOKEN: undefined },
    config: { "digitalocean:token": sim.token, "digitalocean:apiEndpoint": sim.url },
    secretConfigKeys: ["digitalocean:token"],
    callTimeoutMs: 60_000,
  });
  const writeList = () => sim.requests().filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);
  const writes = () => writeList().length;
  const expectOps = (what: string, steps: { op: string; name: string }[], op: string, of = resources) => {
    const got = steps.map((s) => `${s.op} ${s.name}`);
    if (got.join() !== of.map((r) => `${op} ${r.name}`).join()) throw new Error(`${what}: expected ${op} of each resource, got ${got.join(", ")}`);
  };
  try {
    const stack = new EngineStack(server);
    expectOps("up", await stack.up(resources), "create");
    if (sim.state.imageView(WEB_NEWEST_BACKUP)?.type !== "snapshot") throw new Error(`up: backup ${WEB_NEWEST_BACKUP} was not converted`);
    if (!sim.state.imageView(GOLDEN_SNAPSHOT)?.regions.includes("ams3")) throw new Error(`up: image ${GOLDEN_SNAPSHOT} was not copied to ams3`);

    // Adoption is what the snapshot and the copy promise (a vault's rotation keeps a new backup instead).
    const adopting = resources.filter((r) => r.name !== "vault");
    sim.resetRequests();
    expectOps("up from empty state", await new EngineStack(server).up(adopting), "create", adopting);
    if (writes() !== 0) throw new Error(`up from empty state should adopt everything without a write, sent ${writeList().join(", ")}`);

    sim.resetRequests();
    expectOps("up again", await stack.up(resources), "same");
    if (sim.requests().length !== 0) throw new Error(`up with nothing changed should send no request, sent ${sim.requests().length}`);

    expectOps("refresh", await stack.refresh(), "refresh");
    if (writes() !== 0 || stack.state.size !== 3) throw new Error(`refresh wrote ${writes()} times and kept ${stack.state.size} of 3 resources`);

    // A declared region the image is not in (a copy deleted by hand): refresh returns the inputs as
    // they hold, which SDKs before 3.216 ignore; either way the next up must copy it there again.
    const copy = stack.get("copies");
    const declared = { ...copy.inputs, regions: ["ams3", "sfo3"] };
    stack.state.set(copy.urn, { ...copy, inputs: declared, outputs: { ...copy.outputs, regions: declared.regions } });
    await stack.refresh();
    const restored = resources.map((r) => (r.name === "copies" ? { ...r, inputs: { ...r.inputs, regions: declared.regions } } : r));
    const repaired = (await stack.up(restored)).map((s) => `${s.op} ${s.name}`);
    if (!repaired.includes("update copies") || !sim.state.imageView(GOLDEN_SNAPSHOT)?.regions.includes("sfo3")) {
      throw new Error(`a declared region missing at refresh was not restored by the next up: ${repaired.join(", ")}`);
    }

    const vaultSnapshot = (stack.get("vault").outputs.newestSnapshotId as number | null) ?? NaN;
    await stack.destroy();
    const left = [...stack.state.keys()];
    if (left.length > 0) throw new Error(`destroy left ${left.join(", ")}`);
    for (const id of [WEB_NEWEST_BACKUP, vaultSnapshot]) {
      if (sim.state.imageView(id)) throw new Error(`destroy: snapshot ${id} still exists`);
    }
  } finally {
    await server.close();
    await sim.close();
  }
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(command, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n").slice(-25).join("\n");
    throw new Error(`${path.basename(command)} ${args.join(" ")} (in ${cwd}) exited ${result.status ?? result.signal}:\n${output}`);
  }
  return result.stdout;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
