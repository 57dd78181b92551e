import type { DigitalOceanClient } from "../client/client";
import type { SendSlot } from "../client/send-slot";
import { SlotBatcher, type BatchAnswers } from "./slot-batch";

/**
 * Tags images for every resource of a session. `POST /v2/tags/{tag}/resources`
 * takes a list, so images waiting to get the same tag at the same moment share
 * one request. When a shared request fails, each image is tagged on its own,
 * so every resource reports what happened to its own image, not to a batch.
 */
export class TagWriter {
  /** One batcher per tag, as DigitalOcean spells it. */
  private readonly byTag = new Map<string, SlotBatcher<number, void>>();

  constructor(private readonly client: DigitalOceanClient) {}

  /** Tags the image with `tag` (DigitalOcean's spelling); fails as `tagResources` does for this image alone. */
  tag(tag: string, imageId: number): Promise<void> {
    let batcher = this.byTag.get(tag);
    if (!batcher) {
      batcher = new SlotBatcher(
        () => this.client.reserveSlot(),
        (ids, slot, answers) => this.serve(tag, ids, slot, answers),
      );
      this.byTag.set(tag, batcher);
    }
    return batcher.get(imageId);
  }

  private async serve(tag: string, ids: number[], slot: SendSlot, answers: BatchAnswers<number, void>): Promise<void> {
    try {
      await this.client.tagResources(tag, ids.map(imageRef), { slot });
      for (const id of ids) answers.resolve(id, undefined);
      return;
    } catch (error) {
      if (ids.length === 1) {
        answers.reject(ids[0], error);
        return;
      }
    }
    await Promise.all(
      ids.map(async (id) => {
        try {
          await this.client.tagResources(tag, [imageRef(id)]);
          answers.resolve(id, undefined);
        } catch (error) {
          answers.reject(id, error);
        }
      }),
    );
  }
}

function imageRef(id: number): { resource_id: string; resource_type: "image" } {
  return { resource_id: String(id), resource_type: "image" };
}
