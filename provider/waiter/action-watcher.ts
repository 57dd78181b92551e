import type { Clock } from "../clock";
import type { Action } from "../api/types";
import { ActionErroredError, ActionTimeoutError } from "./errors";
import type { ActionPoller, Watch } from "./poller";
import { MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS } from "./policy/poll-interval";

/** How long and how to wait for one action. */
export interface WaitOptions {
  /** Clock ms to wait at most; the action itself goes on at DigitalOcean after that. */
  timeoutMs: number;
  /**
   * Clock ms the caller's budget started, when this wait is one of several
   * sharing it: a timeout then reports the time waited since then, which is
   * what the caller's budget counts, not since this wait began.
   */
  since?: number;
  signal?: AbortSignal;
  /** Called with every fresh view of the action while waiting. */
  onProgress?: (p: { action: Action; elapsedMs: number }) => void;
}

/** Options of an ActionWatcher. */
export interface ActionWatcherOptions {
  /** First poll interval, in clock ms. Default 2 s. */
  minIntervalMs?: number;
  /** Longest poll interval, in clock ms. Default 30 s. */
  maxIntervalMs?: number;
}

/**
 * Waits for DigitalOcean actions to finish, on the poller's clock. Every wait
 * of every watcher built on one poller is served by it, so any number of
 * concurrent waits costs about one request per polling tick.
 */
export class ActionWatcher {
  private readonly clock: Clock;
  private readonly poller: ActionPoller;
  private readonly minIntervalMs: number;
  private readonly maxIntervalMs: number;

  constructor(poller: ActionPoller, options: ActionWatcherOptions = {}) {
    this.poller = poller;
    this.clock = poller.clock;
    this.minIntervalMs = options.minIntervalMs ?? MIN_POLL_INTERVAL_MS;
    this.maxIntervalMs = Math.max(this.minIntervalMs, options.maxIntervalMs ?? MAX_POLL_INTERVAL_MS);
  }

  /**
   * Resolves with the completed action. Rejects with ActionErroredError when it
   * ends errored, ActionTimeoutError when `timeoutMs` passes first, the signal's
   * reason when aborted, or an ApiError when DigitalOcean refuses to tell (e.g.
   * the action does not exist).
   */
  waitFor(action: Action, options: WaitOptions): Promise<Action> {
    if (action.status === "completed") return Promise.resolve(action);
    if (action.status === "errored") return Promise.reject(new ActionErroredError(action));
    const { signal, onProgress } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);

    return new Promise<Action>((resolve, reject) => {
      const startedAt = this.clock.now();
      const deadline = new AbortController();
      let lastSeen = action;
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        this.poller.remove(watch);
        deadline.abort();
        signal?.removeEventListener("abort", onAbort);
        outcome();
      };
      const onAbort = () => settle(() => reject(signal?.reason));

      const watch: Watch = {
        actionId: action.id,
        minIntervalMs: this.minIntervalMs,
        maxIntervalMs: this.maxIntervalMs,
        intervalMs: this.minIntervalMs,
        dueAt: startedAt + this.minIntervalMs,
        observe: (seen) => {
          lastSeen = seen;
          try {
            onProgress?.({ action: seen, elapsedMs: this.clock.now() - startedAt });
          } catch (error) {
            // A failing callback ends this wait only, not the others the poller serves.
            settle(() => reject(error));
            return;
          }
          if (seen.status === "completed") settle(() => resolve(seen));
          else if (seen.status === "errored") settle(() => reject(new ActionErroredError(seen)));
        },
        fail: (error) => settle(() => reject(error)),
      };

      signal?.addEventListener("abort", onAbort, { once: true });
      this.clock.sleep(options.timeoutMs, deadline.signal).then(
        () => settle(() => reject(new ActionTimeoutError(lastSeen, this.clock.now() - (options.since ?? startedAt)))),
        () => undefined,
      );
      this.poller.add(watch);
    });
  }
}
