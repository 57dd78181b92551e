import type { Clock } from "../../clock";
import { OtherProcessesSpending } from "./others";
import { PriorityQueue, type RequestPriority } from "./queue";
import { ServerBudget, type ResponseHeaders } from "./server-budget";
import { WakeUp } from "./wake-up";
import { FinishedRequests, HOUR_MS, MINUTE_MS, type RateLimits } from "./windows";

/** DigitalOcean's limits per token: 250 requests in any minute, 5,000 in any hour. */
const DIGITALOCEAN_RATE_LIMITS: RateLimits = { perMinute: 250, perHour: 5_000 };

/**
 * Requests an hour kept for `watch` requests: a shared poller at its 30 s cap
 * sends 120 an hour, and the rest covers lookups of actions that fell off the
 * first page of the account's action list. 4% of DigitalOcean's 5,000.
 */
const WATCH_RESERVE_PER_HOUR = 200;

/**
 * Requests in flight per token at most. Beyond what the connection pool can
 * send at once, requests would only queue inside undici, and since a request
 * counts from its answer, time spent queued would be wasted window.
 */
export const MAX_IN_FLIGHT = 16;

/**
 * Weight of each new round trip in the running average: a fifth follows a
 * change in latency within a few answers without letting one slow answer
 * swing the margin kept for other processes' requests in flight.
 */
const ROUND_TRIP_WEIGHT = 0.2;

/** A granted request slot; release it exactly once when the attempt is over. */
export interface SendPermit {
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

/** A request waiting for a slot. */
interface QueuedRequest {
  deadline: number;
  priority: RequestPriority;
  resolve(permit: SendPermit): void;
  reject(error: unknown): void;
  /** Stops listening to the caller's abort signal. */
  detach(): void;
}

/**
 * Keeps one token's requests under DigitalOcean's sliding-window limits, for
 * every client in the process that uses the token (the session shares one).
 *
 * A request counts from the moment its answer arrives: that is never earlier
 * than when DigitalOcean counted it, so the windows here can only be stricter
 * than the server's and the client runs right at the limit without a safety
 * margin. Requests still in flight count too. A 429 was not counted by the
 * server, so it is not counted here either; its `retry-after` pauses all
 * requests instead. `ratelimit-remaining` reports what the token has left
 * across every process using it: when another process spends it, that budget
 * runs out before our own windows fill, and we wait for `ratelimit-reset`.
 * How fast it falls beyond our own requests tells what the others spent in
 * the last minute, and we leave them that share of the minute, so processes
 * on one token share it without learning of each other from 429s.
 */
export class RequestPacer {
  private readonly finished = new FinishedRequests();
  private readonly server = new ServerBudget();
  private readonly others = new OtherProcessesSpending();
  private readonly queue = new PriorityQueue<QueuedRequest>();
  private readonly wakeUp = new WakeUp();
  private inFlight = 0;
  /** Requests started so far; tells how many started after a given one. */
  private startedCount = 0;
  private pumping = false;
  /** Running average of the time from a slot's grant to its answer (clock ms); 0 until an answer comes. */
  private roundTripMs = 0;
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
  acquire(options: { deadline: number; signal?: AbortSignal; priority?: RequestPriority }): Promise<SendPermit> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<SendPermit>((resolve, reject) => {
      const onAbort = () => {
        this.remove(request);
        reject(signal?.reason);
      };
      const request: QueuedRequest = {
        deadline: options.deadline,
        priority: options.priority ?? "normal",
        resolve,
        reject,
        detach: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      // A new head may wait for something else than the old one did.
      if (this.queue.add(request)) this.wakeUp.call();
      this.pump();
    });
  }

  /**
   * Counts, for tests.
   * @internal
   */
  usage(): { lastMinute: number; lastHour: number; inFlight: number; queued: number; othersLastMinute: number } {
    const now = this.clock.now();
    return {
      lastMinute: this.finished.countAfter(now - MINUTE_MS),
      lastHour: this.finished.countAfter(now - HOUR_MS),
      inFlight: this.inFlight,
      queued: this.queue.size,
      othersLastMinute: this.others.lastMinute(now, this.limits.perMinute),
    };
  }

  private remove(request: QueuedRequest): void {
    const wasHead = this.queue.remove(request);
    request.detach();
    // The loop sleeps for what the head waits for (up to an hour): with the head gone, that sleep may be moot.
    if (wasHead) this.wakeUp.call();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.grantInOrder().finally(() => {
      this.pumping = false;
      // A request may have arrived between the loop's last check and here.
      if (this.queue.size > 0) this.pump();
    });
  }

