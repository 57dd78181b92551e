import { interceptors, type Dispatcher, type RetryHandler } from "undici";
import type { Clock } from "../../clock";
import { RequestTimeoutError, ResponseBodyError } from "../errors";
import { isRateLimited, retryDecision, type AttemptFailure } from "../policy/retry-decision";
import { requestContext } from "../request-context";

/** Connection failures where nothing reached the server. */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "UND_ERR_CONNECT_TIMEOUT", "ENOTFOUND", "EAI_AGAIN"]);

/**
 * Failures where the request may or may not have been processed. Not UND_ERR_CLOSED
 * or UND_ERR_DESTROYED: the client was closed, so sending again cannot help.
 */
const AMBIGUOUS_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ENETDOWN",
  "EHOSTDOWN",
  "UND_ERR_SOCKET",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** Ambiguous failures in which nothing at all came back in time. */
const SILENT_CODES = new Set(["ETIMEDOUT", "UND_ERR_HEADERS_TIMEOUT"]);

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
  if (error instanceof RequestTimeoutError) return { kind: "ambiguous", silent: !error.answerStarted };
  if (error instanceof ResponseBodyError) return error.problem === "truncated" ? { kind: "ambiguous" } : { kind: "fatal" };
  const errorCode = code ?? (error.cause as { code?: string } | undefined)?.code;
  if (errorCode !== undefined && NOT_SENT_CODES.has(errorCode)) return { kind: "not-sent" };
  if (errorCode !== undefined && AMBIGUOUS_CODES.has(errorCode)) return { kind: "ambiguous", silent: SILENT_CODES.has(errorCode) };
  return { kind: "fatal" };
}
