import { startSimulator, type Simulator } from "pulumi-digitalocean-image-actions/simulator";
import { call, expectError, realSleep } from "./helpers";

let sim: Simulator | undefined;
afterEach(() => sim?.close());

it("sends DigitalOcean's rate-limit headers on every /v2 answer, counting down", async () => {
  sim = await startSimulator();
  const before = Math.floor(sim.clock.now() / 1000);
  const a = await call(sim, "GET", "/v2/regions");
  const b = await call(sim, "GET", "/v2/images/424242");
  expect(a.headers["ratelimit-limit"]).toBe("5000");
  expect(a.headers["ratelimit-remaining"]).toBe("4999");
  expect(b.status).toBe(404);
  expect(b.headers["ratelimit-remaining"]).toBe("4998");
  // The oldest counted request expires one hour after it was made.
  const reset = Number(a.headers["ratelimit-reset"]);
  expect(reset).toBeGreaterThanOrEqual(before + 3600);
  expect(reset).toBeLessThanOrEqual(before + 3602);
  expect(b.headers["ratelimit-reset"]).toBe(a.headers["ratelimit-reset"]);
});

it("answers 429 with retry-after past the per-minute limit, uses no quota for it, and recovers after the window", async () => {
  // 0.005: a 60 s window lasts 300 ms of real time.
  sim = await startSimulator({ timeScale: 0.005, rateLimit: { perMinute: 3, perHour: 100 } });
  for (let i = 0; i < 3; i++) expect((await call(sim, "GET", "/v2/regions")).status).toBe(200);
  const limited = await call(sim, "GET", "/v2/regions");
  expectError(limited, 429, "too_many_requests");
  expect(limited.body.message).toBe("API rate limit exceeded.");
  const retryAfter = Number(limited.headers["retry-after"]);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(limited.headers["ratelimit-remaining"]).toBe("0");
  expect((await call(sim, "GET", "/v2/regions")).status).toBe(429);

  await realSleep(retryAfter * 1000 * 0.005 + 30);
  const again = await call(sim, "GET", "/v2/regions");
  expect(again.status).toBe(200);
  // 3 + 1 counted; the two 429s were not.
  expect(again.headers["ratelimit-remaining"]).toBe("96");
  expect(sim.requests().map((r) => r.outcome)).toEqual(["ok", "ok", "ok", "rate-limited", "rate-limited", "ok"]);
});

it("enforces the hourly limit over a sliding window", async () => {
  sim = await startSimulator({ timeScale: 0.0001, rateLimit: { perMinute: 100, perHour: 2 } });
  await call(sim, "GET", "/v2/regions");
  await call(sim, "GET", "/v2/regions");
  const limited = await call(sim, "GET", "/v2/regions");
  expect(limited.status).toBe(429);
  expect(Number(limited.headers["retry-after"])).toBeGreaterThan(60);
  // One clock hour is 360 ms here.
  await realSleep(400);
  expect((await call(sim, "GET", "/v2/regions")).status).toBe(200);
});

it("limits per token: a refused token does not spend the real one's quota", async () => {
  sim = await startSimulator({ rateLimit: { perMinute: 2, perHour: 100 } });
  for (let i = 0; i < 3; i++) expect((await call(sim, "GET", "/v2/regions", undefined, "wrong")).status).toBe(401);
  expect((await call(sim, "GET", "/v2/regions")).headers["ratelimit-remaining"]).toBe("99");
});

it("can be disabled", async () => {
  sim = await startSimulator({ rateLimit: false });
  const r = await call(sim, "GET", "/v2/regions");
  expect(r.status).toBe(200);
  expect(r.headers["ratelimit-limit"]).toBeUndefined();
});
