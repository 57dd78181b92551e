import type { IncomingHttpHeaders } from "node:http";
import type { Dispatcher } from "undici";
import type { Clock } from "../../clock";
import { RequestTimeoutError, ResponseBodyError } from "../errors";
import { pathOf } from "../request-context";

/** Bounds on one attempt's answer. */
export interface ResponseBodyLimits {
  clock: Clock;
  /** Clock ms from sending to the last byte of the body; headers and body together. */
  timeoutMs: number;
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** How a timeout names the endpoint, e.g. `https://api.digitalocean.com (the default endpoint)`. */
  endpoint?: string;
}

/**
 * Reads each attempt's whole answer before anything above sees it, within a
 * size bound and a time bound measured on the Clock. A huge body is cut off
 * with ResponseBodyError, a slow or stalled one with RequestTimeoutError, one
 * cut short by the connection with ResponseBodyError "truncated". Because
 * nothing is passed up until the body is complete, every failure reaches the
 * retry interceptor before any response did, so it can retry from scratch (the
 * DigitalOcean API has no range requests to resume a body).
 */
export function responseBody(limits: ResponseBodyLimits): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => dispatch(opts, new BufferingHandler(opts, handler, limits));
}

class BufferingHandler implements Dispatcher.DispatchHandler {
  private readonly upstream = new ReplayController();
  private readonly timer = new AbortController();
  private readonly chunks: Buffer[] = [];
  private received = 0;
  private response: { status: number; headers: IncomingHttpHeaders; statusMessage?: string } | undefined;
  /** Set when this handler stopped the attempt; reported instead of the transport's own error. */
  private failure: Error | undefined;

  constructor(
    private readonly opts: Dispatcher.DispatchOptions,
    private readonly next: Dispatcher.DispatchHandler,
    private readonly limits: ResponseBodyLimits,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.upstream.target = controller;
    this.limits.clock.sleep(this.limits.timeoutMs, this.timer.signal).then(
      () => this.fail(controller, new RequestTimeoutError(this.opts.method, pathOf(this.opts), this.limits.timeoutMs, this.limits.endpoint, this.response !== undefined)),
      () => undefined,
    );
    this.next.onRequestStart?.(this.upstream, context);
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    this.response = { status, headers, statusMessage };
    const declared = Number(headers["content-length"]);
    if (declared > this.limits.maxBytes) this.fail(controller, this.tooLarge(`declares ${declared} bytes`));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.received += chunk.length;
    if (this.received > this.limits.maxBytes) this.fail(controller, this.tooLarge(`exceeded ${this.received} bytes`));
    else this.chunks.push(chunk);
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.timer.abort();
    const { status, headers, statusMessage } = this.response!;
    const body = Buffer.concat(this.chunks);
    this.upstream.replay(() => this.next.onResponseStart?.(this.upstream, status, headers, statusMessage), () => {
      if (body.length > 0) this.next.onResponseData?.(this.upstream, body);
      this.next.onResponseEnd?.(this.upstream, trailers);
    });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.timer.abort();
    let reported = this.failure ?? error;
    if (!this.failure && this.response && !this.upstream.aborted) {
      // Headers came, then the connection broke: the body is incomplete.
      reported = new ResponseBodyError("truncated", this.response.status, this.opts.method, pathOf(this.opts), `the connection closed after ${this.received} bytes`, { cause: error });
    }
    this.next.onResponseError?.(this.upstream, reported);
  }

  private fail(controller: Dispatcher.DispatchController, error: Error): void {
    if (this.failure) return;
    this.failure = error;
    controller.abort(error);
  }

  private tooLarge(detail: string): ResponseBodyError {
    return new ResponseBodyError("too-large", this.response?.status, this.opts.method, pathOf(this.opts), `the body ${detail}, more than the ${this.limits.maxBytes} allowed`);
  }
}

/**
 * The controller the layers above see. It forwards aborts to the transport,
 * but reports `aborted` only for aborts that came from above, so a timeout this
 * layer imposed still counts as a retryable failure. It honours pause/resume
 * while replaying the buffered answer.
 */
class ReplayController implements Dispatcher.DispatchController {
  target: Dispatcher.DispatchController | undefined;
  private isPaused = false;
  private abortReason: Error | null = null;
  private pending: (() => void) | undefined;

  get aborted(): boolean {
    return this.abortReason !== null;
  }

  get paused(): boolean {
    return this.isPaused;
  }

  get reason(): Error | null {
    return this.abortReason;
  }

  abort(reason: Error): void {
    this.abortReason ??= reason;
    this.target?.abort(reason);
  }

  pause(): void {
    this.isPaused = true;
  }

  resume(): void {
    this.isPaused = false;
    const pending = this.pending;
    this.pending = undefined;
    pending?.();
  }

  /** Runs `start`, then `rest` at once or when the consumer resumes. */
  replay(start: () => void, rest: () => void): void {
    start();
    if (this.aborted) return;
    if (this.isPaused) this.pending = rest;
    else rest();
  }
}
