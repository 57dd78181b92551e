import { ApiError } from "../client/errors";
import type { TagResource } from "../api/types";
import type { AccountSession } from "../session";

/**
 * Makes the image carry exactly `wanted` tags. DigitalOcean tags resources
 * through the tag, not the image, and a tag must exist before it is used.
 * Returns whether anything was written.
 */
export async function syncTags(
  session: AccountSession,
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
  for (const tag of toAdd) added.push(await tagImage(session, tag, imageId, log));
  for (const tag of toRemove) await session.client.untagResources(tag, ref);
  return { written: toAdd.length + toRemove.length > 0, tags: [...current.filter((tag) => !toRemove.includes(tag)), ...added] };
}

/** Tags the image with `tag`, creating the tag if needed; returns the spelling DigitalOcean keeps. */
async function tagImage(session: AccountSession, tag: string, imageId: number, log?: (message: string) => void): Promise<string> {
  const key = tag.toLowerCase();
  const known = session.knownTags.get(key);
  if (known) {
    // A creation another resource started and that failed is not this resource's failure: it creates the tag itself below.
    const spelled = await known.catch(() => undefined);
    if (spelled !== undefined) {
      try {
        await session.tagWriter.tag(spelled, imageId);
        return spelled;
      } catch (error) {
        // Someone deleted the tag since: create it again below.
        if (!ApiError.isNotFound(error)) throw error;
      }
    }
    forgetTag(session, key, known);
  }
  const creating = session.knownTags.get(key) ?? createTag(session, key, tag);
  let canonical = await creating;
  try {
    await session.tagWriter.tag(canonical, imageId);
  } catch (error) {
    // Tags are case stable, and what POST /v2/tags answers for a tag that exists in another
    // capitalization is not documented: when the answered spelling is not the one the tag has,
    // tagging through it fails, and the account's tag list tells the spelling it keeps.
    if (!ApiError.isNotFound(error)) throw error;
    const kept = await spellingOnAccount(session, tag);
    if (kept === undefined || kept === canonical) throw error;
    canonical = kept;
    await session.tagWriter.tag(canonical, imageId);
    forgetTag(session, key, creating);
    if (!session.knownTags.has(key)) session.knownTags.set(key, Promise.resolve(canonical));
  }
  if (canonical !== tag) log?.(`tag "${tag}" exists on the account as "${canonical}" (DigitalOcean keeps the first spelling); tagging with "${canonical}"`);
  return canonical;
}

/** Creates the tag once for every resource asking while the creation runs; a failed creation is forgotten, so the next asks again. */
function createTag(session: AccountSession, key: string, tag: string): Promise<string> {
  const creating = session.client.ensureTag(tag);
  session.knownTags.set(key, creating);
  creating.catch(() => forgetTag(session, key, creating));
  return creating;
}

/** Forgets the spelling of `key` when it is still `entry`, not a newer one another resource has set. */
function forgetTag(session: AccountSession, key: string, entry: Promise<string>): void {
  if (session.knownTags.get(key) === entry) session.knownTags.delete(key);
}

/** The spelling of the account's tag that equals `tag` but for case, if there is one. */
async function spellingOnAccount(session: AccountSession, tag: string): Promise<string | undefined> {
  for await (const existing of session.client.listTags()) {
    if (existing.name.toLowerCase() === tag.toLowerCase()) return existing.name;
  }
  return undefined;
}
