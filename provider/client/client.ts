import { setMaxListeners } from "node:events";
import { errors, Pool, type Dispatcher } from "undici";
import { wallClock, type Clock } from "../clock";
import type { Connection } from "./config";
import { ApiError, NetworkError, RateLimitError, RequestTimeoutError, ResponseBodyError } from "./errors";
import { DigitalOceanError } from "../errors";
import { apiErrors } from "./interceptors/api-errors";
import { rateLimit } from "./interceptors/rate-limit";
import { responseBody } from "./interceptors/response-body";
import { retry } from "./interceptors/retry";
import { nextPagePath, PER_PAGE, type Page } from "./pagination";
import { isActionStartedBy, START_TIME_TOLERANCE_MS, startedNoEarlierThan } from "./policy/action-match";
import { backoffDelayMs } from "./policy/backoff";
import { MAX_IN_FLIGHT, RateLimitWaitTooLong, rateLimiterFor, type RateLimiter, type RequestPriority } from "./rate-limiter";
import { SendSlot } from "./send-slot";
import { REQUEST_CONTEXT, type ContextualDispatchOptions, type RequestContext } from "./request-context";
import type { Action, Image, ImageActionRequest, ImageUpdate, PageLinks, PageMeta, Region, TagResource } from "../api/types";
import { USER_AGENT } from "./user-agent";

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
  /** Default: the process-wide limiter of the connection's token. */
  limiter?: RateLimiter;
  userAgent?: string;
  /** Largest response body accepted, in bytes. Default 16 MiB. */
  maxResponseBytes?: number;
  /** Told when the endpoint keeps the first call of the process waiting; see FIRST_ANSWER_NOTICE_MS. */
  notice?: (message: string) => void;
}

/**
 * 30 s per attempt: DigitalOcean answers these endpoints in well under a second;
 * an attempt this slow is stuck, and retrying it (when safe) is the better bet.
 */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/**
 * 65 min per call: a stack of a thousand resources spends the token's 5,000
 * requests an hour in twenty minutes, and the next slot then opens only when
 * the oldest request leaves the hour window. A call must be able to wait out a
 * whole hour window; failing the resources still queued would only make the
 * next run spend the budget again.
 */
const DEFAULT_CALL_TIMEOUT_MS = 65 * 60_000;
/**
 * The network does not speed up with a scaled clock: whatever the scale, an
 * attempt gets at least 10 real seconds, so a loaded machine running the
 * simulator fast does not turn slow answers into spurious timeouts.
 */
const MIN_REAL_REQUEST_TIMEOUT_MS = 10_000;
/** 16 MiB: a page of 200 images or actions is well under 1 MiB; anything this big is not a DigitalOcean answer. */
const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** A POST that failed ambiguously is sent at most this often in all, each time after checking it did not happen. */
const MAX_ACTION_POSTS = 3;
/**
 * Real ms to wait for a TCP (and TLS) connection: DigitalOcean's API accepts
 * within a second from anywhere; a host that takes longer is the wrong one or
 * unreachable, and the user should hear so soon (MAX_NOT_SENT_ATTEMPTS of these).
 */
const CONNECT_TIMEOUT_MS = 5_000;
/**
 * Real ms after which a call to an endpoint that has not answered yet in this
 * process is reported as still waiting, so a silent address shows in the log
 * long before its attempt times out.
 */
const FIRST_ANSWER_NOTICE_MS = 10_000;

interface RequestInit {
  body?: unknown;
  signal?: AbortSignal;
  /** Whether sending it twice is harmless; true for every method but POST unless said otherwise. */
  idempotent?: boolean;
  priority?: RequestPriority;
  slot?: SendSlot;
}

/**
 * DigitalOcean API client for images, image actions, actions, Droplet backups,
 * regions and tags. Every request goes through undici with interceptors for the
 * cross-cutting behaviour: the token's shared rate limiter, retries of
 * transient failures, bounded body reading and DigitalOcean error parsing.
 */
