import { deadlineAfter, type Deadline } from "../waiter/deadline";
import { ActionErroredError, ActionTimeoutError } from "../waiter/errors";
import { ApiError } from "../client/errors";
import { DigitalOceanError } from "../errors";
import type { Image, ImageActionRequest } from "../api/types";
import type { AccountSession } from "../session";
import { actionToJoin, describeRequest, findCompleted, startOrJoin, waitLogged } from "./actions";
import { BackupNotFoundError, IncompleteError, SnapshotDeletedError } from "./errors";
import { readBackupSchedule } from "./backup-window";
import { confirmNotFound, imageOrGone, type ImageEvidence } from "./images";
import type { Log } from "./progress";
import { syncTags } from "./tags";

/**
 * Which backup to keep; `check` lets exactly one of backupId and dropletId through:
 * - a fixed backup (`backupId`), named by the program or pinned by an earlier run; a
 *   `dropletId` beside it is the declared Droplet, used only to fit the advice when the
 *   backup has gone;
 * - the Droplet's newest backup (`dropletId` alone), taken after `takenAfter` (ISO 8601)
 *   when given; it is then pinned in state so later runs keep the same one.
 */
export type BackupChoice = { backupId: number; dropletId?: number; takenAfter?: undefined } | { backupId?: undefined; dropletId: number; takenAfter?: string };

/** How the kept snapshot is to look, and how long to wait for its convert. */
export interface SnapshotAttributes {
  name?: string;
  description?: string;
  tags?: string[];
  waitTimeoutSeconds: number;
  /** The budget of the operation this is part of; without one, `waitTimeoutSeconds` from now. */
  deadline?: Deadline;
  /** The convert action an earlier run recorded; saves looking it up again. */
  knownActionId?: number;
}

/** What a program declares for one kept snapshot, after `check` normalized it. */
export type SnapshotSpec = BackupChoice & SnapshotAttributes;

/** What a kept snapshot looks like on DigitalOcean, as stored in Pulumi state. */
export interface SnapshotObservation {
  snapshotId: number;
  /** The backup that was converted; a converted image keeps its id, so this equals `snapshotId`. */
  backupId: number;
  /** `snapshot` once kept; `backup` while a convert has not completed. */
  imageType: string;
  name: string;
  description: string;
  tags: string[];
  regions: string[];
  /** Null while DigitalOcean has not measured the image. */
  sizeGigabytes: number | null;
  minDiskSize: number | null;
  createdAt: string;
  /** The convert action that made the snapshot, when it can be found. */
  actionId: number | null;
}

const CONVERT: ImageActionRequest = { type: "convert" };

/**
 * Makes the backup a snapshot with the declared attributes. Safe to run again at
 * any point: it reads before it writes, adopts an image that is already a
 * snapshot, joins a convert already in flight, and starts one only when neither.
 */
export async function convergeSnapshot(session: AccountSession, spec: SnapshotSpec, log: Log): Promise<SnapshotObservation> {
  const deadline = spec.deadline ?? deadlineAfter(session.clock, spec.waitTimeoutSeconds);
  const backupId = spec.backupId !== undefined ? spec.backupId : await newestBackupId(session, spec.dropletId, spec.takenAfter, log);
  let image = await imageOrGone(session, backupId, { actionIds: [spec.knownActionId] });
  if (!image) throw new BackupNotFoundError(backupId, { dropletId: spec.dropletId });
  if (image.type !== "backup" && image.type !== "snapshot") {
    throw new DigitalOceanError(
      `image ${backupId} is a ${image.type} image, not a backup: backupId must name one of a Droplet's backups ` +
        `(or a snapshot already converted from one)`,
    );
  }
  // From here the backup is chosen and may be converting: a failure must leave it recorded (and, with
  // dropletId, pinned), or the next run would pick the next-older backup and convert that one too.
  let actionId: number | null = null;
  try {
    if (image.type === "backup") {
      const action = await startOrJoin(session, backupId, CONVERT, log);
      actionId = action.id;
      await waitLogged(session, action, backupId, CONVERT, deadline, log);
      const converted = await imageOrGone(session, backupId, { actionIds: [action.id] });
      if (!converted) throw new SnapshotDeletedError(backupId, `this resource as soon as its convert (action ${action.id}) completed`);
      image = converted;
    } else {
      actionId = spec.knownActionId ?? (await findCompleted(session, backupId, CONVERT))?.id ?? null;
    }
    // One step at a time, so a failure records what was already written.
    image = await applyNameAndDescription(session, image, spec);
    image = await applyTags(session, image, spec.tags, log);
  } catch (error) {
    throw incomplete(error, observe(image, actionId), spec);
  }
  return observe(image, actionId);
}

/** Current state of the snapshot, or undefined when it no longer exists; `evidence` as imageOrGone takes it. */
export async function readSnapshot(session: AccountSession, snapshotId: number, evidence?: ImageEvidence): Promise<SnapshotObservation | undefined> {
  const image = await imageOrGone(session, snapshotId, evidence);
  return image && observe(image, null);
}

/**
 * Deletes the snapshot; an image already gone, or a backup never converted, leaves nothing to do.
 * A convert still in flight is waited for first: deleted before it finished, the backup would
 * become a snapshot afterwards that no stack records, billed until someone notices. One that
 * completed since the image was read has made the snapshot, which is deleted.
 */
