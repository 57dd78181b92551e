import type { Clock } from "../clock";

/** Requests allowed per token over sliding windows. */
export interface RateLimits {
  perMinute: number;
  perHour: number;
}

/** DigitalOcean's limits per token: 250 requests in any minute, 5,000 in any hour. */
const DIGITALOCEAN_RATE_LIMITS: RateLimits = { perMinute: 250, perHour: 5_000 };

/**
 * Which requests go first when the limit makes them queue:
 * - `watch`: polls of actions in flight. They go first and may use a slice of
 *   the hourly budget the others may not, so every wait can still see its
 *   action finish after a big run has spent the rest of the hour.
 * - `start`: requests that start actions. An action takes minutes and a read
 *   milliseconds: every minute an action starts later is a minute longer for the run.
 * - `normal`: everything else, in arrival order.
 */
export type RequestPriority = "watch" | "start" | "normal";

const RANK: Record<RequestPriority, number> = { watch: 2, start: 1, normal: 0 };

/**
 * Requests an hour kept for `watch` requests: a shared poller at its 30 s cap
 * sends 120 an hour, and the rest covers lookups of actions that fell off the
 * first page of the account's action list. 4% of DigitalOcean's 5,000.
 */
const WATCH_RESERVE_PER_HOUR = 200;

/** Response headers as undici gives them. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/**
 * Requests in flight per token at most. Beyond what the connection pool can
 * send at once, requests would only queue inside undici, and since a request
 * counts from its answer, time spent queued would be wasted window.
 */
export const MAX_IN_FLIGHT = 16;

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** A granted request slot; release it exactly once when the attempt is over. */
export interface RateLimitPermit {
  /**
   * `status` is what the server answered (undefined when nothing came back);
   * `headers` its response headers, read for DigitalOcean's rate-limit hints.
   */
  release(outcome: { status?: number; headers?: ResponseHeaders }): void;
}

/** Thrown through `acquire` when the wait for a slot would pass the caller's deadline. */
export class RateLimitWaitTooLong extends Error {
  constructor(
    readonly waitMs: number,
    readonly remainingMs: number,
  ) {
    super(`rate limit wait of ${waitMs} ms exceeds the ${remainingMs} ms left`);
  }
}

interface Waiter {
  deadline: number;
  priority: RequestPriority;
  resolve(permit: RateLimitPermit): void;
  reject(error: unknown): void;
  detach(): void;
}

/**
 * Keeps one token's requests under DigitalOcean's sliding-window limits, for
 * every client in the process that uses the token.
 *
 * A request counts from the moment its answer arrives: that is never earlier
 * than when DigitalOcean counted it, so the windows here can only be stricter
 * than the server's and the client runs right at the limit without a safety
 * margin. Requests still in flight count too. A 429 was not counted by the
 * server, so it is not counted here either; its `retry-after` pauses all
 * requests instead. `ratelimit-remaining` reports what the token has left
 * across every process using it: when another process spends it, that budget
 * runs out before our own windows fill, and we wait for `ratelimit-reset`.
 */
export class RateLimiter {
  /** Clock ms at which each counted request finished, oldest first, within the last hour. */
  private readonly finished: number[] = [];
  private inFlight = 0;
  /** Requests started so far; tells how many started after a given one. */
  private startedCount = 0;
  private pausedUntil = 0;
  /**
   * The server's last word on the token's budget, minus what we started since,
   * and when to try again once it is spent: a slot frees when the oldest counted
   * request expires (`ratelimit-reset`), and within a minute when only the burst
   * limit was hit, whichever comes first. An answer in flight may also bring news.
   */
  private serverBudget: { remaining: number; probeAt: number } | undefined;
  private readonly queue: Waiter[] = [];
  /** Aborting it cuts the pump's current wait short: a slot or new information arrived. */
  private wake = new AbortController();
  private pumping = false;

  /** Never more than a tenth of a small test limit, so the others always have most of it. */
  private readonly watchReserve: number;

  constructor(
    private readonly clock: Clock,
    readonly limits: RateLimits = DIGITALOCEAN_RATE_LIMITS,
    private readonly maxInFlight = MAX_IN_FLIGHT,
  ) {
    this.watchReserve = Math.min(WATCH_RESERVE_PER_HOUR, Math.floor(limits.perHour / 10));
  }

