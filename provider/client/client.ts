import { setMaxListeners } from "node:events";
import { errors, type Dispatcher, type Pool } from "undici";
import { wallClock, type Clock } from "../clock";
import { ApiError, NetworkError, RateLimitError } from "./errors";
import { DigitalOceanError } from "../errors";
import { linkedSignal } from "./linked-signal";
import { hasPageAfter, itemsOfEveryPage, PER_PAGE } from "./pagination";
import { findActionStartedBy } from "./policy/action-match";
import { backoffDelayMs } from "./policy/backoff";
import { deliveryOf, mayHaveTakenEffect } from "./policy/delivery";
import { RateLimitWaitTooLong, RequestPacer } from "./rate-limit/pacer";
import type { RequestPriority } from "./rate-limit/queue";
import { SendSlot } from "./send-slot";
import { REQUEST_CONTEXT, type ContextualDispatchOptions, type RequestContext } from "./request-context";
import { accountRecord, envelope, isAction, isBackupPolicyRecord, isImage, isRegion, isTag, pageOf, readAnswer } from "./response-shapes";
import { createTransport } from "./transport";
import type { AccountRecord, Action, DropletBackupPolicyRecord, Image, ImageActionRequest, ImageUpdate, Region, TagResource } from "../api/types";
import { USER_AGENT } from "./user-agent";
import type { CallOptions, DigitalOceanClientOptions } from "./options";

// Callers build and call the client with these; they live apart to keep this module to the calls.
export type { CallOptions, DigitalOceanClientOptions } from "./options";

/**
 * 65 min per call: a stack of a thousand resources spends the token's 5,000
 * requests an hour in twenty minutes, and the next slot then opens only when
 * the oldest request leaves the hour window. A call must be able to wait out a
 * whole hour window; failing the resources still queued would only make the
 * next run spend the budget again.
 */
const DEFAULT_CALL_TIMEOUT_MS = 65 * 60_000;
/** A POST that failed ambiguously is sent at most this often in all, each time after checking it did not happen. */
const MAX_ACTION_POSTS = 3;
/** See ClientOptions.firstAnswerNoticeMs. */
const FIRST_ANSWER_NOTICE_MS = 10_000;

