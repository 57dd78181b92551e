/**
 * `npm run test:first-hour`: the paths the README gives someone who has just
 * found the repository, run the way they type them, in a fresh `git clone` of
 * this repository's committed HEAD (never this working tree, never a copy
 * packed here):
 *
 * 1. clone: `git clone`, then `npm ci` (which builds dist/ and links the
 *    checkout into its own node_modules);
 * 2. pack: `npm pack` in the clone holds dist/provider, and a scratch project
 *    that installs the tarball loads ".", "./simulator" and "./dynamic";
 * 3. git install: a scratch project runs the lines of the README's Install
 *    block that use `$REPO`, with REPO=git+file://<clone>, and loads the same
 *    entries (with this machine's npm, and with npm 10 unless `--npm current`);
 * 4. example: in the clone, the simulator started as README "The simulator"
 *    says, then the example of `Pulumi.yaml` (examples/dr-copy) run as the
 *    CLI's Node.js host runs it (ts-node registered the way @pulumi/pulumi's
 *    `cmd/run` does, from the clone root) and served by the clone's
 *    dynamic-provider server started in the clone root, then in
 *    examples/dr-copy: check and create go through the shim stored in the
 *    inputs and reach the simulator. This step runs the clone's own build of
 *    this script (`--serve-example`), so that the engine harness and the
 *    program share the clone's @pulumi/pulumi.
 *
 *   npm run test:first-hour                    # all of it
 *   npm run test:first-hour -- --npm current   # the git install with this machine's npm only
 *   npm run test:first-hour -- --npm none      # no git install
 *   npm run test:first-hour -- --keep          # keep the scratch folder
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as nodeModule from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { EngineStack, PACKAGE_NAME, REPO_ROOT, startDynamicProvider, upProgram } from "../test/engine/harness";

const PROJECT = "do-image-actions-dr-copy";
const EXAMPLE = path.join("examples", "dr-copy", "index.ts");
const DROPLET_ID = 3164494;
/** The seed's newest backup of that Droplet, which the example keeps. */
const NEWEST_BACKUP = 100000104;
const DR_REGIONS = ["ams3", "sfo3"];
const TIME_SCALE = "0.01";
/** What the shim stored in every resource's state loads (test/fixtures/shim-protocol/README.md). */
const SHIM_REQUIRE = `require("${PACKAGE_NAME}/dynamic")`;
const RESULT_MARK = "first-hour result: ";
const MINUTE = 60_000;
/** Everything, however slow the registry or the machine: past this the script kills what it started and fails. */
const DEADLINE_MS = 12 * MINUTE;

interface Check {
  name: string;
  ok: boolean;
  seconds: number;
  detail: string;
}

