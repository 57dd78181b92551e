import * as pulumi from "@pulumi/pulumi";
import { shimFor } from "../dynamic/shim";
import type { AccountIdentity } from "../api/account-identity";
import { MODULE, outputSlots } from "./module";

const provider = shimFor("ImageRegionCopy");

/** The inputs of an {@link ImageRegionCopy}. */
export interface ImageRegionCopyArgs {
  /**
   * The snapshot or custom image to copy (backups cannot be transferred: keep
   * one as a snapshot first with `SnapshotFromBackup`). Changing it replaces
   * the resource. Accepts `digitalocean.DropletSnapshot.id` as is.
   */
  imageId: pulumi.Input<number | string>;
  /**
   * Region slugs the image must be available in, like `["ams3", "sfo3"]`.
   * Regions it is already in are adopted; the others are transferred in
   * parallel. Removing a region writes nothing: DigitalOcean cannot remove an
   * image from one region, so the copy stays.
   */
  regions: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * How long one `pulumi up` waits for the transfers, in seconds (10 to 86400,
   * default 3600; a string of digits, as `pulumi.Config.get` returns, is
   * accepted). Transfers still running then go on at DigitalOcean, and the
   * next `pulumi up` resumes waiting for them.
   */
  waitTimeoutSeconds?: pulumi.Input<number | string>;
}

/**
 * Makes an image or snapshot available in more regions. Copies are never
 * duplicated: regions the image is in are adopted and transfers already in
 * flight are joined. Deleting the resource leaves the copies in place.
 *
 * Its `id` is the image's id as a string: `image: copies.id` on a
 * `digitalocean.Droplet` boots from the copy once the transfers are done.
 */
export class ImageRegionCopy extends pulumi.dynamic.Resource {
  /**
   * The copied image's id. To boot a Droplet from the copy, use `id` (the same
   * id as a string, which `digitalocean.Droplet`'s `image` takes as is): the
   * Droplet then also waits for the transfers.
   */
  declare readonly imageId: pulumi.Output<number>;
  /** The declared target regions, sorted. */
  declare readonly regions: pulumi.Output<string[]>;
  /** Every region the image is available in, as DigitalOcean showed it: read before the transfers, plus the regions whose transfers completed; refresh reads it again. */
  declare readonly availableRegions: pulumi.Output<string[]>;
  /** The regions this resource copied the image to, as opposed to those it was already in. */
  declare readonly transferredRegions: pulumi.Output<string[]>;
  /** The transfer actions this resource started or joined. */
  declare readonly actionIds: pulumi.Output<number[]>;
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

  constructor(name: string, args: ImageRegionCopyArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, { ...OUTPUTS, ...args }, opts, MODULE, "ImageRegionCopy");
  }
}

/** The outputs the engine fills from the provider's state. */
const OUTPUTS = outputSlots(
  "imageId",
  "regions",
  "availableRegions",
  "transferredRegions",
  "actionIds",
  "waitTimeoutSeconds",
  "account",
);
