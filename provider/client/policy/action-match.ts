import type { Action, ImageActionRequest } from "../../api/types";

/**
 * How far before our POST an action found afterwards may have started and still
 * be ours: DigitalOcean's `started_at` has whole seconds only, and this
 * machine's clock may run a little ahead of DigitalOcean's. A minute covers
 * both; a stale match inside it would in any case be an identical action, which
 * DigitalOcean would have refused to start twice (422).
 */
export const START_TIME_TOLERANCE_MS = 60_000;

/**
 * Whether `action`, found on the image after an ambiguous POST that was sent at
 * `sentAt` (clock ms), is the action that POST asked for: same type, same target
 * region for a transfer, started no earlier than shortly before the POST, and
 * not errored (an errored one would leave the work undone, so we start anew).
 */
export function isActionStartedBy(action: Action, request: ImageActionRequest, sentAt: number): boolean {
  if (action.type !== request.type) return false;
  if (request.type === "transfer" && action.region_slug !== request.region) return false;
  if (action.status !== "in-progress" && action.status !== "completed") return false;
  return startedNoEarlierThan(action, sentAt - START_TIME_TOLERANCE_MS);
}

/** True when the action's `started_at` is at or after `t` (clock ms). */
export function startedNoEarlierThan(action: Action, t: number): boolean {
  const started = Date.parse(action.started_at);
  return Number.isFinite(started) && started >= t;
}
