import { startSimulator, type Simulator } from "pulumi-digitalocean-image-actions/simulator";
import { ManualClock } from "../support/manual-clock";
import { call, expectError } from "./helpers";

let sim: Simulator | undefined;
afterEach(() => sim?.close());

it("sends DigitalOcean's rate-limit headers on every /v2 answer, counting down", async () => {
  const clock = new ManualClock();
  sim = await startSimulator({ clock });
  const a = await call(sim, "GET", "/v2/regions");
  const b = await call(sim, "GET", "/v2/images/424242");
  expect(a.headers["ratelimit-limit"]).toBe("5000");
  expect(a.headers["ratelimit-remaining"]).toBe("4999");
  expect(b.status).toBe(404);
  expect(b.headers["ratelimit-remaining"]).toBe("4998");
  // The oldest counted request expires one hour after it was made.
  expect(Number(a.headers["ratelimit-reset"])).toBe(clock.now() / 1000 + 3600);
  expect(b.headers["ratelimit-reset"]).toBe(a.headers["ratelimit-reset"]);
});

it("answers 429 with retry-after past the per-minute limit, uses no quota for it, and recovers after the window", async () => {
  const clock = new ManualClock();
  sim = await startSimulator({ clock, rateLimit: { perMinute: 3, perHour: 100 } });
  for (let i = 0; i < 3; i++) expect((await call(sim, "GET", "/v2/regions")).status).toBe(200);
  const limited = await call(sim, "GET", "/v2/regions");
  expectError(limited, 429, "too_many_requests");
  expect(limited.body.message).toBe("API rate limit exceeded.");
  // All three were made at the same clock instant, so the minute ends exactly 60 s later.
  expect(limited.headers["retry-after"]).toBe("60");
  expect(limited.headers["ratelimit-remaining"]).toBe("0");

  await clock.advance(59_999);
  expect((await call(sim, "GET", "/v2/regions")).status).toBe(429);
  await clock.advance(1);
  const again = await call(sim, "GET", "/v2/regions");
  expect(again.status).toBe(200);
  // 3 + 1 counted; the two 429s were not.
  expect(again.headers["ratelimit-remaining"]).toBe("96");
  expect(sim.requests().map((r) => r.outcome)).toEqual(["ok", "ok", "ok", "rate-limited", "rate-limited", "ok"]);
});

it("enforces the hourly limit over a sliding window", async () => {
  const clock = new ManualClock();
  sim = await startSimulator({ clock, rateLimit: { perMinute: 100, perHour: 2 } });
  await call(sim, "GET", "/v2/regions");
  await clock.advance(10 * 60_000);
  await call(sim, "GET", "/v2/regions");
  const limited = await call(sim, "GET", "/v2/regions");
  expect(limited.status).toBe(429);
  // The first request leaves the hour 50 minutes from now.
  expect(limited.headers["retry-after"]).toBe("3000");
  await clock.advance(3_000_000 - 1);
  expect((await call(sim, "GET", "/v2/regions")).status).toBe(429);
  await clock.advance(1);
  expect((await call(sim, "GET", "/v2/regions")).status).toBe(200);
  // The second one is still in the hour: one request, and the window is full again.
  expect((await call(sim, "GET", "/v2/regions")).status).toBe(429);
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
