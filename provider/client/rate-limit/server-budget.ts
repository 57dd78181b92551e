import { MINUTE_MS } from "./windows";

/** Response headers as undici gives them. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/**
 * Without a usable `retry-after`, a 429 pauses for a sixth of a minute's
 * window: long enough for a burst to drain a little.
 */
const DEFAULT_RETRY_AFTER_MS = MINUTE_MS / 6;

/** What this process knows of its own requests when an answer arrives, to tell them apart from other processes'. */
export interface OwnRequests {
  /** Ours that the server may have counted in the minute before this answer: finished since its request started minus a minute, or still in flight. */
  inServerMinute: number;
  /** Ours still in flight. */
  inFlight: number;
  /** Ours started after the answered one. */
  startedSince: number;
}

/**
 * What DigitalOcean's answers say about the token's budget, which other
 * processes spend too: `ratelimit-remaining` / `ratelimit-reset` on every
 * answer, `retry-after` on a 429. Our own windows only count our own requests;
 * this slows us down when someone else spends the token.
 */
export class ServerBudget {
  /** Clock ms before which nothing may start: a 429 asked us to wait until then. */
  private pausedUntil = 0;
  /**
   * The server's last word on what the token has left, minus what we started
   * since, and when to try again once it is spent (`probeAt`).
   */
  private estimate: { remaining: number; probeAt: number } | undefined;

  /**
   * Clock ms from `now` until the server's word lets a request start: 0 for
   * now, Infinity for when an answer in flight brings news. Once the budget is
   * spent, one request may go at `probeAt` to learn whether a slot freed.
   */
  delay(now: number, inFlight: number): number {
    const paused = Math.max(0, this.pausedUntil - now);
    const estimate = this.estimate;
    if (!estimate || estimate.remaining > 0 || now >= estimate.probeAt) return paused;
    // An answer in flight may say a slot freed before probeAt.
    return Math.max(paused, inFlight > 0 ? Infinity : estimate.probeAt - now);
  }

  /** Counts a request starting at `now` against the budget; one starting once the budget is spent is the probe, and the next may go a minute later at the earliest. */
  started(now: number): void {
    const estimate = this.estimate;
    if (!estimate) return;
    if (estimate.remaining <= 0) {
      estimate.remaining = 0;
      estimate.probeAt = now + MINUTE_MS;
    } else {
      estimate.remaining -= 1;
    }
  }

  /** A 429: the server did not count the request, and says when to send again. Every request waits until then. */
  refused(headers: ResponseHeaders | undefined, now: number): void {
    const seconds = Number(header(headers, "retry-after"));
    const waitMs = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : DEFAULT_RETRY_AFTER_MS;
    this.pausedUntil = Math.max(this.pausedUntil, now + waitMs);
  }

  /** Any other answer: reads what the token has left, if the server said. */
  answered(headers: ResponseHeaders | undefined, now: number, own: OwnRequests, perMinute: number): void {
    const remaining = Number(header(headers, "ratelimit-remaining"));
    const reset = Number(header(headers, "ratelimit-reset"));
    if (!Number.isFinite(remaining)) return;
    if (remaining <= 0 && own.inServerMinute >= perMinute) {
      // DigitalOcean reports 0 while the per-minute limit is reached; our own requests explain
      // that, and our minute window already waits until the oldest of them expires.
      this.estimate = undefined;
      return;
    }
    // The answer may predate requests still in flight or started since: assume the server has
    // counted none of them yet. That may count one twice, which only matters when the budget is
    // nearly spent. Once spent, a slot frees when the oldest counted request expires
    // (`ratelimit-reset`, epoch seconds), and within a minute when only the burst limit was hit,
    // whichever comes first.
    const resetAt = Number.isFinite(reset) ? reset * 1000 : Infinity;
    this.estimate = { remaining: remaining - own.inFlight - own.startedSince, probeAt: Math.min(resetAt, now + MINUTE_MS) };
  }
}

/** A response header's value, the first when it came more than once. */
export function header(headers: ResponseHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}
