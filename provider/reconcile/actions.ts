import { ApiError } from "../client/errors";
import { matchesRequest, newestMatching } from "../client/policy/action-match";
import { DigitalOceanError } from "../errors";
import type { Action, ImageActionRequest } from "../api/types";
import type { OngoingAction, AccountSession } from "../session";
import type { Deadline } from "../waiter/deadline";
import { throttledProgress, type Log } from "./progress";

/** Every action on the image, newest first. */
export async function listImageActions(session: AccountSession, imageId: number): Promise<Action[]> {
  const actions: Action[] = [];
  for await (const action of session.client.listImageActions(imageId)) actions.push(action);
  return actions;
}

/**
 * The newest completed action on the image that does what `request` asks, if
 * any. A scan shared with other images answers when it shows one; when it does
 * not, the action may be older than the scan reaches, and the image's own list tells.
 */
export async function findCompleted(session: AccountSession, imageId: number, request: ImageActionRequest): Promise<Action | undefined> {
  const seen = await session.inFlight.actionsOf(imageId);
  const completed = newestMatching(seen.actions, request, "completed");
  if (completed || seen.complete) return completed;
  return newestMatching(await listImageActions(session, imageId), request, "completed");
}

/**
 * Starts `request` on the image unless the same action is already in flight, or
 * completed since the caller read the image without its result.
 * `known` is what `session.inFlight` answered for the image when the caller just
 * asked (one answer serves every region of a copy). A 422 is DigitalOcean's answer to an impossible
 * action (a backup already converted, a region the image already has); the bundled
 * simulator also gives it to a duplicate of a running action, which real
 * DigitalOcean is not documented to do. Either way, when the image's action list
 * then shows the same action running or done, it is joined instead of failing.
 */
export async function startOrJoin(session: AccountSession, imageId: number, request: ImageActionRequest, log: Log, known?: readonly Action[]): Promise<Action> {
  const key = ongoingKey(imageId, request);
  const ongoing = session.ongoing.get(key);
  if (ongoing) {
    // Another resource of this run asked for the same action a moment ago; DigitalOcean is not
    // documented to refuse a duplicate, and the action list read before may predate its POST.
    const action = await ongoing.started;
    log(`${describeRequest(imageId, request)}: joining action ${action.id} started for another resource in this run`);
    return action;
  }
  const entry: OngoingAction = { started: startOrJoinAtDigitalOcean(session, imageId, request, log, known) };
  session.ongoing.set(key, entry);
  entry.started.then(
    (action) => (entry.actionId = action.id),
    () => forgetOngoing(session, key, (current) => current === entry),
  );
  return entry.started;
}

/** Removes the entry for `key` when `isOurs` says it is the one the caller was part of, not a newer attempt's. */
function forgetOngoing(session: AccountSession, key: string, isOurs: (entry: OngoingAction) => boolean): void {
  const current = session.ongoing.get(key);
  if (current && isOurs(current)) session.ongoing.delete(key);
}

function ongoingKey(imageId: number, request: ImageActionRequest): string {
  return `${imageId} ${request.type}${request.type === "transfer" ? ` ${request.region}` : ""}`;
}

async function startOrJoinAtDigitalOcean(session: AccountSession, imageId: number, request: ImageActionRequest, log: Log, known?: readonly Action[]): Promise<Action> {
  const seen = known ?? (await session.inFlight.actionsOf(imageId)).actions;
  const joinable = actionToJoin(seen, request);
  if (joinable) {
    const when = joinable.status === "in-progress" ? "already in progress" : "completed since the image was read";
    log(`${describeRequest(imageId, request)}: joining action ${joinable.id} ${when}`);
    return joinable;
  }
  try {
    const action = await session.client.startImageAction(imageId, request);
    // Waiting for an action that is not the one asked for would report work as done that never happened.
    if (action.resource_id !== imageId || !matchesRequest(action, request)) throw foreignAction(imageId, request, action);
    log(`${describeRequest(imageId, request)}: started action ${action.id}`);
    return action;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 422)) throw error;
    // The other action may already have finished by now: DigitalOcean then refuses
    // because the work is done ("already available", "not a backup").
    const raced = actionToJoin(await listImageActions(session, imageId), request);
    if (!raced) throw error;
    log(`${describeRequest(imageId, request)}: joining action ${raced.id} started concurrently elsewhere`);
    return raced;
  }
}

/**
 * The action to join instead of starting `request`, among those read after the image was read
 * without its result: one in progress, or one that completed in between. What a completed one did
 * stays done: a converted image never becomes a backup again, and an image is never removed from
 * one region (only deleting it removes it from all), so DigitalOcean would refuse it again with a 422.
 */
export function actionToJoin(actions: readonly Action[], request: ImageActionRequest): Action | undefined {
  return newestMatching(actions, request, "in-progress") ?? newestMatching(actions, request, "completed");
}

/**
 * Waits for the action to complete, until the operation's deadline at most, logging progress for long
 * waits. Past the deadline it gives up at once: the action, started or joined, goes on at DigitalOcean.
 */
export function waitLogged(session: AccountSession, action: Action, imageId: number, request: ImageActionRequest, deadline: Deadline, log: Log): Promise<Action> {
  const wait = session.watcher.waitFor(action, {
    timeoutMs: Math.max(0, deadline.endsAt - session.clock.now()),
    since: deadline.startedAt,
    onProgress: throttledProgress(describeRequest(imageId, request), log, session.clock),
  });
  // Finished, failed or given up on: a later resource reads the action list afresh. A resource that
  // joined an action which errored may finish waiting after another has started the retry: that
  // retry's entry stays.
  return wait.finally(() => forgetOngoing(session, ongoingKey(imageId, request), (current) => current.actionId === action.id));
}

export function describeRequest(imageId: number, request: ImageActionRequest): string {
  return request.type === "transfer" ? `transfer of image ${imageId} to ${request.region}` : `convert of backup ${imageId}`;
}

function foreignAction(imageId: number, request: ImageActionRequest, action: Action): DigitalOceanError {
  const region = action.type === "transfer" && action.region_slug ? ` to ${action.region_slug}` : "";
  return new DigitalOceanError(
    `DigitalOcean answered the request for the ${describeRequest(imageId, request)} with action ${action.id}, a ${action.type} of ` +
      `${action.resource_type ?? "resource"} ${action.resource_id ?? "(none)"}${region}: not the action asked for, so it is not waited for ` +
      `and nothing is recorded as done. If this repeats, something between this machine and the API is rewriting requests`,
  );
}
