import type { Clock } from "../../clock";
import type { Action, ImageActionRequest, Region } from "../../api/types";
import { iso } from "../droplets";
import { unprocessable } from "../errors";
import { paginate, type Page } from "../pagination";
import type { Faults } from "../faults";
import type { ImageTable } from "./images";

/**
 * How long actions take, in Clock milliseconds: a base per type plus
 * `perGigabyteMs` for each GB of the image.
 */
export interface ActionDurations {
  /** Default 60 000 (one minute). */
  convertMs?: number;
  /** Default 120 000 (two minutes). */
  transferMs?: number;
  /** Default 0: durations do not depend on size. */
  perGigabyteMs?: number;
}

/** What the simulator assumes about actions where DigitalOcean documents nothing; see SimulatorOptions. */
export interface ActionAssumptions {
  /** Refuse with 422 a convert or transfer identical to one in flight on the image. */
  refuseDuplicateActions: boolean;
}

interface ActionRecord extends Action {
  /** Clock ms when the action finishes. */
  dueAt: number;
  /** Decided at start, so a configured failure cannot be dodged by reading late. */
  endsErrored: boolean;
}

const FIRST_ACTION_ID = 2_000_000_000;

/**
 * The account's image actions, oldest first, and their lifecycle. Nothing runs
 * in the background: `completeDue` applies the completions the Clock has
 * reached, and the state calls it before every read or write.
 */
export class ActionLog {
  private readonly records: ActionRecord[] = [];
  private readonly failNext = new Set<number>();
  private nextId = FIRST_ACTION_ID;

  constructor(
    private readonly clock: Clock,
    private readonly faults: Faults,
    private readonly durations: Required<ActionDurations>,
    private readonly assumptions: ActionAssumptions,
    private readonly images: ImageTable,
    private readonly regions: ReadonlyMap<string, Region>,
  ) {}

  /** Makes the next convert or transfer started on `imageId` end `errored`. */
  failNextOn(imageId: number): void {
    this.failNext.add(imageId);
  }

  /** Every action, newest first; only those on `imageId` when given. */
  list(imageId?: number): Action[] {
    return this.newestFirst(imageId).map(actionView);
  }

  /** The page of `list(imageId)` the query asks for, copying only the actions on it: a poll of a long history stays cheap. */
  page(url: URL, baseUrl: string, imageId?: number): Page<Action> {
    return paginate(this.newestFirst(imageId), url, baseUrl, actionView);
  }

  private newestFirst(imageId: number | undefined): ActionRecord[] {
    return this.records.filter((a) => imageId === undefined || a.resource_id === imageId).reverse();
  }

  get(id: number): Action | undefined {
    const a = this.records.find((x) => x.id === id);
    return a && actionView(a);
  }

  /** `POST /v2/images/{id}/actions`: starts a convert or transfer, refusing impossible ones with 422. */
  start(id: number, req: ImageActionRequest): Action {
    const { image } = this.images.owned(id);
    const inFlight = this.records.filter((a) => a.resource_id === id && a.status === "in-progress");
    let region: Region;
    let duration: number;
    if (req.type === "convert") {
      if (image.type !== "backup") throw unprocessable(`Image ${id} is a ${image.type}, not a backup; only backups can be converted to snapshots.`);
      if (this.assumptions.refuseDuplicateActions && inFlight.some((a) => a.type === "convert")) throw unprocessable(`Image ${id} is already being converted.`);
      region = this.regions.get(image.regions[0])!;
      duration = this.durations.convertMs;
    } else {
      if (image.type === "backup") throw unprocessable(`Image ${id} is a backup; backups cannot be transferred. Convert it to a snapshot first.`);
      const target = this.regions.get(req.region);
      if (!target) throw unprocessable(`Region "${req.region}" is not a valid region.`);
      if (!target.available || !target.features.includes("image_transfer")) {
        throw unprocessable(`Images cannot be transferred to region ${req.region}: it is unavailable or lacks image transfer.`);
      }
      if (image.regions.includes(req.region)) throw unprocessable(`Image ${id} is already available in ${req.region}.`);
      if (this.assumptions.refuseDuplicateActions && inFlight.some((a) => a.type === "transfer" && a.region_slug === req.region)) {
        throw unprocessable(`Image ${id} is already being transferred to ${req.region}.`);
      }
      region = target;
      duration = this.durations.transferMs;
    }
    const now = this.clock.now();
    const endsErrored = this.failNext.delete(id) || this.faults.actionErrors();
    const action: ActionRecord = {
      id: this.nextId++,
      status: "in-progress",
      type: req.type,
      started_at: iso(now),
      completed_at: null,
      resource_id: id,
      resource_type: "image",
      region: structuredClone(region),
      region_slug: region.slug,
      dueAt: now + duration + this.durations.perGigabyteMs * (image.size_gigabytes ?? 0),
      endsErrored,
    };
    this.records.push(action);
    return actionView(action);
  }

  /** Applies every completion that is due on the Clock, in the order they finished. */
  completeDue(): void {
    const now = this.clock.now();
    const due = this.records.filter((a) => a.status === "in-progress" && a.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt);
    for (const a of due) {
      const rec = this.images.get(a.resource_id!);
      a.completed_at = iso(a.dueAt);
      // An image deleted while its action ran cannot receive the result.
      if (a.endsErrored || !rec) {
        a.status = "errored";
        continue;
      }
      a.status = "completed";
      if (a.type === "convert") rec.image.type = "snapshot";
      else if (!rec.image.regions.includes(a.region_slug!)) rec.image.regions.push(a.region_slug!);
    }
  }
}

function actionView(a: ActionRecord): Action {
  const { dueAt: _dueAt, endsErrored: _endsErrored, ...action } = a;
  return structuredClone(action);
}
