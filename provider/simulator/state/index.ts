import type { Clock } from "../../clock";
import type { Action, Image, ImageActionRequest, ImageUpdate, Region, TagResource } from "../../api/types";
import { dropletView, fullPolicy, nextBackupWindow, type DropletRecord } from "../droplets";
import { ApiRefusal, notFound } from "../errors";
import type { Page } from "../pagination";
import type { Faults } from "../faults";
import { defaultRegions } from "../regions";
import type { SeedBackup, SeedData, SeedDroplet, SeedImage } from "../seed";
import type { Account } from "./account";
import { ActionLog, type ActionAssumptions, type ActionDurations } from "./actions";
import { ImageTable, type ImageFilter } from "./images";
import { addDroplet, addImage, addRegion, seedAccount } from "./seeding";
import { memberKey, TagTable, type MemberKey, type TagView } from "./tags";

export type { ActionDurations } from "./actions";

/** Everything the simulator holds, as `GET /_sim/state` returns it. */
export interface StateSnapshot {
  regions: Region[];
  images: Image[];
  /** Newest first. */
  actions: Action[];
  droplets: Record<string, unknown>[];
  tags: { name: string; resources: TagResource[] }[];
}

/** Behaviours DigitalOcean does not document, which the simulator lets a test choose (see its README). */
export interface SimAssumptions extends ActionAssumptions {
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
  private readonly account: Account;
  private readonly actions: ActionLog;

  constructor(
    clock: Clock,
    faults: Faults,
    durations: Required<ActionDurations>,
    readonly assumptions: SimAssumptions = { refuseDuplicateActions: false, tagAnswerSpelling: "existing" },
  ) {
    const regions = new Map(defaultRegions().map((r): [string, Region] => [r.slug, r]));
    const tags = new TagTable();
    const images = new ImageTable(tags, [...regions.keys()]);
    this.account = { clock, regions, droplets: new Map<number, DropletRecord>(), images, tags };
    this.actions = new ActionLog(clock, faults, durations, assumptions, images, regions);
  }

  // Seeding

  /** Applies seed data: regions first, then Droplets with their backups, then images and tags. */
  seed(data: SeedData): void {
    seedAccount(this.account, data);
  }

  /** Adds a region, or replaces the one with the same slug. */
  addRegion(region: Region): Region {
    addRegion(this.account, region);
    return structuredClone(region);
  }

  /** Adds a Droplet and its backups. Throws when the id is taken or a slug is unknown. */
  addDroplet(d: SeedDroplet): Record<string, unknown> {
    addDroplet(this.account, d);
    return this.dropletView(d.id);
  }

  /** Adds a backup of Droplet `dropletId` (in its region unless `regions` is given). */
  addBackup(dropletId: number, backup: SeedBackup): Image {
    return this.addImage({ ...backup, type: "backup", droplet_id: dropletId });
  }

  /** Adds a private image (snapshot, custom image or backup); the id defaults to the next free one. */
  addImage(seed: SeedImage): Image {
    return this.imageView(addImage(this.account, seed))!;
  }

  /** Makes the next convert or transfer started on `imageId` end `errored`. */
  failNextAction(imageId: number): void {
    this.actions.failNextOn(imageId);
  }

  // Reads

  /** Regions in a stable order. */
  listRegions(): Region[] {
    return [...this.account.regions.values()].map((r) => structuredClone(r));
  }

  /** An image by id (or a public image by slug), or undefined. */
  imageView(idOrSlug: number | string): Image | undefined {
    this.actions.completeDue();
    return this.account.images.view(idOrSlug);
  }

  /** Images matching `GET /v2/images` filters, by ascending id. */
  listImages(filter: ImageFilter = {}): Image[] {
    this.actions.completeDue();
    return this.account.images.list(filter);
  }

  /** Every action, newest first; only those on `imageId` when given. */
  listActions(imageId?: number): Action[] {
    this.actions.completeDue();
    return this.actions.list(imageId);
  }

  /** One page of `listActions(imageId)` as the query asks for it. */
  actionPage(url: URL, baseUrl: string, imageId?: number): Page<Action> {
    this.actions.completeDue();
    return this.actions.page(url, baseUrl, imageId);
  }

  action(id: number): Action | undefined {
    this.actions.completeDue();
    return this.actions.get(id);
  }

