import type { Clock } from "../../provider/clock";

interface Sleeper {
  wakeAt: number;
  order: number;
  resolve: () => void;
}

/**
 * A clock that only moves when the test moves it. `sleep` resolves when
 * `advance` (or `runUntil`) passes its wake time, so a test of the limiter, the
 * poller or the backoff asserts what happens at which clock time without
 * depending on how fast the machine runs.
 */
export class ManualClock implements Clock {
  /** Manual time has no relation to real time; 1 keeps timeouts derived from it at their real values. */
  readonly scale = 1;
  private time: number;
  private sleepers: Sleeper[] = [];
  private created = 0;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const sleeper: Sleeper = { wakeAt: this.time + Math.max(0, ms), order: this.created++, resolve: () => undefined };
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason);
      };
      sleeper.resolve = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.sleepers.push(sleeper);
    });
  }

  /** How many sleeps are waiting for time to move. */
  get pendingSleeps(): number {
    return this.sleepers.length;
  }

  /**
   * Moves time forward by `ms`, waking each sleeper due on the way at its own
   * wake time, in order, and letting the code it resumes run before the next.
   */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      await settleMicrotasks();
      const next = this.nextDue(target);
      if (!next) break;
      this.time = Math.max(this.time, next.wakeAt);
      this.sleepers = this.sleepers.filter((s) => s !== next);
      next.resolve();
    }
    this.time = target;
    await settleMicrotasks();
  }

  /**
   * Moves time from one wake-up to the next until `promise` settles, and
   * returns its outcome; fails after `maxWakeUps` wake-ups or when nothing is
   * left asleep and the promise is still pending (a wait that can never end).
   */
  async runUntil<T>(promise: Promise<T>, maxWakeUps = 10_000): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => {
      settled = true;
    });
    watched.catch(() => undefined);
    for (let wakeUps = 0; ; wakeUps++) {
      await settleMicrotasks();
      if (settled) return watched;
      const next = this.nextDue(Number.POSITIVE_INFINITY);
      if (!next) throw new Error("runUntil: the promise is pending and nothing is asleep, so no amount of time settles it");
      if (wakeUps >= maxWakeUps) throw new Error(`runUntil: still pending after ${maxWakeUps} wake-ups`);
      await this.advance(next.wakeAt - this.time);
    }
  }

  private nextDue(target: number): Sleeper | undefined {
    let next: Sleeper | undefined;
    for (const s of this.sleepers) {
      if (s.wakeAt > target) continue;
      if (!next || s.wakeAt < next.wakeAt || (s.wakeAt === next.wakeAt && s.order < next.order)) next = s;
    }
    return next;
  }
}

/** Lets every queued promise callback run (a macrotask turn drains the microtask queue). */
function settleMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
