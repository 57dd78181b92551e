import { MAX_IN_FLIGHT, RateLimitWaitTooLong, RequestPacer, type SendPermit } from "../../provider/client/rate-limit/pacer";
import type { RequestPriority } from "../../provider/client/rate-limit/queue";
import { RateLimiter } from "../../provider/simulator/rate-limit";
import { ManualClock } from "../support/manual-clock";

const SECOND = 1_000;
const MINUTE = 60_000;

let clock: ManualClock;
let t0: number;
beforeEach(() => {
  clock = new ManualClock();
  t0 = clock.now();
});

/** Clock ms since the test began. */
const elapsed = () => clock.now() - t0;

/** Runs the clock until a permit is granted; returns it and when it came. */
async function grant(pacer: RequestPacer, options: { priority?: RequestPriority; signal?: AbortSignal; deadline?: number } = {}): Promise<{ permit: SendPermit; at: number }> {
  const permit = await clock.runUntil(pacer.acquire({ deadline: Infinity, ...options }));
  return { permit, at: elapsed() };
}

/** A request that starts and is answered at once. */
async function answered(pacer: RequestPacer, outcome: Parameters<SendPermit["release"]>[0] = { status: 200 }): Promise<number> {
  const { permit, at } = await grant(pacer);
  permit.release(outcome);
  return at;
}

