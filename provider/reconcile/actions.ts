import { ApiError, DigitalOceanError } from "../client/errors";
import type { Action, ImageActionRequest } from "../client/types";
import type { Runtime } from "../runtime";
import { throttledProgress, type Log } from "./progress";

/** True when `action` is the kind of action `request` would start on its image. */
function sameKind(action: Action, request: ImageActionRequest): boolean {
  if (action.type !== request.type) return false;
  return request.type !== "transfer" || action.region_slug === request.region;
}

/** The newest in-progress action on the image that does what `request` asks, if any. */
export async function findInFlight(rt: Runtime, imageId: number, request: ImageActionRequest): Promise<Action | undefined> {
  for await (const action of rt.client.listImageActions(imageId)) {
    if (action.status === "in-progress" && sameKind(action, request)) return action;
  }
  return undefined;
}

/** The newest completed action on the image that does what `request` asks, if any. */
export async function findCompleted(rt: Runtime, imageId: number, request: ImageActionRequest): Promise<Action | undefined> {
  for await (const action of rt.client.listImageActions(imageId)) {
    if (action.status === "completed" && sameKind(action, request)) return action;
  }
  return undefined;
}

/**
 * Starts `request` on the image unless the same action is already in flight.
 * DigitalOcean answers 422 when an identical action is already running, which is
 * what a second pipeline declaring the same thing sees: then the running action
 * is joined instead of failing.
 */
export async function startOrJoin(rt: Runtime, imageId: number, request: ImageActionRequest, log: Log): Promise<Action> {
  const inFlight = await findInFlight(rt, imageId, request);
  if (inFlight) {
    log(`${describe(imageId, request)}: joining action ${inFlight.id} already in progress`);
    return inFlight;
  }
  try {
    const action = await rt.client.startImageAction(imageId, request);
    // Waiting for an action that is not the one asked for would report work as done that never happened.
    if (action.resource_id !== imageId || !sameKind(action, request)) throw foreignAction(imageId, request, action);
    log(`${describe(imageId, request)}: started action ${action.id}`);
    return action;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 422)) throw error;
    // The other action may already have finished by now: DigitalOcean then refuses
    // because the work is done ("already available", "not a backup"), so a
    // completed action of the same kind counts too.
    const raced = (await findInFlight(rt, imageId, request)) ?? (await findCompleted(rt, imageId, request));
    if (!raced) throw error;
    log(`${describe(imageId, request)}: joining action ${raced.id} started concurrently elsewhere`);
    return raced;
  }
}

/** Waits for the action to complete, logging progress for long waits. */
export function waitLogged(rt: Runtime, action: Action, imageId: number, request: ImageActionRequest, timeoutSeconds: number, log: Log): Promise<Action> {
  return rt.watcher.waitFor(action, {
    timeoutMs: timeoutSeconds * 1000,
    onProgress: throttledProgress(describe(imageId, request), log, rt.clock),
  });
}

export function describe(imageId: number, request: ImageActionRequest): string {
  return request.type === "transfer" ? `transfer of image ${imageId} to ${request.region}` : `convert of backup ${imageId}`;
}

function foreignAction(imageId: number, request: ImageActionRequest, action: Action): DigitalOceanError {
  const region = action.type === "transfer" && action.region_slug ? ` to ${action.region_slug}` : "";
  return new DigitalOceanError(
    `DigitalOcean answered the request for the ${describe(imageId, request)} with action ${action.id}, a ${action.type} of ` +
      `${action.resource_type ?? "resource"} ${action.resource_id ?? "(none)"}${region}: not the action asked for, so it is not waited for ` +
      `and nothing is recorded as done. Run \`pulumi up\` again; if this repeats, something between this machine and the API is rewriting requests`,
  );
}
