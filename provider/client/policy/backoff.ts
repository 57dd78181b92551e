/**
 * Retry timing for requests that may be sent again after a transient failure
 * (5xx, reset or dropped connection, timeout). Pure: the caller does the waiting
 * on its Clock.
 */

/**
 * First retry after about one second: load-balancer 502/503s and connection
 * resets at DigitalOcean usually clear within that, and a faster retry mostly
 * hits the same failure.
 */
const BACKOFF_BASE_MS = 1_000;

/** Doubling spreads the attempts over a short outage instead of hammering it. */
const BACKOFF_FACTOR = 2;

/**
 * No single wait beyond 30 s: a longer pause buys little (the outage is then
 * long anyway) and only delays reporting the failure to the user.
 */
export const BACKOFF_CAP_MS = 30_000;

/**
 * Six attempts in all: the waits before jitter add up to about 31 s, enough
 * to ride out a deploy or failover, while a real outage still fails within a
 * minute instead of stalling a `pulumi up`.
 */
export const MAX_ATTEMPTS = 6;

/**
 * Three attempts for a connection that could not be made (refused, host not
 * found, connect timeout): DigitalOcean's API always accepts connections, so
 * this is nearly always a wrong endpoint, and the user should hear so within
 * seconds; two quick retries still ride out a brief network blip.
 */
export const MAX_NOT_SENT_ATTEMPTS = 3;

/**
 * The wait before retry number `retry` (1 for the first retry). "Equal jitter":
 * half the exponential step is fixed, half random, so clients that failed
 * together (e.g. many resources in one `pulumi up`) do not retry in lockstep,
 * yet every retry still waits at least half its step.
 */
export function backoffDelayMs(retry: number, random: () => number = Math.random): number {
  const step = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * BACKOFF_FACTOR ** Math.max(0, retry - 1));
  return step / 2 + random() * (step / 2);
}