export class DigitalOceanClient {
  private readonly pool: Pool;
  private readonly dispatcher: Dispatcher;
  private readonly clock: Clock;
  private readonly origin: string;
  private readonly basePath: string;
  /** The endpoint and where it was configured, as messages name it. */
  readonly endpoint: string;
  /** Where the token was configured (never the token), as messages name it. */
  readonly tokenSource: string;
  /** Whether the endpoint has answered anything yet: until then a silent endpoint is most likely a wrong one. */
  private answered = false;
  private readonly notice: ((message: string) => void) | undefined;
  /** Private (#) so the token never shows when the client is logged, inspected or serialized. */
  readonly #headers: Record<string, string>;
  private readonly callTimeoutMs: number;
  /** Aborted by close(), so calls still waiting for the rate limit or a retry end instead of reaching a closed pool. */
  private readonly closing = new AbortController();
  private readonly limiter: RateLimiter;

  constructor(options: DigitalOceanClientOptions) {
    const { connection } = options;
    this.clock = options.clock ?? wallClock;
    const endpoint = new URL(connection.apiEndpoint);
    this.origin = endpoint.origin;
    this.basePath = endpoint.pathname.replace(/\/+$/, "");
    this.endpoint = `${this.origin}${this.basePath} (${connection.endpointSource ?? "the configured endpoint"})`;
    this.tokenSource = connection.tokenSource ?? "the configured token";
    this.notice = options.notice;
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    // Every call in progress listens to it: any number of them is expected, not a leak.
    setMaxListeners(0, this.closing.signal);
    this.#headers = {
      authorization: `Bearer ${connection.token}`,
      "user-agent": options.userAgent ?? USER_AGENT,
      accept: "application/json",
    };
    // Attempt timeouts run on the Clock (response-body layer), so undici's own wall-clock ones are off.
    this.pool = new Pool(this.origin, { connections: MAX_IN_FLIGHT, headersTimeout: 0, bodyTimeout: 0, connect: { timeout: CONNECT_TIMEOUT_MS } });
    const limiter = (this.limiter = options.limiter ?? rateLimiterFor(connection.token, this.clock));
    // Innermost first: each attempt is bounded, then paced; retries wrap attempts; errors are read last.
    this.dispatcher = this.pool.compose(
      responseBody({
        clock: this.clock,
        timeoutMs: options.requestTimeoutMs ?? Math.max(DEFAULT_REQUEST_TIMEOUT_MS, MIN_REAL_REQUEST_TIMEOUT_MS / this.clock.scale),
        maxBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
        endpoint: this.endpoint,
      }),
      rateLimit(limiter),
      retry({ clock: this.clock }),
      apiErrors({ clock: this.clock, limits: limiter.limits }),
    );
  }

  /** Any image by id: backup, snapshot, custom or base. */
  async getImage(id: number, o?: CallOptions): Promise<Image> {
    return this.json("GET", this.url(`/v2/images/${idSegment(id)}`), envelope("image", isImage), { signal: o?.signal, slot: o?.slot });
  }

  /** One page of the account's own images (snapshots, custom images and, as far as DigitalOcean lists them, backups). */
  async listPrivateImages(page: { page: number; perPage: number }, o?: CallOptions): Promise<{ images: Image[]; total: number; hasNext: boolean }> {
    const params = new URLSearchParams({ private: "true", page: String(page.page), per_page: String(page.perPage) });
    const result = await this.json("GET", this.url(`/v2/images?${params}`), pageOf("images", isImage), { signal: o?.signal, slot: o?.slot });
    const total = result.meta?.total ?? result.items.length;
    const hasNext = result.links?.pages?.next !== undefined || page.page * page.perPage < total;
    return { images: result.items, total, hasNext };
  }

  /**
   * Waits until the rate limit lets a request of `o.watch`'s priority go, and
   * holds that slot for the caller's next call (CallOptions.slot), which it
   * must make or give back with releaseUnused. A batch of reads closes at that
   * moment: everything asked for while it waited shares the one request.
   */
  async reserveSlot(o?: CallOptions): Promise<SendSlot> {
    const waits = linkedSignal(o?.signal === undefined ? [this.closing.signal] : [o.signal, this.closing.signal]);
    const deadline = this.clock.now() + this.callTimeoutMs;
    try {
      return new SendSlot(await this.limiter.acquire({ deadline, signal: waits.signal, priority: priorityOf(o) }));
    } catch (error) {
      if (error instanceof RateLimitWaitTooLong) throw new RateLimitError("GET", "(a batch of reads)", error.waitMs, error.remainingMs, this.limiter.limits);
      throw error;
    } finally {
      waits.unlink();
    }
  }

  /**
   * Proves that the endpoint is DigitalOcean's API and the token reads an
   * account's images: the cheapest documented call that only such an endpoint
   * answers with a page of images. Throws what the call failed with.
   */
  async checkAccess(o?: CallOptions): Promise<void> {
    const params = new URLSearchParams({ private: "true", per_page: "1" });
    await this.json("GET", this.url(`/v2/images?${params}`), pageOf("images", isImage), { signal: o?.signal });
  }

  /** Renames or re-describes an image. */
  async updateImage(id: number, update: ImageUpdate, o?: CallOptions): Promise<Image> {
    return this.json("PUT", this.url(`/v2/images/${idSegment(id)}`), envelope("image", isImage), { body: update, signal: o?.signal });
  }

  /** Deletes a snapshot or custom image. A 404 surfaces as ApiError status 404: the caller decides what gone means. */
  async deleteImage(id: number, o?: CallOptions): Promise<void> {
    await this.send("DELETE", this.url(`/v2/images/${idSegment(id)}`), { signal: o?.signal });
  }

  /** The image's actions, newest first, page by page as iteration proceeds. */
  listImageActions(imageId: number, o?: CallOptions): AsyncIterable<Action> {
    return this.paginate(`/v2/images/${idSegment(imageId)}/actions`, new URLSearchParams(), "actions", isAction, o);
  }

  /**
   * Starts an action on an image. A POST is never blindly sent again: after an
   * ambiguous failure (reset, timeout, 5xx, unreadable answer) the image's
   * actions are listed, and the action this POST asked for is returned if the
   * server created it. Only when it did not is the POST sent again, at most
   * MAX_ACTION_POSTS times in all. A 429 is retried by the transport (it was not processed).
   */
  async startImageAction(imageId: number, request: ImageActionRequest, o?: CallOptions): Promise<Action> {
    const path = this.url(`/v2/images/${idSegment(imageId)}/actions`);
    const firstSentAt = this.clock.now();
    for (let post = 1; ; post++) {
      try {
        return await this.json("POST", path, envelope("action", isAction), { body: request, signal: o?.signal, idempotent: false, priority: "start" });
      } catch (error) {
        if (!isAmbiguous(error) || post >= MAX_ACTION_POSTS || o?.signal?.aborted) throw error;
        const created = await this.findActionStartedBy(imageId, request, firstSentAt, o);
        if (created) return created;
        await this.clock.sleep(backoffDelayMs(post), o?.signal);
      }
    }
  }

  /** One page of every action on the account, newest first. */
  async listActions(page: { page: number; perPage: number }, o?: CallOptions): Promise<{ actions: Action[]; total: number; hasNext: boolean }> {
    const params = new URLSearchParams({ page: String(page.page), per_page: String(page.perPage) });
    const result = await this.json("GET", this.url(`/v2/actions?${params}`), pageOf("actions", isAction), { signal: o?.signal, priority: priorityOf(o), slot: o?.slot });
    const total = result.meta?.total ?? result.items.length;
    const hasNext = result.links?.pages?.next !== undefined || page.page * page.perPage < total;
    return { actions: result.items, total, hasNext };
  }

  /** One action by id. */
  async getAction(id: number, o?: CallOptions): Promise<Action> {
    return this.json("GET", this.url(`/v2/actions/${idSegment(id)}`), envelope("action", isAction), { signal: o?.signal, priority: priorityOf(o) });
  }

  /** The Droplet's backups (DigitalOcean lists them oldest first). */
  listDropletBackups(dropletId: number, o?: CallOptions): AsyncIterable<Image> {
    return this.paginate(`/v2/droplets/${idSegment(dropletId)}/backups`, new URLSearchParams(), "backups", isImage, o);
  }

  /** Every region, all pages. */
  async listRegions(o?: CallOptions): Promise<Region[]> {
    const regions: Region[] = [];
    for await (const region of this.paginate("/v2/regions", new URLSearchParams(), "regions", isRegion, o)) regions.push(region);
    return regions;
  }

  /**
   * Creates the tag unless it exists (DigitalOcean answers an existing tag like a new one), and
   * returns its name as the answer spells it: tags are case stable, so an existing `env:prod`
   * answers a request for `ENV:PROD`, and `/v2/tags/{tag}/resources` needs that spelling.
   */
  async ensureTag(name: string, o?: CallOptions): Promise<string> {
    const tag = await this.json("POST", this.url("/v2/tags"), envelope("tag", isTag), { body: { name }, signal: o?.signal, idempotent: true });
    return tag.name;
  }

  /** Every tag on the account, page by page as iteration proceeds. */
  listTags(o?: CallOptions): AsyncIterable<{ name: string }> {
    return this.paginate("/v2/tags", new URLSearchParams(), "tags", isTag, o);
  }

  /** Tags resources; tagging twice is harmless, so this is retried like a PUT. */
  async tagResources(tag: string, resources: TagResource[], o?: CallOptions): Promise<void> {
    await this.send("POST", this.url(`/v2/tags/${encodeURIComponent(tag)}/resources`), { body: { resources }, signal: o?.signal, idempotent: true });
  }

  /** Removes the tag from resources. */
  async untagResources(tag: string, resources: TagResource[], o?: CallOptions): Promise<void> {
    await this.send("DELETE", this.url(`/v2/tags/${encodeURIComponent(tag)}/resources`), { body: { resources }, signal: o?.signal });
  }

  /**
   * Closes the connections: attempts in flight finish first; calls still waiting
   * for the rate limit are rejected with NetworkError UND_ERR_CLOSED, and calls
   * waiting to retry end with the failure they were retrying.
   */
  async close(): Promise<void> {
    this.closing.abort(new errors.ClientClosedError());
    await this.pool.close();
  }

  /** The request target for an API path: the endpoint's base path (if any) in front. */
  private url(path: string): string {
    return `${this.basePath}${path}`;
  }

  /** Finds, newest first, the action an ambiguous POST sent at `sentAt` asked for, if the server created it. */
  private async findActionStartedBy(imageId: number, request: ImageActionRequest, sentAt: number, o?: CallOptions): Promise<Action | undefined> {
    for await (const action of this.listImageActions(imageId, o)) {
      if (isActionStartedBy(action, request, sentAt)) return action;
      // Newest first: once actions predate the POST, ours cannot come later in the list.
      if (!startedNoEarlierThan(action, sentAt - START_TIME_TOLERANCE_MS)) return undefined;
    }
    return undefined;
  }

  private async *paginate<T>(path: string, params: URLSearchParams, key: string, isItem: (v: unknown) => v is T, o?: CallOptions): AsyncGenerator<T> {
    params.set("per_page", String(PER_PAGE));
    let next: string | undefined = this.url(`${path}?${params}`);
    let fetched = 0;
    while (next !== undefined) {
      const current: string = next;
      // A reserved slot serves the first page only: the slot is taken once.
      const page = await this.json("GET", current, pageOf(key, isItem), { signal: o?.signal, slot: o?.slot });
      fetched += page.items.length;
      yield* page.items;
      next = nextPagePath(current, page, this.origin, fetched);
    }
  }

  /** Sends the request and reads a JSON answer of the shape `read` accepts. */
  private async json<T>(method: Dispatcher.HttpMethod, target: string, read: (body: unknown) => T | undefined, init: RequestInit): Promise<T> {
    const { status, text } = await this.send(method, target, init);
    const shownPath = target.split("?")[0];
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      const detail = text.trim() === "" ? "the body is empty" : "the body is not JSON";
      throw new ResponseBodyError("not-json", status, method, shownPath, `${detail} (expected a JSON object)`, { cause: error });
    }
    const value = read(body);
    if (value === undefined) {
      throw new ResponseBodyError("wrong-shape", status, method, shownPath, "the JSON does not have the shape DigitalOcean documents for this endpoint");
    }
    return value;
  }

  /** Sends one request through the interceptors; resolves with the 2xx answer's status and text. */
  private async send(method: Dispatcher.HttpMethod, target: string, init: RequestInit): Promise<{ status: number; text: string }> {
    const waits = linkedSignal(init.signal === undefined ? [this.closing.signal] : [init.signal, this.closing.signal]);
    const context: RequestContext = {
      deadline: this.clock.now() + this.callTimeoutMs,
      signal: waits.signal,
      idempotent: init.idempotent ?? method !== "POST",
      priority: init.priority ?? "normal",
      failedAttempts: 0,
      endpointAnswered: this.answered,
      slot: init.slot,
    };
    const options: ContextualDispatchOptions & Dispatcher.RequestOptions = {
      method,
      path: target,
      headers: init.body === undefined ? this.#headers : { ...this.#headers, "content-type": "application/json" },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
      [REQUEST_CONTEXT]: context,
    };
    const waiting = this.answered || !this.notice ? undefined : setTimeout(() => this.noticeWaiting(method, target), FIRST_ANSWER_NOTICE_MS);
    waiting?.unref();
    try {
      const response = await this.dispatcher.request(options);
      this.answered = true;
      return { status: response.statusCode, text: await response.body.text() };
    } catch (error) {
      if (error instanceof ApiError || error instanceof RateLimitError) this.answered = true;
      throw this.asClientError(error, method, target.split("?")[0], init.signal);
    } finally {
      clearTimeout(waiting);
      waits.unlink();
    }
  }

  private noticeWaiting(method: string, target: string): void {
    if (this.answered) return;
    this.notice?.(`no answer yet from ${this.endpoint} to ${method} ${target.split("?")[0]} after ${FIRST_ANSWER_NOTICE_MS / 1000} s; still waiting. If this endpoint is wrong, fix it and run again`);
  }

  /** Errors the caller can act on: the abort reason, our own errors, or a NetworkError for anything from the transport. */
  private asClientError(error: unknown, method: string, path: string, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted) return signal.reason;
    if (error instanceof ApiError && error.status === 401) {
      return error.withAdvice(`The token comes from ${this.tokenSource}: check that it is current (not revoked or expired) and set it again there`);
    }
    if (error instanceof DigitalOceanError) return error;
    const code = (error as { code?: unknown }).code;
    return new NetworkError(method, path, typeof code === "string" ? code : undefined, { cause: error, endpoint: this.endpoint });
  }
}