export async function deleteSnapshot(session: AccountSession, snapshotId: number, deadline: Deadline, log: Log, evidence?: ImageEvidence): Promise<void> {
  let image = await imageOrGone(session, snapshotId, evidence);
  if (image?.type === "backup") {
    const { actions } = await session.inFlight.actionsOf(snapshotId);
    const convert = actionToJoin(actions, CONVERT);
    if (!convert) {
      log(`image ${snapshotId} is still a backup (its convert never completed); DigitalOcean expires backups itself, nothing deleted`);
      return;
    }
    if (convert.status === "in-progress") {
      log(`${describeRequest(snapshotId, CONVERT)}: action ${convert.id} is still running; waiting for it before deleting the snapshot it makes`);
      try {
        await waitLogged(session, convert, snapshotId, CONVERT, deadline, log);
      } catch (error) {
        if (error instanceof ActionErroredError) return;
        if (!(error instanceof ActionTimeoutError)) throw error;
        throw new DigitalOceanError(
          `cannot delete snapshot ${snapshotId} yet: its convert (action ${convert.id}) was still running after ${deadline.seconds} s, ` +
            `and deleting the backup now would leave the snapshot it makes behind. Run the delete again once the convert has finished`,
          { cause: error },
        );
      }
    }
    image = await imageOrGone(session, snapshotId, { actionIds: [convert.id] });
  }
  if (!image) return;
  try {
    await session.client.deleteImage(snapshotId);
  } catch (error) {
    if (!ApiError.isNotFound(error)) throw error;
  }
}

/** Renames and describes the image as declared, writing only what differs. */
async function applyNameAndDescription(session: AccountSession, image: Image, spec: Pick<SnapshotSpec, "name" | "description">): Promise<Image> {
  const update: { name?: string; description?: string } = {};
  if (spec.name !== undefined && spec.name !== image.name) update.name = spec.name;
  if (spec.description !== undefined && spec.description !== image.description) update.description = spec.description;
  return Object.keys(update).length > 0 ? session.client.updateImage(image.id, update) : image;
}

/** Makes the image carry exactly the declared tags, when they are declared. */
async function applyTags(session: AccountSession, image: Image, tags: string[] | undefined, log: Log): Promise<Image> {
  if (tags === undefined) return image;
  const synced = await syncTags(session, image.id, image.tags ?? [], tags, log);
  return synced.written ? { ...image, tags: synced.tags } : image;
}

/** The newest backup of the Droplet; it is then pinned in state so later runs keep the same one. */
async function newestBackupId(session: AccountSession, dropletId: number, takenAfter: string | undefined, log: Log): Promise<number> {
  let newest: Image | undefined;
  try {
    for await (const backup of session.client.listDropletBackups(dropletId)) {
      if (!newest || Date.parse(backup.created_at) > Date.parse(newest.created_at)) newest = backup;
    }
  } catch (error) {
    if (!ApiError.isNotFound(error)) throw error;
    await confirmNotFound(session, `droplet ${dropletId}`);
    throw new DigitalOceanError(`droplet ${dropletId} was not found: check dropletId, or use backupId for a backup of a deleted Droplet`, { cause: error });
  }
  if (!newest) {
    const schedule = await readBackupSchedule(session, dropletId);
    const enable = "Enable backups on it (`backups: true` on digitalocean.Droplet) and run again after its first backup window";
    throw new DigitalOceanError(
      schedule?.enabled === false
        ? `droplet ${dropletId} has no backups: backups are disabled on it. ${enable}, or set backupId to keep a specific backup`
        : schedule?.enabled
          ? `droplet ${dropletId} has no backups yet: ${schedule.nextWindow}. Run \`pulumi up\` again once it has closed, or set backupId to keep a specific backup`
          : `droplet ${dropletId} has no backups yet. ${enable}, or set backupId to keep a specific backup`,
    );
  }
  if (takenAfter !== undefined && Date.parse(newest.created_at) <= Date.parse(takenAfter)) {
    // Most often the rotation came before the Droplet's next backup window: the policy says when that is.
    const schedule = await readBackupSchedule(session, dropletId);
    const missing = `droplet ${dropletId} has no backup taken after ${takenAfter} (its newest is ${newest.id}, taken ${newest.created_at})`;
    throw new DigitalOceanError(
      schedule?.enabled === false
        ? `${missing}: backups are disabled on it. Enable them (\`backups: true\` on digitalocean.Droplet) and run again after the next backup window`
        : schedule?.enabled
          ? `${missing}, so this rotation waits for its next backup: ${schedule.nextWindow}. ` +
            "Run `pulumi up` again once it has closed, and change rotationKey only after each window"
          : `${missing}: its backups may have stopped. Check \`doctl compute droplet backups ${dropletId}\` and the Droplet's backup policy`,
    );
  }
  log(`droplet ${dropletId}: keeping its newest backup ${newest.id} (${newest.name}, ${newest.created_at})`);
  return newest.id;
}

function observe(image: Image, actionId: number | null): SnapshotObservation {
  return {
    snapshotId: image.id,
    backupId: image.id,
    imageType: image.type,
    name: image.name,
    description: image.description ?? "",
    tags: [...(image.tags ?? [])].sort(),
    regions: [...image.regions].sort(),
    sizeGigabytes: image.size_gigabytes,
    minDiskSize: image.min_disk_size,
    createdAt: image.created_at,
    actionId,
  };
}

function incomplete(error: unknown, partial: SnapshotObservation, spec: SnapshotSpec): unknown {
  if (!(error instanceof DigitalOceanError)) return error;
  const resume =
    error instanceof ActionTimeoutError
      ? ` Run \`pulumi up\` again to resume waiting (no second convert is started), or raise waitTimeoutSeconds (now ${spec.waitTimeoutSeconds}).`
      : error instanceof ActionErroredError
        ? ". The backup is still a backup; run `pulumi up` again to start a new convert while it lasts."
        : "";
  return new IncompleteError(`${error.message}${resume}`, String(partial.snapshotId), partial, { cause: error, advised: resume !== "" });
}
