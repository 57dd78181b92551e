import type { DigitalOceanClient } from "../client/client";
import { PER_PAGE } from "../client/pagination";
import type { SendSlot } from "../client/send-slot";
import type { Image } from "../api/types";
import { SlotBatcher, type BatchAnswers } from "./slot-batch";

/**
 * Reads images for every resource of a session. Reads waiting at the same
 * moment share requests: one read is the plain `GET /v2/images/{id}`; several
 * read the account's private-image list (200 a page) when its pages are fewer
 * than the GETs they replace, and GET what the list did not show. An image
 * missing from the list is not taken to be gone (DigitalOcean does not say
 * whether the list holds backups, and a list may shift while it is paged): it
 * is read by id, and its 404, if any, is what the caller judges.
 */
export class ImageReader {
  private readonly batcher: SlotBatcher<number, Image>;
  /** Pages the private-image list had when last read; until then it is taken to be one. */
  private listPages = 1;

  constructor(private readonly client: DigitalOceanClient) {
    this.batcher = new SlotBatcher(
      () => client.reserveSlot(),
      (ids, slot, answers) => this.serve(ids, slot, answers),
    );
  }

  /** The image as DigitalOcean shows it after this call was made; fails as `getImage` does (a 404 is an ApiError). */
  read(id: number): Promise<Image> {
    return this.batcher.get(id);
  }

  private async serve(ids: number[], slot: SendSlot, answers: BatchAnswers<number, Image>): Promise<void> {
    const unread = new Set(ids);
    if (unread.size >= 2 && this.listPages < unread.size) await this.readList(unread, slot, answers);
    await Promise.all(
      [...unread].map(async (id) => {
        try {
          answers.resolve(id, await this.client.getImage(id, { slot }));
        } catch (error) {
          answers.reject(id, error);
        }
      }),
    );
  }

  /** Answers from the list what it holds, taking each answered id out of `unread`; stops as soon as paging on would not pay. */
  private async readList(unread: Set<number>, slot: SendSlot, answers: BatchAnswers<number, Image>): Promise<void> {
    for (let page = 1; ; page++) {
      let result: Awaited<ReturnType<DigitalOceanClient["listPrivateImages"]>>;
      try {
        result = await this.client.listPrivateImages({ page, perPage: PER_PAGE }, { slot });
      } catch {
        // The ids still unread are read one by one, and each caller gets its own read's outcome.
        return;
      }
      this.listPages = Math.max(1, Math.ceil(result.total / PER_PAGE));
      for (const image of result.images) {
        if (unread.delete(image.id)) answers.resolve(image.id, image);
      }
      if (!result.hasNext || this.listPages - page >= unread.size) return;
    }
  }
}
