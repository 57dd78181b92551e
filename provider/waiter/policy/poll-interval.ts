/**
 * How often to ask DigitalOcean about an action in flight. Pure: the poller
 * does the waiting on its Clock.
 */

/**
 * First look about 2 s after the wait starts: DigitalOcean image actions take
 * tens of seconds at the very least, so polling sooner only spends rate limit,
 * while a quick first look still notices an action that fails at once.
 */
export const MIN_POLL_INTERVAL_MS = 2_000;

/**
 * Never more than 30 s between looks: a transfer or convert of many minutes is
 * then noticed finishing within half a minute, at 2 requests a minute per
 * poller, under 1% of the 250/minute limit.
 */
export const MAX_POLL_INTERVAL_MS = 30_000;

/**
 * Each look that finds the action still running waits 1.5 times longer:
 * reaching the 30 s cap after about seven looks (~1 min), so short actions are
 * seen finishing soon while long ones poll slowly.
 */
const POLL_BACKOFF_FACTOR = 1.5;

/** The wait after a look that found the action still running, having waited `previousMs` before it. */
export function nextPollInterval(previousMs: number, bounds: { minMs: number; maxMs: number }): number {
  return Math.min(bounds.maxMs, Math.max(bounds.minMs, previousMs * POLL_BACKOFF_FACTOR));
}