interface ServeResult {
  /** Where `require("<package>/dynamic")` resolves from the server's folder, as the shim's synthetic module resolves it. */
  resolved: string;
  steps: string[];
  providerText: string;
  outputs: Record<string, unknown>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      npm: { type: "string", default: "current,10" },
      keep: { type: "boolean" },
      "serve-example": { type: "boolean" },
      endpoint: { type: "string" },
      token: { type: "string" },
      "provider-cwd": { type: "string" },
    },
  });
  if (values["serve-example"]) {
    if (!values.endpoint || !values.token || !values["provider-cwd"]) throw new Error("--serve-example needs --endpoint, --token and --provider-cwd");
    const result = await serveExample(values.endpoint, values.token, values["provider-cwd"]);
    console.log(RESULT_MARK + JSON.stringify(result));
    return;
  }
  const npmVersions = values.npm === "none" ? [] : values.npm.split(",");
  for (const v of npmVersions) if (!/^(current|\d+)$/.test(v)) throw new Error(`--npm: "none", or "current" and major versions, got ${v}`);

  const started = Date.now();
  const deadline = setTimeout(() => {
    console.error(`first hour: still running after ${DEADLINE_MS / MINUTE} minutes; stopping`);
    killAll();
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();

  const dirty = (await run("git", ["status", "--porcelain", "--untracked-files=no"], REPO_ROOT)).trim();
  if (dirty) console.log("note: uncommitted changes are not tested: the clone has the committed HEAD");
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "do-image-actions-first-hour-"));
  const clone = path.join(work, PACKAGE_NAME);
  const checks: Check[] = [];
  const record = async (name: string, body: () => Promise<string>): Promise<boolean> => {
    const t0 = Date.now();
    let ok = true;
    let detail: string;
    try {
      detail = await body();
    } catch (err) {
      ok = false;
      detail = err instanceof Error ? err.message : String(err);
    }
    const check = { name, ok, seconds: (Date.now() - t0) / 1000, detail };
    checks.push(check);
    console.log(`${check.ok ? "PASS" : "FAIL"} ${name} (${check.seconds.toFixed(0)} s): ${check.detail.replace(/\n/g, "\n  ")}`);
    return check.ok;
  };

  try {
    console.log(`first hour in ${work}`);
    const cloned = await record("git clone, npm ci", () => cloneAndInstall(clone));
    if (cloned) {
      // The git installs mostly wait on npm and git; they run beside the rest.
      const gitInstalls = npmVersions.map((v) => record(`git install (README Install, npm ${v})`, () => gitInstall(work, clone, v)));
      await record("npm pack, install the tarball", () => packAndInstall(work, clone));
      await record("example against the simulator, provider in the root and in examples/dr-copy", () => example(clone));
      await Promise.all(gitInstalls);
    }
  } finally {
    killAll();
    if (!values.keep) fs.rmSync(work, { recursive: true, force: true });
  }
  const failed = checks.filter((c) => !c.ok).length;
  console.log(`first hour: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(`${checks.length - failed} passed, ${failed} failed`);
  if (failed > 0 || checks.length === 0) process.exitCode = 1;
}

// ---------------------------------------------------------------- steps

async function cloneAndInstall(clone: string): Promise<string> {
  await run("git", ["clone", "--quiet", REPO_ROOT, clone], path.dirname(clone), { timeoutMs: MINUTE });
  await run("npm", ["ci", "--no-audit", "--no-fund", "--prefer-offline"], clone, { timeoutMs: 6 * MINUTE });
  const built = ["index.js", "dynamic/index.js", "simulator/index.js"].filter((f) => fs.existsSync(path.join(clone, "dist", "provider", f)));
  if (built.length !== 3) throw new Error(`npm ci left dist/provider with only ${built.join(", ") || "nothing"} of index.js, dynamic/index.js, simulator/index.js`);
  // Whether the provider process finds the checkout is the example step's to show, with the error a user would see.
  const link = path.join(clone, "node_modules", PACKAGE_NAME);
  return `dist/ built; node_modules/${PACKAGE_NAME} ${fs.existsSync(link) ? `-> ${path.relative(clone, fs.realpathSync(link)) || "the checkout"}` : "absent"}`;
}

async function packAndInstall(work: string, clone: string): Promise<string> {
  const out = await run("npm", ["pack", "--json", "--pack-destination", work], clone, { timeoutMs: 3 * MINUTE });
  const [packed] = JSON.parse(out.slice(out.indexOf("["))) as [{ filename: string; files: { path: string }[] }];
  const files = packed.files.map((f) => f.path);
  const missing = ["dist/provider/index.js", "dist/provider/dynamic/index.js", "dist/provider/simulator/index.js", "dist/provider/index.d.ts"].filter((f) => !files.includes(f));
  if (missing.length > 0) throw new Error(`the tarball (${files.length} files) lacks ${missing.join(", ")}`);
  const project = scratchProject(work, "from-tarball");
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", path.join(work, path.basename(packed.filename))], project, { timeoutMs: 4 * MINUTE });
  return `${files.length} files; ${await loads(project)}`;
}

/** The README's Install lines that use $REPO, run by sh as a user pastes them, with REPO pointing at the clone. */
async function gitInstall(work: string, clone: string, npmVersion: string): Promise<string> {
  const lines = readmeInstallLines();
  let pathPrefix = "";
  if (npmVersion !== "current") {
    const tools = path.join(work, `npm-${npmVersion}`);
    fs.mkdirSync(tools);
    await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--prefix", tools, `npm@${npmVersion}`], tools, { timeoutMs: 2 * MINUTE });
    pathPrefix = path.join(tools, "node_modules", ".bin") + path.delimiter;
  }
  const project = scratchProject(work, `from-git-npm-${npmVersion}`);
  const env = {
    REPO: `git+file://${clone}`,
    PATH: pathPrefix + userPath(),
    // What the test adds to the README's lines: the package caches, and no registry calls it does not need.
    npm_config_prefer_offline: "true",
    npm_config_audit: "false",
    npm_config_fund: "false",
  };
  const version = (await run("npm", ["--version"], project, { env })).trim();
  if (npmVersion !== "current" && !version.startsWith(`${npmVersion}.`)) throw new Error(`asked for npm ${npmVersion}, got ${version}`);
  let output = "";
  for (const line of lines) output += await run("sh", ["-c", line], project, { env, timeoutMs: 6 * MINUTE, combined: true });
  const installed = path.join(project, "node_modules", PACKAGE_NAME);
  const count = countFiles(installed);
  // npm 11 lists dependencies whose install scripts the project has not decided; the README's entry decides this one.
  const unreviewed = /install-scripts\s+pulumi-digitalocean-image-actions@/.test(output);
  if (unreviewed) throw new Error(`npm ${version} still lists the package's build as not covered by allowScripts:\n${output}`);
  return `npm ${version}: ${lines.map((l) => l.replace(/\s+/g, " ")).join("; ")}; ${count} files; ${await loads(project)}`;
}

