/**
 * Disaster-recovery copy: a Droplet with weekly backups, its newest backup kept
 * as a snapshot each ISO week, the snapshot copied to two other regions, and a
 * standby Droplet that can be created from the copy in the first of them.
 *
 * Config (all optional):
 *   dropletId       use an existing Droplet with backups instead of creating one (a new
 *                   Droplet has no backup until its first weekly window, so until then
 *                   the snapshot step fails saying so; run `pulumi up` again after it)
 *   primaryRegion   where a new Droplet goes (default nyc3)
 *   drRegions       regions to copy the snapshot to (default ["ams3", "sfo3"])
 *   createStandby   also create a Droplet from the copy (default false)
 */
import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { ImageRegionCopy, isoWeek, SnapshotFromBackup } from "pulumi-digitalocean-image-actions";

const config = new pulumi.Config();
const primaryRegion = config.get("primaryRegion") ?? "nyc3";
const drRegions = config.getObject<string[]>("drRegions") ?? ["ams3", "sfo3"];
const size = "s-1vcpu-1gb";

const dropletId: pulumi.Input<string> =
  config.get("dropletId") ??
  new digitalocean.Droplet("web", {
    image: "ubuntu-24-04-x64",
    region: primaryRegion,
    size,
    backups: true,
    backupPolicy: { plan: "weekly", weekday: "SUN", hour: 0 },
  }).id;


const week = isoWeek(new Date());

const kept = new SnapshotFromBackup(
  "web-weekly",
  {
    dropletId,
    name: `web-${week}`,
    description: "Newest weekly backup of web, kept for disaster recovery",
    tags: ["dr", "web"],
    triggers: { week },
  },
  // A snapshot converted from a backup cannot be made again once the backup expires. Each week's
  // replacement therefore forgets the previous snapshot rather than deleting it: one more
  // snapshot a week stays billed ($0.06 per GB a month) until deleted by hand, or use BackupVault.
  { retainOnDelete: true },
);

// Wired by `id`: a preview knows it while the snapshot is only renamed or retagged.
const copies = new ImageRegionCopy("web-weekly-dr", {
  imageId: kept.id,
  regions: drRegions,
});

if (config.getBoolean("createStandby")) {
  // The copy's id is the image's id, a string, as `image` takes it; the Droplet waits for the transfers.
  new digitalocean.Droplet("web-standby", { image: copies.id, region: drRegions[0], size });
}

export const snapshotId = kept.snapshotId;
export const snapshotName = kept.name;
export const keptBackupId = kept.backupId;
export const availableRegions = copies.availableRegions;
export const transferredRegions = copies.transferredRegions;
