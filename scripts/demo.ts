/**
 * `npm run demo`: the dr-copy example end to end against the bundled simulator,
 * with no DigitalOcean account and no network. Preview, up, an up with nothing
 * to do, an up that adds a region, destroy; after each step a short
 * `pulumi`-like summary, the provider's log lines and the API requests the
 * simulator answered.
 *
 * With the `pulumi` CLI on PATH it drives the CLI through the Automation API
 * (local file backend in a temp folder). Without it, it runs the same program
 * through the engine-path harness of test/engine: the real resource classes,
 * the real dynamic-provider server and the packed package, with this script
 * playing the engine.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { Simulator } from "pulumi-digitalocean-image-actions/simulator";
import { capture, EngineStack, loadFromPackage, preparePackage, REPO_ROOT, startDynamicProvider, upProgram, type DynamicProviderServer, type Step } from "../test/engine/harness";

const PROJECT = "do-image-actions-dr-copy";
const DROPLET_ID = 3164494;
const DR_REGIONS = ["ams3", "sfo3"];
const ADDED_REGION = "lon1";
const OUTPUT_KEYS = ["snapshotId", "snapshotName", "keptBackupId", "availableRegions", "transferredRegions"];

export interface DemoOptions {
  /** Real ms per DigitalOcean ms; default 0.01 (a 60 s convert takes 0.6 s). */
  timeScale?: number;
  /** Where the summary goes; default stdout. */
  print?: (line: string) => void;
  /** Force the engine-path harness even when `pulumi` is on PATH (tests). */
  harness?: boolean;
}

export interface DemoStep {
  title: string;
  /** `create web-weekly`, `same web-weekly-dr`, ... */
  operations: string[];
  /** Simulator requests during the step, by route template (`POST /v2/images/:id/actions`). */
  requests: Record<string, number>;
  writes: number;
  logs: string[];
  outputs?: Record<string, unknown>;
}

export interface DemoReport {
  mode: "automation-api" | "engine-harness";
  steps: DemoStep[];
  /** Actions the simulator ran, as `convert <id>` / `transfer <id> to <region>`. */
  actions: string[];
}

