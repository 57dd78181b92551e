import type { Runtime } from "../runtime";

/**
 * Makes the image carry exactly `wanted` tags. DigitalOcean tags resources
 * through the tag, not the image, and a tag must exist before it is used.
 * Returns whether anything was written.
 */
export async function syncTags(rt: Runtime, imageId: number, current: readonly string[], wanted: readonly string[]): Promise<boolean> {
  const ref = [{ resource_id: String(imageId), resource_type: "image" as const }];
  const toAdd = wanted.filter((tag) => !current.includes(tag));
  const toRemove = current.filter((tag) => !wanted.includes(tag));
  for (const tag of toAdd) {
    await rt.client.ensureTag(tag);
    await rt.client.tagResources(tag, ref);
  }
  for (const tag of toRemove) {
    await rt.client.untagResources(tag, ref);
  }
  return toAdd.length + toRemove.length > 0;
}
