import { ApiError } from "../../provider/client/errors";
import type { Action } from "../../provider/api/types";
import { ActionErroredError, ActionTimeoutError, ActionWatcher } from "../../provider/waiter";
import { ActionPoller, type ActionSource } from "../../provider/waiter/poller";
import { MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS } from "../../provider/waiter/policy/poll-interval";
import { ManualClock } from "../support/manual-clock";

const MINUTE = 60_000;

interface Call {
  kind: "list" | "get";
  /** The page, for a list; the action, for a get. */
  target: number;
  at: number;
  signal?: AbortSignal;
}

/**
 * The account's actions as GET /v2/actions and GET /v2/actions/{id} show them,
 * answering at once (or, with `holdLookups`, when the call's signal aborts). Each
 * action completes at its `doneAt` clock time.
 */
class FakeActions implements ActionSource {
  readonly calls: Call[] = [];
  private readonly doneAt = new Map<number, number>();
  /** Actions GET /v2/actions does not list (the list only shows so many). */
  readonly unlisted = new Set<number>();
  /** Set to fail every call with it. */
  failure: Error | undefined;
  /** Set to keep lookups of single actions pending until their signal aborts. */
  holdLookups = false;

  constructor(private readonly clock: ManualClock) {}

  add(id: number, doneAt: number): Action {
    this.doneAt.set(id, doneAt);
    return this.view(id);
  }

  async listActions(page: { page: number; perPage: number }, o?: { signal?: AbortSignal }): Promise<{ actions: Action[]; total: number; hasNext: boolean }> {
    await this.answer({ kind: "list", target: page.page, at: this.clock.now(), signal: o?.signal });
    const all = [...this.doneAt.keys()].sort((a, b) => b - a);
    const listed = all.filter((id) => !this.unlisted.has(id)).slice((page.page - 1) * page.perPage, page.page * page.perPage);
    return { actions: listed.map((id) => this.view(id)), total: all.length, hasNext: page.page * page.perPage < all.length };
  }

  async getAction(id: number, o?: { signal?: AbortSignal }): Promise<Action> {
    await this.answer({ kind: "get", target: id, at: this.clock.now(), signal: o?.signal });
    if (!this.doneAt.has(id)) throw new ApiError({ status: 404, errorId: "not_found", apiMessage: "The resource you requested could not be found.", method: "GET", path: `/v2/actions/${id}` });
    return this.view(id);
  }

  /** When each list call was made, relative to `start`. */
  listTimes(start: number): number[] {
    return this.calls.filter((c) => c.kind === "list").map((c) => c.at - start);
  }

  private async answer(call: Call): Promise<void> {
    this.calls.push(call);
    if (this.failure) throw this.failure;
    if (call.kind !== "get" || !this.holdLookups) return;
    await new Promise((_, reject) => call.signal?.addEventListener("abort", () => reject(call.signal?.reason), { once: true }));
  }

  private view(id: number): Action {
    const done = this.clock.now() >= this.doneAt.get(id)!;
    return {
      id,
      status: done ? "completed" : "in-progress",
      type: "transfer",
      started_at: new Date(0).toISOString(),
      completed_at: null,
      resource_id: 7,
      resource_type: "image",
      region_slug: "ams3",
    };
  }
}

let clock: ManualClock;
let t0: number;
let actions: FakeActions;
let watcher: ActionWatcher;
beforeEach(() => {
  clock = new ManualClock();
  t0 = clock.now();
  actions = new FakeActions(clock);
  watcher = new ActionWatcher(new ActionPoller(actions, clock));
});

const HOUR = 60 * MINUTE;
/** Clock ms since the test began. */
const elapsed = () => clock.now() - t0;

test("polls back off by half from the minimum interval to the maximum, and stop when the action completes", async () => {
  const action = actions.add(1, t0 + 10 * MINUTE);
  const done = await clock.runUntil(watcher.waitFor(action, { timeoutMs: HOUR }));
  expect(done.status).toBe("completed");
  const polls = actions.listTimes(t0);
  expect(polls.slice(0, 4)).toEqual([MIN_POLL_INTERVAL_MS, 5_000, 9_500, 16_250]);
  const gaps = polls.slice(1).map((t, i) => t - polls[i]);
  expect(gaps.slice(0, 3)).toEqual([3_000, 4_500, 6_750]);
  // Growing until capped, then steady at the cap.
  expect(gaps.every((gap, i) => i === 0 || gap >= gaps[i - 1])).toBe(true);
  expect(gaps.slice(-5)).toEqual(Array(5).fill(MAX_POLL_INTERVAL_MS));
  // The poll that saw it completed is the last, and the first at or after its completion.
  expect(polls[polls.length - 1]).toBeGreaterThanOrEqual(10 * MINUTE);
  expect(polls[polls.length - 2]).toBeLessThan(10 * MINUTE);
  expect(clock.pendingSleeps).toBe(0);
});

