/**
 * Which requests go first when the limit makes them queue:
 * - `watch`: polls of actions in flight. They go first and may use a slice of
 *   the hourly budget the others may not, so every wait can still see its
 *   action finish after a big run has spent the rest of the hour.
 * - `start`: requests that start actions. An action takes minutes and a read
 *   milliseconds: every minute an action starts later is a minute longer for the run.
 * - `normal`: everything else, in arrival order.
 */
export type RequestPriority = "watch" | "start" | "normal";

const RANK: Record<RequestPriority, number> = { watch: 2, start: 1, normal: 0 };

/**
 * Requests waiting for a slot, highest priority first and each priority in
 * arrival order. Tells when its head changes, since the head is what the
 * pacer sleeps for.
 */
export class PriorityQueue<T extends { priority: RequestPriority }> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  get head(): T | undefined {
    return this.items[0];
  }

  /** Adds `item` behind every item of its priority or higher; true when it became the head. */
  add(item: T): boolean {
    const behind = this.items.findIndex((queued) => RANK[queued.priority] < RANK[item.priority]);
    const at = behind === -1 ? this.items.length : behind;
    this.items.splice(at, 0, item);
    return at === 0;
  }

  /** Removes `item` if queued; true when it was the head. */
  remove(item: T): boolean {
    const at = this.items.indexOf(item);
    if (at >= 0) this.items.splice(at, 1);
    return at === 0;
  }

  shift(): T | undefined {
    return this.items.shift();
  }

  /** The queued items `predicate` accepts, in queue order (removing them is up to the caller). */
  filter(predicate: (item: T) => boolean): T[] {
    return this.items.filter(predicate);
  }
}
