/** Requests allowed per token over sliding windows. */
export interface RateLimits {
  perMinute: number;
  perHour: number;
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;

/**
 * When each counted request finished (clock ms, oldest first), kept for the
 * longest window: an hour. Answers how many fall in a window ending now, and
 * how long until one more fits under a window's limit.
 */
export class FinishedRequests {
  private readonly times: number[] = [];

  /** Counts a request that finished at `now`, and forgets those no window reaches any more. */
  record(now: number): void {
    this.times.push(now);
    const expired = this.firstAfter(now - HOUR_MS);
    if (expired > 0) this.times.splice(0, expired);
  }

  /** Requests that finished after `t`. */
  countAfter(t: number): number {
    return this.times.length - this.firstAfter(t);
  }

  /**
   * Clock ms from `now` until one more request may start under `limit` per
   * `windowMs`, with `inFlight` requests started but not yet counted: 0 when it
   * may start now, Infinity when only an in-flight request finishing can tell.
   *
   * The window holds `counted` requests, and every one in flight will count too
   * once it finishes, so one more fits when counted + inFlight + 1 <= limit.
   * Otherwise `excess` = counted + inFlight + 1 - limit of the counted ones must
   * leave the window first; they leave oldest first, the k-th oldest at its
   * finish time plus the window's length. When the excess is more than the
   * counted ones, even an empty window would not do: the in-flight ones alone
   * fill it.
   */
  delayUnder(now: number, windowMs: number, limit: number, inFlight: number): number {
    const first = this.firstAfter(now - windowMs);
    const counted = this.times.length - first;
    const excess = counted + inFlight + 1 - limit;
    if (excess <= 0) return 0;
    if (excess > counted) return Infinity;
    return this.times[first + excess - 1] + windowMs - now;
  }

  /** Clock ms from `now` until the oldest request in the window ending now leaves it; Infinity when it holds none. */
  untilOldestLeaves(now: number, windowMs: number): number {
    const first = this.firstAfter(now - windowMs);
    return first < this.times.length ? this.times[first] + windowMs - now : Infinity;
  }

  /** Index of the first time later than `t` (binary search: the times are sorted). */
  private firstAfter(t: number): number {
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
