import { ApiError } from "../client/errors";
import type { TagResource } from "../client/types";
import type { Runtime } from "../runtime";

/**
 * Makes the image carry exactly `wanted` tags. DigitalOcean tags resources
 * through the tag, not the image, and a tag must exist before it is used.
 * Returns whether anything was written.
 */
export async function syncTags(
  rt: Runtime,
  imageId: number,
  current: readonly string[],
  wanted: readonly string[],
  log?: (message: string) => void,
): Promise<{ written: boolean; tags: string[] }> {
  const ref: TagResource[] = [{ resource_id: String(imageId), resource_type: "image" }];
  // Tags are case stable: a declared tag differing from one the image carries only in case is that tag.
  const has = (list: readonly string[], tag: string) => list.some((other) => other.toLowerCase() === tag.toLowerCase());
  const toAdd = wanted.filter((tag) => !has(current, tag));
  const toRemove = current.filter((tag) => !has(wanted, tag));
  const added: string[] = [];
  for (const tag of toAdd) added.push(await tagImage(rt, tag, ref, log));
  for (const tag of toRemove) await rt.client.untagResources(tag, ref);
  return { written: toAdd.length + toRemove.length > 0, tags: [...current.filter((tag) => !toRemove.includes(tag)), ...added] };
}

/** Tags the image with `tag`, creating the tag if needed; returns the spelling DigitalOcean keeps. */
async function tagImage(rt: Runtime, tag: string, ref: TagResource[], log?: (message: string) => void): Promise<string> {
  const known = rt.knownTags;
  const key = tag.toLowerCase();
  const spelled = known.get(key);
  if (spelled !== undefined) {
    try {
      await rt.client.tagResources(spelled, ref);
      return spelled;
    } catch (error) {
      // Someone deleted the tag since: create it again below.
      if (!ApiError.isNotFound(error)) throw error;
      known.delete(key);
    }
  }
  const canonical = await rt.client.ensureTag(tag);
  if (canonical !== tag) log?.(`tag "${tag}" exists on the account as "${canonical}" (DigitalOcean keeps the first spelling); tagging with "${canonical}"`);
  known.set(key, canonical);
  await rt.client.tagResources(canonical, ref);
  return canonical;
}