test("progress is reported at every look with the clock time waited", async () => {
  const action = actions.add(1, t0 + 4_000);
  const seen: { status: string; elapsedMs: number }[] = [];
  await clock.runUntil(watcher.waitFor(action, { timeoutMs: HOUR, onProgress: (p) => seen.push({ status: p.action.status, elapsedMs: p.elapsedMs }) }));
  expect(seen).toEqual([
    { status: "in-progress", elapsedMs: 2_000 },
    { status: "completed", elapsedMs: 5_000 },
  ]);
});

test("waits started within a quarter of an interval of each other share every tick", async () => {
  const first = actions.add(1, t0 + 5 * MINUTE);
  const waits = [watcher.waitFor(first, { timeoutMs: HOUR })];
  await clock.advance(400);
  waits.push(watcher.waitFor(actions.add(2, t0 + 5 * MINUTE), { timeoutMs: HOUR }));
  await clock.runUntil(Promise.all(waits));
  const polls = actions.listTimes(t0);
  // The same cadence a single wait has: the later one joins the earlier one's looks.
  expect(polls.slice(0, 3)).toEqual([2_000, 5_000, 9_500]);
  expect(new Set(polls).size).toBe(polls.length);
  expect(actions.calls.filter((c) => c.kind === "get")).toEqual([]);
});

test("a wait seen on a page read for another moves its next look on, so the two share every later tick", async () => {
  const waits = [watcher.waitFor(actions.add(1, t0 + 5 * MINUTE), { timeoutMs: HOUR })];
  // Half an interval apart: too far for the earlier wait's first tick to count the later one as due.
  await clock.advance(MIN_POLL_INTERVAL_MS / 2);
  waits.push(watcher.waitFor(actions.add(2, t0 + 5 * MINUTE), { timeoutMs: HOUR }));
  await clock.runUntil(Promise.all(waits));

  const alone = new FakeActions(clock);
  const start = clock.now();
  await clock.runUntil(new ActionWatcher(new ActionPoller(alone, clock)).waitFor(alone.add(1, start + 5 * MINUTE), { timeoutMs: HOUR }));
  expect(actions.listTimes(t0)).toEqual(alone.listTimes(start));
});

test("with actions starting all the time, the pages below the first are read about once per longest interval, and every end is seen within it", async () => {
  const startEveryMs = 500;
  const runsMs = 4 * MINUTE;
  const startingForMs = 5 * MINUTE;
  const lateBy: number[] = [];
  const waits: Promise<void>[] = [];
  for (let id = 1; elapsed() < startingForMs; id++) {
    const doneAt = clock.now() + runsMs;
    waits.push(watcher.waitFor(actions.add(id, doneAt), { timeoutMs: HOUR }).then(() => void lateBy.push(clock.now() - doneAt)));
    await clock.advance(startEveryMs);
  }
  await clock.runUntil(Promise.all(waits));

  // About 480 actions run at once, so the oldest are on page 3 and later ones on page 2.
  const deepTicks = new Set(actions.calls.filter((c) => c.kind === "list" && c.target >= 2).map((c) => c.at));
  expect(Math.max(...actions.calls.map((c) => c.target))).toBeGreaterThanOrEqual(3);
  expect(deepTicks.size).toBeLessThanOrEqual(Math.ceil((startingForMs + runsMs) / MAX_POLL_INTERVAL_MS) + 2);
  expect(lateBy).toHaveLength(waits.length);
  expect(Math.max(...lateBy)).toBeLessThanOrEqual(MAX_POLL_INTERVAL_MS);
  expect(actions.calls.filter((c) => c.kind === "get")).toEqual([]);
});

test("50 concurrent waits cost one request per tick, not one per wait", async () => {
  const waits = Array.from({ length: 50 }, (_, i) => watcher.waitFor(actions.add(i + 1, t0 + 2 * MINUTE), { timeoutMs: HOUR }));
  await clock.runUntil(Promise.all(waits));
  const alone = new FakeActions(clock);
  await clock.runUntil(new ActionWatcher(new ActionPoller(alone, clock)).waitFor(alone.add(1, clock.now() + 2 * MINUTE), { timeoutMs: HOUR }));
  expect(actions.calls.length).toBe(alone.calls.length);
});

