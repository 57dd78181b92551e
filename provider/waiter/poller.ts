import type { Clock } from "../clock";
import type { DigitalOceanClient } from "../client/client";
import { ApiError } from "../client/errors";
import type { Action } from "../api/types";
import { PER_PAGE } from "../client/pagination";
import { nextPollInterval } from "./policy/poll-interval";

/**
 * A wait whose next look is this share of its interval away counts as due
 * already: the page is fetched anyway, and looking slightly early pulls waits
 * that started at nearly the same time into one cadence, so they share later
 * ticks instead of each causing its own.
 */
const EARLY_LOOK_SHARE = 0.25;

/** What the poller reads actions through: the client's two action reads. */
export type ActionSource = Pick<DigitalOceanClient, "listActions" | "getAction">;

/** One wait's interest in an action. */
export interface Watch {
  readonly actionId: number;
  readonly minIntervalMs: number;
  readonly maxIntervalMs: number;
  /** Clock ms of the next look this wait wants. */
  dueAt: number;
  /** The wait before `dueAt` was set. */
  intervalMs: number;
  /** Every fresh view of the action, finished or not. */
  observe(action: Action): void;
  /** A failure that polling again cannot fix (the action is unknown, the token is refused). */
  fail(error: unknown): void;
}

/**
 * Watches every action in flight for one client with as few requests as
 * possible. Each tick reads the first page of `GET /v2/actions` (newest first,
 * so actions in flight are near the top), which serves every wait at once;
 * only due actions missing from it are looked up, through further pages when
 * several are missing (one page may serve them all) or one by one.
 * No timer runs while nothing is watched.
 *
 * Every watched action a tick's pages show still running counts as looked at,
 * due or not, and its next look moves an interval on. With thousands of
 * actions in flight the pages down to the oldest are then read about once per
 * interval for all of them, instead of again each time the next few come due.
 * No end can be missed: a finished action keeps its final status in the list,
 * and each watch is still looked at (on a page or by id) at most its interval
 * after it was last seen running, so its end is seen at most that long, and
 * never more than the maximum interval, after it happens. Being seen often, a
 * young action reaches the maximum sooner than one watched alone would: one
 * that ends in its first minute may be seen up to the maximum after its end,
 * not within the shorter interval it would have alone.
 */
export class ActionPoller {
  private readonly watches = new Map<number, Set<Watch>>();
  /** Aborting it cancels the sleep until the next tick. */
  private sleep: AbortController | undefined;
  /**
   * One per request of the current tick, queued or in flight: aborting them
   * cancels the tick. Each request gets a signal of its own, so a tick of many
   * lookups adds no pile of listeners to one signal.
   */
  private readonly requests = new Set<AbortController>();
  private ticking = false;

  constructor(
    private readonly client: ActionSource,
    /** The time line of every watch's `dueAt`, shared with the watchers that add them. */
    readonly clock: Clock,
  ) {}

  add(watch: Watch): void {
    let set = this.watches.get(watch.actionId);
    if (!set) this.watches.set(watch.actionId, (set = new Set()));
    set.add(watch);
    this.reschedule();
  }

  remove(watch: Watch): void {
    const set = this.watches.get(watch.actionId);
    set?.delete(watch);
    if (set?.size === 0) this.watches.delete(watch.actionId);
    // Nobody is left to read the answers: a poll still queued for the rate limit would only spend it (or keep a timer alive).
    if (this.watches.size === 0) for (const request of this.requests) request.abort();
    this.reschedule();
  }

  /** Number of distinct actions watched. */
  get size(): number {
    return this.watches.size;
  }

  private allWatches(): Watch[] {
    return [...this.watches.values()].flatMap((set) => [...set]);
  }

  /** Sleeps until the earliest due look; stops sleeping when nothing is watched. */
  private reschedule(): void {
    if (this.ticking) return;
    this.sleep?.abort();
    this.sleep = undefined;
    const watches = this.allWatches();
    if (watches.length === 0) return;
    const dueAt = Math.min(...watches.map((w) => w.dueAt));
    const sleep = (this.sleep = new AbortController());
    this.clock.sleep(Math.max(0, dueAt - this.clock.now()), sleep.signal).then(
      () => void this.tick(),
      () => undefined,
    );
  }

  private async tick(): Promise<void> {
    this.ticking = true;
    try {
      const now = this.clock.now();
      const isDue = (w: Watch) => w.dueAt - w.intervalMs * EARLY_LOOK_SHARE <= now;
      const due = new Set(this.allWatches().filter(isDue).map((w) => w.actionId));
      // Watched actions this tick's answers showed, due or not.
      const seen = new Set<number>();
      if (due.size > 0) await this.look(due, seen);
      for (const watch of this.allWatches()) {
        // Seen on a page read for others: looking again at its old time would cost another tick, often a deep one, seconds later.
        if (!isDue(watch) && !seen.has(watch.actionId)) continue;
        watch.intervalMs = nextPollInterval(watch.intervalMs, { minMs: watch.minIntervalMs, maxMs: watch.maxIntervalMs });
        watch.dueAt = this.clock.now() + watch.intervalMs;
      }
    } finally {
      this.ticking = false;
      this.reschedule();
    }
  }

  /** Fetches news of the `due` actions (and of any other watched action that shows up on the way). */
  private async look(due: Set<number>, seen: Set<number>): Promise<void> {
    const missing = new Set(due);
    let page = 1;
    try {
      // More pages pay off only while one page may serve several missing actions at once.
      for (let hasNext = true; hasNext && (page === 1 || missing.size >= 2) && page <= due.size; page++) {
        const result = await this.request((signal) => this.client.listActions({ page, perPage: PER_PAGE }, { watch: true, signal }));
        for (const action of result.actions) {
          missing.delete(action.id);
          this.deliver(action, seen);
        }
        hasNext = result.hasNext;
        // Newest first: a missing action newer than this page's oldest is not further down.
        const oldest = result.actions[result.actions.length - 1]?.id;
        if (oldest === undefined || [...missing].every((id) => id > oldest)) break;
      }
    } catch (error) {
      this.failOnPermanent(error, due);
      return;
    }
    await Promise.all([...missing].map((id) => this.lookOne(id, seen)));
  }

  private async lookOne(id: number, seen: Set<number>): Promise<void> {
    try {
      this.deliver(await this.request((signal) => this.client.getAction(id, { watch: true, signal })), seen);
    } catch (error) {
      this.failOnPermanent(error, new Set([id]));
    }
  }

  /** Sends one request of the tick, cancelled with the others when nothing is left to watch. */
  private async request<T>(send: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const request = new AbortController();
    this.requests.add(request);
    try {
      return await send(request.signal);
    } finally {
      this.requests.delete(request);
    }
  }

  private deliver(action: Action, seen: Set<number>): void {
    if (this.watches.has(action.id)) seen.add(action.id);
    for (const watch of [...(this.watches.get(action.id) ?? [])]) watch.observe(action);
  }

  /**
   * Fails the waits on `ids` when `error` says polling cannot succeed (a 4xx
   * other than 429: unknown action, refused token). Other errors (network,
   * 5xx, rate limit) are left to the next tick and the waits' own deadlines.
   */
  private failOnPermanent(error: unknown, ids: Set<number>): void {
    const permanent = error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429;
    if (!permanent) return;
    for (const id of ids) for (const watch of [...(this.watches.get(id) ?? [])]) watch.fail(error);
  }
}