  /** Grants slots in queue order, sleeping on the Clock while the windows are full. */
  private async grantInOrder(): Promise<void> {
    for (let head = this.queue.head; head; head = this.queue.head) {
      const now = this.clock.now();
      const delay = this.delayBeforeNextStart(now, head.priority);
      if (delay === 0) {
        this.queue.shift();
        head.detach();
        head.resolve(this.start(now));
        continue;
      }
      // Everyone queued waits at least `delay`: fail now those whose deadline it passes.
      if (Number.isFinite(delay)) {
        for (const late of this.queue.filter((request) => now + delay > request.deadline)) {
          this.remove(late);
          late.reject(new RateLimitWaitTooLong(delay, late.deadline - now));
        }
        if (this.queue.size === 0) return;
      }
      await this.wakeUp.sleep(this.clock, delay);
    }
  }

  private start(now: number): SendPermit {
    this.inFlight += 1;
    this.server.started(now);
    const startedAt = now;
    const startIndex = ++this.startedCount;
    let released = false;
    return {
      release: ({ status, headers }) => {
        if (released) return;
        released = true;
        this.inFlight -= 1;
        const answeredAt = this.clock.now();
        if (status !== undefined) this.roundTripMs += (answeredAt - startedAt - this.roundTripMs) * (this.roundTripMs === 0 ? 1 : ROUND_TRIP_WEIGHT);
        if (status === 429) {
          this.server.refused(headers, answeredAt);
          this.others.refused(startIndex);
        } else {
          this.finished.record(answeredAt);
          this.others.answered(startIndex, headers, answeredAt);
          // Every request the server counted in the minute before this one arrived finished after
          // `startedAt` minus a minute, or is still in flight: that many are ours.
          const own = { inServerMinute: this.finished.countAfter(startedAt - MINUTE_MS) + this.inFlight, inFlight: this.inFlight, startedSince: this.startedCount - startIndex };
          this.server.answered(headers, answeredAt, own, this.limits.perMinute);
        }
        this.wakeUp.call();
      },
    };
  }

  /**
   * 0 when a request of `priority` may start at `now`; else how long to wait
   * (Infinity: until a request in flight finishes). The longest of: the pool
   * being full, each window's wait (ordinary requests leave the watch reserve
   * of the hour untouched; the minute is shared with other processes), and
   * the server's word on the token's budget.
   */
  private delayBeforeNextStart(now: number, priority: RequestPriority): number {
    const hourLimit = priority === "watch" ? this.limits.perHour : this.limits.perHour - this.watchReserve;
    return Math.max(
      this.inFlight >= this.maxInFlight ? Infinity : 0,
      this.minuteDelay(now),
      this.finished.delayUnder(now, HOUR_MS, hourLimit, this.inFlight),
      this.server.delay(now, this.inFlight),
    );
  }

  /**
   * The minute window's wait: our requests, those in flight, and what other
   * processes spent in the last minute, under the per-minute limit. Our own
   * requests leaving the window or the others' estimate falling may end it;
   * the sooner of the two is when to look again.
   *
   * A first request in flight needs only that: its answer brings fresh news
   * of the others, however long we have waited. More in flight at once must
   * also leave room for the others' requests in flight, which no answer shows
   * yet; and as every process sees about the same room left in the minute and
   * would fill it at once, we take only our share of it, our part of the
   * minute's requests. The shares of all processes add up to the room without
   * any knowing how many there are, and a process that has sent little yet
   * grows its share one request in flight at a time.
   */
  private minuteDelay(now: number): number {
    const { perMinute } = this.limits;
    const others = this.others.lastMinute(now, perMinute);
    if (others === 0) return this.finished.delayUnder(now, MINUTE_MS, perMinute, this.inFlight);
    const untilOthersChange = this.others.untilNextChange(now);
    const delay = Math.min(this.finished.delayUnder(now, MINUTE_MS, perMinute - others, this.inFlight), untilOthersChange);
    if (delay > 0 || this.inFlight === 0) return delay;
    const own = this.finished.countAfter(now - MINUTE_MS);
    const room = perMinute - others - this.others.inFlight(now, this.roundTripMs, perMinute) - own;
    if (this.inFlight + 1 <= (room * own) / (own + others)) return 0;
    // The room grows when our oldest request or the others' oldest sample leaves the minute; a release wakes us too.
    return Math.min(this.finished.untilOldestLeaves(now, MINUTE_MS), untilOthersChange);
  }
}
