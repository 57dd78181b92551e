/**
 * Backup vault: keep one snapshot of a Droplet's newest backup per ISO week,
 * copy each to a disaster-recovery region, keep the last four, delete older.
 *
 * Config:
 *   dropletId   (required) a Droplet with backups enabled
 *   drRegion    where every kept snapshot is copied (default ams3)
 *   keep        how many weekly snapshots to keep (default 4)
 */
import * as pulumi from "@pulumi/pulumi";
import { BackupVault, isoWeek } from "pulumi-digitalocean-image-actions";

const config = new pulumi.Config();


const vault = new BackupVault(
  "web-weekly",
  {
    dropletId: config.require("dropletId"),
    rotationKey: isoWeek(new Date()),
    keep: config.getNumber("keep") ?? 4,
    copyToRegions: [config.get("drRegion") ?? "ams3"],
    namePattern: "web-{key}",
    tags: ["backup-vault"],
  },
  { retainOnDelete: true },
);

export const newestSnapshotId = vault.newestSnapshotId;
export const generations = vault.generations;
export const retiredSnapshotIds = vault.retiredSnapshotIds;