/** Whether `promise` has settled, without moving the clock. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await clock.advance(0);
  return settled;
}

test("a full minute lets the next request start when its oldest request turns a minute old, not before", async () => {
  const pacer = new RequestPacer(clock, { perMinute: 3, perHour: 1_000 });
  for (const at of [0, 10, 20]) {
    await clock.advance(at * SECOND - elapsed());
    await answered(pacer);
  }
  expect(pacer.usage()).toMatchObject({ lastMinute: 3, inFlight: 0 });
  expect(await answered(pacer)).toBe(MINUTE);
  expect(await answered(pacer)).toBe(MINUTE + 10 * SECOND);
  expect(await answered(pacer)).toBe(MINUTE + 20 * SECOND);
});

test("requests in flight count against the window and the pool; a release lets the next one start at once", async () => {
  const pacer = new RequestPacer(clock, { perMinute: 1_000, perHour: 10_000 }, 2);
  const first = await grant(pacer);
  await grant(pacer);
  const third = pacer.acquire({ deadline: Infinity });
  // Nothing but a release can free a slot, so no amount of time does.
  await clock.advance(3_600_000);
  expect(await isSettled(third)).toBe(false);
  first.permit.release({ status: 200 });
  expect(await isSettled(third)).toBe(true);
  expect(pacer.usage()).toMatchObject({ inFlight: 2, queued: 0 });
});

test("requests that start actions go ahead of reads queued behind a full window, each kind in arrival order", async () => {
  const pacer = new RequestPacer(clock, { perMinute: 2, perHour: 1_000 });
  const order: string[] = [];
  const take = async (name: string, priority: RequestPriority) => {
    (await pacer.acquire({ deadline: Infinity, priority })).release({ status: 200 });
    order.push(name);
  };
  await clock.runUntil(take("read-1", "normal"));
  await clock.runUntil(take("read-2", "normal"));
  const queued = Promise.all([take("read-3", "normal"), take("read-4", "normal"), take("post-1", "start"), take("read-5", "normal"), take("post-2", "start")]);
  await clock.runUntil(queued);
  expect(order).toEqual(["read-1", "read-2", "post-1", "post-2", "read-3", "read-4", "read-5"]);
  // Two a minute: the last of the five queued went in the third minute after the first two.
  expect(elapsed()).toBe(3 * MINUTE);
});

test("a spent hour still lets polls of actions in flight through, from the slice kept for them, and no more", async () => {
  const pacer = new RequestPacer(clock, { perMinute: 1_000, perHour: 100 });
  // Ordinary requests may use 90 of the 100: the other 10 are kept for watching.
  for (let i = 0; i < 90; i++) await answered(pacer);
  const blocked = pacer.acquire({ deadline: Infinity });
  for (let i = 0; i < 10; i++) (await grant(pacer, { priority: "watch" })).permit.release({ status: 200 });
  expect(elapsed()).toBe(0);
  expect(pacer.usage().lastHour).toBe(100);
  // An eleventh poll waits like everyone else: the reserve is spent too, until the hour's first requests expire.
  const extra = pacer.acquire({ deadline: Infinity, priority: "watch" });
  await clock.advance(59 * MINUTE);
  expect(await isSettled(extra)).toBe(false);
  expect(await isSettled(blocked)).toBe(false);
  await clock.advance(MINUTE);
  expect(await isSettled(extra)).toBe(true);
  expect(await isSettled(blocked)).toBe(true);
});

test("a 429 is not counted, and its retry-after pauses every request until then", async () => {
  const pacer = new RequestPacer(clock, { perMinute: 100, perHour: 1_000 });
  await answered(pacer, { status: 429, headers: { "retry-after": "7" } });
  expect(pacer.usage().lastMinute).toBe(0);
  expect(await answered(pacer)).toBe(7 * SECOND);
  // Without a usable retry-after, a sixth of a minute.
  await answered(pacer, { status: 429, headers: { "retry-after": "soon" } });
  expect(await answered(pacer)).toBe(7 * SECOND + 10 * SECOND);
});

describe("the budget another process leaves the token", () => {
  const pacer = () => new RequestPacer(clock, { perMinute: 250, perHour: 5_000 });
  const budget = (remaining: number, resetInMs: number) => ({ status: 200, headers: { "ratelimit-remaining": String(remaining), "ratelimit-reset": String((clock.now() + resetInMs) / 1000) } });

  test("is spent before our own windows fill, then one probe goes when a slot frees at the reset", async () => {
    const p = pacer();
    await answered(p, budget(2, 30 * SECOND));
    expect(await answered(p)).toBe(0);
    expect(await answered(p)).toBe(0);
    // Spent: the next request is the probe, at the reset.
    expect(await answered(p)).toBe(30 * SECOND);
  });

  test("when the reset is far off, the probe goes within a minute, and a spent answer to it waits another minute", async () => {
    const p = pacer();
    await answered(p, budget(0, 40 * MINUTE));
    expect(await answered(p, budget(0, 39 * MINUTE))).toBe(MINUTE);
    expect(await answered(p)).toBe(2 * MINUTE);
  });

  test("is ignored when our own requests explain a spent minute: our window already waits for them", async () => {
    const p = new RequestPacer(clock, { perMinute: 3, perHour: 1_000 });
    await answered(p);
    await answered(p);
    await clock.advance(30 * SECOND);
    await answered(p, budget(0, 40 * MINUTE));
    // Our third request used the minute's last slot; the next goes when the first is a minute old,
    // not a minute after the answer that reported the budget spent.
    expect(await answered(p)).toBe(MINUTE);
  });
});

describe("the minute other processes spend on the token", () => {
  /** An answer saying the hour has `remaining` requests left; no reset, as the hour is far from spent. */
  const left = (remaining: number) => ({ status: 200, headers: { "ratelimit-remaining": String(remaining) } });

  test("slows this one when remaining falls faster than our own requests", async () => {
    const pacer = new RequestPacer(clock, { perMinute: 30, perHour: 1_000 });
    // Between each of our five answers the server counted two requests of someone else.
    for (let i = 0; i < 5; i++) await answered(pacer, left(900 - 3 * i));
    expect(pacer.usage()).toMatchObject({ lastMinute: 5, othersLastMinute: 8 });
    // Their 8 leave us 22 of the 30.
    for (let i = 0; i < 17; i++) expect(await answered(pacer)).toBe(0);
    expect(await answered(pacer)).toBe(MINUTE);
    expect(pacer.usage().othersLastMinute).toBe(0);
  });

  test("leaves this one in flight at once only its share of the room left in the minute", async () => {
    const pacer = new RequestPacer(clock, { perMinute: 250, perHour: 5_000 });
    for (let i = 0; i < 49; i++) await answered(pacer, left(4_000 - i));
    await answered(pacer, left(4_000 - 49 - 150));
    expect(pacer.usage()).toMatchObject({ lastMinute: 50, othersLastMinute: 150 });
    // 50 left in the minute, of which our part (50 of the 200 sent) is 12.5: twelve in flight, not the pool's 16.
    for (let i = 0; i < 12; i++) await grant(pacer);
    const thirteenth = pacer.acquire({ deadline: Infinity });
    expect(await isSettled(thirteenth)).toBe(false);
    expect(pacer.usage()).toMatchObject({ inFlight: 12, queued: 1 });
  });

  test("does not count our own requests, nor those refused with 429, which the server did not count", async () => {
    const pacer = new RequestPacer(clock, { perMinute: 30, perHour: 1_000 });
    for (let i = 0; i < 25; i++) await answered(pacer, left(900 - i));
    expect(pacer.usage()).toMatchObject({ lastMinute: 25, othersLastMinute: 0 });
    await answered(pacer, { status: 429, headers: { "retry-after": "0", "ratelimit-remaining": "0" } });
    // One fall of 2 after the refused request: one ours, one theirs.
    await answered(pacer, left(874));
    expect(pacer.usage().othersLastMinute).toBe(1);
  });

  test("keeps each sample for a minute after the answer that showed it", async () => {
    const pacer = new RequestPacer(clock, { perMinute: 250, perHour: 5_000 });
    await answered(pacer, left(4_000));
    await answered(pacer, left(3_990));
    await clock.advance(30 * SECOND);
    await answered(pacer, left(3_980));
    expect(pacer.usage().othersLastMinute).toBe(18);
    await clock.advance(30 * SECOND);
    expect(pacer.usage().othersLastMinute).toBe(9);
    await clock.advance(30 * SECOND);
    expect(pacer.usage().othersLastMinute).toBe(0);
  });

  test("counts only the last minute's share of a fall spread over a longer silence", async () => {
    const pacer = new RequestPacer(clock, { perMinute: 250, perHour: 5_000 });
    await answered(pacer, left(4_000));
    await clock.advance(4 * MINUTE);
    // 201 fewer: ours and 200 others' over four minutes, of which the last holds a quarter.
    await answered(pacer, left(3_799));
    expect(pacer.usage().othersLastMinute).toBe(50);
  });

  test("stays near zero, never negative, when answers come back in another order than the server counted them", async () => {
    const pacer = new RequestPacer(clock, { perMinute: 250, perHour: 5_000 });
    await answered(pacer, left(4_000));
    const permits: SendPermit[] = [];
    for (let i = 0; i < MAX_IN_FLIGHT; i++) permits.push((await grant(pacer)).permit);
    // The server counted each pair in swapped order (the 2nd before the 1st, ...), and the answers
    // come back in yet another order.
    const countedAs = (i: number) => (i % 2 === 0 ? i + 1 : i - 1);
    const answerOrder = [5, 0, 1, 15, 2, 3, 14, 4, 9, 8, 6, 7, 13, 12, 10, 11];
    const seen: number[] = [];
    for (const i of answerOrder) {
      permits[i].release(left(4_000 - 1 - countedAs(i)));
      seen.push(pacer.usage().othersLastMinute);
    }
    expect(Math.min(...seen)).toBe(0);
    expect(Math.max(...seen)).toBeLessThanOrEqual(1);
  });

  test("out-of-order answers show another process's spending once, not once per answer", async () => {
    const pacer = new RequestPacer(clock, { perMinute: 250, perHour: 5_000 });
    await answered(pacer, left(4_000));
    const permits: SendPermit[] = [];
    for (let i = 0; i < 8; i++) permits.push((await grant(pacer)).permit);
    // Someone else sent 20 requests after our first four arrived.
    const remainingAt = (i: number) => 4_000 - 1 - i - (i >= 4 ? 20 : 0);
    for (const i of [7, 6, 5, 4, 3, 2, 1, 0]) permits[i].release(left(remainingAt(i)));
    expect(pacer.usage().othersLastMinute).toBe(20);
  });
});

