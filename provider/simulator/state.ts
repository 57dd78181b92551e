import type { Clock } from "../clock";
import type { Action, Image, ImageActionRequest, ImageUpdate, Region, TagResource } from "../client/types";
import { ApiError, notFound, unprocessable } from "./errors";
import type { Faults } from "./faults";
import { defaultRegions } from "./regions";
import { dropletView, fullPolicy, iso, nextBackupWindow, SIZES, type DropletRecord } from "./droplets";
import type { SeedBackup, SeedData, SeedDroplet, SeedImage } from "./seed";

/**
 * How long actions take, in Clock milliseconds: a base per type plus
 * `perGigabyteMs` for each GB of the image.
 */
export interface ActionDurations {
  /** Default 60 000 (one minute). */
  convertMs?: number;
  /** Default 120 000 (two minutes). */
  transferMs?: number;
  /** Default 0: durations do not depend on size. */
  perGigabyteMs?: number;
}

/** A tag with its members, in the order they were tagged. */
interface TagRecord {
  name: string;
  /** `image:<id>` or `droplet:<id>`. */
  members: Set<string>;
}

interface ActionRecord extends Action {
  /** Clock ms when the action finishes. */
  dueAt: number;
  /** Decided at start, so a configured failure cannot be dodged by reading late. */
  endsErrored: boolean;
}

/** Everything the simulator holds, as `GET /_sim/state` returns it. */
export interface StateSnapshot {
  regions: Region[];
  images: Image[];
  /** Newest first. */
  actions: Action[];
  droplets: Record<string, unknown>[];
  tags: { name: string; resources: TagResource[] }[];
}

const FIRST_IMAGE_ID = 100_000_000;
const FIRST_ACTION_ID = 2_000_000_000;
const DISTRIBUTIONS = ["Arch Linux", "CentOS", "CoreOS", "Debian", "Fedora", "Fedora Atomic", "FreeBSD", "Gentoo", "openSUSE", "RancherOS", "Rocky Linux", "Ubuntu", "Unknown"];

/** DigitalOcean's own distribution images, public and in every region. */
function baseImages(regions: string[]): Image[] {
  const base = (id: number, name: string, distribution: string, slug: string): Image => ({
    id, name, distribution, slug, type: "base", public: true, regions: [...regions],
    created_at: "2024-04-25T12:00:00Z", min_disk_size: 7, size_gigabytes: 2.36,
    description: `${distribution} ${name}`, tags: [], status: "available", error_message: "",
  });
  return [base(94000001, "24.04 (LTS) x64", "Ubuntu", "ubuntu-24-04-x64"), base(94000002, "12 x64", "Debian", "debian-12-x64")];
}

/** Behaviours DigitalOcean does not document, which the simulator lets a test choose (see its README). */
export interface SimAssumptions {
  /** Refuse with 422 a convert or transfer identical to one in flight on the image. */
  refuseDuplicateActions: boolean;
  /**
   * How `POST /v2/tags` spells a tag that exists in another capitalization: as it
   * exists (`existing`) or as the request spelled it (`requested`).
   */
  tagAnswerSpelling: "existing" | "requested";
}

/**
 * The simulated account: regions, Droplets, images, actions and tags, and the
 * action lifecycle. Actions finish lazily: every read or write first applies the
 * completions that are due on the Clock, so no timers run in the background.
 */
export class SimState {
  private readonly regionsBySlug = new Map<string, Region>();
  private readonly images = new Map<number, { image: Image; dropletId: number | null }>();
  private readonly droplets = new Map<number, DropletRecord>();
  private readonly actions: ActionRecord[] = [];
  private readonly tags = new Map<string, TagRecord>();
  private readonly failNext = new Set<number>();
  private nextActionId = FIRST_ACTION_ID;

  constructor(
    private readonly clock: Clock,
    private readonly faults: Faults,
    private readonly durations: Required<ActionDurations>,
    readonly assumptions: SimAssumptions = { refuseDuplicateActions: false, tagAnswerSpelling: "existing" },
  ) {
    for (const r of defaultRegions()) this.regionsBySlug.set(r.slug, r);
    for (const img of baseImages([...this.regionsBySlug.keys()])) this.images.set(img.id, { image: img, dropletId: null });
  }

