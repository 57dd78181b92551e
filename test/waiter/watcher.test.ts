import type { DigitalOceanClient } from "../../provider/client/client";
import { ApiError } from "../../provider/client/errors";
import { RequestPacer } from "../../provider/client/rate-limit/pacer";
import type { Action } from "../../provider/api/types";
import { scaledClock } from "../../provider/clock";
import type { Simulator } from "../../provider/simulator";
import { ActionErroredError, ActionTimeoutError, ActionWatcher } from "../../provider/waiter";
import { ActionPoller } from "../../provider/waiter/poller";
import { BACKUPS, clientFor, countingClock, seededSimulator, nextEventLoopTurn, SNAPSHOT, TIME_SCALE } from "../client/helpers";
import { PausableClock } from "../support/pausable-clock";
import { until } from "../support/until";

/** The watcher end to end against the simulator; its timing on a clock the test controls is in poller.test.ts. */
let sim: Simulator;
let client: DigitalOceanClient;
let watcher: ActionWatcher;

beforeEach(async () => {
  // Converts take 60 s and transfers 120 s of clock time: 60 ms and 120 ms here.
  sim = await seededSimulator({ actionDurations: { convertMs: 60_000, transferMs: 120_000 } });
  client = clientFor(sim);
  watcher = new ActionWatcher(new ActionPoller(client, sim.clock));
});

afterEach(async () => {
  await client.close();
  await sim.close();
});

/**
 * Replaces the simulator with one on a clock the test can pause, and the client
 * and watcher with ones on their own clock of the same scale: a pause holds the
 * simulator's actions where they are while the waits and polls go on.
 */
async function restartOnPausableClock(scale: number): Promise<PausableClock> {
  await Promise.all([client.close(), sim.close()]);
  const simClock = new PausableClock(scale);
  // The clock replaces seededSimulator's default time scale; the two cannot be given together.
  sim = await seededSimulator({ timeScale: undefined, clock: simClock });
  // Anchored where the simulator's clock is, as a provider process takes it from the simulator.
  const clock = scaledClock(scale, simClock.anchorMs);
  client = clientFor(sim, { clock, pacer: new RequestPacer(clock) });
  watcher = new ActionWatcher(new ActionPoller(client, clock));
  return simClock;
}

test("resolves with the completed action and reports progress on the way", async () => {
  const simClock = await restartOnPausableClock(TIME_SCALE);
  const progress: { status: string; elapsedMs: number }[] = [];
  // Paused from before the convert starts until the first progress report, so that report sees it in progress however slow the first poll.
  const { started, done } = await simClock.paused(async () => {
    const started = await client.startImageAction(BACKUPS[0], { type: "convert" });
    const done = await watcher.waitFor(started, {
      timeoutMs: 600_000,
      onProgress: ({ action, elapsedMs }) => {
        progress.push({ status: action.status, elapsedMs });
        simClock.resume();
      },
    });
    return { started, done };
  });
  expect(done).toMatchObject({ id: started.id, status: "completed" });
  expect((await client.getImage(BACKUPS[0])).type).toBe("snapshot");
  expect(progress.length).toBeGreaterThanOrEqual(2);
  expect(progress.slice(0, -1).every((p) => p.status === "in-progress")).toBe(true);
  expect(progress[progress.length - 1].status).toBe("completed");
  expect(progress.map((p) => p.elapsedMs)).toEqual([...progress.map((p) => p.elapsedMs)].sort((a, b) => a - b));
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

test("rejects with ActionTimeoutError at the deadline, saying the action goes on, and leaving what to do next to the caller", async () => {
  // A finer clock (one real millisecond is 0.1 s) to measure the wait.
  const simClock = await restartOnPausableClock(0.01);
  // Paused, the simulator keeps the transfer in progress however late the deadline fires.
  await simClock.paused(async () => {
    const started = await client.startImageAction(SNAPSHOT, { type: "transfer", region: "ams3" });
    const error = await watcher.waitFor(started, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ActionTimeoutError);
    // Timers may fire up to a real millisecond early, and any amount late on a busy machine.
    expect((error as ActionTimeoutError).waitedMs).toBeGreaterThanOrEqual(9_800);
    expect((error as Error).message).toMatch(new RegExp(`action ${started.id} .*after (\\d+ min )?\\d+ s; it was still in-progress, and goes on at DigitalOcean\\.$`));
    expect(sim.state.action(started.id)?.status).toBe("in-progress");
  });
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
  const limiter = new RequestPacer(clock, { perMinute: 1, perHour: 1_000 });
  client = clientFor(sim, { clock, pacer: limiter });
  watcher = new ActionWatcher(new ActionPoller(client, clock), { minIntervalMs: 1 });
  const started = await client.startImageAction(SNAPSHOT, { type: "transfer", region: "ams3" });
  const controller = new AbortController();
  const waiting = watcher.waitFor(started, { timeoutMs: 600_000, signal: controller.signal });
  await until(() => limiter.usage().queued > 0, "a call to queue for the rate limit");

  const reason = new Error("cancelled by the user");
  controller.abort(reason);
  await expect(waiting).rejects.toBe(reason);
  await nextEventLoopTurn();
  expect(limiter.usage().queued).toBe(0);
  expect(clock.pending).toBe(0);
  expect(sim.requests()).toHaveLength(1);
});

test("an action that does not exist fails the wait with the 404", async () => {
  const ghost: Action = { ...(await client.startImageAction(SNAPSHOT, { type: "transfer", region: "ams3" })), id: 1 };
  const error = await watcher.waitFor(ghost, { timeoutMs: 600_000 }).catch((e: unknown) => e);
  expect(ApiError.isNotFound(error)).toBe(true);
});