/**
 * The README's Install section: its first sh block sets REPO and runs commands
 * with it. Those commands (comments dropped) are what a user pastes; the test
 * runs them, not a copy of them.
 */
function readmeInstallLines(): string[] {
  const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const section = /^## Install\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  const block = section && /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error("README.md has no ## Install section with a ```sh block");
  const lines = block
    .split("\n")
    .map((l) => l.replace(/\s+#.*$/, "").trim())
    .filter((l) => l.includes("$REPO") && !l.startsWith("REPO="));
  if (!lines.some((l) => /^npm install "\$REPO"$/.test(l))) throw new Error(`the README's Install block has no \`npm install "$REPO"\` line: ${lines.join(" / ")}`);
  return lines;
}

async function example(clone: string): Promise<string> {
  // The harness this step drives is the clone's own, compiled as `npm run build:tools` compiles it.
  await run("npm", ["run", "build:tools", "--silent"], clone, { timeoutMs: 4 * MINUTE });
  const summaries: string[] = [];
  for (const providerCwd of [clone, path.join(clone, "examples", "dr-copy")]) {
    const where = path.relative(clone, providerCwd) || "the clone root";
    // A fresh account each time: both runs are a user's first `pulumi up`.
    const sim = await startClonedSimulator(clone);
    try {
      const out = await run(
        process.execPath,
        [path.join("build", "scripts", "first-hour.js"), "--serve-example", "--endpoint", sim.url, "--token", sim.token, "--provider-cwd", providerCwd],
        clone,
        { timeoutMs: 4 * MINUTE },
      );
      const line = out.split("\n").find((l) => l.startsWith(RESULT_MARK));
      if (!line) throw new Error(`provider in ${where}: no result line in:\n${out}`);
      const result = JSON.parse(line.slice(RESULT_MARK.length)) as ServeResult;
      const { requests } = (await (await fetch(`${sim.url}/_sim/requests`)).json()) as { requests: { method: string; route: string | null }[] };
      const writes = requests.filter((r) => r.method !== "GET").map((r) => r.route ?? `${r.method} (unmatched)`);

      if (fs.realpathSync(result.resolved) !== path.join(fs.realpathSync(clone), "dist", "provider", "dynamic", "index.js")) {
        throw new Error(`provider in ${where}: ${PACKAGE_NAME}/dynamic resolves to ${result.resolved}, not the clone's dist/`);
      }
      if (!result.providerText.includes(SHIM_REQUIRE)) throw new Error(`provider in ${where}: the serialized __provider does not call ${SHIM_REQUIRE}`);
      if (result.steps.join() !== "create web-weekly,create web-weekly-dr") throw new Error(`provider in ${where}: expected two creates, got ${result.steps.join(", ")}`);
      if (result.outputs.snapshotId !== NEWEST_BACKUP) throw new Error(`provider in ${where}: snapshotId ${String(result.outputs.snapshotId)}, expected ${NEWEST_BACKUP}`);
      if (JSON.stringify(result.outputs.transferredRegions) !== JSON.stringify(DR_REGIONS)) {
        throw new Error(`provider in ${where}: transferred to ${JSON.stringify(result.outputs.transferredRegions)}, expected ${JSON.stringify(DR_REGIONS)}`);
      }
      // The convert and the two transfers, as the simulator saw them.
      const started = writes.filter((w) => w === "POST /v2/images/:id/actions").length;
      if (started !== 1 + DR_REGIONS.length) throw new Error(`provider in ${where}: ${started} image actions started, expected ${1 + DR_REGIONS.length}; writes: ${writes.join(", ")}`);
      summaries.push(`${where}: ${result.steps.join(", ")}, ${requests.length} requests (${writes.length} writes)`);
    } finally {
      sim.stop();
    }
  }
  return summaries.join("; ");
}

/** `npm run simulate` in the clone, as README "The simulator" starts it; the URL and token are what it prints. */
async function startClonedSimulator(clone: string): Promise<{ url: string; token: string; stop(): void }> {
  const child = spawn("npm", ["run", "simulate", "--", "--port", "0", "--seed", "examples/seed.json", "--time-scale", TIME_SCALE], {
    cwd: clone,
    env: userEnv(),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child.pid ?? -1);
  const stop = () => killGroup(child.pid);
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
  const found = await new Promise<{ url: string; token: string } | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), 3 * MINUTE);
    const poll = setInterval(() => {
      const url = /listening on (\S+)/.exec(out)?.[1];
      const token = /token: (\S+)/.exec(out)?.[1];
      if ((url && token) || child.exitCode !== null) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(url && token ? { url, token } : undefined);
      }
    }, 100);
  });
  if (!found) {
    stop();
    throw new Error(`npm run simulate did not print its URL and token:\n${out}`);
  }
  return { ...found, stop };
}

