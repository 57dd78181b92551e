/**
 * The package as a registry would receive it: the packed tarball linted by
 * publint and arethetypeswrong, its declarations type-checked on their own,
 * its files, and the API reference generated from its JSDoc.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../engine/package";

const bin = (name: string) => path.join(REPO_ROOT, "node_modules", ".bin", name);
let work: string;
let tarball: string;
let files: string[];

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "package-check-"));
  const out = execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", work], { cwd: REPO_ROOT, encoding: "utf8" });
  const [packed] = JSON.parse(out) as [{ filename: string; files: { path: string }[] }];
  tarball = path.join(work, path.basename(packed.filename));
  files = packed.files.map((f) => f.path);
  execFileSync("tar", ["-xzf", tarball, "-C", work]);
}, 60_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function run(command: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

it("publint reports nothing, not even a suggestion", () => {
  const { status, output } = run(bin("publint"), ["run", tarball, "--strict"]);
  expect(output).toContain("All good!");
  expect(status).toBe(0);
}, 60_000);

it("arethetypeswrong resolves every entry point under node10, node16 (CJS and ESM) and bundler", () => {
  const { status, output } = run(bin("attw"), [tarball, "--format", "json"]);
  const report = JSON.parse(output) as { analysis: { problems: unknown[]; entrypoints: Record<string, unknown> } };
  expect(report.analysis.problems).toEqual([]);
  expect(Object.keys(report.analysis.entrypoints).sort()).toEqual([".", "./dynamic", "./package.json", "./simulator"]);
  expect(status).toBe(0);
}, 60_000);

it("ships its license, changelog and readme, and no source map or reference to one", () => {
  expect(files).toEqual(expect.arrayContaining(["LICENSE", "CHANGELOG.md", "README.md", "package.json"]));
  expect(files.filter((f) => f.endsWith(".map"))).toEqual([]);
  const referencing = files.filter((f) => f.endsWith(".js") && fs.readFileSync(path.join(work, "package", f), "utf8").includes("sourceMappingURL"));
  expect(referencing).toEqual([]);
  expect(files.filter((f) => !/^(dist\/provider\/.*\.(js|d\.ts)|LICENSE|CHANGELOG\.md|README\.md|package\.json|provider\/simulator\/README\.md|examples\/seed\.json)$/.test(f))).toEqual([]);
});

it("keeps test hooks and the shim's entry points out of the declarations", () => {
  const declarations = files.filter((f) => f.endsWith(".d.ts")).map((f) => fs.readFileSync(path.join(work, "package", f), "utf8")).join("\n");
  for (const name of ["resetSessions", "createSession", "usage()", "captureConfig", "shimFor", "handlers"]) {
    expect({ name, declared: declarations.includes(name) }).toEqual({ name, declared: false });
  }
});

it("its declarations type-check on their own, with library checks on, against the SDK it is built with", () => {
  const tsconfig = {
    compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, module: "commonjs", moduleResolution: "node", target: "es2022", types: ["node"], typeRoots: [path.join(REPO_ROOT, "node_modules", "@types")] },
    include: [path.join(work, "package", "dist", "provider", "**", "*.d.ts")],
  };
  fs.writeFileSync(path.join(work, "tsconfig.json"), JSON.stringify(tsconfig));
  // The unpacked package sits outside the repository: point its @pulumi/pulumi and undici at this checkout's.
  fs.mkdirSync(path.join(work, "node_modules", "@pulumi"), { recursive: true });
  fs.symlinkSync(path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi"), path.join(work, "node_modules", "@pulumi", "pulumi"), "dir");
  fs.symlinkSync(path.join(REPO_ROOT, "node_modules", "undici"), path.join(work, "node_modules", "undici"), "dir");
  const { status, output } = run(process.execPath, [path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(work, "tsconfig.json"), "--pretty", "false"]);
  expect(output).toBe("");
  expect(status).toBe(0);
}, 120_000);

it("generates the API reference from the JSDoc without a warning", () => {
  const out = path.join(work, "api");
  const { status, output } = run(bin("typedoc"), ["--out", out]);
  expect(output).not.toMatch(/warning|error/i);
  expect(status).toBe(0);
  for (const page of ["classes/SnapshotFromBackup.md", "classes/ImageRegionCopy.md", "classes/BackupVault.md", "interfaces/BackupVaultArgs.md"]) {
    expect(fs.existsSync(path.join(out, "pulumi-digitalocean-image-actions", page))).toBe(true);
  }
  expect(fs.readFileSync(path.join(out, "pulumi-digitalocean-image-actions", "interfaces", "SnapshotFromBackupIdArgs.md"), "utf8")).toContain("Changing it replaces the resource");
  expect(fs.readFileSync(path.join(out, "pulumi-digitalocean-image-actions", "type-aliases", "SnapshotFromBackupArgs.md"), "utf8")).toContain("exactly one of");
  expect(fs.existsSync(path.join(out, "pulumi-digitalocean-image-actions", "functions", "isoWeek.md"))).toBe(true);
  expect(fs.existsSync(path.join(out, "pulumi-digitalocean-image-actions", "simulator", "functions", "startSimulator.md"))).toBe(true);
}, 120_000);