  // ---- seeding ----

  /** Applies seed data: regions first, then Droplets with their backups, then images and tags. */
  seed(data: SeedData): void {
    for (const r of data.regions ?? []) this.addRegion(r);
    for (const name of data.tags ?? []) this.createTag(name);
    for (const d of data.droplets ?? []) this.addDroplet(d);
    for (const img of data.images ?? []) this.addImage(img);
  }

  /** Adds a region, or replaces the one with the same slug. */
  addRegion(region: Region): Region {
    this.regionsBySlug.set(region.slug, structuredClone(region));
    return structuredClone(region);
  }

  /** Adds a Droplet and its backups. Throws when the id is taken or a slug is unknown. */
  addDroplet(d: SeedDroplet): Record<string, unknown> {
    if (this.droplets.has(d.id)) throw new Error(`Droplet ${d.id} already exists`);
    this.requireRegion(d.region, `Droplet ${d.id}`);
    const sizeSlug = d.size_slug ?? "s-1vcpu-1gb";
    if (!SIZES[sizeSlug]) throw new Error(`Droplet ${d.id}: unknown size_slug "${sizeSlug}"; known: ${Object.keys(SIZES).join(", ")}`);
    const imageSlug = d.image ?? "ubuntu-24-04-x64";
    if (!this.baseImageBySlug(imageSlug)) throw new Error(`Droplet ${d.id}: unknown base image "${imageSlug}"`);
    this.droplets.set(d.id, {
      id: d.id, name: d.name, region: d.region, sizeSlug, imageSlug,
      status: d.status ?? "active",
      createdAt: d.created_at ?? iso(this.clock.now()),
      backupPolicy: d.backup_policy ?? null,
    });
    for (const tag of d.tags ?? []) this.tagMember(tag, `droplet:${d.id}`);
    for (const b of d.backups ?? []) this.addBackup(d.id, b);
    return this.dropletView(d.id);
  }

  /** Adds a backup of Droplet `dropletId` (in its region unless `regions` is given). */
  addBackup(dropletId: number, backup: SeedBackup): Image {
    return this.addImage({ ...backup, type: "backup", droplet_id: dropletId });
  }

  /** Adds a private image (snapshot, custom image or backup); the id defaults to the next free one. */
  addImage(seed: SeedImage): Image {
    const type = seed.type ?? "snapshot";
    const droplet = seed.droplet_id === undefined ? undefined : this.droplets.get(seed.droplet_id);
    if (seed.droplet_id !== undefined && !droplet) throw new Error(`image "${seed.name}": unknown droplet_id ${seed.droplet_id}`);
    if (type === "backup" && !droplet) throw new Error(`backup "${seed.name}" needs a droplet_id`);
    const id = seed.id ?? Math.max(FIRST_IMAGE_ID, ...this.images.keys()) + 1;
    if (this.images.has(id)) throw new Error(`image ${id} already exists`);
    const regions = seed.regions ?? (droplet ? [droplet.region] : []);
    if (regions.length === 0) throw new Error(`image ${id} needs regions (or a droplet_id to take the region from)`);
    regions.forEach((r) => this.requireRegion(r, `image ${id}`));
    const size = seed.size_gigabytes ?? 2.34;
    this.images.set(id, {
      dropletId: droplet?.id ?? null,
      image: {
        id, name: seed.name, type, slug: null, public: false, regions: [...regions],
        distribution: seed.distribution ?? (droplet ? this.baseImageBySlug(droplet.imageSlug)!.image.distribution : "Unknown"),
        created_at: seed.created_at ?? iso(this.clock.now()),
        min_disk_size: seed.min_disk_size ?? (droplet ? SIZES[droplet.sizeSlug].disk : 25),
        size_gigabytes: size,
        description: seed.description ?? "",
        tags: [],
        status: seed.status ?? "available",
        error_message: "",
      },
    });
    for (const tag of seed.tags ?? []) this.tagMember(tag, `image:${id}`);
    return this.imageView(id)!;
  }

