import type { Action } from "../api/types";
import type { Clock } from "../clock";

/** Where reconcile logic reports what it does; the dynamic provider routes it to Pulumi's diagnostics. */
export type Log = (message: string) => void;

/**
 * Pulumi shows a provider's console output as it arrives; one line a minute
 * keeps a long wait visibly alive without flooding the update's log.
 */
const PROGRESS_EVERY_MS = 60_000;

/** A progress callback for the action watcher that logs at most once per interval. */
export function throttledProgress(label: string, log: Log, clock: Clock): (p: { action: Action; elapsedMs: number }) => void {
  let lastLogged = clock.now();
  return ({ action, elapsedMs }) => {
    const now = clock.now();
    if (now - lastLogged < PROGRESS_EVERY_MS) return;
    lastLogged = now;
    log(`${label}: action ${action.id} ${action.status}, ${formatDuration(elapsedMs)} elapsed`);
  };
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `${minutes}m${String(seconds % 60).padStart(2, "0")}s` : `${seconds}s`;
}
