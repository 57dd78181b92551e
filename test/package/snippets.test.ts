/**
 * What a user copies must compile: every ```ts block of the READMEs, and the
 * wiring the types promise (and refuse), type-checked strictly against the
 * packed package's declarations, the way a program that installed it sees them.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ts from "typescript";
import { PACKAGE_NAME, preparePackage, REPO_ROOT } from "../engine/package";

const READMES = ["README.md", "examples/gitops/README.md"];

let program: string;
/** The compiler's errors for each program below, by its name: all compiled as one program, once. */
let errorsOf: Map<string, string[]>;

beforeAll(async () => {
  const pkg = await preparePackage();
  // A user's program folder: the packed package, and the SDKs a Pulumi program has.
  program = fs.mkdtempSync(path.join(os.tmpdir(), "snippets-"));
  const link = (name: string, target: string) => {
    fs.mkdirSync(path.dirname(path.join(program, "node_modules", name)), { recursive: true });
    fs.symlinkSync(target, path.join(program, "node_modules", name), "dir");
  };
  link(PACKAGE_NAME, pkg.packageDir);
  link("@pulumi/pulumi", path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi"));
  link("@pulumi/digitalocean", path.join(REPO_ROOT, "node_modules", "@pulumi", "digitalocean"));
  errorsOf = typeErrors(programs);
}, 180_000);
afterAll(() => fs.rmSync(program, { recursive: true, force: true }));

interface Snippet {
  /** Where it is, as `README.md:135`. */
  at: string;
  code: string;
}

/** The ```ts and ```typescript blocks of a markdown file. */
function snippetsOf(file: string): Snippet[] {
  const lines = fs.readFileSync(path.join(REPO_ROOT, file), "utf8").split("\n");
  const snippets: Snippet[] = [];
  let open: { line: number; code: string[] } | undefined;
  lines.forEach((line, i) => {
    if (open === undefined) {
      if (/^```(ts|typescript)\s*$/.test(line)) open = { line: i + 2, code: [] };
    } else if (/^```\s*$/.test(line)) {
      snippets.push({ at: `${file}:${open.line}`, code: open.code.join("\n") });
      open = undefined;
    } else {
      open.code.push(line);
    }
  });
  return snippets;
}

/** The compiler's errors for each program file, each as `line: message`. */
function typeErrors(sources: Map<string, string>): Map<string, string[]> {
  const files = new Map([...sources.keys()].map((name, i) => [path.join(program, `program-${i}.ts`), name]));
  // `export {}` keeps each one a module of its own, as a program's index.ts is.
  [...files].forEach(([file, name]) => fs.writeFileSync(file, `${sources.get(name)}\nexport {};\n`));
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.CommonJS,
    // What Pulumi's TypeScript template uses; the package checks cover the other resolutions.
    moduleResolution: ts.ModuleResolutionKind.Node10,
    typeRoots: [path.join(REPO_ROOT, "node_modules", "@types")],
    types: ["node"],
    skipLibCheck: true,
  };
  const compiled = ts.createProgram([...files.keys()], options);
  const errors = new Map([...sources.keys()].map((name): [string, string[]] => [name, []]));
  for (const d of ts.getPreEmitDiagnostics(compiled)) {
    const name = d.file === undefined ? undefined : files.get(d.file.fileName);
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    const message = `${line}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    // An error outside the programs (a declaration of the package) counts against every one.
    for (const [key, list] of errors) if (name === undefined || name === key) list.push(message);
  }
  return errors;
}

const snippets = READMES.flatMap(snippetsOf);

const header = `
import * as digitalocean from "@pulumi/digitalocean";
import { BackupVault, ImageRegionCopy, SnapshotFromBackup, type SnapshotFromBackupArgs } from "${PACKAGE_NAME}";
const web = new digitalocean.Droplet("web", { image: "ubuntu-24-04-x64", region: "nyc3", size: "s-1vcpu-1gb", backups: true });
`;

const WIRING = `${header}
const kept = new SnapshotFromBackup("kept", { dropletId: web.id, triggers: { week: "2026-W48" } });
const copies = new ImageRegionCopy("copies", { imageId: kept.id, regions: ["ams3"], waitTimeoutSeconds: "600" });
new digitalocean.Droplet("standby", { image: copies.id, region: "ams3", size: "s-1vcpu-1gb" });
const vault = new BackupVault("vault", { dropletId: web.id, rotationKey: "2026-W48", waitTimeoutSeconds: "600" });
export const rotationKey = vault.rotationKey.apply((k) => k.toUpperCase());
`;

const REFUSED: [string, string][] = [
  ["neither backupId nor dropletId", `new SnapshotFromBackup("x", {});`],
  ["both backupId and dropletId", `new SnapshotFromBackup("x", { backupId: 1, dropletId: web.id });`],
  ["triggers with backupId", `new SnapshotFromBackup("x", { backupId: 1, triggers: { week: "2026-W48" } });`],
];

const ACCEPTED = `${header}
new SnapshotFromBackup("a", { backupId: 100000010, name: "golden" });
new SnapshotFromBackup("b", { backupId: "100000010", dropletId: undefined });
new SnapshotFromBackup("c", { dropletId: web.id, name: "web", tags: ["dr"], triggers: { week: "2026-W48" }, waitTimeoutSeconds: 600 });
const args: SnapshotFromBackupArgs = process.env.BACKUP_ID ? { backupId: process.env.BACKUP_ID } : { dropletId: web.id };
new SnapshotFromBackup("d", args);
`;

const programs = new Map<string, string>([
  ...snippets.map((s): [string, string] => [s.at, s.code]),
  ["wiring", WIRING],
  ...REFUSED.map(([name, line]): [string, string] => [name, `${header}\n${line}`]),
  ["accepted", ACCEPTED],
]);

it("finds the README's snippets", () => {
  // The test must not pass by finding nothing: the README shows the three resources in code.
  const all = snippets.map((s) => s.code).join("\n");
  for (const name of ["SnapshotFromBackup", "ImageRegionCopy", "BackupVault"]) expect(all).toContain(`new ${name}(`);
});

it.each(snippets.map((s) => s.at))("%s compiles strictly against the packed package", (at) => {
  expect(errorsOf.get(at)).toEqual([]);
});

it("wires a copy into a Droplet's image without conversion, and a SnapshotFromBackup into a copy", () => {
  expect(errorsOf.get("wiring")).toEqual([]);
});

describe("SnapshotFromBackupArgs says what check says", () => {
  it.each(REFUSED.map(([name]) => name))("refuses %s at compile time", (name) => {
    const errors = errorsOf.get(name)!;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("SnapshotFromBackupArgs");
  });

  it("accepts either choice, an id from config, and args built apart", () => {
    expect(errorsOf.get("accepted")).toEqual([]);
  });
});