/** Which page of a collection to read, and how many items a page holds. */
type PageRequest = { page: number; perPage: number };
/** One page's items, the collection's size, and whether a page follows. */
type Page<T> = { items: T[]; total: number; hasNext: boolean };

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
 * regions, tags and the token's account. Every request goes through undici with interceptors for the
 * cross-cutting behaviour (see transport.ts).
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
  private readonly firstAnswerNoticeMs: number;
  /** Private (#) so the token never shows when the client is logged, inspected or serialized. */
  readonly #headers: Record<string, string>;
  private readonly callTimeoutMs: number;
  /** Aborted by close(), so calls still waiting for the rate limit or a retry end instead of reaching a closed pool. */
  private readonly closing = new AbortController();
  private readonly pacer: RequestPacer;

  constructor(options: DigitalOceanClientOptions) {
    const { connection } = options;
    this.clock = options.clock ?? wallClock;
    const endpoint = new URL(connection.apiEndpoint);
    this.origin = endpoint.origin;
    this.basePath = endpoint.pathname.replace(/\/+$/, "");
    this.endpoint = `${this.origin}${this.basePath} (${connection.endpointSource ?? "the configured endpoint"})`;
    this.tokenSource = connection.tokenSource ?? "the configured token";
    this.notice = options.notice;
    this.firstAnswerNoticeMs = options.firstAnswerNoticeMs ?? FIRST_ANSWER_NOTICE_MS;
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    // Every call in progress listens to it: any number of them is expected, not a leak.
    setMaxListeners(0, this.closing.signal);
    this.#headers = {
      authorization: `Bearer ${connection.token}`,
      "user-agent": options.userAgent ?? USER_AGENT,
      accept: "application/json",
    };
    const transport = createTransport({
      origin: this.origin,
      clock: this.clock,
      pacer: (this.pacer = options.pacer ?? new RequestPacer(this.clock)),
      endpoint: this.endpoint,
      requestTimeoutMs: options.requestTimeoutMs,
      maxResponseBytes: options.maxResponseBytes,
    });
    this.pool = transport.pool;
    this.dispatcher = transport.dispatcher;
  }

  /** Any image by id: backup, snapshot, custom or base. */
  async getImage(id: number, o?: CallOptions): Promise<Image> {
    return this.json("GET", this.url(`/v2/images/${idSegment(id)}`), envelope("image", isImage), { signal: o?.signal, slot: o?.slot });
  }

  /** One page of the account's own images (snapshots, custom images and, as far as DigitalOcean lists them, backups). */
  async listPrivateImages(page: PageRequest, o?: CallOptions): Promise<{ images: Image[]; total: number; hasNext: boolean }> {
    const { items, total, hasNext } = await this.onePage("/v2/images", { private: "true" }, page, "images", isImage, { signal: o?.signal, slot: o?.slot });
    return { images: items, total, hasNext };
  }

  /**
   * Waits until the rate limit lets an ordinary request go, and holds that
   * slot for the caller's next call (CallOptions.slot), which it must make or
   * give back with releaseUnused. A batch of reads closes at that moment:
   * everything asked for while it waited shares the one request.
   */
  async reserveSlot(): Promise<SendSlot> {
    const deadline = this.clock.now() + this.callTimeoutMs;
    try {
      return new SendSlot(await this.pacer.acquire({ deadline, signal: this.closing.signal }));
    } catch (error) {
      const path = "(a batch of reads)";
      // Like a call queued for the rate limit: a spent budget is a RateLimitError, a closed client a NetworkError.
      if (error instanceof RateLimitWaitTooLong) throw new RateLimitError("GET", path, error.waitMs, error.remainingMs, this.pacer.limits);
      throw this.asClientError(error, "GET", path, undefined);
    }
  }

  /**
   * Proves that the endpoint is DigitalOcean's API and the token reads an
   * account's images: the cheapest documented call that only such an endpoint
   * answers with a page of images. Throws what the call failed with.
   */
  async checkAccess(o?: CallOptions): Promise<void> {
    await this.listPrivateImages({ page: 1, perPage: 1 }, { signal: o?.signal });
  }

  /**
   * Who the token is (scope `account:read`): the user's uuid and, for a team
   * token, the team's uuid and name; never the user's email or name. A token
   * without the scope gets ApiError 403 `forbidden`.
   */
  async getAccount(o?: CallOptions): Promise<AccountRecord> {
    return this.json("GET", this.url("/v2/account"), accountRecord, { signal: o?.signal });
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
    return this.paginate(`/v2/images/${idSegment(imageId)}/actions`, "actions", isAction, o);
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
        if (!mayHaveTakenEffect(deliveryOf(error)) || post >= MAX_ACTION_POSTS || o?.signal?.aborted) throw error;
        const created = await findActionStartedBy(this.listImageActions(imageId, o), request, firstSentAt);
        if (created) return created;
        await this.clock.sleep(backoffDelayMs(post), o?.signal);
      }
    }
  }

  /** One page of every action on the account, newest first. */
  async listActions(page: PageRequest, o?: CallOptions): Promise<{ actions: Action[]; total: number; hasNext: boolean }> {
    const { items, total, hasNext } = await this.onePage("/v2/actions", {}, page, "actions", isAction, { signal: o?.signal, priority: priorityOf(o), slot: o?.slot });
    return { actions: items, total, hasNext };
  }

  /** One action by id. */
  async getAction(id: number, o?: CallOptions): Promise<Action> {
    return this.json("GET", this.url(`/v2/actions/${idSegment(id)}`), envelope("action", isAction), { signal: o?.signal, priority: priorityOf(o) });
  }

  /** The Droplet's backups (DigitalOcean lists them oldest first). */
  listDropletBackups(dropletId: number, o?: CallOptions): AsyncIterable<Image> {
    return this.paginate(`/v2/droplets/${idSegment(dropletId)}/backups`, "backups", isImage, o);
  }

  /** The Droplet's backup plan and its next window (scope `droplet:read`). */
  async getDropletBackupPolicy(dropletId: number, o?: CallOptions): Promise<DropletBackupPolicyRecord> {
    return this.json("GET", this.url(`/v2/droplets/${idSegment(dropletId)}/backups/policy`), envelope("policy", isBackupPolicyRecord), { signal: o?.signal });
  }

  /** Every region, all pages. */
  async listRegions(o?: CallOptions): Promise<Region[]> {
    const regions: Region[] = [];
    for await (const region of this.paginate("/v2/regions", "regions", isRegion, o)) regions.push(region);
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
    return this.paginate("/v2/tags", "tags", isTag, o);
  }

  /** Tags resources; tagging twice is harmless, so this is retried like a PUT. */
  async tagResources(tag: string, resources: TagResource[], o?: CallOptions): Promise<void> {
    await this.send("POST", this.url(`/v2/tags/${encodeURIComponent(tag)}/resources`), { body: { resources }, signal: o?.signal, idempotent: true, slot: o?.slot });
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

  /** One page of the collection at `path`. */
  private async onePage<T>(path: string, filter: Record<string, string>, page: PageRequest, key: string, isItem: (v: unknown) => v is T, init: RequestInit): Promise<Page<T>> {
    const params = new URLSearchParams({ ...filter, page: String(page.page), per_page: String(page.perPage) });
    const result = await this.json("GET", this.url(`${path}?${params}`), pageOf(key, isItem), init);
    const total = result.meta?.total ?? result.items.length;
    return { items: result.items, total, hasNext: hasPageAfter(result, page.page, page.perPage, total) };
  }

  /** Every `key` item of the collection at `path`, in pages of the largest size. */
  private paginate<T>(path: string, key: string, isItem: (v: unknown) => v is T, o?: CallOptions): AsyncGenerator<T> {
    const first = this.url(`${path}?per_page=${PER_PAGE}`);
    // A reserved slot serves the first page only: the slot is taken once.
    return itemsOfEveryPage(first, (target) => this.json("GET", target, pageOf(key, isItem), { signal: o?.signal, slot: o?.slot }), this.origin);
  }

  /** Sends the request and reads a JSON answer of the shape `read` accepts. */
  private async json<T>(method: Dispatcher.HttpMethod, target: string, read: (body: unknown) => T | undefined, init: RequestInit): Promise<T> {
    const { status, text } = await this.send(method, target, init);
    return readAnswer(text, read, { status, method, path: target.split("?")[0] });
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
    const waiting = this.answered || !this.notice ? undefined : setTimeout(() => this.noticeWaiting(method, target), this.firstAnswerNoticeMs);
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
    this.notice?.(`no answer yet from ${this.endpoint} to ${method} ${target.split("?")[0]} after ${this.firstAnswerNoticeMs / 1000} s; still waiting. If this endpoint is wrong, fix it and run again`);
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

function priorityOf(o: CallOptions | undefined): RequestPriority {
  return o?.watch ? "watch" : "normal";
}

function idSegment(id: number): string {
  if (!Number.isSafeInteger(id) || id <= 0) throw new RangeError(`expected a positive integer id, got ${id}`);
  return String(id);
}
