/**
 * Pulumi dynamic resources for DigitalOcean's image actions: keep Droplet
 * backups as snapshots and make images available in more regions,
 * declaratively and idempotently.
 *
 * @module pulumi-digitalocean-image-actions
 */
export {
  SnapshotFromBackup,
  type SnapshotFromBackupArgs,
  type SnapshotFromBackupBaseArgs,
  type SnapshotFromBackupIdArgs,
  type SnapshotFromDropletArgs,
} from "./resources/snapshot-from-backup";
export { ImageRegionCopy, type ImageRegionCopyArgs } from "./resources/image-region-copy";
export { BackupVault, type BackupVaultArgs, type BackupVaultGeneration } from "./resources/backup-vault";
export type { AccountIdentity } from "./api/account-identity";
export { MODULE } from "./resources/module";
export { isoWeek } from "./iso-week";
