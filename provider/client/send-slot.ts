import type { SendPermit } from "./rate-limit/pacer";

/**
 * A rate-limit slot granted before the caller has decided what to send with
 * it: a batch of reads closes when its slot is granted, and only then knows
 * whether one GET or a list page serves it. The first attempt of the call
 * given the slot uses it; retries queue as usual.
 */
export class SendSlot {
  constructor(private permit: SendPermit | undefined) {}

  /** The permit, once: the attempt that takes it releases it. */
  take(): SendPermit | undefined {
    const permit = this.permit;
    this.permit = undefined;
    return permit;
  }

  /** Gives the slot back when no call used it (the caller failed before sending); counted like a request that got no answer. */
  releaseUnused(): void {
    this.take()?.release({});
  }
}
