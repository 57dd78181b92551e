/**
 * Shapes of the DigitalOcean API objects this package reads and writes, as the
 * public OpenAPI specification describes them (only the fields the package uses
 * or exposes; real responses carry more). The client sends and parses them, the
 * simulator answers with them, so they belong to neither.
 */

/** An image of any kind: a backup, a snapshot, a custom or a base image. */
export interface Image {
  id: number;
  name: string;
  type: ImageType;
  distribution: string;
  /** Null for private images (backups, snapshots, custom images). */
  slug: string | null;
  public: boolean;
  /** Region slugs the image is available in. */
  regions: string[];
  /** ISO 8601 timestamp. */
  created_at: string;
  /** Minimum disk size in GB a Droplet needs to be created from the image; null while unknown. */
  min_disk_size: number | null;
  /** Size of the image in GB; null while unknown. */
  size_gigabytes: number | null;
  description: string;
  /** Null on some images, though the spec's own examples show arrays. */
  tags: string[] | null;
  status: ImageStatus;
  error_message: string;
}

export type ImageType = "base" | "snapshot" | "backup" | "custom" | "admin";
export type ImageStatus = "NEW" | "available" | "pending" | "deleted" | "retired";

export interface Region {
  name: string;
  slug: string;
  /** Includes `image_transfer` where images can be transferred into the region. */
  features: string[];
  available: boolean;
  sizes: string[];
}

/** The `policy` of `GET /v2/droplets/{id}/backups/policy`. */
export interface DropletBackupPolicyRecord {
  droplet_id: number;
  backup_enabled: boolean;
  /** Absent when backups are disabled. */
  backup_policy?: {
    plan: "daily" | "weekly" | string;
    /** `SUN` to `SAT`, for weekly plans. */
    weekday?: string;
    /** The UTC hour the window opens: 0, 4, 8, 12, 16 or 20. */
    hour?: number;
    window_length_hours?: number;
    retention_period_days?: number;
  };
  /** ISO 8601 times; null or absent when backups are disabled. */
  next_backup_window?: { start: string; end: string } | null;
}

export type ActionStatus = "in-progress" | "completed" | "errored";

export interface Action {
  id: number;
  status: ActionStatus;
  /** `convert`, `transfer`, and others this package does not start. */
  type: string;
  started_at: string;
  completed_at: string | null;
  /** The image id for image actions. */
  resource_id: number | null;
  resource_type: string;
  region?: Region;
  /** For a transfer: the target region. */
  region_slug: string | null;
}

/** The body of `POST /v2/images/{id}/actions`. */
export type ImageActionRequest = { type: "convert" } | { type: "transfer"; region: string };

/** Every non-2xx answer carries this body. */
export interface ErrorBody {
  id: string;
  message: string;
  request_id?: string;
}

export interface PageLinks {
  pages?: { first?: string; prev?: string; next?: string; last?: string };
}

export interface PageMeta {
  total: number;
}

/** `PUT /v2/images/{id}` accepts any of these. */
export interface ImageUpdate {
  name?: string;
  description?: string;
  distribution?: string;
}

/** A reference used by the tag resources endpoints. */
export interface TagResource {
  resource_id: string;
  resource_type: "image" | "droplet" | "volume" | "volume_snapshot" | "database";
}

/**
 * What this package reads of `GET /v2/account`'s `account`: the user's `uuid`
 * and, for a token issued in a team context, the team. The answer's `email`
 * and `name` are personal data and are never read.
 */
export interface AccountRecord {
  uuid: string;
  team?: { uuid: string; name: string };
}
