import type { DigitalOceanClient } from "../../provider/client/client";
import { ApiError } from "../../provider/client/errors";
import { RateLimiter } from "../../provider/client/rate-limiter";
import type { Action } from "../../provider/api/types";
import type { Simulator } from "../../provider/simulator";
import { ActionErroredError, ActionTimeoutError, ActionWatcher } from "../../provider/waiter";
import { BACKUPS, clientFor, countingClock, seededSimulator, settle, SNAPSHOT } from "../client/helpers";

let sim: Simulator;
let client: DigitalOceanClient;
let watcher: ActionWatcher;

beforeEach(async () => {
  // Converts take 60 s and transfers 120 s of clock time: 60 ms and 120 ms here.
  sim = await seededSimulator({ actionDurations: { convertMs: 60_000, transferMs: 120_000 } });
  client = clientFor(sim);
  watcher = new ActionWatcher(client, { clock: sim.clock });
});

afterEach(async () => {
  await client.close();
  await sim.close();
});

test("resolves with the completed action and reports progress on the way", async () => {
  const started = await client.startImageAction(BACKUPS[0], { type: "convert" });
  const progress: { status: string; elapsedMs: number }[] = [];
  const done = await watcher.waitFor(started, {
    timeoutMs: 600_000,
    onProgress: ({ action, elapsedMs }) => progress.push({ status: action.status, elapsedMs }),
  });
  expect(done).toMatchObject({ id: started.id, status: "completed" });
  expect((await client.getImage(BACKUPS[0])).type).toBe("snapshot");
  expect(progress.length).toBeGreaterThanOrEqual(2);
  expect(progress.slice(0, -1).every((p) => p.status === "in-progress")).toBe(true);
  expect(progress[progress.length - 1].status).toBe("completed");
  expect(progress.map((p) => p.elapsedMs)).toEqual([...progress.map((p) => p.elapsedMs)].sort((a, b) => a - b));
});

test("polls back off from the minimum interval toward the maximum", async () => {
  // A 10-minute transfer watched for its whole length.
  await sim.close();
  sim = await seededSimulator({ actionDurations: { transferMs: 600_000 } });
  await client.close();
  client = clientFor(sim);
  watcher = new ActionWatcher(client, { clock: sim.clock });
  const started = await client.startImageAction(SNAPSHOT, { type: "transfer", region: "ams3" });
  sim.resetRequests();
  await watcher.waitFor(started, { timeoutMs: 3_600_000 });
  const polls = sim.requests().map((r) => r.clockMs);
  const gaps = polls.slice(1).map((t, i) => t - polls[i]);
  // One real millisecond is a clock second here: each gap also holds the look's own round trip,
  // so the figures are checked loosely. About 3 s (2 s × 1.5) first, growing, then settling near 30 s.
  expect(gaps[0]).toBeLessThanOrEqual(9_000);
  expect(gaps[4]).toBeGreaterThan(gaps[0]);
  const settled = gaps.slice(-10).sort((a, b) => a - b)[5];
  expect(settled).toBeGreaterThanOrEqual(28_000);
  expect(settled).toBeLessThanOrEqual(35_000);
  // Polling every 2 s would take 300 requests; backing off takes a few dozen.
  expect(polls.length).toBeLessThan(40);
});

