import { backoffDelayMs, MAX_ATTEMPTS, MAX_NOT_SENT_ATTEMPTS } from "./backoff";

/** How one attempt failed, as far as the retry decision cares. */
export type AttemptFailure =
  /** The server answered with this status. */
  | { kind: "status"; status: number; retryAfterMs?: number }
  /**
   * Nothing usable came back: reset, drop, timeout, truncated body. The request may have been processed.
   * `silent`: the attempt timed out with no answer at all.
   */
  | { kind: "ambiguous"; silent?: boolean }
  /** The connection was refused or could not be made: the request was certainly not sent. */
  | { kind: "not-sent" }
  /** Anything else: a bad request, an abort, a body too large... retrying cannot help. */
  | { kind: "fatal" };

/** Whether to send the request again, and how long to wait first. */
export type RetryDecision =
  | { retry: false }
  /** `waitMs` is waited by the retry layer (backoff); `rateLimitedForMs` is waited by the rate limiter. */
  | { retry: true; waitMs: number; rateLimitedForMs: number };

/** Statuses that mean "the server could not handle it right now", not "the request is wrong". */
const TRANSIENT_STATUSES = new Set([500, 502, 503, 504]);

/** A 429: the server did not process the request and said when to send it again. */
export function isRateLimited(failure: AttemptFailure): boolean {
  return failure.kind === "status" && failure.status === 429;
}

/**
 * Decides whether to retry after a failed attempt; `attempt` counts the failed
 * attempts other than 429s, this one included (a 429 needs no count).
 *
 * - 429 for any request: DigitalOcean did not process it, so sending it again
 *   is always safe; the wait is `retry-after`, with no attempt cap (the call's
 *   deadline bounds it).
 * - A request that was never sent (connection refused) is safe to send again,
 *   also for a POST.
 *   (fewer times: see MAX_NOT_SENT_ATTEMPTS).
 * - 5xx and ambiguous failures only for idempotent requests: a POST that may have
 *   been processed is left to its caller, which can check what happened.
 * - A timeout from an endpoint that has not answered once since the
 *   process started is not retried: a silent endpoint
 *   is a wrong address far more often than a blip, and six attempts of 30 s
 *   would hide that for minutes. `endpointAnswered` defaults to true.
 */
export function retryDecision(
  failure: AttemptFailure,
  request: { idempotent: boolean; attempt: number; endpointAnswered?: boolean },
  random?: () => number,
): RetryDecision {
  if (failure.kind === "status" && failure.status === 429) {
    return { retry: true, waitMs: 0, rateLimitedForMs: failure.retryAfterMs ?? 0 };
  }
  if (request.attempt >= (failure.kind === "not-sent" ? MAX_NOT_SENT_ATTEMPTS : MAX_ATTEMPTS)) return { retry: false };
  if (failure.kind === "ambiguous" && failure.silent && request.endpointAnswered === false) return { retry: false };
  const transient =
    failure.kind === "not-sent" ||
    (request.idempotent && (failure.kind === "ambiguous" || (failure.kind === "status" && TRANSIENT_STATUSES.has(failure.status))));
  return transient ? { retry: true, waitMs: backoffDelayMs(request.attempt, random), rateLimitedForMs: 0 } : { retry: false };
}
