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
  /**
   * For a scaled clock, the instant where it agrees with the wall clock: what
   * another process needs to read the same time line (see scaledClock).
   */
  readonly anchorMs?: number;
}

/**
 * A clock whose time runs `1 / scale` times faster than the wall clock, and
 * agrees with it at `anchorMs`: by default the moment it is made, so its
 * timestamps start at the real time (a simulator's, from its start). Two
 * processes agree when they share the anchor: the provider takes the
 * simulator's (see simulatorAnchor in session.ts). `scaledClock(1)` is the
 * wall clock.
 */
export function scaledClock(scale: number, anchorMs: number = Date.now()): Clock {
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new RangeError(`time scale must be a positive number, got ${scale}`);
  }
  if (scale === 1) return { scale, now: () => Date.now(), sleep: (ms, signal) => sleepReal(Math.max(0, ms), signal) };
  return {
    scale,
    anchorMs,
    now: () => anchorMs + (Date.now() - anchorMs) / scale,
    sleep: (ms, signal) => sleepReal(Math.max(0, ms) * scale, signal),
  };
}

/**
 * The anchor of a clock of `scale` that reads `clockMs` when the wall clock
 * reads `wallClockMs`: what a process needs to agree with another's scaled
 * clock from one reading of it.
 */
export function anchorOf(scale: number, clockMs: number, wallClockMs: number): number {
  return scale === 1 ? wallClockMs : (clockMs * scale - wallClockMs) / (scale - 1);
}

/**
 * Simulators running in this process, by origin: a provider session made in
 * the same process reads their clock directly, as a request to them would wait
 * on this very process. Kept under a global symbol so the sources and the
 * built package, when both are loaded, share one registry.
 */
const RUNNING_SIMULATORS = Symbol.for("pulumi-digitalocean-image-actions.running-simulators");

function runningSimulators(): Map<string, Clock> {
  const holder = globalThis as { [RUNNING_SIMULATORS]?: Map<string, Clock> };
  return (holder[RUNNING_SIMULATORS] ??= new Map());
}

/**
 * Records the clock of a simulator serving `origin` in this process; the
 * returned function forgets it.
 * @internal
 */
export function registerSimulatorClock(origin: string, clock: Clock): () => void {
  runningSimulators().set(origin, clock);
  return () => {
    if (runningSimulators().get(origin) === clock) runningSimulators().delete(origin);
  };
}

/**
 * The clock of a simulator serving `endpoint` in this process, if one does.
 * @internal
 */
export function simulatorClockAt(endpoint: string): Clock | undefined {
  return runningSimulators().get(new URL(endpoint).origin);
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
