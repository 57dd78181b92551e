/**
 * The program the pipeline in .github/workflows runs: daily generations of one
 * Droplet's backups, copied to a disaster-recovery region, and optionally a
 * monthly archive of another Droplet.
 *
 * Config (project namespace):
 *   dropletId           (required) a Droplet with daily backups, kept by the vault
 *   archiveDropletId    a second Droplet with daily backups whose newest backup is kept
 *                       each month (never the vault's Droplet: both would keep, rename and
 *                       in the end delete the same backups)
 *   drRegion            where every kept snapshot is copied (default ams3)
 *   keep                daily generations to keep (default 7)
 *   backupWindowEndHour the UTC hour the Droplet's daily backup window ends (default 4)
 *   waitTimeoutSeconds  how long each resource waits in all in one run, for its convert and transfers
 *                       (default 1800; keep the job's timeout-minutes above twice it)
 */
import * as pulumi from "@pulumi/pulumi";
import { BackupVault, ImageRegionCopy, SnapshotFromBackup } from "pulumi-digitalocean-image-actions";
import { backupDay, backupMonth } from "./rotation";

const config = new pulumi.Config();
const dropletId = config.require("dropletId");
const drRegion = config.get("drRegion") ?? "ams3";
const windowEnd = config.getNumber("backupWindowEndHour") ?? 4;
const waitTimeoutSeconds = config.getNumber("waitTimeoutSeconds") ?? 1800;
const now = new Date();

const vault = new BackupVault(
  "daily",
  {
    dropletId,
    rotationKey: backupDay(now, windowEnd),
    keep: config.getNumber("keep") ?? 7,
    copyToRegions: [drRegion],
    namePattern: "web-{key}",
    tags: ["backup-vault"],
    waitTimeoutSeconds,
  },
  // Destroying the stack, or removing the vault from the program, leaves its snapshots.
  { retainOnDelete: true },
);

const archiveDropletId = config.get("archiveDropletId");
if (archiveDropletId !== undefined) {
  // A new month keeps a new snapshot; the old one is forgotten by the stack, not deleted.
  const month = backupMonth(now, windowEnd);
  const archive = new SnapshotFromBackup(
    "monthly",
    { dropletId: archiveDropletId, name: `db-${month}`, tags: ["archive"], triggers: { month }, waitTimeoutSeconds },
    { retainOnDelete: true },
  );
  // Wired by `id`, which a preview knows for an update; `snapshotId` it knows only when the snapshot
  // is unchanged, so a rename would preview the copy as a replacement that `pulumi up` never makes.
  new ImageRegionCopy("monthly-dr", { imageId: archive.id, regions: [drRegion], waitTimeoutSeconds });
}

export const generations = vault.generations;
export const newestSnapshotId = vault.newestSnapshotId;
export const retiredSnapshotIds = vault.retiredSnapshotIds;
