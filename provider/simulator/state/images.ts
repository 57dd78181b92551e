import type { Image, ImageUpdate } from "../../api/types";
import { ApiRefusal, notFound, unprocessable } from "../errors";
import { memberKey, type TagTable } from "./tags";

/** An image and the Droplet it was taken from, if any. */
export interface ImageRecord {
  image: Image;
  dropletId: number | null;
}

/** Filters of `GET /v2/images`. */
export interface ImageFilter {
  privateOnly?: boolean;
  type?: string;
  tag?: string;
}

const FIRST_IMAGE_ID = 100_000_000;
const DISTRIBUTIONS = ["Arch Linux", "CentOS", "CoreOS", "Debian", "Fedora", "Fedora Atomic", "FreeBSD", "Gentoo", "openSUSE", "RancherOS", "Rocky Linux", "Ubuntu", "Unknown"];

/**
 * The account's images: DigitalOcean's public base images and the account's own.
 * Views carry the image's tags, which the tag table holds.
 */
export class ImageTable {
  private readonly records = new Map<number, ImageRecord>();

  constructor(
    private readonly tags: TagTable,
    regionSlugs: string[],
  ) {
    for (const image of baseImages(regionSlugs)) this.records.set(image.id, { image, dropletId: null });
  }

  get(id: number): ImageRecord | undefined {
    return this.records.get(id);
  }

  /** A public image by its slug. */
  bySlug(slug: string): ImageRecord | undefined {
    return [...this.records.values()].find((r) => r.image.slug === slug);
  }

  /** The id after the highest one taken, never below the first id DigitalOcean-like ids start at. */
  nextId(): number {
    return Math.max(FIRST_IMAGE_ID, ...this.records.keys()) + 1;
  }

  /** Stores a new image under its id, which the caller made sure is free. */
  insert(record: ImageRecord): void {
    this.records.set(record.image.id, record);
  }

  /** Images taken from the Droplet. */
  ofDroplet(dropletId: number): Image[] {
    return [...this.records.values()].filter((r) => r.dropletId === dropletId).map((r) => r.image);
  }

  /** A user's own image, or 404 (unknown) / 403 (public images are not the account's). */
  owned(id: number): ImageRecord {
    const rec = this.records.get(id);
    if (!rec) throw notFound();
    if (rec.image.public) throw new ApiRefusal(403);
    return rec;
  }

  /** An image by id (or a public image by slug) with its tags, or undefined. */
  view(idOrSlug: number | string): Image | undefined {
    const rec = typeof idOrSlug === "number" ? this.records.get(idOrSlug) : this.bySlug(idOrSlug);
    if (!rec) return undefined;
    return { ...structuredClone(rec.image), tags: this.tags.namesOf(memberKey("image", rec.image.id)) };
  }

  /** Images matching `GET /v2/images` filters, by ascending id. */
  list(filter: ImageFilter = {}): Image[] {
    return [...this.records.keys()]
      .sort((a, b) => a - b)
      .map((id) => this.view(id)!)
      .filter((img) => !filter.privateOnly || !img.public)
      .filter((img) => matchesTypeFilter(img, filter.type))
      .filter((img) => filter.tag === undefined || (img.tags ?? []).includes(filter.tag));
  }

  /** `PUT /v2/images/{id}`: sets the given fields. Unknown distributions become "Unknown", as DigitalOcean does. */
  update(id: number, update: ImageUpdate): Image {
    const rec = this.owned(id);
    if (update.name !== undefined) rec.image.name = update.name;
    if (update.description !== undefined) rec.image.description = update.description;
    if (update.distribution !== undefined) {
      rec.image.distribution = DISTRIBUTIONS.includes(update.distribution) ? update.distribution : "Unknown";
    }
    return this.view(id)!;
  }

  /** `DELETE /v2/images/{id}`: snapshots and custom images only; backups go away with their retention. */
  delete(id: number): void {
    const rec = this.owned(id);
    if (rec.image.type === "backup") {
      throw unprocessable("Backups cannot be deleted; they expire with the Droplet's backup retention. Convert it to a snapshot first.");
    }
    this.records.delete(id);
    this.tags.forget(memberKey("image", id));
  }
}

/** DigitalOcean's own distribution images, public and in every region. */
function baseImages(regions: string[]): Image[] {
  const base = (id: number, name: string, distribution: string, slug: string): Image => ({
    id, name, distribution, slug, type: "base", public: true, regions: [...regions],
    created_at: "2024-04-25T12:00:00Z", min_disk_size: 7, size_gigabytes: 2.36,
    description: `${distribution} ${name}`, tags: [], status: "available", error_message: "",
  });
  return [base(94000001, "24.04 (LTS) x64", "Ubuntu", "ubuntu-24-04-x64"), base(94000002, "12 x64", "Debian", "debian-12-x64")];
}

/** The `type` query of `GET /v2/images`: DigitalOcean's distribution/application, plus the image types. */
function matchesTypeFilter(img: Image, type: string | undefined): boolean {
  if (type === undefined || type === "") return true;
  if (type === "distribution") return img.public && img.type === "base";
  if (type === "application") return img.public && img.type !== "base";
  return img.type === type;
}