  /** Makes the next convert or transfer started on `imageId` end `errored`. */
  failNextAction(imageId: number): void {
    this.failNext.add(imageId);
  }

  // ---- reads ----

  /** Regions in a stable order. */
  listRegions(): Region[] {
    return [...this.regionsBySlug.values()].map((r) => structuredClone(r));
  }

  /** An image by id (or a public image by slug), or undefined. */
  imageView(idOrSlug: number | string): Image | undefined {
    this.settle();
    const rec = typeof idOrSlug === "number" ? this.images.get(idOrSlug) : this.baseImageBySlug(idOrSlug);
    if (!rec) return undefined;
    const key = `image:${rec.image.id}`;
    const tags = [...this.tags.values()].filter((t) => t.members.has(key)).map((t) => t.name);
    return { ...structuredClone(rec.image), tags };
  }

  /** Images matching `GET /v2/images` filters, by ascending id. */
  listImages(filter: { privateOnly?: boolean; type?: string; tag?: string } = {}): Image[] {
    this.settle();
    return [...this.images.keys()]
      .sort((a, b) => a - b)
      .map((id) => this.imageView(id)!)
      .filter((img) => !filter.privateOnly || !img.public)
      .filter((img) => matchesTypeFilter(img, filter.type))
      .filter((img) => filter.tag === undefined || (img.tags ?? []).includes(filter.tag));
  }

  /** Every action, newest first; only those on `imageId` when given. */
  listActions(imageId?: number): Action[] {
    this.settle();
    return this.actions
      .filter((a) => imageId === undefined || a.resource_id === imageId)
      .map(actionView)
      .reverse();
  }

  action(id: number): Action | undefined {
    this.settle();
    const a = this.actions.find((x) => x.id === id);
    return a && actionView(a);
  }

  listDroplets(): Record<string, unknown>[] {
    this.settle();
    return [...this.droplets.keys()].sort((a, b) => a - b).map((id) => this.dropletView(id));
  }

  /** The Droplet object, or throws 404. */
  dropletView(id: number): Record<string, unknown> {
    this.settle();
    const d = this.droplets.get(id);
    if (!d) throw notFound();
    const own = [...this.images.values()].filter((r) => r.dropletId === id).map((r) => r.image);
    return dropletView(d, {
      region: this.regionsBySlug.get(d.region)!,
      image: this.imageView(d.imageSlug)!,
      backupIds: own.filter((i) => i.type === "backup").map((i) => i.id),
      snapshotIds: own.filter((i) => i.type === "snapshot").map((i) => i.id),
      tags: [...this.tags.values()].filter((t) => t.members.has(`droplet:${id}`)).map((t) => t.name),
      now: this.clock.now(),
    });
  }

  /** A Droplet's backups, oldest first (clients must sort), or throws 404. */
  backups(dropletId: number): Image[] {
    this.settle();
    if (!this.droplets.has(dropletId)) throw notFound();
    return [...this.images.values()]
      .filter((r) => r.dropletId === dropletId && r.image.type === "backup")
      .sort((a, b) => Date.parse(a.image.created_at) - Date.parse(b.image.created_at) || a.image.id - b.image.id)
      .map((r) => this.imageView(r.image.id)!);
  }

  /** The `policy` object of `GET /v2/droplets/{id}/backups/policy`, or throws 404. */
  backupPolicy(dropletId: number): Record<string, unknown> {
    const d = this.droplets.get(dropletId);
    if (!d) throw notFound();
    const policy: Record<string, unknown> = { droplet_id: d.id, backup_enabled: d.backupPolicy !== null };
    if (d.backupPolicy) policy.backup_policy = fullPolicy(d.backupPolicy);
    policy.next_backup_window = nextBackupWindow(d.backupPolicy, this.clock.now());
    return policy;
  }

