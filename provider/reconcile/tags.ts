import { ApiError } from "../client/errors";
import type { TagResource } from "../client/types";
import type { Runtime } from "../runtime";

/**
 * Tags known to exist, per runtime: a stack tagging hundreds of snapshots with
 * the same few tags creates each once, not once per snapshot.
 */
const knownTags = new WeakMap<Runtime, Set<string>>();

/**
 * Makes the image carry exactly `wanted` tags. DigitalOcean tags resources
 * through the tag, not the image, and a tag must exist before it is used.
 * Returns whether anything was written.
 */
export async function syncTags(rt: Runtime, imageId: number, current: readonly string[], wanted: readonly string[]): Promise<boolean> {
  const ref: TagResource[] = [{ resource_id: String(imageId), resource_type: "image" }];
  const toAdd = wanted.filter((tag) => !current.includes(tag));
  const toRemove = current.filter((tag) => !wanted.includes(tag));
  for (const tag of toAdd) await tagImage(rt, tag, ref);
  for (const tag of toRemove) await rt.client.untagResources(tag, ref);
  return toAdd.length + toRemove.length > 0;
}

async function tagImage(rt: Runtime, tag: string, ref: TagResource[]): Promise<void> {
  const known = knownTags.get(rt) ?? new Set<string>();
  knownTags.set(rt, known);
  if (known.has(tag)) {
    try {
      await rt.client.tagResources(tag, ref);
      return;
    } catch (error) {
      // Someone deleted the tag since: create it again below.
      if (!ApiError.isNotFound(error)) throw error;
      known.delete(tag);
    }
  }
  await rt.client.ensureTag(tag);
  known.add(tag);
  await rt.client.tagResources(tag, ref);
}