  /**
   * Resolves with a permit once a request may start. Rejects with the signal's
   * reason when aborted, or RateLimitWaitTooLong when the wait would pass `deadline`
   * (clock ms). Queued requests are served by priority, each priority in arrival order.
   */
  acquire(options: { deadline: number; signal?: AbortSignal; priority?: RequestPriority }): Promise<RateLimitPermit> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<RateLimitPermit>((resolve, reject) => {
      const onAbort = () => {
        this.remove(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        deadline: options.deadline,
        priority: options.priority ?? "normal",
        resolve,
        reject,
        detach: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const behind = this.queue.findIndex((queued) => RANK[queued.priority] < RANK[waiter.priority]);
      this.queue.splice(behind === -1 ? this.queue.length : behind, 0, waiter);
      // The head of the queue changed: what it waits for may have too.
      if (behind === 0) this.wake.abort();
      this.pump();
    });
  }

  /**
   * Counts, for tests.
   * @internal
   */
  usage(): { lastMinute: number; lastHour: number; inFlight: number; queued: number } {
    const now = this.clock.now();
    this.prune(now);
    return { lastMinute: this.finished.length - this.firstAfter(now - MINUTE_MS), lastHour: this.finished.length, inFlight: this.inFlight, queued: this.queue.length };
  }

  private remove(waiter: Waiter): void {
    const i = this.queue.indexOf(waiter);
    if (i >= 0) this.queue.splice(i, 1);
    waiter.detach();
    // The loop sleeps for what the head waits for (up to an hour): with the head gone, that sleep may be moot.
    if (i === 0) this.wake.abort();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.grantInOrder().finally(() => {
      this.pumping = false;
      // A waiter may have arrived between the loop's last check and here.
      if (this.queue.length > 0) this.pump();
    });
  }

  /** Grants slots in queue order, sleeping on the Clock while the windows are full. */
  private async grantInOrder(): Promise<void> {
    while (this.queue.length > 0) {
      const now = this.clock.now();
      const delay = this.delayBeforeNextStart(now, this.queue[0].priority);
      if (delay === 0) {
        const waiter = this.queue.shift()!;
        waiter.detach();
        waiter.resolve(this.start());
        continue;
      }
      // Everyone queued waits at least `delay`: fail now those whose deadline it passes.
      if (Number.isFinite(delay)) {
        for (const waiter of this.queue.filter((w) => now + delay > w.deadline)) {
          this.remove(waiter);
          waiter.reject(new RateLimitWaitTooLong(delay, waiter.deadline - now));
        }
        if (this.queue.length === 0) return;
      }
      await this.sleepUnlessWoken(delay);
    }
  }

  private async sleepUnlessWoken(ms: number): Promise<void> {
    const { signal } = this.wake;
    if (signal.aborted) {
      this.wake = new AbortController();
      return;
    }
    if (Number.isFinite(ms)) {
      await this.clock.sleep(ms, signal).catch(() => undefined);
    } else {
      // Only in-flight requests block: the next release wakes us.
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    }
    if (signal.aborted) this.wake = new AbortController();
  }

  private start(): RateLimitPermit {
    this.inFlight += 1;
    if (this.serverBudget) this.serverBudget.remaining -= 1;
    const startedAt = this.clock.now();
    const startIndex = ++this.startedCount;
    let released = false;
    return {
      release: ({ status, headers }) => {
        if (released) return;
        released = true;
        this.inFlight -= 1;
        const now = this.clock.now();
        if (status === 429) this.pauseFor(headers, now);
        else {
          this.finished.push(now);
          this.readBudget(headers, now, startedAt, this.startedCount - startIndex);
        }
        this.wake.abort();
      },
    };
  }

  /** 0 when a request of `priority` may start now; else how long to wait (Infinity: until a request in flight finishes). */
  private delayBeforeNextStart(now: number, priority: RequestPriority): number {
    this.prune(now);
    const delays = [
      this.inFlight >= this.maxInFlight ? Infinity : 0,
      Math.max(0, this.pausedUntil - now),
      this.windowDelay(now, MINUTE_MS, this.limits.perMinute),
      this.windowDelay(now, HOUR_MS, priority === "watch" ? this.limits.perHour : this.limits.perHour - this.watchReserve),
    ];
    const budget = this.serverBudget;
    if (budget && budget.remaining <= 0) {
      if (now >= budget.probeAt) {
        // Let one request through to learn whether a slot freed; its answer (or 429) tells us more.
        budget.remaining = 1;
        budget.probeAt = now + MINUTE_MS;
      } else {
        delays.push(this.inFlight > 0 ? Infinity : budget.probeAt - now);
      }
    }
    return Math.max(...delays);
  }

  private windowDelay(now: number, windowMs: number, limit: number): number {
    const first = this.firstAfter(now - windowMs);
    const counted = this.finished.length - first;
    const excess = counted + this.inFlight - limit + 1;
    if (excess <= 0) return 0;
    if (excess > counted) return Infinity;
    return this.finished[first + excess - 1] + windowMs - now;
  }

  /** Index of the first finished request later than `t` (binary search: the array is sorted). */
  private firstAfter(t: number): number {
    let lo = 0;
    let hi = this.finished.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.finished[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private prune(now: number): void {
    const expired = this.firstAfter(now - HOUR_MS);
    if (expired > 0) this.finished.splice(0, expired);
  }

  private pauseFor(headers: ResponseHeaders | undefined, now: number): void {
    const seconds = Number(header(headers, "retry-after"));
    // Without a usable retry-after, one sixth of a minute's window: long enough for a burst to drain a little.
    const waitMs = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : MINUTE_MS / 6;
    this.pausedUntil = Math.max(this.pausedUntil, now + waitMs);
  }

  private readBudget(headers: ResponseHeaders | undefined, now: number, startedAt: number, startedSince: number): void {
    const remaining = Number(header(headers, "ratelimit-remaining"));
    const reset = Number(header(headers, "ratelimit-reset"));
    if (!Number.isFinite(remaining)) return;
    // Every request the server counted in the minute before this one arrived finished after
    // `startedAt` minus a minute, or is still in flight: that many are ours.
    const ownInServerMinute = this.finished.length - this.firstAfter(startedAt - MINUTE_MS) + this.inFlight;
    if (remaining <= 0 && ownInServerMinute >= this.limits.perMinute) {
      // DigitalOcean reports 0 while the per-minute limit is reached; our own requests explain
      // that, and our minute window already waits until the oldest of them expires.
      this.serverBudget = undefined;
      return;
    }
    // The answer may predate requests still in flight or started since: assume the server has not
    // counted any of them yet. That may count one twice, which only matters when the budget is nearly spent.
    this.serverBudget = { remaining: remaining - this.inFlight - startedSince, probeAt: Math.min(Number.isFinite(reset) ? reset * 1000 : Infinity, now + MINUTE_MS) };
  }
}

function header(headers: ResponseHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}