  listDroplets(): Record<string, unknown>[] {
    this.actions.completeDue();
    return [...this.account.droplets.keys()].sort((a, b) => a - b).map((id) => this.dropletView(id));
  }

  /** The Droplet object, or throws 404. */
  dropletView(id: number): Record<string, unknown> {
    this.actions.completeDue();
    const { droplets, images, regions, tags, clock } = this.account;
    const d = droplets.get(id);
    if (!d) throw notFound();
    const own = images.ofDroplet(id);
    return dropletView(d, {
      region: regions.get(d.region)!,
      image: images.view(d.imageSlug)!,
      backupIds: own.filter((i) => i.type === "backup").map((i) => i.id),
      snapshotIds: own.filter((i) => i.type === "snapshot").map((i) => i.id),
      tags: tags.namesOf(memberKey("droplet", id)),
      now: clock.now(),
    });
  }

  /** A Droplet's backups, oldest first (clients must sort), or throws 404. */
  backups(dropletId: number): Image[] {
    this.actions.completeDue();
    const { droplets, images } = this.account;
    if (!droplets.has(dropletId)) throw notFound();
    return images
      .ofDroplet(dropletId)
      .filter((image) => image.type === "backup")
      .sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.id - b.id)
      .map((image) => images.view(image.id)!);
  }

  /** The `policy` object of `GET /v2/droplets/{id}/backups/policy`, or throws 404. */
  backupPolicy(dropletId: number): Record<string, unknown> {
    const d = this.account.droplets.get(dropletId);
    if (!d) throw notFound();
    const policy: Record<string, unknown> = { droplet_id: d.id, backup_enabled: d.backupPolicy !== null };
    if (d.backupPolicy) policy.backup_policy = fullPolicy(d.backupPolicy);
    policy.next_backup_window = nextBackupWindow(d.backupPolicy, this.account.clock.now());
    return policy;
  }

  /** Everything, for inspection. */
  snapshot(): StateSnapshot {
    return {
      regions: this.listRegions(),
      images: this.listImages(),
      actions: this.listActions(),
      droplets: this.listDroplets(),
      tags: this.account.tags.list(),
    };
  }

  // Writes

  /** `PUT /v2/images/{id}`: sets the given fields. Unknown distributions become "Unknown", as DigitalOcean does. */
  updateImage(id: number, update: ImageUpdate): Image {
    this.actions.completeDue();
    return this.account.images.update(id, update);
  }

  /** `DELETE /v2/images/{id}`: snapshots and custom images only; backups go away with their retention. */
  deleteImage(id: number): void {
    this.actions.completeDue();
    this.account.images.delete(id);
  }

  /** `POST /v2/images/{id}/actions`: starts a convert or transfer, refusing impossible ones with 422. */
  startAction(id: number, req: ImageActionRequest): Action {
    this.actions.completeDue();
    return this.actions.start(id, req);
  }

  /** `POST /v2/tags`: creates the tag or returns the existing one (names are case stable). */
  createTag(name: string): TagView {
    return this.account.tags.view(this.account.tags.ensure(name).name, "");
  }

  /** Every tag's name, in the order the tags were created. */
  tagNames(): string[] {
    return this.account.tags.names();
  }

  /** The tag object with resource counts, or throws 404. `baseUrl` prefixes `last_tagged_uri`. */
  tagView(name: string, baseUrl: string): TagView {
    return this.account.tags.view(name, baseUrl);
  }

  /** `DELETE /v2/tags/{tag}`: removes the tag from every resource and deletes it, or throws 404. */
  deleteTag(name: string): void {
    this.account.tags.delete(name);
  }

  /** Tags or untags resources; the tag and every resource must exist (else 404). */
  setTagged(name: string, resources: TagResource[], tagged: boolean): void {
    this.actions.completeDue();
    const tag = this.account.tags.get(name);
    const keys = resources.map((r) => this.existingMember(r));
    for (const key of keys) {
      if (tagged) tag.members.add(key);
      else tag.members.delete(key);
    }
  }

  /** The member key of an image of the account's own or a Droplet, or throws 404. */
  private existingMember(r: TagResource): MemberKey {
    const id = Number(r.resource_id);
    if (r.resource_type === "image" && this.account.images.get(id)?.image.public === false) return memberKey("image", id);
    if (r.resource_type === "droplet" && this.account.droplets.has(id)) return memberKey("droplet", id);
    throw new ApiRefusal(404, `${r.resource_type} ${r.resource_id} could not be found.`);
  }
}
