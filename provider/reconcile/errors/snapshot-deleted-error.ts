import { DigitalOceanError } from "../../errors";

/**
 * A snapshot this package kept was deleted outside it: by hand, in the control
 * panel, or by another tool. Unlike an expired backup, nothing here can bring it
 * back; what it made can only be made again from a backup that still exists.
 */
export class SnapshotDeletedError extends DigitalOceanError {
  override readonly name = "SnapshotDeletedError";

  /** `keeper`: who kept the snapshot and when it went, as in "snapshot 1 was deleted outside <keeper>". */
  constructor(
    readonly snapshotId: number,
    keeper: string,
    options?: { cause?: unknown },
  ) {
    super(`snapshot ${snapshotId} was deleted outside ${keeper}`, options);
  }
}
