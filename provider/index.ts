/**
 * Pulumi dynamic resources for DigitalOcean's image actions: keep Droplet
 * backups as snapshots and make images available in more regions,
 * declaratively and idempotently.
 */
export { SnapshotFromBackup, type SnapshotFromBackupArgs } from "./resources/snapshot-from-backup";
export { ImageRegionCopy, type ImageRegionCopyArgs } from "./resources/image-region-copy";
export { MODULE } from "./resources/module";
