import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";

const ROOT = join(__dirname, "../..");
const CLI = join(ROOT, "dist/provider/simulator/cli.js");

beforeAll(() => {
  // `npm test` builds first; when run alone, compile (other packages' type errors do not block emit).
  if (!existsSync(CLI)) {
    try {
      execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "ignore" });
    } catch {
      // tsc exits non-zero on any type error; the file check below is what matters.
    }
  }
  expect(existsSync(CLI)).toBe(true);
}, 60_000);

/** Starts the CLI and resolves with the process and its first `lines` stdout lines. */
function start(args: string[], lines: number): Promise<{ child: ChildProcess; lines: string[]; output: () => string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const got = out.split("\n");
      if (got.length > lines) resolve({ child, lines: got.slice(0, lines), output: () => out });
    });
    child.once("exit", (code) => reject(new Error(`exited ${code} before printing ${lines} lines: ${out}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

it("prints the URL first and the generated token next, serves the seed, and exits cleanly on SIGTERM", async () => {
  const { child, lines } = await start(["--port", "0", "--seed", "examples/seed.json", "--time-scale", "0.01"], 2);
  try {
    expect(lines[0]).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
    expect(lines[1]).toMatch(/^token: dop_v1_sim_[0-9a-f]+$/);
    const url = lines[0].slice("listening on ".length);
    const token = lines[1].slice("token: ".length);
    const res = await request(`${url}/v2/droplets/3164494/backups`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    expect(((await res.body.json()) as { backups: unknown[] }).backups.length).toBeGreaterThan(1);
  } finally {
    const code = exited(child);
    child.kill("SIGTERM");
    expect(await code).toBe(0);
  }
});

it("accepts the given token and does not print it", async () => {
  const { child, lines, output } = await start(["--token", "T0K", "--no-rate-limit", "--server-error-rate", "1", "--fault-route", "GET /v2/regions"], 1);
  try {
    const url = lines[0].slice("listening on ".length);
    const regions = await request(`${url}/v2/regions`, { headers: { authorization: "Bearer T0K" } });
    expect(regions.statusCode).toBeGreaterThanOrEqual(500);
    await regions.body.dump();
    const images = await request(`${url}/v2/images`, { headers: { authorization: "Bearer T0K" } });
    expect(images.statusCode).toBe(200);
    expect(images.headers["ratelimit-limit"]).toBeUndefined();
    await images.body.dump();
  } finally {
    const code = exited(child);
    child.kill("SIGINT");
    expect(await code).toBe(0);
    expect(output()).toBe(`${lines[0]}\n`);
    expect(output()).not.toContain("T0K");
  }
});

it.each([
  [["--port", "http"], "--port", "http"],
  [["--drop-rate", "1.5"], "--drop-rate", "1.5"],
  [["--latency-ms", "9-3"], "--latency-ms", "9-3"],
  [["--seed", "missing.json"], "--seed", "missing.json"],
  [["--frobnicate"], "--frobnicate", ""],
])("exits 2 naming the flag and value for %j", (args, flag, value) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: "utf8" });
  expect(r.status).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).toContain(flag);
  expect(r.stderr).toContain(value);
});

it("prints help", () => {
  const r = spawnSync(process.execPath, [CLI, "--help"], { encoding: "utf8" });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^Usage: /);
  expect(r.stdout).toContain("--time-scale");
});
