/**
 * Time as the package sees it. Everything that waits (rate-limit windows, retry
 * backoff, action polling, wait deadlines) and the simulator's action durations
 * go through a Clock, so a scaled clock can run DigitalOcean's minutes-long
 * timings in milliseconds for tests, benchmarks and the demo while keeping every
 * ratio between them intact.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, on this clock's time line. */
  now(): number;
  /** Resolves after `ms` of this clock's time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Real milliseconds per clock millisecond: 1 for the wall clock, 0.01 runs 100 times faster. */
  readonly scale: number;
}

/**
 * Where every scaled clock agrees with the wall clock: a fixed instant, so a
 * simulator and a provider process started apart (even on either side of
 * midnight) read the same time and the action timestamps one writes mean the
 * same to the other. Fixed rather than "now" because nothing else is shared
 * between the two processes but the scale. A scaled calendar runs ahead of the
 * real one (at 0.001, a thousand days a day), which keeps ISO timestamps within
 * four-digit years for about eight years from this instant at that scale.
 */
export const SCALED_CLOCK_ANCHOR = Date.UTC(2026, 0, 1);

/**
 * A clock whose time runs `1 / scale` times faster than the wall clock.
 * `scaledClock(1)` is the wall clock; any other scale agrees with it at
 * SCALED_CLOCK_ANCHOR.
 */
export function scaledClock(scale: number): Clock {
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new RangeError(`time scale must be a positive number, got ${scale}`);
  }
  return {
    scale,
    now: () => (scale === 1 ? Date.now() : SCALED_CLOCK_ANCHOR + (Date.now() - SCALED_CLOCK_ANCHOR) / scale),
    sleep: (ms, signal) => sleepReal(Math.max(0, ms) * scale, signal),
  };
}

export const wallClock: Clock = scaledClock(1);

function sleepReal(realMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, realMs);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
