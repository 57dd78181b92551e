import type { Region } from "../api/types";
import type { AccountSession } from "../session";
import { DigitalOceanError } from "../errors";

/** The account's regions, read once per session (see AccountSession.regions). */
function listRegions(session: AccountSession): Promise<Region[]> {
  return session.regions.get(() => session.client.listRegions());
}

/**
 * Refuses, before anything is written, every target region that does not exist,
 * is unavailable, or does not accept image transfers.
 */
export async function assertTransferTargets(session: AccountSession, targets: readonly string[]): Promise<void> {
  if (targets.length === 0) return;
  const bySlug = new Map((await listRegions(session)).map((region) => [region.slug, region]));
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
