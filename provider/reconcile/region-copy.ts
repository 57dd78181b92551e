import { DigitalOceanError } from "../errors";
import type { Image, ImageActionRequest } from "../api/types";
import type { AccountSession } from "../session";
import { deadlineAfter, type Deadline } from "../waiter/deadline";
import { ActionErroredError, ActionTimeoutError } from "../waiter/errors";
import { describeRequest, startOrJoin, waitLogged } from "./actions";
import { IncompleteError } from "./errors";
import { imageOrGone } from "./images";
import type { Log } from "./progress";
import { assertTransferTargets } from "./regions";

/** What a program declares for one image's copies, after `check` normalized it. */
export interface RegionCopySpec {
  imageId: number;
  /** Target region slugs, sorted and de-duplicated. */
  regions: string[];
  waitTimeoutSeconds: number;
  /** The budget of the operation this is part of; without one, `waitTimeoutSeconds` from now. */
  deadline?: Deadline;
  /** The image as the same operation has just read it (the vault's snapshot step), so it is not read twice. */
  image?: ImageSight;
}

/** What copying needs to know of an image. */
type ImageSight = Pick<Image, "id" | "type" | "regions">;

/** What this resource has done and sees, as stored in Pulumi state. */
export interface RegionCopyObservation {
  imageId: number;
  /** Every region the image is in: as read before the transfers plus those completed, or read again when a transfer did not complete. */
  availableRegions: string[];
  /** Regions this resource copied the image to (not those it was already in). */
  transferredRegions: string[];
  /** The transfer actions this resource started or joined. */
  actionIds: number[];
}

/**
 * Makes the image available in every declared region. Regions it is already in
 * are adopted, transfers already in flight are joined, the rest are started in
 * parallel (DigitalOcean runs transfers of one image concurrently) and awaited.
 * `previous` carries what earlier runs did, so the record of copies accumulates.
 */
export async function convergeRegionCopy(
  session: AccountSession,
  spec: RegionCopySpec,
  previous: Pick<RegionCopyObservation, "transferredRegions" | "actionIds"> | undefined,
  log: Log,
): Promise<RegionCopyObservation> {
  const deadline = spec.deadline ?? deadlineAfter(session.clock, spec.waitTimeoutSeconds);
  const image = spec.image ?? (await imageOrGone(session, spec.imageId, { actionIds: previous?.actionIds }));
  if (!image) {
    throw new DigitalOceanError(`image ${spec.imageId} was not found: imageId must name an existing snapshot or custom image (list them with \`doctl compute image list-user\`)`);
  }
  if (image.type === "backup") {
    throw new DigitalOceanError(
      `image ${image.id} is a backup, and DigitalOcean cannot transfer backups: keep it as a snapshot first ` +
        `(SnapshotFromBackup) and pass the snapshot's id as imageId`,
    );
  }
  const missing = spec.regions.filter((region) => !image.regions.includes(region));
  await assertTransferTargets(session, missing);

  const transferredRegions = new Set(previous?.transferredRegions ?? []);
  const actionIds = new Set(previous?.actionIds ?? []);
  const known = missing.length > 0 ? (await session.inFlight.actionsOf(image.id)).actions : [];
  const outcomes = await Promise.allSettled(
    missing.map(async (region) => {
      const request: ImageActionRequest = { type: "transfer", region };
      const action = await startOrJoin(session, image.id, request, log, known);
      actionIds.add(action.id);
      await waitLogged(session, action, image.id, request, deadline, log);
      transferredRegions.add(region);
      return action;
    }),
  );

  const after = await imageAfterTransfers(session, image, missing, outcomes, actionIds);
  const failures = outcomes.flatMap((outcome, i) => {
    if (outcome.status === "fulfilled") return [];
    // An errored transfer whose region the image has all the same is a copy made: recorded as ours now,
    // since the next run would only see the region already there and adopt it.
    if (outcome.reason instanceof ActionErroredError && after.regions.includes(missing[i])) {
      transferredRegions.add(missing[i]);
      log(`${describeRequest(image.id, { type: "transfer", region: missing[i] })}: ${outcome.reason.message}, but the image is in ${missing[i]}; counted as copied`);
      return [];
    }
    return [{ region: missing[i], error: outcome.reason as unknown }];
  });
  const observation: RegionCopyObservation = {
    imageId: image.id,
    availableRegions: [...after.regions].sort(),
    transferredRegions: [...transferredRegions].sort(),
    actionIds: [...actionIds].sort((a, b) => a - b),
  };
  if (failures.length > 0) throw incomplete(failures, observation, spec);
  return observation;
}

/**
 * The image once its transfers have ended. A completed transfer is
 * DigitalOcean's word that the image is in its region, so when every transfer
 * completed, the image as read before plus their regions is what it holds, with
 * no second read (a region someone else added meanwhile shows at the next
 * refresh, like any change made outside the stack). When one did not complete,
 * the image is read again through the shared reader: an errored transfer may
 * have copied all the same, and an image deleted meanwhile errors its transfers.
 * A failed read leaves the completed ones recorded; the failed transfers fail the run.
 */
async function imageAfterTransfers(
  session: AccountSession,
  before: ImageSight,
  targets: readonly string[],
  outcomes: readonly PromiseSettledResult<unknown>[],
  actionIds: ReadonlySet<number>,
): Promise<ImageSight> {
  const copied = targets.filter((_, i) => outcomes[i].status === "fulfilled");
  const derived = { ...before, regions: [...new Set([...before.regions, ...copied])] };
  if (copied.length === targets.length) return derived;
  let after: Image | undefined;
  try {
    after = await imageOrGone(session, before.id, { actionIds: [...actionIds] });
  } catch (error) {
    if (!(error instanceof DigitalOceanError)) throw error;
    return derived;
  }
  if (!after) {
    throw new DigitalOceanError(
      `image ${before.id} was deleted while it was being transferred, so there is nothing left to copy: ` +
        `point imageId at an existing snapshot or custom image, or remove this resource`,
    );
  }
  return after;
}

/** The image as it is now, or undefined when it no longer exists. */
export async function readRegionCopy(
  session: AccountSession,
  imageId: number,
  previous: Pick<RegionCopyObservation, "transferredRegions" | "actionIds"> | undefined,
): Promise<RegionCopyObservation | undefined> {
  const image = await imageOrGone(session, imageId, { actionIds: previous?.actionIds });
  if (!image) return undefined;
  return {
    imageId: image.id,
    availableRegions: [...image.regions].sort(),
    transferredRegions: [...(previous?.transferredRegions ?? [])],
    actionIds: [...(previous?.actionIds ?? [])],
  };
}

function incomplete(failures: { region: string; error: unknown }[], observation: RegionCopyObservation, spec: RegionCopySpec): unknown {
  if (failures.some((f) => !(f.error instanceof DigitalOceanError))) return failures[0].error;
  const timedOut = failures.some((f) => f.error instanceof ActionTimeoutError);
  const lines = failures.map((f) => `${describeRequest(spec.imageId, { type: "transfer", region: f.region })}: ${(f.error as Error).message.replace(/\.$/, "")}`);
  const resume = timedOut
    ? ` Run \`pulumi up\` again to resume waiting (nothing is transferred twice), or raise waitTimeoutSeconds (now ${spec.waitTimeoutSeconds}).`
    : " Run `pulumi up` again to retry the failed regions; completed copies are kept.";
  return new IncompleteError(`${failures.length} of the image's transfers did not complete: ${lines.join("; ")}.${resume}`, String(spec.imageId), observation, {
    cause: failures[0].error,
    advised: true,
  });
}
