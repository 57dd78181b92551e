import { scaledClock, type Clock } from "../../provider/clock";

/**
 * A scaled clock a test can stop. Given to the simulator alone (the provider
 * keeps its own clock of the same scale), a pause holds every action where it
 * is: a wait in the provider runs out while the action it waits for stays in
 * progress for as long as the test looks, however slow the machine. Resuming
 * returns to the scaled time, so the simulator and the provider agree again.
 */
export class PausableClock implements Clock {
  private readonly running: Clock;
  private pausedAt: number | undefined;

  constructor(readonly scale: number) {
    this.running = scaledClock(scale);
  }

  /** The running clock's: a provider takes it, and so reads the running time while the simulator's is paused. */
  get anchorMs(): number | undefined {
    return this.running.anchorMs;
  }

  now(): number {
    return this.pausedAt ?? this.running.now();
  }

  /** On the running clock: the simulator sleeps only to delay answers (injected latency), which a pause is not meant to hold. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.running.sleep(ms, signal);
  }

  pause(): void {
    this.pausedAt ??= this.running.now();
  }

  resume(): void {
    this.pausedAt = undefined;
  }

  /** Runs `body` with the clock paused, resuming it however `body` ends. */
  async paused<T>(body: () => Promise<T>): Promise<T> {
    this.pause();
    try {
      return await body();
    } finally {
      this.resume();
    }
  }
}