test("two or more watched actions missing from the first page are found on the next pages; a single one is read on its own", async () => {
  // 250 newer actions push the two oldest off the first page of 200.
  for (let id = 1; id <= 252; id++) actions.add(id, t0 + (id <= 2 ? 30_000 : HOUR));
  const twoOld = [1, 2].map((id) => watcher.waitFor(actions.add(id, t0 + 30_000), { timeoutMs: HOUR }));
  await clock.runUntil(Promise.all(twoOld));
  expect(actions.calls.filter((c) => c.kind === "list" && c.target === 2).length).toBeGreaterThan(0);
  expect(actions.calls.filter((c) => c.kind === "get")).toEqual([]);

  actions.calls.length = 0;
  const oneOld = actions.add(3, clock.now() + 30_000);
  await clock.runUntil(watcher.waitFor(oneOld, { timeoutMs: HOUR }));
  expect(actions.calls.filter((c) => c.kind === "list").map((c) => c.target)).toEqual(expect.arrayContaining([1]));
  expect(actions.calls.filter((c) => c.kind === "list" && c.target !== 1)).toEqual([]);
  expect(actions.calls.filter((c) => c.kind === "get").map((c) => c.target)).toContain(3);
});

test("lookups of one tick each get a signal of their own, and the last wait going cancels them all", async () => {
  const ids = Array.from({ length: 12 }, (_, i) => i + 1);
  const cancels = ids.map(() => new AbortController());
  const waits = ids.map((id, i) => {
    actions.unlisted.add(id);
    return watcher.waitFor(actions.add(id, t0 + HOUR), { timeoutMs: HOUR, signal: cancels[i].signal }).catch((e: unknown) => e);
  });
  actions.holdLookups = true;
  await clock.advance(MIN_POLL_INTERVAL_MS);
  const lookups = actions.calls.filter((c) => c.kind === "get");
  expect(lookups.map((c) => c.target).sort((a, b) => a - b)).toEqual(ids);
  // Many listeners on one shared signal is what Node.js warns about as a leak.
  expect(new Set(lookups.map((c) => c.signal)).size).toBe(ids.length);

  const reason = new Error("cancelled");
  for (const cancel of cancels) cancel.abort(reason);
  expect(await Promise.all(waits)).toEqual(ids.map(() => reason));
  expect(lookups.every((c) => c.signal?.aborted)).toBe(true);
  await clock.advance(0);
  expect(clock.pendingSleeps).toBe(0);
});

test("a refusal fails the waits on the action; a server error is left to the next tick", async () => {
  const action = actions.add(1, t0 + MINUTE);
  const waiting = watcher.waitFor(action, { timeoutMs: HOUR });
  actions.failure = new ApiError({ status: 503, errorId: "unavailable", apiMessage: "try later", method: "GET", path: "/v2/actions" });
  await clock.advance(10_000);
  actions.failure = undefined;
  await expect(clock.runUntil(waiting)).resolves.toMatchObject({ status: "completed" });

  const ghost = { ...action, id: 999, status: "in-progress" as const };
  const error = await clock.runUntil(watcher.waitFor(ghost, { timeoutMs: HOUR }).catch((e: unknown) => e));
  expect(ApiError.isNotFound(error)).toBe(true);
});

test("the wait gives up at its deadline on the clock, naming the action as last seen", async () => {
  const action = actions.add(1, t0 + HOUR);
  const error = await clock.runUntil(watcher.waitFor(action, { timeoutMs: 10 * MINUTE }).catch((e: unknown) => e));
  expect(error).toBeInstanceOf(ActionTimeoutError);
  expect(error).toMatchObject({ waitedMs: 10 * MINUTE, action: { id: 1, status: "in-progress" } });
  expect(elapsed()).toBe(10 * MINUTE);
  expect(clock.pendingSleeps).toBe(0);
});

test("an action already finished is answered without a request", async () => {
  const action = actions.add(1, t0);
  await expect(watcher.waitFor(action, { timeoutMs: 1 })).resolves.toMatchObject({ status: "completed" });
  await expect(watcher.waitFor({ ...action, status: "errored" }, { timeoutMs: 1 })).rejects.toBeInstanceOf(ActionErroredError);
  expect(actions.calls).toEqual([]);
});
