import { DigitalOceanError } from "../../errors";
import type { Action } from "../../api/types";
import { describeAction } from "./describe-action";

/**
 * The wait's deadline passed with the action still in progress. The message
 * states what happened only: the caller knows what running again does and
 * says it once.
 */
export class ActionTimeoutError extends DigitalOceanError {
  constructor(
    /** The action as last seen. */
    readonly action: Action,
    readonly waitedMs: number,
  ) {
    super(
      `Gave up waiting for DigitalOcean action ${action.id} (${describeAction(action)}) after ${formatWaitTime(waitedMs)}; ` +
        `it was still ${action.status}, and goes on at DigitalOcean.`,
    );
  }
}

/** Spelled out for an error message, e.g. `45 s` or `2 min 5 s` (progress lines use the compact `2m05s`). */
function formatWaitTime(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
