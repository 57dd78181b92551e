import type { Clock } from "../clock";
import type { DigitalOceanClient } from "../client/client";
import { PER_PAGE } from "../client/pagination";
import type { SendSlot } from "../client/send-slot";
import type { Action } from "../api/types";
import { MAX_WAIT_SECONDS } from "../inputs/rules";
import { SlotBatcher, type BatchAnswers } from "./slot-batch";

/**
 * How long an image action is assumed to run at most: the longest wait the
 * package allows (waitTimeoutSeconds up to a day). DigitalOcean documents
 * actions as taking "tens of seconds to many minutes"; a package that would
 * give up on an action after a day also assumes none runs longer.
 */
export const LONGEST_ACTION_MS = MAX_WAIT_SECONDS * 1000;
/**
 * How far this machine's clock may be off DigitalOcean's: the scan reaches
 * this much further back, and an action stamped more than this in the future
 * means the clocks disagree, so the scan answers nothing.
 */
export const CLOCK_MARGIN_MS = 15 * 60_000;
/**
 * Pages a scan reads at most: 5,000 actions, as many as one token can start in
 * an hour. A scan is also never allowed as many pages as the image lists it
 * replaces, so it costs fewer requests or gives way to them.
 */
export const MAX_SCAN_PAGES = 25;

/** What was seen of one image's actions, newest first. */
export interface ImageActions {
  /** Every action in progress on the image is among them. */
  actions: readonly Action[];
  /**
   * Whether they are the image's whole action list; otherwise they are the
   * scan's, which reach back only as far as an action in progress can have
   * started. Either way, the newest action of a kind found among them is the
   * image's newest of that kind.
   */
  complete: boolean;
}

/**
 * Answers "which actions on this image may be in flight?" for every resource
 * of a session. Questions waiting at the same moment share one scan of the
 * account's action list (`GET /v2/actions`, newest first), read back to the
 * oldest `started_at` an action still in progress can have: now, minus
 * LONGEST_ACTION_MS, minus CLOCK_MARGIN_MS. A lone question, or a batch the
 * scan would not save requests for, reads each image's own action list as
 * before; so does every question of a scan that cannot answer surely (more
 * pages than its budget, a failed page, an action without a start time or an
 * image id, a start time in the future).
 */
export class InFlightScan {
  private readonly batcher: SlotBatcher<number, ImageActions>;
  /** Pages the last scan needed to reach its horizon; a scan that ran out of budget leaves one more than it read. */
  private pagesNeeded = 1;

  constructor(
    private readonly client: DigitalOceanClient,
    private readonly clock: Clock,
  ) {
    this.batcher = new SlotBatcher(
      () => client.reserveSlot(),
      (ids, slot, answers) => this.serve(ids, slot, answers),
    );
  }

  /** The image's actions as read after this call was made: from one shared scan, or the image's own action list. */
  actionsOf(imageId: number): Promise<ImageActions> {
    return this.batcher.get(imageId);
  }

  private async serve(ids: number[], slot: SendSlot, answers: BatchAnswers<number, ImageActions>): Promise<void> {
    const budget = Math.min(MAX_SCAN_PAGES, ids.length - 1);
    const scanned = this.pagesNeeded <= budget ? await this.scan(slot, budget) : undefined;
    if (scanned) {
      for (const id of ids) answers.resolve(id, { actions: scanned.filter((action) => action.resource_id === id), complete: false });
      return;
    }
    await Promise.all(
      ids.map(async (id) => {
        try {
          const actions: Action[] = [];
          for await (const action of this.client.listImageActions(id, { slot })) actions.push(action);
          answers.resolve(id, { actions, complete: true });
        } catch (error) {
          answers.reject(id, error);
        }
      }),
    );
  }

  /** The account's image actions back to the horizon, or undefined when the scan cannot be sure within `budget` pages. */
  private async scan(slot: SendSlot, budget: number): Promise<Action[] | undefined> {
    const horizon = this.clock.now() - LONGEST_ACTION_MS - CLOCK_MARGIN_MS;
    const actions: Action[] = [];
    for (let page = 1; page <= budget; page++) {
      let result: Awaited<ReturnType<DigitalOceanClient["listActions"]>>;
      try {
        result = await this.client.listActions({ page, perPage: PER_PAGE }, { slot });
      } catch {
        // Each image's own list answers instead, and its failure, if any, is that resource's.
        return undefined;
      }
      const latestPossible = this.clock.now() + CLOCK_MARGIN_MS;
      const starts = result.actions.map((action) => Date.parse(action.started_at));
      if (starts.some((start) => !(start <= latestPossible))) return undefined;
      if (result.actions.some((action) => action.resource_type === "image" && typeof action.resource_id !== "number")) return undefined;
      actions.push(...result.actions.filter((action) => action.resource_type === "image"));
      // Newest first: once a page's oldest action is past the horizon, nothing further down can still be in progress.
      if (!result.hasNext || starts[starts.length - 1] < horizon) {
        this.pagesNeeded = page;
        return actions;
      }
    }
    this.pagesNeeded = budget + 1;
    return undefined;
  }
}