// ---------------------------------------------------------------- --serve-example (runs in the clone)

/**
 * One `pulumi up` of the example with the provider process in `providerCwd`:
 * the program loaded as the CLI's Node.js host loads it, every registration
 * checked, diffed and created through the clone's dynamic-provider server.
 */
async function serveExample(endpoint: string, token: string, providerCwd: string): Promise<ServeResult> {
  const cloneRequire = nodeModule.createRequire(path.join(REPO_ROOT, "package.json"));
  registerTypeScriptLikePulumi(cloneRequire);
  const server = await startDynamicProvider({
    cwd: providerCwd,
    project: PROJECT,
    env: { DO_IMAGE_ACTIONS_TIME_SCALE: TIME_SCALE, DIGITALOCEAN_TOKEN: undefined, DIGITALOCEAN_ACCESS_TOKEN: undefined },
    config: { "digitalocean:token": token, "digitalocean:apiEndpoint": endpoint },
    secretConfigKeys: ["digitalocean:token"],
    callTimeoutMs: 2 * MINUTE,
  });
  try {
    const stack = new EngineStack(server);
    // Returns an Output; capture resolves it to plain values.
    const program = (): unknown => {
      const exports = cloneRequire(path.join(REPO_ROOT, EXAMPLE)) as Record<string, unknown>;
      return pulumi.output({ snapshotId: exports.snapshotId, transferredRegions: exports.transferredRegions });
    };
    const config = { [`${PROJECT}:dropletId`]: String(DROPLET_ID), [`${PROJECT}:drRegions`]: JSON.stringify(DR_REGIONS) };
    const up = await upProgram(stack, program, { project: PROJECT, config });
    const text = up.resources.map((r) => r.inputs.__provider);
    return {
      resolved: resolveAsShim(providerCwd),
      steps: up.steps.map((s) => `${s.op} ${s.name}`),
      providerText: text.every((t) => typeof t === "string") ? text.join("\n") : "",
      outputs: up.result as Record<string, unknown>,
    };
  } finally {
    await server.close();
  }
}

/**
 * What @pulumi/pulumi's `cmd/run` does for `runtime.options.typescript: true`
 * (PULUMI_NODEJS_TYPESCRIPT) in a CommonJS project: ts-node (the project's, else
 * the copy vendored in @pulumi/pulumi) with the project's TypeScript and
 * tsconfig.json from the working directory, type-checking unless `noCheck`.
 */
function registerTypeScriptLikePulumi(cloneRequire: NodeRequire): void {
  // Relative to the working directory, the clone root (the CLI's, where Pulumi.yaml is).
  const tsutils = cloneRequire("@pulumi/pulumi/tsutils") as {
    loadTypeScriptCompilerOptions(tsconfig: string): Record<string, unknown>;
    typeScriptRequireStrings(): { tsnodeRequire: string; typescriptRequire: string };
  };
  const compilerOptions = tsutils.loadTypeScriptCompilerOptions("tsconfig.json");
  const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
  const tsNode = cloneRequire(tsnodeRequire) as { register(options: unknown): void };
  tsNode.register({
    compiler: typescriptRequire,
    transpileOnly: compilerOptions.noCheck,
    project: "tsconfig.json",
    skipProject: false,
    compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
  });
}