export async function main(options: DemoOptions = {}): Promise<DemoReport> {
  const print = options.print ?? ((line: string) => console.log(line));
  const timeScale = options.timeScale ?? 0.01;
  const started = Date.now();

  // The simulator as users get it: from the package's ./simulator export.
  const pkg = await preparePackage({ build: "if-stale" });
  const { startSimulator, loadSeed } = loadFromPackage<typeof import("pulumi-digitalocean-image-actions/simulator")>(pkg, "./simulator");
  const sim = await startSimulator({ timeScale, seed: loadSeed(path.join(REPO_ROOT, "examples", "seed.json")) });
  const programDir = stageProgram(pkg.packageDir);
  print(`DigitalOcean API simulator at ${sim.url} (seeded from examples/seed.json, 1 s of DigitalOcean time = ${timeScale * 1000} ms)`);
  print(`program: examples/dr-copy with dropletId=${DROPLET_ID}, drRegions=${JSON.stringify(DR_REGIONS)}`);

  try {
    const useCli = !options.harness && onPath("pulumi");
    const report = useCli ? await viaAutomationApi(sim, programDir, timeScale, print) : await viaHarness(sim, programDir, timeScale, print);
    report.actions = sim.state
      .listActions()
      .map((a) => (a.type === "transfer" ? `transfer ${a.resource_id} to ${a.region_slug}` : `${a.type} ${a.resource_id}`))
      .sort();
    print("");
    print(`DigitalOcean actions run: ${report.actions.join(", ")}`);
    print(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return report;
  } finally {
    await sim.close();
    fs.rmSync(programDir, { recursive: true, force: true });
  }
}

/**
 * A user's program folder: the dr-copy example compiled to JavaScript, with
 * the packed package and the Pulumi SDKs in its node_modules.
 */
function stageProgram(packageDir: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require("typescript") as typeof import("typescript");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "do-image-actions-demo-"));
  const source = fs.readFileSync(path.join(REPO_ROOT, "examples", "dr-copy", "index.ts"), "utf8");
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
  fs.mkdirSync(path.join(dir, "dr-copy"));
  fs.writeFileSync(path.join(dir, "dr-copy", "index.js"), outputText);
  const link = (name: string, target: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, "node_modules", name)), { recursive: true });
    fs.symlinkSync(target, path.join(dir, "node_modules", name), "dir");
  };
  link("pulumi-digitalocean-image-actions", packageDir);
  link("@pulumi/pulumi", path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi"));
  link("@pulumi/digitalocean", path.join(REPO_ROOT, "node_modules", "@pulumi", "digitalocean"));
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: PROJECT, private: true, main: "dr-copy/index.js" }, null, 2));
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${PROJECT}\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: dr-copy/index.js\n`);
  return dir;
}

// ---------------------------------------------------------------- harness

async function viaHarness(sim: Simulator, programDir: string, timeScale: number, print: (line: string) => void): Promise<DemoReport> {
  print("`pulumi` is not on PATH: running the program through the engine-path harness (test/engine), which serves it");
  print("with Pulumi's own dynamic-provider server and the packed package, and plays the engine's part.");
  const server = await startDynamicProvider({
    cwd: programDir,
    project: PROJECT,
    env: { DO_IMAGE_ACTIONS_TIME_SCALE: String(timeScale), DIGITALOCEAN_TOKEN: undefined, DIGITALOCEAN_ACCESS_TOKEN: undefined },
    config: { "digitalocean:token": sim.token, "digitalocean:apiEndpoint": sim.url },
    secretConfigKeys: ["digitalocean:token"],
  });
  const stack = new EngineStack(server);
  // Every `pulumi` command runs the program in a fresh process; here each run
  // loads it from a new file name, so neither Node's nor jest's module cache
  // hands back the previous run's resources.
  let runs = 0;
  const config = (regions: string[]) => ({ [`${PROJECT}:dropletId`]: String(DROPLET_ID), [`${PROJECT}:drRegions`]: JSON.stringify(regions) });
  // Returns an Output; capture resolves it to the plain values.
  const program = (): unknown => {
    const programFile = path.join(programDir, "dr-copy", `run-${++runs}.js`);
    fs.copyFileSync(path.join(programDir, "dr-copy", "index.js"), programFile);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exports = require(programFile) as Record<string, unknown>;
    return pulumi.output(Object.fromEntries(OUTPUT_KEYS.map((k) => [k, exports[k]])));
  };
  const steps: DemoStep[] = [];
  const run = async (title: string, body: () => Promise<{ steps: Step[]; outputs?: Record<string, unknown> }>) => {
    sim.resetRequests();
    server.clearLogs();
    const result = await body();
    steps.push(summarize(title, result.steps, sim, await drain(server), result.outputs, stack, print));
  };

  try {
    await run("pulumi preview", async () => {
      const { resources } = await capture(program, { preview: true, project: PROJECT, config: config(DR_REGIONS) });
      return { steps: await stack.preview(resources) };
    });
    await run("pulumi up", async () => {
      const { steps: s, result } = await upProgram(stack, program, { project: PROJECT, config: config(DR_REGIONS) });
      return { steps: s, outputs: result as Record<string, unknown> };
    });
    await run("pulumi up (again, nothing changed)", async () => {
      const { steps: s, result } = await upProgram(stack, program, { project: PROJECT, config: config(DR_REGIONS) });
      return { steps: s, outputs: result as Record<string, unknown> };
    });
    const more = [...DR_REGIONS, ADDED_REGION];
    await run(`pulumi config set drRegions '${JSON.stringify(more)}' && pulumi up`, async () => {
      const { steps: s, result } = await upProgram(stack, program, { project: PROJECT, config: config(more) });
      return { steps: s, outputs: result as Record<string, unknown> };
    });
    await run("pulumi destroy", async () => ({ steps: await stack.destroy() }));
  } finally {
    await server.close();
  }
  return { mode: "engine-harness", steps, actions: [] };
}

/** The server's log lines so far: they travel on a pipe, so give them a moment to arrive. */
async function drain(server: DynamicProviderServer): Promise<string[]> {
  let last = "";
  for (let i = 0; i < 20; i++) {
    const { stdout, stderr } = server.logs();
    if (stdout + stderr === last && i > 1) break;
    last = stdout + stderr;
    await new Promise((r) => setTimeout(r, 10));
  }
  return last.split("\n").filter((l) => l.trim() !== "");
}

const SYMBOL: Record<string, string> = { create: "+", update: "~", replace: "+-", same: "=", delete: "-", refresh: "~", import: "=" };

function summarize(
  title: string,
  steps: Step[],
  sim: Simulator,
  logs: string[],
  outputs: Record<string, unknown> | undefined,
  stack: EngineStack | undefined,
  print: (line: string) => void,
): DemoStep {
  print("");
  print(`$ ${title}`);
  const types = new Map([...(stack?.state.values() ?? [])].map((r) => [r.name, r.type]));
  for (const s of steps) {
    const type = (types.get(s.name) ?? typeOf(s.urn)).replace("pulumi-nodejs:dynamic/", "");
    const verb = title.includes("preview") && s.op !== "same" ? `${s.op} (planned)` : s.op;
    const changed = s.diff && s.op === "update" ? describeChange(s, stack) : "";
    print(`  ${SYMBOL[s.op] ?? " "} ${type.padEnd(40)} ${s.name.padEnd(16)} ${verb}${s.retained ? " (retainOnDelete: forgotten, the snapshot stays)" : ""}${changed}`);
  }
  for (const line of logs) print(`    provider: ${line}`);
  if (outputs) {
    print("  Outputs:");
    for (const key of OUTPUT_KEYS) print(`    ${key.padEnd(19)}: ${JSON.stringify(outputs[key])}`);
  }
  const counts = sim.requestCounts();
  const writes = Object.entries(counts.byMethod).reduce((n, [m, c]) => n + (m === "GET" ? 0 : c), 0);
  const byRoute = Object.entries(counts.byRoute)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([route, n]) => `${n} ${route}`);
  print(`  API requests: ${counts.total} (${writes} writes)${byRoute.length ? `: ${byRoute.join(", ")}` : ""}`);
  return { title, operations: steps.map((s) => `${s.op} ${s.name}`), requests: counts.byRoute, writes, logs, outputs };
}

function describeChange(step: Step, stack: EngineStack | undefined): string {
  const inputs = step.inputs ?? {};
  const state = stack?.state.get(step.urn);
  const regions = inputs.regions;
  return Array.isArray(regions) && state ? ` [regions: ${JSON.stringify(regions)}]` : "";
}

function typeOf(urn: string): string {
  return urn.split("::")[2] ?? "";
}

// ---------------------------------------------------------- Automation API

/**
 * The same steps through the `pulumi` CLI, with a local file backend in a temp
 * folder. Not exercised where the CLI cannot be installed.
 */
async function viaAutomationApi(sim: Simulator, programDir: string, timeScale: number, print: (line: string) => void): Promise<DemoReport> {
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
  const backend = fs.mkdtempSync(path.join(os.tmpdir(), "do-image-actions-demo-state-"));
  print(`running with the pulumi CLI through the Automation API (state in ${backend})`);
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "demo", workDir: programDir },
    {
      envVars: {
        PULUMI_BACKEND_URL: `file://${backend}`,
        PULUMI_CONFIG_PASSPHRASE: "demo",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        DO_IMAGE_ACTIONS_TIME_SCALE: String(timeScale),
      },
    },
  );
  await stack.setAllConfig({
    dropletId: { value: String(DROPLET_ID) },
    drRegions: { value: JSON.stringify(DR_REGIONS) },
    "digitalocean:token": { value: sim.token, secret: true },
    "digitalocean:apiEndpoint": { value: sim.url },
  });
  const steps: DemoStep[] = [];
  const record = (title: string, changes: Record<string, number> | undefined, outputs?: Record<string, { value: unknown }>, logs: string[] = []) => {
    print("");
    print(`$ ${title}`);
    for (const [op, n] of Object.entries(changes ?? {})) print(`  ${SYMBOL[op] ?? " "} ${n} ${op}`);
    for (const line of logs) print(`    ${line}`);
    const values = outputs ? Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value])) : undefined;
    if (values) for (const key of OUTPUT_KEYS) print(`    ${key.padEnd(19)}: ${JSON.stringify(values[key])}`);
    const counts = sim.requestCounts();
    const writes = counts.total - (counts.byMethod.GET ?? 0);
    print(`  API requests: ${counts.total} (${writes} writes)`);
    steps.push({ title, operations: Object.entries(changes ?? {}).map(([op, n]) => `${op} ${n}`), requests: counts.byRoute, writes, logs, outputs: values });
    sim.resetRequests();
  };
  try {
    sim.resetRequests();
    const lines: string[] = [];
    const onOutput = (out: string) => lines.push(...out.split("\n").filter((l) => /^\s+(\+|~|-|=)|provider|DigitalOcean/.test(l)));
    const preview = await stack.preview({ onOutput });
    record("pulumi preview", preview.changeSummary, undefined, lines.splice(0));
    let up = await stack.up({ onOutput });
    record("pulumi up", up.summary.resourceChanges, up.outputs, lines.splice(0));
    up = await stack.up({ onOutput });
    record("pulumi up (again, nothing changed)", up.summary.resourceChanges, up.outputs, lines.splice(0));
    await stack.setConfig("drRegions", { value: JSON.stringify([...DR_REGIONS, ADDED_REGION]) });
    up = await stack.up({ onOutput });
    record("pulumi config set drRegions ... && pulumi up", up.summary.resourceChanges, up.outputs, lines.splice(0));
    const destroyed = await stack.destroy({ onOutput });
    record("pulumi destroy", destroyed.summary.resourceChanges, undefined, lines.splice(0));
  } finally {
    await stack.workspace.removeStack("demo", { force: true }).catch(() => undefined);
    fs.rmSync(backend, { recursive: true, force: true });
  }
  return { mode: "automation-api", steps, actions: [] };
}

function onPath(command: string): boolean {
  try {
    execFileSync(command, ["version"], { stdio: "ignore", timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(1);
    },
  );
}
