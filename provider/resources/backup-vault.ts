import * as pulumi from "@pulumi/pulumi";
import { shimFor } from "../dynamic/shim";
import type { AccountIdentity } from "../api/account-identity";
import type { Generation as BackupVaultGeneration } from "../reconcile/vault";
import { MODULE, outputSlots } from "./module";

const provider = shimFor("BackupVault");

/** The inputs of a {@link BackupVault}. */
export interface BackupVaultArgs {
  /** The Droplet whose backups are kept. Accepts `digitalocean.Droplet.id` as is. */
  dropletId: pulumi.Input<number | string>;
  /**
   * Starts a new generation when it changes: the Droplet's newest backup is kept
   * as a snapshot, copied, and generations beyond `keep` are deleted. Any string
   * the program computes, such as the ISO week `"2026-W48"`. An unchanged key
   * changes nothing.
   */
  rotationKey: pulumi.Input<string>;
  /** How many generations (snapshots) to keep, newest first; 1 to 100, default 4. A string of digits is accepted. */
  keep?: pulumi.Input<number | string>;
  /** Regions every kept generation is copied to, like `["ams3"]`. Default: none. */
  copyToRegions?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * The snapshot name of each generation; `{key}` (required) becomes the
   * rotation key and `{dropletId}` the Droplet's id. Default `"{dropletId}-{key}"`.
   */
  namePattern?: pulumi.Input<string>;
  /** Tags every kept snapshot carries exactly. When omitted, their tags are left alone. */
  tags?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * How long one `pulumi up` waits for a convert or transfer, in seconds
   * (10 to 86400, default 3600; a string of digits, as `pulumi.Config.get`
   * returns, is accepted). A wait cut short resumes on the next run.
   */
  waitTimeoutSeconds?: pulumi.Input<number | string>;
}

/** One snapshot kept by a {@link BackupVault}. */
export type { BackupVaultGeneration };

/**
 * A retention policy for a Droplet's backups: on each new `rotationKey`, keep
 * the newest backup as a snapshot, copy it to `copyToRegions`, and delete the
 * generations beyond `keep`. The generations live in this resource's state, so
 * only snapshots it made are ever deleted. Built on the same reconcile code as
 * {@link SnapshotFromBackup} and {@link ImageRegionCopy}.
 *
 * A rotation shows in `pulumi preview` as an update of `rotationKey`; the
 * retirement of old generations happens in that update. Destroying the vault
 * deletes every snapshot it keeps: use `retainOnDelete: true` to keep them.
 */
export class BackupVault extends pulumi.dynamic.Resource {
  /** The Droplet whose backups are kept. */
  declare readonly dropletId: pulumi.Output<number>;
  /**
   * The rotation key of the last update. While that rotation's convert is
   * pending (a wait cut short), the newest of `generations` is still the
   * previous key's.
   */
  declare readonly rotationKey: pulumi.Output<string>;
  /** How many generations are kept. */
  declare readonly keep: pulumi.Output<number>;
  /** Regions every kept generation is copied to, sorted. */
  declare readonly copyToRegions: pulumi.Output<string[]>;
  /** The naming pattern in force. */
  declare readonly namePattern: pulumi.Output<string>;
  /** The kept generations, newest first. */
  declare readonly generations: pulumi.Output<BackupVaultGeneration[]>;
  /** The newest generation's snapshot id, or null before the first one. */
  declare readonly newestSnapshotId: pulumi.Output<number | null>;
  /** Snapshots the last update deleted because they fell beyond `keep`. */
  declare readonly retiredSnapshotIds: pulumi.Output<number[]>;
  /** The tags every kept snapshot carries, when set. */
  declare readonly tags: pulumi.Output<string[] | undefined>;
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

  constructor(name: string, args: BackupVaultArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, { ...OUTPUTS, ...args }, opts, MODULE, "BackupVault");
  }
}

/** The outputs the engine fills from the provider's state. */
const OUTPUTS = outputSlots(
  "dropletId",
  "rotationKey",
  "keep",
  "copyToRegions",
  "namePattern",
  "generations",
  "newestSnapshotId",
  "retiredSnapshotIds",
  "tags",
  "waitTimeoutSeconds",
  "account",
);
