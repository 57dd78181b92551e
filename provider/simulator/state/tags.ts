import type { TagResource } from "../../api/types";
import { notFound } from "../errors";

/** A tagged resource, as `image:<id>` or `droplet:<id>`: the only kinds the simulator holds. */
export type MemberKey = `${"image" | "droplet"}:${number}`;

export const memberKey = (type: "image" | "droplet", id: number): MemberKey => `${type}:${id}`;

/** A tag with its members, in the order they were tagged. */
export interface TagRecord {
  name: string;
  members: Set<string>;
}

/** The tag object of `GET /v2/tags/{tag}`. */
export interface TagView {
  name: string;
  resources: Record<string, unknown>;
}

/** The account's tags. Names keep the spelling they were first created with. */
export class TagTable {
  private readonly byName = new Map<string, TagRecord>();

  /** The tag of that name in any capitalization, created when there is none. */
  ensure(name: string): TagRecord {
    const existing = [...this.byName.values()].find((t) => t.name.toLowerCase() === name.toLowerCase());
    if (existing) return existing;
    const created: TagRecord = { name, members: new Set() };
    this.byName.set(name, created);
    return created;
  }

  /** The tag spelled exactly so, or throws 404. */
  get(name: string): TagRecord {
    const tag = this.byName.get(name);
    if (!tag) throw notFound();
    return tag;
  }

  /** Deletes the tag, which untags every resource; throws 404 when there is none. */
  delete(name: string): void {
    if (!this.byName.delete(name)) throw notFound();
  }

  /** Every tag's name, in the order the tags were created. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** The names of the tags a resource carries. */
  namesOf(key: MemberKey): string[] {
    return [...this.byName.values()].filter((t) => t.members.has(key)).map((t) => t.name);
  }

  /** Untags a resource everywhere, as when it is deleted. */
  forget(key: MemberKey): void {
    for (const tag of this.byName.values()) tag.members.delete(key);
  }

  /** Every tag with its resources, for inspection. */
  list(): { name: string; resources: TagResource[] }[] {
    return [...this.byName.values()].map((t) => ({ name: t.name, resources: [...t.members].map(memberToResource) }));
  }

  /** The tag object with resource counts, or throws 404. `baseUrl` prefixes `last_tagged_uri`. */
  view(name: string, baseUrl: string): TagView {
    const tag = this.get(name);
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
}

function memberToResource(key: string): TagResource {
  const [type, id] = key.split(":");
  return { resource_id: id, resource_type: type as TagResource["resource_type"] };
}
