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

const DAY_MS = 86_400_000;

/**
 * A clock whose time runs `1 / scale` times faster than the wall clock.
 * `scaledClock(1)` is the wall clock. Scaled clocks agree with the wall clock at
 * the start of the current UTC day, so two processes with the same scale (a
 * simulator and a provider process started apart) read the same time, and the
 * action timestamps one writes mean the same to the other.
 */
export function scaledClock(scale: number): Clock {
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new RangeError(`time scale must be a positive number, got ${scale}`);
  }
  const realStart = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  return {
    scale,
    now: () => (scale === 1 ? Date.now() : realStart + (Date.now() - realStart) / scale),
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
