import type { IncomingHttpHeaders } from "node:http";
import type { Dispatcher } from "undici";
import { ApiError, RateLimitError } from "../errors";
import { pathOf, requestContext } from "../request-context";
import type { Clock } from "../../clock";
import type { RateLimits } from "../rate-limit/windows";

/** How much of a non-JSON error body to quote: enough to recognise a proxy's error page. */
const QUOTED_BODY_CHARS = 120;

/**
 * Turns every non-2xx answer into an error: DigitalOcean's `{"id","message","request_id"}`
 * body becomes an ApiError naming status, id, method and path (request id from
 * the body or `x-request-id`); a body that is not that JSON is quoted briefly
 * instead. A 429 reaching this layer means the retry layer could not wait
 * for it within the call's deadline: it becomes a RateLimitError.
 */
export function apiErrors(options: { clock: Clock; limits: RateLimits }): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => dispatch(opts, new ApiErrorHandler(opts, handler, options));
}

class ApiErrorHandler implements Dispatcher.DispatchHandler {
  private failed: { status: number; headers: IncomingHttpHeaders; chunks: Buffer[] } | undefined;

  constructor(
    private readonly opts: Dispatcher.DispatchOptions,
    private readonly next: Dispatcher.DispatchHandler,
    private readonly options: { clock: Clock; limits: RateLimits },
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.next.onRequestStart?.(controller, context);
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    if (status >= 200 && status < 300) this.next.onResponseStart?.(controller, status, headers, statusMessage);
    else this.failed = { status, headers, chunks: [] };
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.failed) this.failed.chunks.push(chunk);
    else this.next.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    if (this.failed) this.next.onResponseError?.(controller, this.toError(this.failed));
    else this.next.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.next.onResponseError?.(controller, error);
  }

  private toError({ status, headers, chunks }: { status: number; headers: IncomingHttpHeaders; chunks: Buffer[] }): Error {
    const method = this.opts.method;
    const path = pathOf(this.opts);
    if (status === 429) {
      const retryAfter = Number(headers["retry-after"]);
      const waitMs = Number.isFinite(retryAfter) ? retryAfter * 1000 : 0;
      return new RateLimitError(method, path, waitMs, requestContext(this.opts).deadline - this.options.clock.now(), this.options.limits);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    const body = parseErrorBody(text);
    const headerRequestId = headers["x-request-id"];
    return new ApiError({
      status,
      method,
      path,
      errorId: body?.id ?? "unknown",
      apiMessage: body?.message ?? describeUnreadableBody(text, headers["content-type"]),
      requestId: body?.request_id ?? (typeof headerRequestId === "string" ? headerRequestId : undefined),
    });
  }
}

function parseErrorBody(text: string): { id?: string; message?: string; request_id?: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { id, message, error, request_id: requestId } = parsed as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  // Some refusals (a bad tag name) carry the spec's `error`/`root_causes` body instead of `message`.
  return { id: str(id), message: str(message) ?? str(error), request_id: str(requestId) };
}

function describeUnreadableBody(text: string, contentType: string | string[] | undefined): string {
  const trimmed = text.replace(/\s+/g, " ").trim();
  if (trimmed === "") return "(empty body)";
  const quoted = trimmed.length > QUOTED_BODY_CHARS ? `${trimmed.slice(0, QUOTED_BODY_CHARS)}…` : trimmed;
  return `(no DigitalOcean error body; got ${contentType ?? "an untyped body"}: ${JSON.stringify(quoted)})`;
}
