import { DigitalOceanError } from "../../errors";

/** The backup to keep does not exist, most often because DigitalOcean's retention already removed it. */
export class BackupNotFoundError extends DigitalOceanError {
  override readonly name = "BackupNotFoundError";

  /** `dropletId`: the Droplet the resource declares, if any, so the advice fits the declaration. */
  constructor(
    readonly backupId: number,
    options?: { cause?: unknown; dropletId?: number },
  ) {
    const dropletId = options?.dropletId;
    super(
      `backup ${backupId} was not found. DigitalOcean keeps a Droplet's backups for 7 days (daily plan) or 4 weeks ` +
        `(weekly plan), and 4 weeks after the Droplet is deleted; this one has expired or never existed. ` +
        (dropletId === undefined
          ? `List the current ones with \`doctl compute droplet backups <droplet-id>\`, or set dropletId instead of backupId ` +
            `to keep the newest backup.`
          : `List the current ones with \`doctl compute droplet backups ${dropletId}\`.`),
      options,
    );
  }

  /** The same error, with advice for the situation the caller knows about. */
  withAdvice(advice: string): BackupNotFoundError {
    const error = new BackupNotFoundError(this.backupId, { cause: this.cause });
    error.message = `${this.message} ${advice}`;
    return error;
  }
}
