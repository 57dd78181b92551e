import type { Clock } from "../clock";

/**
 * The end of one resource operation's wait budget (`waitTimeoutSeconds`): every
 * wait inside one create, update or delete ends by the same instant, so the
 * operation as a whole waits at most that long, however many actions it waits for.
 */
export interface Deadline {
  /** The budget, as the user declared it. */
  readonly seconds: number;
  /** Clock ms the operation started. */
  readonly startedAt: number;
  /** Clock ms by which every wait has ended. */
  readonly endsAt: number;
}

/** A budget of `seconds` starting now on `clock`. */
export function deadlineAfter(clock: Clock, seconds: number): Deadline {
  const startedAt = clock.now();
  return { seconds, startedAt, endsAt: startedAt + seconds * 1000 };
}