test("rejects with ActionErroredError naming the action, type, image and region", async () => {
  sim.state.failNextAction(SNAPSHOT);
  const started = await client.startImageAction(SNAPSHOT, { type: "transfer", region: "ams3" });
  const error = await watcher.waitFor(started, { timeoutMs: 600_000 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ActionErroredError);
  const message = (error as Error).message;
  expect(message).toContain(String(started.id));
  expect(message).toContain("transfer");
  expect(message).toContain(String(SNAPSHOT));
  expect(message).toContain("ams3");
});

test("rejects with ActionTimeoutError at the deadline, saying the action goes on and a re-run resumes", async () => {
  // A finer clock (one real millisecond is 0.1 s) to measure the wait.
  await Promise.all([client.close(), sim.close()]);
  sim = await seededSimulator({ timeScale: 0.01 });
  client = clientFor(sim);
  watcher = new ActionWatcher(client, { clock: sim.clock });
  const started = await client.startImageAction(SNAPSHOT, { type: "transfer", region: "ams3" });
  const error = await watcher.waitFor(started, { timeoutMs: 10_000 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ActionTimeoutError);
  // Timers may fire up to a real millisecond early.
  expect((error as ActionTimeoutError).waitedMs).toBeGreaterThanOrEqual(9_800);
  expect((error as Error).message).toMatch(new RegExp(`action ${started.id} .*after 1\\d s.*goes on at DigitalOcean.*resumes`));
  expect(sim.state.action(started.id)?.status).toBe("in-progress");
});

test("an abort signal cancels the wait with its reason, and polling stops", async () => {
  const started = await client.startImageAction(SNAPSHOT, { type: "transfer", region: "ams3" });
  const controller = new AbortController();
  const waiting = watcher.waitFor(started, { timeoutMs: 600_000, signal: controller.signal });
  const reason = new Error("cancelled by the user");
  controller.abort(reason);
  await expect(waiting).rejects.toBe(reason);
  sim.resetRequests();
  await sim.clock.sleep(20_000);
  expect(sim.requests()).toEqual([]);
});

test("a wait aborted while its poll is queued behind a full limiter leaves no queued request and no timer", async () => {
  await Promise.all([client.close(), sim.close()]);
  // On the wall clock a full minute window keeps the poll queued far longer than the test.
  sim = await seededSimulator({ timeScale: 1 });
  const clock = countingClock(sim.clock);
  const limiter = new RateLimiter(clock, { perMinute: 1, perHour: 1_000 });
  client = clientFor(sim, { clock, limiter });
  watcher = new ActionWatcher(client, { clock, minIntervalMs: 1 });
  const started = await client.startImageAction(SNAPSHOT, { type: "transfer", region: "ams3" });
  const controller = new AbortController();
  const waiting = watcher.waitFor(started, { timeoutMs: 600_000, signal: controller.signal });
  while (limiter.usage().queued === 0) await settle();

  const reason = new Error("cancelled by the user");
  controller.abort(reason);
  await expect(waiting).rejects.toBe(reason);
  await settle();
  expect(limiter.usage().queued).toBe(0);
  expect(clock.pending).toBe(0);
  expect(sim.requests()).toHaveLength(1);
});

test("an action that does not exist fails the wait with the 404", async () => {
  const ghost: Action = { ...(await client.startImageAction(SNAPSHOT, { type: "transfer", region: "ams3" })), id: 1 };
  const error = await watcher.waitFor(ghost, { timeoutMs: 600_000 }).catch((e: unknown) => e);
  expect(ApiError.isNotFound(error)).toBe(true);
});

test("an action already finished needs no request", async () => {
  const started = await client.startImageAction(BACKUPS[1], { type: "convert" });
  sim.resetRequests();
  await expect(watcher.waitFor({ ...started, status: "completed" }, { timeoutMs: 1 })).resolves.toMatchObject({ id: started.id });
  await expect(watcher.waitFor({ ...started, status: "errored" }, { timeoutMs: 1 })).rejects.toBeInstanceOf(ActionErroredError);
  expect(sim.requests()).toEqual([]);
});

test("50 concurrent waits share one poller: one request per tick, not one per wait", async () => {
  const images = Array.from({ length: 50 }, (_, i) => sim.state.addImage({ name: `img-${i}`, type: "snapshot", regions: ["nyc3"] }).id);
  const actions = await Promise.all(images.map((id) => client.startImageAction(id, { type: "transfer", region: "ams3" })));
  // A second watcher on the same client shares the poller too.
  const other = new ActionWatcher(client, { clock: sim.clock });
  sim.resetRequests();
  const done = await Promise.all(actions.map((a, i) => (i % 2 ? watcher : other).waitFor(a, { timeoutMs: 600_000 })));
  expect(done.every((a) => a.status === "completed")).toBe(true);
  const counts = sim.requestCounts();
  const ticks = counts.byRoute["GET /v2/actions"];
  expect(counts.byRoute["GET /v2/actions/:id"] ?? 0).toBe(0);
  expect(counts.total).toBe(ticks);
  // 120 s transfers polled from 2 s toward 30 s: about ten ticks (timer jitter adds a few), each one request for all 50 waits.
  expect(ticks).toBeLessThanOrEqual(25);
  console.log(`50 concurrent waits: ${ticks} ticks, ${counts.total} requests in all, ${(counts.total / ticks).toFixed(2)} per tick`);
});

test("watched actions missing from the first page are fetched by the cheaper way", async () => {
  // At 1/100 speed: both waits must start within a quarter of the 2 s first interval to share ticks,
  // which at this file's 1/1000 a few real milliseconds of scheduling could break.
  const slow = await seededSimulator({ timeScale: 0.01, actionDurations: { convertMs: 60_000, transferMs: 120_000 } });
  const slowClient = clientFor(slow);
  try {
    const [first, second] = await Promise.all([
      slowClient.startImageAction(BACKUPS[0], { type: "convert" }),
      slowClient.startImageAction(BACKUPS[1], { type: "convert" }),
    ]);
    // 250 newer actions push both off the first page of 200.
    const fillers = Array.from({ length: 250 }, (_, i) => slow.state.addImage({ name: `f-${i}`, type: "snapshot", regions: ["nyc3"] }).id);
    for (const id of fillers) await slowClient.startImageAction(id, { type: "transfer", region: "ams3" });
    slow.resetRequests();
    const slowWatcher = new ActionWatcher(slowClient, { clock: slow.clock });
    await Promise.all([first, second].map((a) => slowWatcher.waitFor(a, { timeoutMs: 600_000 })));
    const pages = slow.requests().filter((r) => r.route === "GET /v2/actions").map((r) => r.query.page);
    // Two missing: one more page finds both, cheaper than two single lookups.
    expect(pages.filter((p) => p === "2").length).toBeGreaterThan(0);
    expect(slow.requestCounts().byRoute["GET /v2/actions/:id"] ?? 0).toBe(0);
  } finally {
    await slowClient.close();
    await slow.close();
  }
});