  /** Everything, for inspection. */
  snapshot(): StateSnapshot {
    return {
      regions: this.listRegions(),
      images: this.listImages(),
      actions: this.listActions(),
      droplets: this.listDroplets(),
      tags: [...this.tags.values()].map((t) => ({ name: t.name, resources: [...t.members].map(memberToResource) })),
    };
  }

  // ---- writes ----

  /** `PUT /v2/images/{id}`: sets the given fields. Unknown distributions become "Unknown", as DigitalOcean does. */
  updateImage(id: number, update: ImageUpdate): Image {
    const rec = this.privateImage(id);
    if (update.name !== undefined) rec.image.name = update.name;
    if (update.description !== undefined) rec.image.description = update.description;
    if (update.distribution !== undefined) {
      rec.image.distribution = DISTRIBUTIONS.includes(update.distribution) ? update.distribution : "Unknown";
    }
    return this.imageView(id)!;
  }

  /** `DELETE /v2/images/{id}`: snapshots and custom images only; backups go away with their retention. */
  deleteImage(id: number): void {
    const rec = this.privateImage(id);
    if (rec.image.type === "backup") {
      throw unprocessable("Backups cannot be deleted; they expire with the Droplet's backup retention. Convert it to a snapshot first.");
    }
    this.images.delete(id);
    for (const t of this.tags.values()) t.members.delete(`image:${id}`);
  }

  /** `POST /v2/images/{id}/actions`: starts a convert or transfer, refusing impossible ones with 422. */
  startAction(id: number, req: ImageActionRequest): Action {
    const { image } = this.privateImage(id);
    const inFlight = this.actions.filter((a) => a.resource_id === id && a.status === "in-progress");
    let region: Region;
    let duration: number;
    if (req.type === "convert") {
      if (image.type !== "backup") throw unprocessable(`Image ${id} is a ${image.type}, not a backup; only backups can be converted to snapshots.`);
      if (this.assumptions.refuseDuplicateActions && inFlight.some((a) => a.type === "convert")) throw unprocessable(`Image ${id} is already being converted.`);
      region = this.regionsBySlug.get(image.regions[0])!;
      duration = this.durations.convertMs;
    } else {
      if (image.type === "backup") throw unprocessable(`Image ${id} is a backup; backups cannot be transferred. Convert it to a snapshot first.`);
      const target = this.regionsBySlug.get(req.region);
      if (!target) throw unprocessable(`Region "${req.region}" is not a valid region.`);
      if (!target.available || !target.features.includes("image_transfer")) {
        throw unprocessable(`Images cannot be transferred to region ${req.region}: it is unavailable or lacks image transfer.`);
      }
      if (image.regions.includes(req.region)) throw unprocessable(`Image ${id} is already available in ${req.region}.`);
      if (this.assumptions.refuseDuplicateActions && inFlight.some((a) => a.type === "transfer" && a.region_slug === req.region)) {
        throw unprocessable(`Image ${id} is already being transferred to ${req.region}.`);
      }
      region = target;
      duration = this.durations.transferMs;
    }
    const now = this.clock.now();
    const endsErrored = this.failNext.delete(id) || this.faults.actionErrors();
    const action: ActionRecord = {
      id: this.nextActionId++,
      status: "in-progress",
      type: req.type,
      started_at: iso(now),
      completed_at: null,
      resource_id: id,
      resource_type: "image",
      region: structuredClone(region),
      region_slug: region.slug,
      dueAt: now + duration + this.durations.perGigabyteMs * (image.size_gigabytes ?? 0),
      endsErrored,
    };
    this.actions.push(action);
    return actionView(action);
  }

  /** `POST /v2/tags`: creates the tag or returns the existing one (names are case stable). */
  createTag(name: string): { name: string; resources: Record<string, unknown> } {
    const existing = [...this.tags.values()].find((t) => t.name.toLowerCase() === name.toLowerCase());
    if (!existing) this.tags.set(name, { name, members: new Set() });
    return this.tagView((existing ?? this.tags.get(name))!.name, "");
  }

  /** Every tag's name, in the order the tags were created. */
  tagNames(): string[] {
    return [...this.tags.keys()];
  }

