import { interceptors, type Dispatcher, type RetryHandler } from "undici";
import type { Clock } from "../../clock";
import { deliveryOf } from "../policy/delivery";
import { isRateLimited, retryDecision, type AttemptFailure } from "../policy/retry-decision";
import { requestContext } from "../request-context";

/**
 * undici's retry interceptor driven by this package's policy
 * (`policy/retry-decision.ts`): it re-dispatches through the layers below, so
 * each retry is paced by the rate limiter again; this callback only decides and
 * waits the backoff on the Clock, within the call's deadline and abort signal.
 * `throwOnError: false` passes a final non-retried answer (e.g. a 503 after the
 * last attempt, or a 404) up with its body, for the error layer to read.
 */
export function retry(options: { clock: Clock; random?: () => number }): Dispatcher.DispatcherComposeInterceptor {
  const { clock, random } = options;
  const policy: RetryHandler.RetryCallback = (error, { opts }, done) => {
    const context = requestContext(opts);
    const failure = classify(error);
    // undici's own counter counts 429s too; a 429 waited out as asked must not use up the attempts or lengthen the backoff.
    if (!isRateLimited(failure)) context.failedAttempts += 1;
    const decision = retryDecision(failure, { idempotent: context.idempotent, attempt: context.failedAttempts, endpointAnswered: context.endpointAnswered }, random);
    if (!decision.retry || context.signal?.aborted) {
      done(error);
      return;
    }
    const wait = decision.waitMs + decision.rateLimitedForMs;
    if (clock.now() + wait > context.deadline) {
      done(error);
      return;
    }
    // The rate-limited part is waited by the rate limiter, which every request of the token goes through.
    clock.sleep(decision.waitMs, context.signal).then(
      () => done(null),
      (reason: Error) => done(reason),
    );
  };
  // undici copies the options per attempt but keeps the client's context object in them, so its count carries over.
  return interceptors.retry({ retry: policy, throwOnError: false });
}

/** What kind of failure an attempt ended with; see AttemptFailure. */
export function classify(error: Error): AttemptFailure {
  const { statusCode, headers, code } = error as Error & { statusCode?: number; headers?: Record<string, string | string[] | undefined>; code?: string };
  if (typeof statusCode === "number" && code === "UND_ERR_REQ_RETRY") {
    const retryAfter = Number(headers?.["retry-after"]);
    return { kind: "status", status: statusCode, retryAfterMs: Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined };
  }
  const delivery = deliveryOf(error);
  // A closed client sends nothing more, and a failure not known to pass is not worth the wait.
  if (delivery.kind === "not-sent" && !delivery.clientClosed) return { kind: "not-sent" };
  if (delivery.kind === "maybe-processed" && delivery.transient) return { kind: "ambiguous", silent: delivery.silent };
  return { kind: "fatal" };
}
