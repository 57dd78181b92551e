import { MAX_IN_FLIGHT, RequestPacer, type SendPermit } from "../../provider/client/rate-limit/pacer";
import { RateLimitError } from "../../provider/client/errors";
import type { Simulator } from "../../provider/simulator";
import { clientFor, maxPerSlidingMinute, seededSimulator, SNAPSHOT } from "./helpers";

const MINUTE = 60_000;
/** 1,000 requests at 250/min: the last 250 cannot start before 3 minutes have passed. */
const floorMs = () => 3 * MINUTE;

/** A limiter that records the most requests it ever let be in flight at once. */
class PeakRecordingLimiter extends RequestPacer {
  peakInFlight = 0;

  override async acquire(options: Parameters<RequestPacer["acquire"]>[0]): Promise<SendPermit> {
    const permit = await super.acquire(options);
    this.peakInFlight = Math.max(this.peakInFlight, this.usage().inFlight);
    return permit;
  }
}

let sim: Simulator;
afterEach(async () => {
  await sim?.close();
});

test("a burst of 1,000 calls stays under 250 per sliding minute, never sees a 429, and keeps requests in flight side by side", async () => {
  // At 1/100 speed the 3-minute floor takes 1.8 s: slow enough that HTTP on loopback is not the bottleneck.
  sim = await seededSimulator({ timeScale: 0.01 });
  const limiter = new PeakRecordingLimiter(sim.clock);
  const client = clientFor(sim, { pacer: limiter });
  const started = sim.clock.now();
  await Promise.all(Array.from({ length: 1_000 }, () => client.getImage(SNAPSHOT)));
  const elapsed = sim.clock.now() - started;
  await client.close();

  const log = sim.requests();
  console.log(`1,000 calls: ${(elapsed / 1000).toFixed(1)} s on the clock, ${(elapsed / floorMs()).toFixed(3)}× the floor`);
  expect(log).toHaveLength(1_000);
  expect(log.filter((r) => r.outcome !== "ok")).toEqual([]);
  expect(maxPerSlidingMinute(log.map((r) => r.clockMs))).toBeLessThanOrEqual(250);
  expect(elapsed).toBeGreaterThanOrEqual(floorMs());
  // Concurrency, not wall time: a serializing limiter peaks at 1 however fast the machine, and no machine is too slow to reach the pool's size.
  expect(limiter.peakInFlight).toBe(MAX_IN_FLIGHT);
});

test("another process spending the token's quota makes this one wait instead of drawing 429s", async () => {
  // At 1/100 speed an hour lasts 36 s: far longer than this test on any machine, so no slot frees during it.
  sim = await seededSimulator({ timeScale: 0.01, rateLimit: { perMinute: 250, perHour: 300 } });
  const other = clientFor(sim);
  await Promise.all(Array.from({ length: 280 }, () => other.getImage(SNAPSHOT)));
  await other.close();
  // Out of the server's minute window, so only the hour's budget is left to slow this process down.
  await sim.clock.sleep(MINUTE);
  sim.resetRequests();

  // Half a minute per call: the next slot, a minute away once the hour is spent, is out of reach.
  const client = clientFor(sim, { callTimeoutMs: 30_000 });
  const outcomes: string[] = [];
  for (let i = 0; i < 21; i++) outcomes.push(await client.getImage(SNAPSHOT).then(() => "ok", (e: unknown) => (e instanceof RateLimitError ? "waits too long" : String(e))));
  await client.close();
  // Each answer told what the hour had left: 20 went, the 21st was never sent.
  expect(outcomes).toEqual([...Array(20).fill("ok"), "waits too long"]);
  expect(sim.requests().map((r) => r.outcome)).toEqual(Array(20).fill("ok"));
});

test("a rate-limit wait beyond the call's deadline surfaces as RateLimitError naming the call", async () => {
  sim = await seededSimulator({ rateLimit: { perMinute: 2, perHour: 100 } });
  const client = clientFor(sim, { callTimeoutMs: 10_000, pacer: new RequestPacer(sim.clock, { perMinute: 2, perHour: 100 }) });
  const results = await Promise.allSettled([1, 2, 3].map(() => client.getImage(SNAPSHOT)));
  await client.close();
  expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected"]);
  const error = (results[2] as PromiseRejectedResult).reason;
  expect(error).toBeInstanceOf(RateLimitError);
  expect(error.message).toMatch(new RegExp(`GET /v2/images/${SNAPSHOT}`));
  expect(error.message).toContain("(2 requests/minute, 100/hour per token)");
  expect(sim.requests()).toHaveLength(2);
});
