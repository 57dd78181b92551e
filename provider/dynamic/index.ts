/**
 * The provider implementation, loaded by the serialized shim when Pulumi calls
 * it (never serialized itself): every call runs the installed package's code.
 */
import * as backupVault from "./backup-vault";
import * as imageRegionCopy from "./image-region-copy";
import * as snapshotFromBackup from "./snapshot-from-backup";

export { captureConfig, type StackConfig } from "./context";

export const handlers = {
  SnapshotFromBackup: snapshotFromBackup,
  ImageRegionCopy: imageRegionCopy,
  BackupVault: backupVault,
};

export type ResourceKind = keyof typeof handlers;
