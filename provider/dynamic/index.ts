/**
 * The provider implementation, loaded by the serialized shim when Pulumi calls
 * it (never serialized itself): every call runs the installed package's code.
 * Internal: programs never import it, but shims stored in users' stacks by
 * every earlier version call these exports, so their names and arguments are a
 * frozen protocol (test/fixtures/shim-protocol/README.md).
 */
import * as backupVault from "./backup-vault";
import * as imageRegionCopy from "./image-region-copy";
import * as snapshotFromBackup from "./snapshot-from-backup";

/** @internal Called by stored shims: `captureConfig(req.config)` in `configure`. */
export { captureConfig, type StackConfig } from "./context";

/** @internal Called by stored shims: `handlers[kind].check/diff/create/read/update/destroy`. */
export const handlers = {
  SnapshotFromBackup: snapshotFromBackup,
  ImageRegionCopy: imageRegionCopy,
  BackupVault: backupVault,
};

/** @internal */
export type ResourceKind = keyof typeof handlers;
