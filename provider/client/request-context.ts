import type { Dispatcher } from "undici";
import type { RequestPriority } from "./rate-limit/queue";
import type { SendSlot } from "./send-slot";

/**
 * What the interceptors need to know about the call a request belongs to. It
 * travels in the dispatch options under a symbol, so undici passes it along
 * untouched (and across the retry interceptor's re-dispatches) without it
 * being mistaken for an HTTP option.
 */
export interface RequestContext {
  /** Clock ms after which no more waiting (rate limit, backoff) is allowed. */
  deadline: number;
  /** The caller's signal, also aborted when the client closes: it ends waits (rate limit, backoff), not attempts in flight. */
  signal?: AbortSignal;
  /** Whether sending the request twice is harmless (GET, PUT, DELETE, and some POSTs). */
  idempotent: boolean;
  /** Where the request queues when the rate limit makes requests wait. */
  priority?: RequestPriority;
  /** Attempts that failed so far, 429s aside; the retry layer counts them. */
  failedAttempts: number;
  /** Whether the endpoint has answered any request of this client yet; see retryDecision. */
  endpointAnswered?: boolean;
  /** A slot granted before the call was made; its first attempt sends on it instead of queueing. */
  slot?: SendSlot;
}

export const REQUEST_CONTEXT = Symbol("digitalocean-image-actions.request-context");

/** Dispatch options carrying a RequestContext. */
export type ContextualDispatchOptions = Dispatcher.DispatchOptions & { [REQUEST_CONTEXT]?: RequestContext };

/** The request's context; requests sent without one get a conservative default. */
export function requestContext(opts: Dispatcher.DispatchOptions): RequestContext {
  return (opts as ContextualDispatchOptions)[REQUEST_CONTEXT] ?? { deadline: Number.POSITIVE_INFINITY, idempotent: false, failedAttempts: 0 };
}

/** The path of a request without its query string, as error messages show it. */
export function pathOf(opts: Dispatcher.DispatchOptions): string {
  return opts.path.split("?")[0];
}
