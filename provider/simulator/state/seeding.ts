import type { Region } from "../../api/types";
import { iso, SIZES } from "../droplets";
import type { SeedData, SeedDroplet, SeedImage } from "../seed";
import type { Account } from "./account";
import { memberKey } from "./tags";

/** Applies seed data: regions first, then Droplets with their backups, then images and tags. */
export function seedAccount(account: Account, data: SeedData): void {
  for (const r of data.regions ?? []) addRegion(account, r);
  for (const name of data.tags ?? []) account.tags.ensure(name);
  for (const d of data.droplets ?? []) addDroplet(account, d);
  for (const img of data.images ?? []) addImage(account, img);
}

/** Adds a region, or replaces the one with the same slug. */
export function addRegion(account: Account, region: Region): void {
  account.regions.set(region.slug, structuredClone(region));
}

/** Adds a Droplet and its backups. Throws when the id is taken or a slug is unknown. */
export function addDroplet(account: Account, d: SeedDroplet): void {
  if (account.droplets.has(d.id)) throw new Error(`Droplet ${d.id} already exists`);
  requireRegion(account, d.region, `Droplet ${d.id}`);
  const sizeSlug = d.size_slug ?? "s-1vcpu-1gb";
  if (!SIZES[sizeSlug]) throw new Error(`Droplet ${d.id}: unknown size_slug "${sizeSlug}"; known: ${Object.keys(SIZES).join(", ")}`);
  const imageSlug = d.image ?? "ubuntu-24-04-x64";
  if (!account.images.bySlug(imageSlug)) throw new Error(`Droplet ${d.id}: unknown base image "${imageSlug}"`);
  account.droplets.set(d.id, {
    id: d.id, name: d.name, region: d.region, sizeSlug, imageSlug,
    status: d.status ?? "active",
    createdAt: d.created_at ?? iso(account.clock.now()),
    backupPolicy: d.backup_policy ?? null,
  });
  for (const tag of d.tags ?? []) account.tags.ensure(tag).members.add(memberKey("droplet", d.id));
  for (const b of d.backups ?? []) addImage(account, { ...b, type: "backup", droplet_id: d.id });
}

/** Adds a private image (snapshot, custom image or backup) and returns its id, by default the next free one. */
export function addImage(account: Account, seed: SeedImage): number {
  const type = seed.type ?? "snapshot";
  const droplet = seed.droplet_id === undefined ? undefined : account.droplets.get(seed.droplet_id);
  if (seed.droplet_id !== undefined && !droplet) throw new Error(`image "${seed.name}": unknown droplet_id ${seed.droplet_id}`);
  if (type === "backup" && !droplet) throw new Error(`backup "${seed.name}" needs a droplet_id`);
  const id = seed.id ?? account.images.nextId();
  if (account.images.get(id)) throw new Error(`image ${id} already exists`);
  const regions = seed.regions ?? (droplet ? [droplet.region] : []);
  if (regions.length === 0) throw new Error(`image ${id} needs regions (or a droplet_id to take the region from)`);
  regions.forEach((r) => requireRegion(account, r, `image ${id}`));
  account.images.insert({
    dropletId: droplet?.id ?? null,
    image: {
      id, name: seed.name, type, slug: null, public: false, regions: [...regions],
      distribution: seed.distribution ?? (droplet ? account.images.bySlug(droplet.imageSlug)!.image.distribution : "Unknown"),
      created_at: seed.created_at ?? iso(account.clock.now()),
      min_disk_size: seed.min_disk_size ?? (droplet ? SIZES[droplet.sizeSlug].disk : 25),
      size_gigabytes: seed.size_gigabytes ?? 2.34,
      description: seed.description ?? "",
      tags: [],
      status: seed.status ?? "available",
      error_message: "",
    },
  });
  for (const tag of seed.tags ?? []) account.tags.ensure(tag).members.add(memberKey("image", id));
  return id;
}

function requireRegion(account: Account, slug: string, who: string): void {
  if (!account.regions.has(slug)) throw new Error(`${who}: unknown region "${slug}"`);
}
