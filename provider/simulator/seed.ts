import { readFileSync } from "node:fs";
import type { ImageStatus, Region } from "../api/types";
import type { SeedAccount } from "./identity";

/** A Droplet's backup plan, as in `GET /v2/droplets/{id}/backups/policy`. */
export interface SeedBackupPolicy {
  plan: "daily" | "weekly";
  /** For weekly plans: `SUN`..`SAT`. Default `SUN`. */
  weekday?: string;
  /** UTC hour the backup window starts. Default 0. */
  hour?: number;
  /** Default 4. */
  window_length_hours?: number;
  /** Default 7 (daily) or 28 (weekly). */
  retention_period_days?: number;
}

/**
 * A private image: a snapshot, a custom image or a backup. Ids are integers;
 * omitted ones are assigned from 100000000 up. `tags` are created as needed.
 */
export interface SeedImage {
  id?: number;
  name: string;
  /** Default `snapshot`. A `backup` needs `droplet_id`. */
  type?: "snapshot" | "backup" | "custom";
  /** Region slugs; default: the Droplet's region. */
  regions?: string[];
  /** ISO 8601; default: the Clock's now. */
  created_at?: string;
  /** The Droplet the image was taken from; it then lists the image in `backup_ids`/`snapshot_ids`. */
  droplet_id?: number;
  size_gigabytes?: number;
  min_disk_size?: number;
  distribution?: string;
  description?: string;
  status?: ImageStatus;
  tags?: string[];
}

/** A backup listed under its Droplet in a seed: a SeedImage without `type` or `droplet_id`. */
export type SeedBackup = Omit<SeedImage, "type" | "droplet_id">;

/** A Droplet, with its backups (taken in its region unless `regions` says otherwise). */
export interface SeedDroplet {
  id: number;
  name: string;
  /** Region slug. */
  region: string;
  /** Default `s-1vcpu-1gb`. */
  size_slug?: string;
  /** Slug of the base image it runs. Default `ubuntu-24-04-x64`. */
  image?: string;
  /** Default `active`. */
  status?: "new" | "active" | "off" | "archive";
  /** ISO 8601; default: the Clock's now. */
  created_at?: string;
  /** Absent or null: backups disabled. */
  backup_policy?: SeedBackupPolicy | null;
  backups?: SeedBackup[];
  tags?: string[];
}

/**
 * The simulator's initial state, as a JSON file or an object (snake_case like
 * the API). Every part is optional:
 * - `regions`: Region objects added to the defaults (or replacing one with the same slug);
 * - `droplets`: Droplets with their `backups` and `backup_policy`;
 * - `images`: snapshots, custom images and further backups;
 * - `tags`: tag names to create up front;
 * - `account`: who `GET /v2/account` says the tokens belong to (a team, or `"team": null` for a user's own token).
 *
 * @example
 * { "droplets": [{ "id": 3164494, "name": "web-01", "region": "nyc3",
 *     "backup_policy": { "plan": "daily", "hour": 4 },
 *     "backups": [{ "id": 100000001, "name": "web-01 2025-06-01", "created_at": "2025-06-01T04:12:00Z" }] }],
 *   "images": [{ "id": 100000010, "name": "golden", "type": "snapshot", "regions": ["nyc3"], "droplet_id": 3164494 }] }
 */
export interface SeedData {
  regions?: Region[];
  droplets?: SeedDroplet[];
  images?: SeedImage[];
  tags?: string[];
  account?: SeedAccount;
}

type Check = (v: unknown) => boolean;
const isInt: Check = (v) => Number.isInteger(v) && (v as number) > 0;
const isStr: Check = (v) => typeof v === "string";
const isNum: Check = (v) => typeof v === "number" && Number.isFinite(v) && v >= 0;
const isDate: Check = (v) => typeof v === "string" && !Number.isNaN(Date.parse(v));
const isStrArr: Check = (v) => Array.isArray(v) && v.every(isStr);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function check(where: string, obj: Record<string, unknown>, fields: Record<string, [Check, string, boolean?]>): void {
  for (const [key, [ok, expected, required]] of Object.entries(fields)) {
    const v = obj[key];
    if (v === undefined && !required) continue;
    if (!ok(v)) throw new Error(`${where}.${key} must be ${expected}, got ${JSON.stringify(v)}`);
  }
}

