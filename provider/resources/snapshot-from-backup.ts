import * as pulumi from "@pulumi/pulumi";
import { shimFor } from "../dynamic/shim";
import type { AccountIdentity } from "../api/account-identity";
import { MODULE, outputSlots } from "./module";

const provider = shimFor("SnapshotFromBackup");

/**
 * The inputs of a {@link SnapshotFromBackup}: exactly one of `backupId` (keep
 * that backup) and `dropletId` (keep the Droplet's newest backup), and
 * `triggers` only with `dropletId`. The types say so, as `check` does.
 */
export type SnapshotFromBackupArgs = SnapshotFromBackupIdArgs | SnapshotFromDropletArgs;

/** Keep a given backup: the {@link SnapshotFromBackupArgs} with `backupId`. */
export interface SnapshotFromBackupIdArgs extends SnapshotFromBackupBaseArgs {
  /**
   * The id of the Droplet backup to keep. Converting keeps the id: it becomes
   * the snapshot's id. Changing it replaces the resource (and deletes the old
   * snapshot unless `retainOnDelete` is set). Find ids with
   * `doctl compute droplet backups <droplet-id>`.
   */
  backupId: pulumi.Input<number | string>;
  /** Not with `backupId`: set one of the two. */
  dropletId?: undefined;
  /** Not with `backupId`: the backup is fixed, so there is nothing newer to rotate to. */
  triggers?: undefined;
}

/** Keep a Droplet's newest backup: the {@link SnapshotFromBackupArgs} with `dropletId`. */
export interface SnapshotFromDropletArgs extends SnapshotFromBackupBaseArgs {
  /**
   * Keep the newest backup of this Droplet. The backup chosen at create time
   * is pinned in state (`backupId` output); change `triggers` to keep a newer
   * one. Accepts `digitalocean.Droplet.id` as is.
   */
  dropletId: pulumi.Input<number | string>;
  /** Not with `dropletId`: set one of the two. */
  backupId?: undefined;
  /**
   * Any values; when one changes, a new snapshot is made from the Droplet's
   * then-newest backup (a replacement). Use it to rotate, for example with the
   * ISO week: `{ week: isoWeek(new Date()) }`.
   */
  triggers?: pulumi.Input<Record<string, pulumi.Input<string | number | boolean>>>;
}

/** The inputs of a {@link SnapshotFromBackup} beside the choice of backup. */
export interface SnapshotFromBackupBaseArgs {
  /** The snapshot's name. When omitted, the backup's name is kept. */
  name?: pulumi.Input<string>;
  /** The snapshot's description. When omitted, it is left as it is. */
  description?: pulumi.Input<string>;
  /**
   * Tags for the snapshot. When set, the snapshot carries exactly these tags
   * (missing tags are created); when omitted, its tags are left alone.
   */
  tags?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * How long one `pulumi up` waits for the convert to finish, in seconds
   * (10 to 86400, default 3600; a string of digits, as `pulumi.Config.get`
   * returns, is accepted). A convert still running then goes on at
   * DigitalOcean, and the next `pulumi up` resumes waiting for it.
   */
  waitTimeoutSeconds?: pulumi.Input<number | string>;
}

/**
 * Keeps a Droplet backup as a snapshot. DigitalOcean deletes backups after 7
 * days (daily plan) or 4 weeks (weekly plan); a snapshot converted from one is
 * kept until deleted. Creating adopts a backup already converted and joins a
 * convert already in flight, so re-running never converts twice.
 *
 * Deleting this resource deletes the snapshot, and a snapshot made from a
 * backup cannot be made again once that backup has expired: consider
 * `protect: true` or `retainOnDelete: true`.
 */
export class SnapshotFromBackup extends pulumi.dynamic.Resource {
  /**
   * The snapshot's id (the converted backup's id, which converting keeps). To
   * wire the snapshot into another resource, use `id`: the same id as a
   * string, which `pulumi preview` knows while the snapshot is only renamed
   * or retagged.
   */
  declare readonly snapshotId: pulumi.Output<number>;
  /** The backup that was converted: the one given, or the newest of `dropletId` at create time. */
  declare readonly backupId: pulumi.Output<number>;
  /** The Droplet whose newest backup was kept, when `dropletId` was set. */
  declare readonly dropletId: pulumi.Output<number | undefined>;
  /** `snapshot` once kept; `backup` while a convert has not completed. */
  declare readonly imageType: pulumi.Output<string>;
  /** The snapshot's name, read back from DigitalOcean. */
  declare readonly name: pulumi.Output<string>;
  /** The snapshot's description, read back from DigitalOcean. */
  declare readonly description: pulumi.Output<string>;
  /** The snapshot's tags, read back from DigitalOcean, sorted. */
  declare readonly tags: pulumi.Output<string[]>;
  /** Region slugs the snapshot is available in. */
  declare readonly regions: pulumi.Output<string[]>;
  /** The snapshot's size in GB; null while DigitalOcean has not measured it. */
  declare readonly sizeGigabytes: pulumi.Output<number | null>;
  /** The smallest disk, in GB, a Droplet created from the snapshot needs; null while unknown. */
  declare readonly minDiskSize: pulumi.Output<number | null>;
  /** When the backup was taken (ISO 8601). */
  declare readonly createdAt: pulumi.Output<string>;
  /** The convert action that made the snapshot, when known. */
  declare readonly actionId: pulumi.Output<number | null>;
  /** The `triggers` the snapshot was made for. */
  declare readonly triggers: pulumi.Output<Record<string, string | number | boolean> | undefined>;
  /** The wait timeout in force, in seconds, when set. */
  declare readonly waitTimeoutSeconds: pulumi.Output<number | undefined>;
  /**
   * Who the token reached when the resource was created or adopted:
   * `{ kind: "team", uuid, name }` for a team's token (the usual case), else
   * `{ kind: "user", uuid }` (no name or email: they are personal data). A 404
   * counts as "gone" only with a token of this same account. Undefined when the
   * token may not read its account (no `account:read` scope), and in state
   * written before it was recorded until the next refresh or update.
   */
  declare readonly account: pulumi.Output<AccountIdentity | undefined>;

  constructor(name: string, args: SnapshotFromBackupArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, { ...OUTPUTS, ...args }, opts, MODULE, "SnapshotFromBackup");
  }
}

/** The outputs the engine fills from the provider's state. */
const OUTPUTS = outputSlots(
  "snapshotId",
  "backupId",
  "dropletId",
  "imageType",
  "name",
  "description",
  "tags",
  "regions",
  "sizeGigabytes",
  "minDiskSize",
  "createdAt",
  "actionId",
  "triggers",
  "waitTimeoutSeconds",
  "account",
);
