/**
 * The floors a benchmark run is measured against, as pure arithmetic:
 * - `floorMs`: the time the rate limit needs for a client's own request count,
 *   or the longest action if that is longer. It prices reads at nothing beyond
 *   their count, so a client that reads too much still looks close to it.
 * - `physicalFloorMs`: the time for the requests no correct client can avoid
 *   (`minimalRequests`) plus the longest action: what a perfect client needs.
 */
import type { SeedData } from "../provider/simulator";
import type { Declaration } from "./scenario";

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;

/** DigitalOcean's limits per token: 250 requests a minute and 5,000 an hour, sliding windows. */
export const RATE = { perMinute: 250, perHour: 5_000 };

/** The most items one page of a DigitalOcean list holds (`per_page` up to 200). */
export const PAGE_SIZE = 200;

/**
 * The earliest clock time at which the n-th request can be answered under
 * sliding limits of `perMinute` and `perHour` starting from an idle token:
 * bursts of `perMinute` a minute apart, and after `perHour` requests nothing
 * until the first of them is an hour old.
 */
export function rateFloorMs(requests: number, rate = RATE): number {
  if (requests <= 0) return 0;
  const k = requests - 1;
  return Math.floor(k / rate.perHour) * HOUR_MS + Math.floor((k % rate.perHour) / rate.perMinute) * MINUTE_MS;
}

/** The time a client's own request count and the action durations impose: the larger of the two. */
export function floorMs(requests: number, longestActionMs: number): number {
  return Math.max(rateFloorMs(requests), longestActionMs);
}

/**
 * What one client (one provider process, one pipeline) has to get done, counted
 * against the account as it is when the run starts.
 */
export interface ClientShare {
  /** Distinct images its resources declare. */
  images: number;
  /** Backups to convert. */
  converts: number;
  /** (image, region) pairs where the image is not yet. */
  transfers: number;
  /** Images whose declared name differs from the one they carry. */
  renames: number;
  /** Distinct tags (in any capitalization) that at least one declared image lacks. */
  tags: number;
  /** Private images on the account: what a listing of them pages through. */
  accountImages: number;
  /**
   * Actions on the account, newest first, down to and including the oldest one
   * still in progress (0 when none is): how far a scan for actions in flight must read.
   */
  actionsToScan: number;
}

export interface MinimalRequests {
  writes: number;
  imageReads: number;
  actionScan: number;
  confirmations: number;
  total: number;
}

const pages = (items: number) => Math.ceil(items / PAGE_SIZE);

/**
 * The fewest requests any correct client needs for `share`: reads that make
 * writing safe, the writes themselves, and one sight of every action's end.
 * Requests that only help a client along (the region list, a second look at an
 * image) are not needed for correctness and are not counted.
 */
export function minimalRequests(share: ClientShare): MinimalRequests {
  if (share.images === 0) return { writes: 0, imageReads: 0, actionScan: 0, confirmations: 0, total: 0 };
  const actions = share.converts + share.transfers;
  // One POST starts one action and one PUT renames one image. A tag must exist before it is
  // applied: creating it costs one request, as finding out whether it exists would; then one
  // POST /v2/tags/{tag}/resources takes every image in its list (DigitalOcean documents no cap).
  const writes = actions + share.renames + 2 * share.tags;
  // Whether an image lacks a region, is still a backup, or carries another name or tags is only
  // known by reading it. The private-image list serves 200 images a page; one GET per image is
  // cheaper for a client declaring fewer images than the list has pages.
  const imageReads = Math.min(share.images, pages(share.accountImages));
  // An image shows a transfer only once it has completed, so before starting any action a client
  // must look for one already running (from an interrupted run or another pipeline): the account's
  // action list, newest first, down to the oldest action in progress, which takes one page even
  // when there is none; or each image's own action list, if the client has fewer images.
  const actionScan = actions === 0 ? 0 : Math.min(share.images, Math.max(1, pages(share.actionsToScan)));
  // A client cannot report an action done without seeing it done once. Looking once after the
  // last has ended, either the action list (200 actions a page) or the image reads above (a
  // completed transfer is in the image's regions, a completed convert in its type) show them all.
  const confirmations = actions === 0 ? 0 : Math.min(pages(actions), imageReads);
  return { writes, imageReads, actionScan, confirmations, total: writes + imageReads + actionScan + confirmations };
}

/** The fewest requests for clients sharing one token, each doing its own share with no help from the others. */
export function minimalRequestsOfClients(shares: readonly ClientShare[]): number {
  return shares.reduce((sum, share) => sum + minimalRequests(share).total, 0);
}

/**
 * An upper bound on the time a perfect client needs: sending only the minimal
 * requests, each as early as the limits allow, the last of them is answered at
 * `rateFloorMs(requests)`, so every action has started by then, and the last
 * action ends at most `longestActionMs` later.
 */
export function physicalFloorMs(minimal: number, longestActionMs: number, rate = RATE): number {
  return rateFloorMs(minimal, rate) + longestActionMs;
}

interface KnownImage {
  type: string;
  name: string;
  regions: readonly string[];
  tags: readonly string[];
}

/** What `declarations` have to do on an account seeded with `seed`. */
export function shareOf(seed: SeedData, declarations: readonly Declaration[]): ClientShare {
  const known = new Map<number, KnownImage>();
  for (const image of seed.images ?? []) {
    if (image.id !== undefined) known.set(image.id, { type: image.type ?? "snapshot", name: image.name, regions: image.regions ?? [], tags: image.tags ?? [] });
  }
  let accountImages = seed.images?.length ?? 0;
  for (const droplet of seed.droplets ?? []) {
    for (const backup of droplet.backups ?? []) {
      accountImages += 1;
      if (backup.id !== undefined) known.set(backup.id, { type: "backup", name: backup.name, regions: backup.regions ?? [droplet.region], tags: backup.tags ?? [] });
    }
  }
  const image = (id: number) => {
    const found = known.get(id);
    if (!found) throw new Error(`image ${id} is declared but not seeded with an id`);
    return found;
  };
  const images = new Set<number>();
  const transfers = new Set<string>();
  const converts = new Set<number>();
  const renames = new Set<number>();
  const tags = new Set<string>();
  for (const d of declarations) {
    if (d.kind === "ImageRegionCopy") {
      const { imageId, regions } = d.inputs;
      images.add(imageId);
      for (const region of regions) if (!image(imageId).regions.includes(region)) transfers.add(`${imageId} ${region}`);
      continue;
    }
    const { backupId, name } = d.inputs;
    const current = image(backupId);
    images.add(backupId);
    if (current.type === "backup") converts.add(backupId);
    if (name !== current.name) renames.add(backupId);
    const carried = new Set(current.tags.map((tag) => tag.toLowerCase()));
    for (const tag of d.inputs.tags) if (!carried.has(tag.toLowerCase())) tags.add(tag.toLowerCase());
  }
  return {
    images: images.size,
    converts: converts.size,
    transfers: transfers.size,
    renames: renames.size,
    tags: tags.size,
    accountImages,
    // A seed holds no actions: a fresh account has none in progress.
    actionsToScan: 0,
  };
}