/**
 * A signal aborted with the reason of the first of `sources` to abort. Unlike
 * AbortSignal.any it lets go of them once the call ends, so the client's
 * long-lived close signal does not keep an entry for every call ever made.
 */
function linkedSignal(sources: AbortSignal[]): { signal: AbortSignal; unlink(): void } {
  const linked = new AbortController();
  const onAbort = (event: Event) => linked.abort((event.target as AbortSignal).reason);
  for (const source of sources) {
    if (source.aborted) linked.abort(source.reason);
    else source.addEventListener("abort", onAbort, { once: true });
  }
  return { signal: linked.signal, unlink: () => sources.forEach((source) => source.removeEventListener("abort", onAbort)) };
}

/** Failures after which a POST may or may not have been processed. */
function isAmbiguous(error: unknown): boolean {
  if (error instanceof ApiError) return error.status >= 500;
  // Refused, or held back because the client closed: the server never saw it.
  if (error instanceof NetworkError) return error.code !== "ECONNREFUSED" && error.code !== "UND_ERR_CLOSED";
  return error instanceof RequestTimeoutError || error instanceof ResponseBodyError;
}

function priorityOf(o: CallOptions | undefined): RequestPriority {
  return o?.watch ? "watch" : "normal";
}

function idSegment(id: number): string {
  if (!Number.isSafeInteger(id) || id <= 0) throw new RangeError(`expected a positive integer id, got ${id}`);
  return String(id);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const isImage = (v: unknown): v is Image => isObject(v) && typeof v.id === "number" && Array.isArray(v.regions);
const isAction = (v: unknown): v is Action => isObject(v) && typeof v.id === "number" && typeof v.status === "string" && typeof v.type === "string";
const isTag = (v: unknown): v is { name: string } => isObject(v) && typeof v.name === "string";
const isRegion = (v: unknown): v is Region => isObject(v) && typeof v.slug === "string";

/** Reads `{ [key]: T }`. */
function envelope<T>(key: string, is: (v: unknown) => v is T): (body: unknown) => T | undefined {
  return (body) => (isObject(body) && is(body[key]) ? (body[key] as T) : undefined);
}

/** Reads `{ [key]: T[], links?, meta? }`. */
function pageOf<T>(key: string, is: (v: unknown) => v is T): (body: unknown) => Page<T> | undefined {
  return (body) => {
    if (!isObject(body)) return undefined;
    const items = body[key];
    if (!Array.isArray(items) || !items.every(is)) return undefined;
    return { items, links: isObject(body.links) ? (body.links as PageLinks) : undefined, meta: isObject(body.meta) ? (body.meta as unknown as PageMeta) : undefined };
  };
}
