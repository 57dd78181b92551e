import type { Action, ImageActionRequest } from "../../api/types";

/**
 * Which of an image's actions is the one a request asks for. Pure: the one
 * owner of matching, for the client (after an ambiguous POST) and for the
 * converge logic (joining an action already running or done).
 */

/**
 * How far before our POST an action found afterwards may have started and still
 * be ours: DigitalOcean's `started_at` has whole seconds only, and this
 * machine's clock may run a little ahead of DigitalOcean's. A minute covers
 * both; a stale match inside it would in any case be an identical action, which
 * DigitalOcean would have refused to start twice (422).
 */
export const START_TIME_TOLERANCE_MS = 60_000;

/** True when `action` does what `request` would do on its image: the same type, and for a transfer the same target region. */
export function matchesRequest(action: Action, request: ImageActionRequest): boolean {
  if (action.type !== request.type) return false;
  return request.type !== "transfer" || action.region_slug === request.region;
}

/** The newest action with `status` that does what `request` asks, in `actions` listed newest first as DigitalOcean lists them. */
export function newestMatching(actions: readonly Action[], request: ImageActionRequest, status: Action["status"]): Action | undefined {
  return actions.find((action) => action.status === status && matchesRequest(action, request));
}

/**
 * Whether `action`, found on the image after an ambiguous POST that was sent at
 * `sentAt` (clock ms), is the action that POST asked for: it does what was
 * asked, started no earlier than shortly before the POST, and is not errored
 * (an errored one would leave the work undone, so we start anew).
 */
export function isActionStartedBy(action: Action, request: ImageActionRequest, sentAt: number): boolean {
  if (!matchesRequest(action, request)) return false;
  if (action.status !== "in-progress" && action.status !== "completed") return false;
  return startedNoEarlierThan(action, sentAt - START_TIME_TOLERANCE_MS);
}

/** True when the action's `started_at` is at or after `t` (clock ms). */
export function startedNoEarlierThan(action: Action, t: number): boolean {
  const started = Date.parse(action.started_at);
  return Number.isFinite(started) && started >= t;
}

/**
 * The action an ambiguous POST sent at `sentAt` asked for, if the server
 * created it, from the image's actions listed newest first (read only as far
 * as needed).
 */
export async function findActionStartedBy(actionsNewestFirst: AsyncIterable<Action>, request: ImageActionRequest, sentAt: number): Promise<Action | undefined> {
  for await (const action of actionsNewestFirst) {
    if (isActionStartedBy(action, request, sentAt)) return action;
    // Newest first: once actions predate the POST, ours cannot come later in the list.
    if (!startedNoEarlierThan(action, sentAt - START_TIME_TOLERANCE_MS)) return undefined;
  }
  return undefined;
}