test("four processes on one token, each with its own pacer, share the minute and draw at most 1% of 429s", async () => {
  // The simulator's limiter on the test's clock plays DigitalOcean: it counts a request on arrival.
  const server = new RateLimiter({ perMinute: 250, perHour: 5_000 }, clock);
  const perProcess = 220;
  let refused = 0;
  const processes = [0, 1, 2, 3].map((p) => {
    const pacer = new RequestPacer(clock);
    // Each process has its own latency, so their requests interleave at the server.
    const legMs = 200 + 150 * p;
    let backlog = perProcess;
    const worker = async () => {
      while (backlog > 0) {
        backlog -= 1;
        for (;;) {
          const permit = await pacer.acquire({ deadline: Infinity });
          await clock.sleep(legMs);
          const { headers, retryAfterSeconds } = server.take("token");
          await clock.sleep(legMs);
          if (retryAfterSeconds === undefined) {
            permit.release({ status: 200, headers });
            break;
          }
          refused += 1;
          permit.release({ status: 429, headers: { ...headers, "retry-after": String(retryAfterSeconds) } });
        }
      }
    };
    return Promise.all(Array.from({ length: MAX_IN_FLIGHT }, worker));
  });
  await clock.runUntil(Promise.all(processes), 100_000);
  expect(refused).toBeLessThanOrEqual((4 * perProcess) / 100);
  // 880 requests at 250 a minute, the first 250 at once: the last go in the fourth minute. Each
  // pacer finding the limit by itself draws hundreds of 429s and ends at 3.3 minutes.
  expect(elapsed()).toBeGreaterThanOrEqual(3 * MINUTE);
  expect(elapsed()).toBeLessThan(3.4 * MINUTE);
});

