import { spawn } from "node:child_process";
import { join } from "node:path";
import { scaledClock } from "../../provider/clock";
import { getSession, resetSessions, TIME_SCALE_VARIABLE } from "../../provider/session";
import { startSimulator, type Simulator } from "pulumi-digitalocean-image-actions/simulator";
import { request } from "undici";
import { call, SEED } from "./helpers";

const DAY_MS = 86_400_000;

let sim: Simulator | undefined;
afterEach(async () => {
  delete process.env[TIME_SCALE_VARIABLE];
  await resetSessions();
  await sim?.close();
  sim = undefined;
});

async function simClock(s: Simulator): Promise<{ time: string; clockMs: number; wallClockMs: number; scale: number }> {
  const res = await request(`${s.url}/_sim/clock`);
  expect(res.statusCode).toBe(200);
  return (await res.body.json()) as { time: string; clockMs: number; wallClockMs: number; scale: number };
}

it("a scaled simulator starts at the real time, so its timestamps stay near it while seeded ones stay in the past", async () => {
  sim = await startSimulator({ timeScale: 0.01, seed: { ...SEED, images: [...(SEED.images ?? []), { id: 100000020, name: "undated", type: "snapshot", regions: ["nyc3"] }] } });
  const reading = await simClock(sim);
  expect(reading.scale).toBe(0.01);
  expect(Date.parse(reading.time)).toBe(reading.clockMs);
  // At 100 times the pace, a day of simulator time is 14.4 real minutes: far more than this test takes.
  expect(Math.abs(reading.clockMs - reading.wallClockMs)).toBeLessThan(DAY_MS);
  const undated = (await call(sim, "GET", "/v2/images/100000020")).body.image;
  expect(Math.abs(Date.parse(undated.created_at) - Date.now())).toBeLessThan(DAY_MS);
  const action = (await call(sim, "POST", "/v2/images/100000001/actions", { type: "convert" })).body.action;
  expect(Math.abs(Date.parse(action.started_at) - Date.now())).toBeLessThan(DAY_MS);
  expect(Math.abs(sim.requests()[0].clockMs - Date.now())).toBeLessThan(DAY_MS);
  for (const backup of (await call(sim, "GET", "/v2/droplets/3164494/backups")).body.backups) {
    expect(Date.parse(backup.created_at)).toBeLessThan(reading.clockMs);
  }
});

it("a provider process made after the simulator reads the simulator's time, not its own start's", async () => {
  // A simulator started an hour of real time ago: its clock is 999 hours ahead of one started now.
  sim = await startSimulator({ clock: scaledClock(0.001, Date.now() - 3_600_000), seed: SEED });
  process.env[TIME_SCALE_VARIABLE] = "0.001";
  const session = getSession({ token: sim.token, apiEndpoint: sim.url });
  const gap = session.clock.now() - sim.clock.now();
  // Within what the provider allows between its clock and the server's when matching an action to its POST.
  expect(Math.abs(gap)).toBeLessThan(60_000);
  const action = (await call(sim, "POST", "/v2/images/100000001/actions", { type: "convert" })).body.action;
  expect(Math.abs(Date.parse(action.started_at) - session.clock.now())).toBeLessThan(60_000);
});

it("a provider process reads the time of a simulator running in another process", async () => {
  const cli = spawn(process.execPath, [join(__dirname, "../../dist/provider/simulator/cli.js"), "--time-scale", "0.001", "--token", "T"], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      cli.stdout.on("data", (chunk: Buffer) => {
        const m = /^listening on (\S+)$/m.exec(chunk.toString());
        if (m) resolve(m[1]);
      });
      cli.once("exit", (code) => reject(new Error(`the simulator exited ${code}`)));
    });
    process.env[TIME_SCALE_VARIABLE] = "0.001";
    const session = getSession({ token: "T", apiEndpoint: url });
    const res = await request(`${url}/_sim/clock`);
    const { clockMs, wallClockMs } = (await res.body.json()) as { clockMs: number; wallClockMs: number };
    expect(Math.abs(session.clock.now() - (clockMs + (Date.now() - wallClockMs) * 1000))).toBeLessThan(60_000);
  } finally {
    const exited = new Promise((resolve) => cli.once("exit", resolve));
    cli.kill("SIGTERM");
    await exited;
  }
});

it("refuses a provider clock whose scale is not the simulator's, naming both", async () => {
  sim = await startSimulator({ timeScale: 0.01, seed: SEED });
  process.env[TIME_SCALE_VARIABLE] = "0.001";
  expect(() => getSession({ token: sim!.token, apiEndpoint: sim!.url })).toThrow(
    `${TIME_SCALE_VARIABLE}=0.001 is set, but the simulator at ${sim.url} runs at --time-scale 0.01: set ${TIME_SCALE_VARIABLE}=0.01`,
  );
});

it("anchors the provider's clock at its own start when nothing answers like the simulator", async () => {
  process.env[TIME_SCALE_VARIABLE] = "0.01";
  const session = getSession({ token: "t", apiEndpoint: "http://127.0.0.1:1" });
  expect(session.clock.scale).toBe(0.01);
  expect(Math.abs(session.clock.now() - Date.now())).toBeLessThan(DAY_MS);
});
