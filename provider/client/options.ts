import type { Clock } from "../clock";
import type { Connection } from "./config";
import type { RequestPacer } from "./rate-limit/pacer";
import type { SendSlot } from "./send-slot";

/** Per-call options. */
export interface CallOptions {
  /** Cancels the call, including any wait for the rate limit or a retry. */
  signal?: AbortSignal;
  /**
   * The call polls actions in flight: it goes ahead of other queued calls and
   * may use the slice of the hourly budget kept for watching.
   */
  watch?: boolean;
  /** A slot from reserveSlot: the call's first attempt is sent on it instead of queueing for the rate limit. */
  slot?: SendSlot;
}

/** How to build a DigitalOceanClient; only `connection` is required. */
export interface DigitalOceanClientOptions {
  connection: Connection;
  /** The time line for timeouts, backoff and rate-limit windows. Default: the wall clock. */
  clock?: Clock;
  /** Clock ms one attempt may take, from sending to the last byte of the answer. Default 30 s, and at least 10 real seconds. */
  requestTimeoutMs?: number;
  /**
   * Clock ms one call may take in all, waits for the rate limit and retries
   * included; a rate limit that would need longer surfaces as RateLimitError.
   * Default 65 min: long enough to wait out a spent hourly window.
   */
  callTimeoutMs?: number;
  /**
   * The token's pacer, shared with every other client of the token (the session passes it).
   * Default: a pacer of this client's own, as for a tool or test that is the token's only user.
   */
  pacer?: RequestPacer;
  userAgent?: string;
  /** Largest response body accepted, in bytes. Default 16 MiB. */
  maxResponseBytes?: number;
  /** Told when the endpoint keeps the first call of the process waiting for `firstAnswerNoticeMs`. */
  notice?: (message: string) => void;
  /**
   * Real ms a call may wait for the endpoint's first answer in the process before `notice` is told.
   * Default 10 s: long enough not to fire on a slow but working connection, short enough to show a
   * silent address in the log well before its 30 s attempt times out.
   */
  firstAnswerNoticeMs?: number;
}