test("a wait beyond the caller's deadline fails at once with RateLimitWaitTooLong, leaving nothing queued", async () => {
  const pacer = new RequestPacer(clock, { perMinute: 1, perHour: 1_000 });
  await answered(pacer);
  await clock.advance(15 * SECOND);
  const error = await pacer.acquire({ deadline: clock.now() + 30 * SECOND }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RateLimitWaitTooLong);
  expect(error).toMatchObject({ waitMs: 45 * SECOND, remainingMs: 30 * SECOND });
  expect(pacer.usage().queued).toBe(0);
  expect(clock.pendingSleeps).toBe(0);
});

test("the pacer's own count never exceeds a window, whatever the order of starts and answers", async () => {
  const pacer = new RequestPacer(clock, { perMinute: 10, perHour: 1_000 });
  let peak = 0;
  const request = async (i: number) => {
    const permit = await pacer.acquire({ deadline: Infinity });
    const { lastMinute, inFlight } = pacer.usage();
    peak = Math.max(peak, lastMinute + inFlight);
    // Answers take from 1 to 7 seconds.
    await clock.sleep((1 + (i % 7)) * SECOND);
    permit.release({ status: 200 });
  };
  await clock.runUntil(Promise.all(Array.from({ length: 35 }, (_, i) => request(i))));
  expect(peak).toBe(10);
  // 35 at 10 a minute: the last ten cannot start before three minutes.
  expect(elapsed()).toBeGreaterThanOrEqual(3 * MINUTE);
  expect(elapsed()).toBeLessThan(4 * MINUTE);
});

test("aborting the head of the queue ends the pacer's sleep for it", async () => {
  const pacer = new RequestPacer(clock, { perMinute: 1, perHour: 1_000 });
  await answered(pacer);
  const cancel = new AbortController();
  const queued = pacer.acquire({ deadline: Infinity, signal: cancel.signal });
  await clock.advance(0);
  expect(clock.pendingSleeps).toBe(1);
  const reason = new Error("cancelled");
  cancel.abort(reason);
  await expect(queued).rejects.toBe(reason);
  await clock.advance(0);
  expect(pacer.usage().queued).toBe(0);
  expect(clock.pendingSleeps).toBe(0);
});
