import type { Clock } from "../../clock";

/**
 * How the pacer's loop sleeps for what the head of the queue waits for, yet
 * wakes early when something changes that may shorten that wait: a slot
 * freed, a new head, an answer with news. A call while nobody sleeps is
 * remembered, so the next sleep returns at once instead of missing it.
 */
export class WakeUp {
  private called = false;
  private wakeSleeper: (() => void) | undefined;

  /** Something changed: wake the sleeper, or the next one. */
  call(): void {
    this.called = true;
    this.wakeSleeper?.();
  }

  /** Resolves after `ms` of `clock` time (never, for Infinity) or at the next call, whichever is first; its timer goes with it. */
  async sleep(clock: Clock, ms: number): Promise<void> {
    if (!this.called) {
      const timer = new AbortController();
      await new Promise<void>((resolve) => {
        this.wakeSleeper = resolve;
        if (Number.isFinite(ms)) clock.sleep(ms, timer.signal).then(resolve, () => undefined);
      });
      this.wakeSleeper = undefined;
      timer.abort();
    }
    this.called = false;
  }
}
