import type { CallOptions, DigitalOceanClient } from "../../provider/client/client";
import { ApiError } from "../../provider/client/errors";
import { SendSlot } from "../../provider/client/send-slot";
import type { Action, Image } from "../../provider/api/types";

/** A stand-in for the client's read calls: answers from in-memory images and actions, logs every request, and grants rate-limit slots only when the test says so. */
export class FakeReads {
  images = new Map<number, Image>();
  /** Ids the private-image list leaves out (as DigitalOcean may leave out backups). */
  unlisted = new Set<number>();
  /** Actions of the account, newest first. */
  actions: Action[] = [];
  /** Pretends there are this many private images in all, for the page count. */
  listTotal: number | undefined;
  requests: string[] = [];
  /** Slots released without being used. */
  unusedSlots = 0;
  failList = false;
  /** Images whose tagging DigitalOcean refuses (and with them, any request naming them). */
  untaggable = new Set<number>();
  private slotRequests: (() => void)[] = [];
  /** When false, reserveSlot waits for grantSlots. */
  autoGrant = true;

  readonly client = {
    reserveSlot: () => this.reserveSlot(),
    getImage: async (id: number, o?: CallOptions) => {
      this.send(`GET /v2/images/${id}`, o);
      // What the server holds when the request is sent is what it answers.
      const image = this.images.get(id) && structuredClone(this.images.get(id));
      await Promise.resolve();
      if (!image) throw new ApiError({ status: 404, errorId: "not_found", apiMessage: "The resource you were accessing could not be found.", method: "GET", path: `/v2/images/${id}` });
      return image;
    },
    listPrivateImages: async ({ page, perPage }: { page: number; perPage: number }, o?: CallOptions) => {
      this.send(`GET /v2/images?page=${page}`, o);
      await Promise.resolve();
      if (this.failList) throw new ApiError({ status: 500, errorId: "server_error", apiMessage: "Server error.", method: "GET", path: "/v2/images" });
      const listed = [...this.images.values()].filter((image) => !this.unlisted.has(image.id));
      const total = this.listTotal ?? listed.length;
      const images = listed.slice((page - 1) * perPage, page * perPage).map((image) => structuredClone(image));
      return { images, total, hasNext: page * perPage < total };
    },
    listActions: async ({ page, perPage }: { page: number; perPage: number }, o?: CallOptions) => {
      this.send(`GET /v2/actions?page=${page}`, o);
      await Promise.resolve();
      const actions = this.actions.slice((page - 1) * perPage, page * perPage).map((action) => structuredClone(action));
      return { actions, total: this.actions.length, hasNext: page * perPage < this.actions.length };
    },
    listImageActions: (imageId: number, o?: CallOptions) => this.listImageActions(imageId, o),
    tagResources: async (tag: string, resources: { resource_id: string }[], o?: CallOptions) => {
      this.send(`POST /v2/tags/${tag}/resources ${resources.map((r) => r.resource_id).join(",")}`, o);
      await Promise.resolve();
      const refused = resources.find((r) => this.untaggable.has(Number(r.resource_id)));
      if (refused) {
        throw new ApiError({ status: 422, errorId: "unprocessable_entity", apiMessage: `${refused.resource_id} cannot be tagged.`, method: "POST", path: `/v2/tags/${tag}/resources` });
      }
    },
  } as unknown as DigitalOceanClient;

  grantSlots(): void {
    const waiting = this.slotRequests;
    this.slotRequests = [];
    for (const grant of waiting) grant();
  }

  get pendingSlots(): number {
    return this.slotRequests.length;
  }

  private reserveSlot(): Promise<SendSlot> {
    const slot = new SendSlot({ release: ({ status }) => status === undefined && (this.unusedSlots += 1) });
    if (this.autoGrant) return Promise.resolve(slot);
    return new Promise((resolve) => this.slotRequests.push(() => resolve(slot)));
  }

  /** Logs the request; a slot given with it is used, as the client's first attempt would. */
  private send(request: string, o: CallOptions | undefined): void {
    this.requests.push(request);
    o?.slot?.take()?.release({ status: 200 });
  }

  private async *listImageActions(imageId: number, o: CallOptions | undefined): AsyncGenerator<Action> {
    this.send(`GET /v2/images/${imageId}/actions`, o);
    await Promise.resolve();
    yield* this.actions.filter((action) => action.resource_id === imageId).map((action) => structuredClone(action));
  }
}

export function snapshot(id: number, regions = ["nyc3"]): Image {
  return {
    id,
    name: `image-${id}`,
    type: "snapshot",
    distribution: "Ubuntu",
    slug: null,
    public: false,
    regions,
    created_at: "2025-06-01T00:00:00Z",
    min_disk_size: 25,
    size_gigabytes: 2,
    description: "",
    tags: [],
    status: "available",
  } as unknown as Image;
}

export function transfer(id: number, imageId: number, region: string, startedAt: number, status: Action["status"] = "in-progress"): Action {
  return {
    id,
    status,
    type: "transfer",
    started_at: new Date(startedAt).toISOString(),
    completed_at: status === "in-progress" ? null : new Date(startedAt + 60_000).toISOString(),
    resource_id: imageId,
    resource_type: "image",
    region_slug: region,
  } as unknown as Action;
}

/** Lets every pending promise callback run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