/**
 * Resolve the shim's require as the dynamic-provider server does: the shim is
 * compiled by require-from-string as a module with no file name, whose lookup
 * paths are the node_modules folders from the working directory up, and to
 * which Node's package self-reference does not apply.
 */
function resolveAsShim(cwd: string): string {
  const Module = nodeModule.Module as unknown as ModuleInternals;
  const shim = new Module("", undefined);
  shim.paths = Module._nodeModulePaths(cwd);
  return Module._resolveFilename(`${PACKAGE_NAME}/dynamic`, shim, false);
}

interface ModuleInternals {
  new (id: string, parent: undefined): { paths: string[] };
  _nodeModulePaths(from: string): string[];
  _resolveFilename(request: string, parent: { paths: string[] }, isMain: boolean): string;
}

// ---------------------------------------------------------------- helpers

/** A user's empty program folder, outside any repository so nothing resolves from a parent node_modules. */
function scratchProject(work: string, name: string): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, private: true }, null, 2) + "\n");
  return dir;
}

/** The three entries a program and the shim load, from the project's own node_modules, in a fresh process. */
async function loads(project: string): Promise<string> {
  const script = `
    const path = require("node:path");
    const out = {};
    for (const sub of ["", "/simulator", "/dynamic"]) {
      const id = "${PACKAGE_NAME}" + sub;
      out[sub || "."] = { file: require.resolve(id), exports: Object.keys(require(id)) };
    }
    process.stdout.write(JSON.stringify(out));`;
  const loaded = JSON.parse(await run(process.execPath, ["-e", script], project)) as Record<string, { file: string; exports: string[] }>;
  const expected: Record<string, string> = { ".": "SnapshotFromBackup", "/simulator": "startSimulator", "/dynamic": "handlers" };
  const installed = fs.realpathSync(path.join(project, "node_modules", PACKAGE_NAME));
  for (const [sub, name] of Object.entries(expected)) {
    const entry = loaded[sub];
    if (!entry.exports.includes(name)) throw new Error(`"${PACKAGE_NAME}${sub === "." ? "" : sub}" has no ${name}: ${entry.exports.join(", ")}`);
    if (!fs.realpathSync(entry.file).startsWith(installed + path.sep)) throw new Error(`"${sub}" loaded ${entry.file}, outside ${installed}`);
  }
  return `loads ., ./simulator, ./dynamic`;
}

function countFiles(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.name === "node_modules" ? 0 : e.isDirectory() ? countFiles(path.join(dir, e.name)) : 1), 0);
}

/**
 * The environment of a user's shell: without what `npm run` adds for its own
 * scripts (npm_* settings of this checkout, its node_modules/.bin on PATH),
 * which would leak into the clone's and the projects' npm runs.
 */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== "INIT_CWD") env[k] = v;
  return { ...env, PATH: userPath(), npm_config_update_notifier: "false", ...extra };
}

function userPath(): string {
  return (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter((p) => !p.split(path.sep).includes(".bin") && !p.includes(`${path.sep}node-gyp-bin`))
    .join(path.delimiter);
}

/** Process groups still running, killed on the way out (timeouts, failures, the deadline). */
const live = new Set<number>();

function killGroup(pid: number | undefined): void {
  if (pid === undefined || !live.delete(pid)) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

function killAll(): void {
  for (const pid of [...live]) killGroup(pid);
}

/** Runs a command in its own process group; resolves with its stdout (with stderr too when `combined`), rejects with its output's tail on a non-zero exit or after timeoutMs. */
function run(command: string, args: string[], cwd: string, options: { env?: Record<string, string>; timeoutMs?: number; combined?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: userEnv(options.env), detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const pid = child.pid;
    if (pid !== undefined) live.add(pid);
    let stdout = "";
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => ((stdout += d), (output += d)));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (output += d));
    const timeoutMs = options.timeoutMs ?? 2 * MINUTE;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(pid);
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (pid !== undefined) live.delete(pid);
      const what = `${path.basename(command)} ${args.join(" ")} (in ${cwd})`;
      if (timedOut) reject(new Error(`${what} took longer than ${timeoutMs / 1000} s:\n${tail(output)}`));
      else if (code !== 0) reject(new Error(`${what} exited ${code ?? signal}:\n${tail(output)}`));
      else resolve(options.combined ? output : stdout);
    });
  });
}

const tail = (text: string) => text.trim().split("\n").slice(-25).join("\n");

main().catch((err: unknown) => {
  console.error(err);
  killAll();
  process.exit(1);
});
