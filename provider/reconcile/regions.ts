import type { Region } from "../api/types";
import type { Runtime } from "../runtime";
import { DigitalOceanError } from "../errors";

/**
 * Regions change a few times a year; one listing per provider process serves
 * every resource in a `pulumi up` of hundreds of copies.
 */
const cache = new WeakMap<Runtime, Promise<Region[]>>();

function listRegions(rt: Runtime): Promise<Region[]> {
  const cached = cache.get(rt);
  if (cached) return cached;
  const regions = rt.client.listRegions();
  // A failed listing is not remembered: the next resource asks again.
  regions.catch(() => cache.delete(rt));
  cache.set(rt, regions);
  return regions;
}

/**
 * Refuses, before anything is written, every target region that does not exist,
 * is unavailable, or does not accept image transfers.
 */
export async function assertTransferTargets(rt: Runtime, targets: readonly string[]): Promise<void> {
  if (targets.length === 0) return;
  const bySlug = new Map((await listRegions(rt)).map((region) => [region.slug, region]));
  const problems = targets.flatMap((slug) => {
    const region = bySlug.get(slug);
    if (!region) return [`"${slug}" is not a DigitalOcean region`];
    if (!region.available) return [`"${slug}" (${region.name}) is not available`];
    if (!region.features.includes("image_transfer")) return [`"${slug}" (${region.name}) does not accept image transfers`];
    return [];
  });
  if (problems.length > 0) {
    const accepting = [...bySlug.values()].filter((r) => r.available && r.features.includes("image_transfer")).map((r) => r.slug).sort();
    throw new DigitalOceanError(`regions: ${problems.join("; ")}. Regions that accept transfers: ${accepting.join(", ")}`);
  }
}
