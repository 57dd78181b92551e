import type { IncomingHttpHeaders } from "node:http";
import type { Dispatcher } from "undici";
import { RateLimitError } from "../errors";
import { RateLimitWaitTooLong, type RequestPacer, type SendPermit } from "../rate-limit/pacer";
import { pathOf, requestContext } from "../request-context";

/**
 * Paces every attempt (first sends and retries alike) through the token's
 * shared RequestPacer (a call given a slot already granted sends its first attempt on it), and reports each answer back to it: its rate-limit
 * headers, and a 429's `retry-after`, which pauses every request of the token.
 */
export function rateLimit(pacer: RequestPacer): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    const context = requestContext(opts);
    const reserved = context.slot?.take();
    (reserved ? Promise.resolve(reserved) : pacer.acquire({ deadline: context.deadline, signal: context.signal, priority: context.priority })).then(
      (permit) => {
        try {
          dispatch(opts, new ReportingHandler(handler, permit));
        } catch (error) {
          permit.release({});
          handler.onResponseError?.(undefined as unknown as Dispatcher.DispatchController, error as Error);
        }
      },
      (error: unknown) => {
        const reported =
          error instanceof RateLimitWaitTooLong ? new RateLimitError(opts.method, pathOf(opts), error.waitMs, error.remainingMs, pacer.limits) : (error as Error);
        // No attempt started, so there is no controller to hand over.
        handler.onResponseError?.(undefined as unknown as Dispatcher.DispatchController, reported);
      },
    );
    // The request is queued; undici's back-pressure does not apply to it.
    return true;
  };
}

class ReportingHandler implements Dispatcher.DispatchHandler {
  constructor(
    private readonly next: Dispatcher.DispatchHandler,
    private readonly permit: SendPermit,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.next.onRequestStart?.(controller, context);
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    this.permit.release({ status, headers });
    this.next.onResponseStart?.(controller, status, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.next.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.next.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.permit.release({});
    this.next.onResponseError?.(controller, error);
  }
}