  /** The tag object with resource counts, or throws 404. `baseUrl` prefixes `last_tagged_uri`. */
  tagView(name: string, baseUrl: string): { name: string; resources: Record<string, unknown> } {
    const tag = this.tags.get(name);
    if (!tag) throw notFound();
    const members = [...tag.members];
    const stats = (prefix: string, path: string) => {
      const of = members.filter((m) => prefix === "" || m.startsWith(prefix));
      const last = of[of.length - 1];
      const s: Record<string, unknown> = { count: of.length };
      if (last) {
        const [kind, id] = last.split(":");
        s.last_tagged_uri = `${baseUrl}/v2/${path || `${kind}s`}/${id}`;
      }
      return s;
    };
    return {
      name: tag.name,
      resources: {
        ...stats("", ""),
        droplets: stats("droplet:", "droplets"),
        images: stats("image:", "images"),
        volumes: { count: 0 },
        volume_snapshots: { count: 0 },
        databases: { count: 0 },
      },
    };
  }

  /** `DELETE /v2/tags/{tag}`: removes the tag from every resource and deletes it, or throws 404. */
  deleteTag(name: string): void {
    if (!this.tags.delete(name)) throw notFound();
  }

  /** Tags or untags resources; the tag and every resource must exist (else 404). */
  setTagged(name: string, resources: TagResource[], tagged: boolean): void {
    this.settle();
    const tag = this.tags.get(name);
    if (!tag) throw notFound();
    const keys = resources.map((r) => {
      const id = Number(r.resource_id);
      const exists = r.resource_type === "image" ? this.images.has(id) && !this.images.get(id)!.image.public : r.resource_type === "droplet" && this.droplets.has(id);
      if (!exists) throw new ApiError(404, `${r.resource_type} ${r.resource_id} could not be found.`);
      return `${r.resource_type}:${id}`;
    });
    for (const key of keys) {
      if (tagged) tag.members.add(key);
      else tag.members.delete(key);
    }
  }

  // ---- internals ----

  /** Applies every completion that is due on the Clock, in the order they finished. */
  private settle(): void {
    const now = this.clock.now();
    const due = this.actions.filter((a) => a.status === "in-progress" && a.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt);
    for (const a of due) {
      const rec = this.images.get(a.resource_id!);
      a.completed_at = iso(a.dueAt);
      // An image deleted while its action ran cannot receive the result.
      if (a.endsErrored || !rec) {
        a.status = "errored";
        continue;
      }
      a.status = "completed";
      if (a.type === "convert") rec.image.type = "snapshot";
      else if (!rec.image.regions.includes(a.region_slug!)) rec.image.regions.push(a.region_slug!);
    }
  }

  /** A user's own image, or 404 (unknown) / 403 (public images are not the account's). */
  private privateImage(id: number): { image: Image; dropletId: number | null } {
    this.settle();
    const rec = this.images.get(id);
    if (!rec) throw notFound();
    if (rec.image.public) throw new ApiError(403);
    return rec;
  }

  private baseImageBySlug(slug: string) {
    return [...this.images.values()].find((r) => r.image.slug === slug);
  }

  private requireRegion(slug: string, who: string): void {
    if (!this.regionsBySlug.has(slug)) throw new Error(`${who}: unknown region "${slug}"`);
  }

  private tagMember(name: string, key: string): void {
    const tag = this.createTag(name);
    this.tags.get(tag.name)!.members.add(key);
  }
}

/** The `type` query of `GET /v2/images`: DigitalOcean's distribution/application, plus the image types. */
function matchesTypeFilter(img: Image, type: string | undefined): boolean {
  if (type === undefined || type === "") return true;
  if (type === "distribution") return img.public && img.type === "base";
  if (type === "application") return img.public && img.type !== "base";
  return img.type === type;
}

function actionView(a: ActionRecord): Action {
  const { dueAt: _dueAt, endsErrored: _endsErrored, ...action } = a;
  return structuredClone(action);
}

function memberToResource(key: string): TagResource {
  const [type, id] = key.split(":");
  return { resource_id: id, resource_type: type as TagResource["resource_type"] };
}
