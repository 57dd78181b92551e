import { MAX_IN_FLIGHT, RequestPacer, type SendPermit } from "../../provider/client/rate-limit/pacer";
import { RateLimitError } from "../../provider/client/errors";
import { scaledClock } from "../../provider/clock";
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

test("another process spending the token's quota slows this one down instead of drawing 429s", async () => {
  // At 1/2,000 speed the hour this test waits for a freed slot lasts 1.8 s.
  sim = await seededSimulator({ timeScale: 0.0005, rateLimit: { perMinute: 250, perHour: 300 } });
  // Timeouts generous on this fast clock, so no retry spends quota.
  const other = clientFor(sim, { requestTimeoutMs: 600_000 });
  await Promise.all(Array.from({ length: 280 }, () => other.getImage(SNAPSHOT)));
  await other.close();
  sim.resetRequests();

  const client = clientFor(sim, { callTimeoutMs: 10 * 3_600_000, requestTimeoutMs: 600_000 });
  // The first answer tells this process that only 19 requests are left this hour.
  await client.getImage(SNAPSHOT);
  await Promise.all(Array.from({ length: 40 }, () => client.getImage(SNAPSHOT)));
  await client.close();
  const outcomes = sim.requests().map((r) => r.outcome);
  expect(outcomes.filter((o) => o === "ok")).toHaveLength(41);
  // Without reading ratelimit-remaining, 21 of the 40 would have been refused; here only the probe for a freed slot may be.
  expect(outcomes.filter((o) => o === "rate-limited").length).toBeLessThanOrEqual(1);
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

test("the limiter's own accounting never exceeds the window", async () => {
  sim = await seededSimulator({ rateLimit: false });
  const clock = scaledClock(0.0005);
  const limiter = new RequestPacer(clock, { perMinute: 10, perHour: 1000 });
  let peak = 0;
  await Promise.all(
    Array.from({ length: 35 }, async () => {
      const permit = await limiter.acquire({ deadline: Infinity });
      const { lastMinute, inFlight } = limiter.usage();
      peak = Math.max(peak, lastMinute + inFlight);
      await clock.sleep(1_000);
      permit.release({ status: 200 });
    }),
  );
  expect(peak).toBeLessThanOrEqual(10);
  expect(limiter.usage().lastMinute).toBeGreaterThan(0);
});

test("requests that start actions go ahead of reads queued behind a full window, each kind in arrival order", async () => {
  const clock = scaledClock(0.0005);
  const limiter = new RequestPacer(clock, { perMinute: 2, perHour: 1000 });
  const order: string[] = [];
  const take = async (name: string, start: boolean) => {
    const permit = await limiter.acquire({ deadline: Infinity, priority: start ? "start" : "normal" });
    order.push(name);
    permit.release({ status: 200 });
  };
  // Two requests fill the minute; the rest queue behind it, reads first.
  await take("read-1", false);
  await take("read-2", false);
  await Promise.all([take("read-3", false), take("read-4", false), take("post-1", true), take("read-5", false), take("post-2", true)]);
  expect(order).toEqual(["read-1", "read-2", "post-1", "post-2", "read-3", "read-4", "read-5"]);
});

test("a spent hour still lets polls of actions in flight through, from the slice kept for watching", async () => {
  const clock = scaledClock(0.0005);
  const limiter = new RequestPacer(clock, { perMinute: 1000, perHour: 100 });
  const stop = new AbortController();
  const take = async (priority: "watch" | "normal") => (await limiter.acquire({ deadline: Infinity, priority, signal: stop.signal })).release({ status: 200 });
  // Ordinary requests may use 90 of the 100: the other 10 are kept for watching.
  for (let i = 0; i < 90; i++) await take("normal");
  const done: string[] = [];
  const blocked = take("normal").then(() => done.push("normal"), () => undefined);
  await Promise.all(Array.from({ length: 10 }, () => take("watch")));
  expect(limiter.usage().lastHour).toBe(100);
  // An eleventh poll waits like everyone else: the reserve is spent too.
  const extra = take("watch").then(() => done.push("watch"), () => undefined);
  await clock.sleep(60_000);
  expect(done).toEqual([]);
  stop.abort();
  await Promise.all([blocked, extra]);
});
