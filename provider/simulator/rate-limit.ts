import type { Clock } from "../clock";

/** Per-token request limits over sliding windows, as DigitalOcean applies them. */
export interface RateLimitConfig {
  perMinute: number;
  perHour: number;
}

/** DigitalOcean's limits: 250 requests per minute and 5,000 per hour, per token. */
export const DEFAULT_RATE_LIMIT: RateLimitConfig = { perMinute: 250, perHour: 5000 };

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** The outcome of counting one request: the headers to send and, when refused, how long to wait. */
export interface RateLimitResult {
  headers: { "ratelimit-limit": string; "ratelimit-remaining": string; "ratelimit-reset": string };
  /** Set when the request is refused with 429: whole seconds, at least 1. */
  retryAfterSeconds?: number;
}

/**
 * Sliding-window limiter: each counted request stays counted for one hour (and
 * one minute for the burst limit) after it was made, measured on the Clock.
 * Refused requests are not counted.
 */
export class RateLimiter {
  /** Clock ms of each counted request, oldest first, per token. */
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly config: RateLimitConfig,
    private readonly clock: Clock,
  ) {}

  /** Counts a request for `token` unless a limit is reached; then it returns `retryAfterSeconds`. */
  take(token: string): RateLimitResult {
    const now = this.clock.now();
    const hits = this.prune(token, now);
    const inMinute = hits.filter((t) => t > now - MINUTE);
    let retryAfterMs: number | undefined;
    if (hits.length >= this.config.perHour) {
      retryAfterMs = hits[hits.length - this.config.perHour] + HOUR - now;
    } else if (inMinute.length >= this.config.perMinute) {
      retryAfterMs = inMinute[inMinute.length - this.config.perMinute] + MINUTE - now;
    } else {
      hits.push(now);
      inMinute.push(now);
    }
    const result: RateLimitResult = { headers: this.headers(hits, inMinute, now) };
    if (retryAfterMs !== undefined) result.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    return result;
  }

  /** The headers for `token` without counting a request (for answers that use no quota). */
  peek(token: string): RateLimitResult {
    const now = this.clock.now();
    const hits = this.prune(token, now);
    return { headers: this.headers(hits, hits.filter((t) => t > now - MINUTE), now) };
  }

  private prune(token: string, now: number): number[] {
    const hits = (this.hits.get(token) ?? []).filter((t) => t > now - HOUR);
    this.hits.set(token, hits);
    return hits;
  }

  private headers(hits: number[], inMinute: number[], now: number): RateLimitResult["headers"] {
    // Like DigitalOcean, remaining reports the hourly quota but drops to 0 while the burst limit is hit.
    const burstHit = inMinute.length >= this.config.perMinute;
    const remaining = burstHit ? 0 : Math.max(0, this.config.perHour - hits.length);
    const resetMs = hits.length > 0 ? hits[0] + HOUR : now;
    return {
      "ratelimit-limit": String(this.config.perHour),
      "ratelimit-remaining": String(remaining),
      "ratelimit-reset": String(Math.ceil(resetMs / 1000)),
    };
  }
}
