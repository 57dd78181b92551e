/**
 * The simulator as a user's CI starts it: from the installed package, with the
 * command and the seed path the README shows, printing what the README says.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { request } from "undici";
import { preparePackage, REPO_ROOT } from "../engine/package";

/** The first shell block of the README's section "The simulator": its command and the output lines shown as comments. */
function readmeExample(): { args: string[]; output: string[] } {
  const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("\n## The simulator\n"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  const [command, ...rest] = block.trim().split("\n");
  const words = command.split(/\s+/);
  expect(words.slice(0, 2)).toEqual(["npx", "do-image-actions-simulator"]);
  return { args: words.slice(2), output: rest.filter((l) => l.startsWith("# ")).map((l) => l.slice(2)) };
}

it("npm pack lists the example seed, the simulator's README and the bin's file", () => {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: REPO_ROOT, encoding: "utf8" });
  const [packed] = JSON.parse(out) as [{ files: { path: string }[] }];
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { bin: Record<string, string> };
  expect(packed.files.map((f) => f.path)).toEqual(
    expect.arrayContaining(["examples/seed.json", "provider/simulator/README.md", manifest.bin["do-image-actions-simulator"]]),
  );
}, 60_000);

it("the README's command runs from an installed package, seeds from the shipped file and prints what the README shows", async () => {
  const pkg = await preparePackage();
  const manifest = JSON.parse(fs.readFileSync(path.join(pkg.packageDir, "package.json"), "utf8")) as { bin: Record<string, string> };
  const { args, output } = readmeExample();
  const token = args[args.indexOf("--token") + 1];
  // Any free port: the README's may be taken on this machine.
  const portAt = args.indexOf("--port") + 1;
  const child = spawn(process.execPath, [path.join(pkg.packageDir, manifest.bin["do-image-actions-simulator"]), ...args.map((a, i) => (i === portAt ? "0" : a))], {
    cwd: pkg.dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let printed = "";
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        printed += chunk.toString();
        const m = /^listening on (\S+)\n/.exec(printed);
        if (m) resolve(m[1]);
      });
      child.once("exit", (code) => reject(new Error(`exited ${code}: ${printed}`)));
    });
    const res = await request(`${url}/v2/droplets/3164494/backups`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    expect(((await res.body.json()) as { backups: unknown[] }).backups).toHaveLength(4);
    const port = new URL(url).port;
    expect(printed.trimEnd().split("\n")).toEqual(output.map((line) => line.replace(/:\d+$/, `:${port}`)));
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}, 120_000);
