import type { Image, Region } from "../api/types";
import type { SeedBackupPolicy } from "./seed";

/** A Droplet as the simulator stores it; views add what is derived from images and tags. */
export interface DropletRecord {
  id: number;
  name: string;
  region: string;
  sizeSlug: string;
  imageSlug: string;
  status: "new" | "active" | "off" | "archive";
  createdAt: string;
  backupPolicy: SeedBackupPolicy | null;
}

/** Sizes a seed may use, with the figures DigitalOcean publishes for them. */
export const SIZES: Record<string, { memory: number; vcpus: number; disk: number; price_monthly: number }> = {
  "s-1vcpu-1gb": { memory: 1024, vcpus: 1, disk: 25, price_monthly: 6 },
  "s-1vcpu-2gb": { memory: 2048, vcpus: 1, disk: 50, price_monthly: 12 },
  "s-2vcpu-2gb": { memory: 2048, vcpus: 2, disk: 60, price_monthly: 18 },
  "s-2vcpu-4gb": { memory: 4096, vcpus: 2, disk: 80, price_monthly: 24 },
  "s-4vcpu-8gb": { memory: 8192, vcpus: 4, disk: 160, price_monthly: 48 },
  "s-8vcpu-16gb": { memory: 16384, vcpus: 8, disk: 320, price_monthly: 96 },
};

const WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The policy with DigitalOcean's defaults filled in; `weekday` only for weekly plans. */
export function fullPolicy(p: SeedBackupPolicy): SeedBackupPolicy {
  const weekly = p.plan === "weekly";
  return {
    plan: p.plan,
    ...(weekly ? { weekday: p.weekday ?? "SUN" } : {}),
    hour: p.hour ?? 0,
    window_length_hours: p.window_length_hours ?? 4,
    retention_period_days: p.retention_period_days ?? (weekly ? 28 : 7),
  };
}

/** The next backup window after `now` (clock ms) under `policy`, or null without backups. */
export function nextBackupWindow(policy: SeedBackupPolicy | null, now: number): { start: string; end: string } | null {
  if (policy === null) return null;
  const p = fullPolicy(policy);
  const today = new Date(now);
  let start = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), p.hour ?? 0);
  if (p.weekday !== undefined) {
    start += ((WEEKDAYS.indexOf(p.weekday) - today.getUTCDay() + 7) % 7) * DAY;
  }
  const step = p.plan === "weekly" ? 7 * DAY : DAY;
  while (start <= now) start += step;
  return { start: iso(start), end: iso(start + (p.window_length_hours ?? 4) * HOUR) };
}

/** ISO 8601 without milliseconds, as DigitalOcean formats timestamps. */
export function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** The Droplet object of `GET /v2/droplets/{id}`, with every field the OpenAPI requires. */
export function dropletView(
  d: DropletRecord,
  related: { region: Region; image: Image; backupIds: number[]; snapshotIds: number[]; tags: string[]; now: number },
): Record<string, unknown> {
  const size = SIZES[d.sizeSlug];
  return {
    id: d.id,
    name: d.name,
    memory: size.memory,
    vcpus: size.vcpus,
    disk: size.disk,
    disk_info: [{ type: "local", size: { amount: size.disk, unit: "gib" } }],
    locked: false,
    status: d.status,
    kernel: null,
    created_at: d.createdAt,
    features: d.backupPolicy ? ["backups", "ipv6", "private_networking"] : ["ipv6", "private_networking"],
    backup_ids: related.backupIds,
    next_backup_window: nextBackupWindow(d.backupPolicy, related.now),
    snapshot_ids: related.snapshotIds,
    image: related.image,
    volume_ids: [],
    size: {
      slug: d.sizeSlug,
      ...size,
      transfer: size.memory / 1024,
      price_hourly: Math.round((size.price_monthly / 672) * 100000) / 100000,
      regions: [d.region],
      available: true,
      description: "Basic",
    },
    size_slug: d.sizeSlug,
    networks: { v4: [], v6: [] },
    region: related.region,
    tags: related.tags,
  };
}