const IMAGE_FIELDS: Record<string, [Check, string, boolean?]> = {
  id: [isInt, "a positive integer"],
  name: [isStr, "a string", true],
  regions: [isStrArr, "an array of region slugs"],
  created_at: [isDate, "an ISO 8601 date"],
  size_gigabytes: [isNum, "a number >= 0"],
  min_disk_size: [isNum, "a number >= 0"],
  distribution: [isStr, "a string"],
  description: [isStr, "a string"],
  tags: [isStrArr, "an array of tag names"],
};

/** Checks the shape of seed data, throwing an Error that names the offending field. */
export function validateSeed(data: unknown, where = "seed"): SeedData {
  if (!isObj(data)) throw new Error(`${where} must be a JSON object`);
  check(where, data, { tags: [isStrArr, "an array of tag names"] });
  for (const key of ["regions", "droplets", "images"]) {
    if (data[key] !== undefined && !Array.isArray(data[key])) throw new Error(`${where}.${key} must be an array`);
  }
  ((data.regions as unknown[]) ?? []).forEach((r, i) => {
    const w = `${where}.regions[${i}]`;
    if (!isObj(r)) throw new Error(`${w} must be an object`);
    check(w, r, {
      slug: [isStr, "a string", true],
      name: [isStr, "a string", true],
      features: [isStrArr, "an array of strings", true],
      available: [(v) => typeof v === "boolean", "a boolean", true],
      sizes: [isStrArr, "an array of strings", true],
    });
  });
  ((data.droplets as unknown[]) ?? []).forEach((d, i) => {
    const w = `${where}.droplets[${i}]`;
    if (!isObj(d)) throw new Error(`${w} must be an object`);
    check(w, d, {
      id: [isInt, "a positive integer", true],
      name: [isStr, "a string", true],
      region: [isStr, "a region slug", true],
      size_slug: [isStr, "a size slug"],
      image: [isStr, "a base image slug"],
      status: [(v) => ["new", "active", "off", "archive"].includes(v as string), `"new", "active", "off" or "archive"`],
      created_at: [isDate, "an ISO 8601 date"],
      tags: [isStrArr, "an array of tag names"],
    });
    const p = d.backup_policy;
    if (p !== undefined && p !== null) {
      if (!isObj(p)) throw new Error(`${w}.backup_policy must be an object or null`);
      check(`${w}.backup_policy`, p, {
        plan: [(v) => v === "daily" || v === "weekly", `"daily" or "weekly"`, true],
        weekday: [(v) => ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"].includes(v as string), "SUN..SAT"],
        hour: [(v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < 24, "an hour 0..23"],
        window_length_hours: [isInt, "a positive integer"],
        retention_period_days: [isInt, "a positive integer"],
      });
    }
    if (d.backups !== undefined && !Array.isArray(d.backups)) throw new Error(`${w}.backups must be an array`);
    ((d.backups as unknown[]) ?? []).forEach((b, j) => {
      if (!isObj(b)) throw new Error(`${w}.backups[${j}] must be an object`);
      check(`${w}.backups[${j}]`, b, IMAGE_FIELDS);
    });
  });
  if (data.account !== undefined) {
    const w = `${where}.account`;
    if (!isObj(data.account)) throw new Error(`${w} must be an object`);
    check(w, data.account, { uuid: [isStr, "a string"], email: [isStr, "a string"] });
    const team = data.account.team;
    if (team !== undefined && team !== null) {
      if (!isObj(team)) throw new Error(`${w}.team must be an object or null`);
      check(`${w}.team`, team, { uuid: [isStr, "a string", true], name: [isStr, "a string", true] });
    }
  }
  ((data.images as unknown[]) ?? []).forEach((img, i) => {
    const w = `${where}.images[${i}]`;
    if (!isObj(img)) throw new Error(`${w} must be an object`);
    check(w, img, {
      ...IMAGE_FIELDS,
      type: [(v) => ["snapshot", "backup", "custom"].includes(v as string), `"snapshot", "backup" or "custom"`],
      droplet_id: [isInt, "a Droplet id"],
      status: [(v) => ["NEW", "available", "pending", "deleted", "retired"].includes(v as string), "an image status"],
    });
  });
  return data as SeedData;
}

/** Reads and validates a seed JSON file (format: {@link SeedData}). */
export function loadSeed(path: string): SeedData {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`cannot read seed file ${path}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`seed file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return validateSeed(data, path);
}
