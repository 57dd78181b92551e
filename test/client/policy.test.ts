import { nextPagePath } from "../../provider/client/pagination";
import { isActionStartedBy, matchesRequest, newestMatching, START_TIME_TOLERANCE_MS } from "../../provider/client/policy/action-match";
import { BACKOFF_CAP_MS, backoffDelayMs, MAX_ATTEMPTS, MAX_NOT_SENT_ATTEMPTS } from "../../provider/client/policy/backoff";
import { retryDecision } from "../../provider/client/policy/retry-decision";
import type { Action } from "../../provider/api/types";
import { MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS, nextPollInterval } from "../../provider/waiter/policy/poll-interval";

describe("backoff", () => {
  test("grows exponentially with at least half of each step and never beyond the cap", () => {
    expect(backoffDelayMs(1, () => 0)).toBe(500);
    expect(backoffDelayMs(1, () => 1)).toBe(1_000);
    expect(backoffDelayMs(3, () => 0)).toBe(2_000);
    expect(backoffDelayMs(20, () => 1)).toBe(BACKOFF_CAP_MS);
    expect(backoffDelayMs(20, () => 0)).toBe(BACKOFF_CAP_MS / 2);
  });
});

describe("retry decision", () => {
  const idempotent = { idempotent: true, attempt: 1 };
  const post = { idempotent: false, attempt: 1 };
  test("retries 5xx and ambiguous failures only when idempotent", () => {
    for (const status of [500, 502, 503, 504]) {
      expect(retryDecision({ kind: "status", status }, idempotent).retry).toBe(true);
      expect(retryDecision({ kind: "status", status }, post).retry).toBe(false);
    }
    expect(retryDecision({ kind: "ambiguous" }, idempotent).retry).toBe(true);
    expect(retryDecision({ kind: "ambiguous" }, post).retry).toBe(false);
  });
  test("a timeout with no answer at all is not retried until the endpoint has answered once", () => {
    expect(retryDecision({ kind: "ambiguous", silent: true }, { idempotent: true, attempt: 1, endpointAnswered: false }).retry).toBe(false);
    expect(retryDecision({ kind: "ambiguous", silent: true }, { idempotent: true, attempt: 1, endpointAnswered: true }).retry).toBe(true);
    expect(retryDecision({ kind: "ambiguous" }, { idempotent: true, attempt: 1, endpointAnswered: false }).retry).toBe(true);
  });
  test("never retries client errors or fatal failures", () => {
    for (const status of [400, 401, 403, 404, 422]) expect(retryDecision({ kind: "status", status }, idempotent).retry).toBe(false);
    expect(retryDecision({ kind: "fatal" }, idempotent).retry).toBe(false);
  });
  test("a 429 or a request never sent is retried for any method; only a 429 ignores the attempt cap", () => {
    expect(retryDecision({ kind: "status", status: 429, retryAfterMs: 3_000 }, { idempotent: false, attempt: 50 })).toEqual({ retry: true, waitMs: 0, rateLimitedForMs: 3_000 });
    expect(retryDecision({ kind: "not-sent" }, post).retry).toBe(true);
    expect(retryDecision({ kind: "not-sent" }, { idempotent: false, attempt: MAX_ATTEMPTS }).retry).toBe(false);
    // A connection that cannot be made is nearly always a wrong endpoint: three attempts, not six.
    expect(retryDecision({ kind: "not-sent" }, { idempotent: true, attempt: MAX_NOT_SENT_ATTEMPTS - 1 }).retry).toBe(true);
    expect(retryDecision({ kind: "not-sent" }, { idempotent: true, attempt: MAX_NOT_SENT_ATTEMPTS }).retry).toBe(false);
    expect(MAX_NOT_SENT_ATTEMPTS).toBeLessThan(MAX_ATTEMPTS);
    expect(retryDecision({ kind: "status", status: 503 }, { idempotent: true, attempt: MAX_ATTEMPTS }).retry).toBe(false);
  });
});

describe("matching actions to requests", () => {
  const sentAt = Date.parse("2025-06-01T12:00:00Z");
  const action = (over: Partial<Action>): Action => ({
    id: 1, status: "in-progress", type: "transfer", started_at: "2025-06-01T12:00:01Z", completed_at: null,
    resource_id: 7, resource_type: "image", region_slug: "ams3", ...over,
  });
  test("same type, same target region, started around the POST, not errored", () => {
    expect(isActionStartedBy(action({}), { type: "transfer", region: "ams3" }, sentAt)).toBe(true);
    expect(isActionStartedBy(action({ status: "completed" }), { type: "transfer", region: "ams3" }, sentAt)).toBe(true);
    expect(isActionStartedBy(action({ region_slug: "sfo3" }), { type: "transfer", region: "ams3" }, sentAt)).toBe(false);
    expect(isActionStartedBy(action({ status: "errored" }), { type: "transfer", region: "ams3" }, sentAt)).toBe(false);
    expect(isActionStartedBy(action({ type: "convert" }), { type: "transfer", region: "ams3" }, sentAt)).toBe(false);
    const early = new Date(sentAt - START_TIME_TOLERANCE_MS - 1_000).toISOString();
    expect(isActionStartedBy(action({ started_at: early }), { type: "transfer", region: "ams3" }, sentAt)).toBe(false);
    expect(isActionStartedBy(action({ type: "convert", region_slug: "nyc3" }), { type: "convert" }, sentAt)).toBe(true);
  });
  test("an action does what a request asks when the type matches and, for a transfer, the target region", () => {
    expect(matchesRequest(action({}), { type: "transfer", region: "ams3" })).toBe(true);
    expect(matchesRequest(action({ region_slug: "sfo3" }), { type: "transfer", region: "ams3" })).toBe(false);
    expect(matchesRequest(action({ type: "convert", region_slug: "nyc3" }), { type: "convert" })).toBe(true);
    expect(matchesRequest(action({ type: "convert" }), { type: "transfer", region: "ams3" })).toBe(false);
  });
  test("the newest matching action of a status is the first in a list given newest first", () => {
    const listed = [
      action({ id: 5, region_slug: "sfo3" }),
      action({ id: 4, status: "completed" }),
      action({ id: 3 }),
      action({ id: 2 }),
    ];
    expect(newestMatching(listed, { type: "transfer", region: "ams3" }, "in-progress")?.id).toBe(3);
    expect(newestMatching(listed, { type: "transfer", region: "ams3" }, "completed")?.id).toBe(4);
    expect(newestMatching(listed, { type: "transfer", region: "lon1" }, "in-progress")).toBeUndefined();
  });
});

describe("pagination", () => {
  const origin = "https://api.digitalocean.com";
  test("follows a same-origin next link, counts pages for a foreign or missing one", () => {
    expect(nextPagePath("/v2/images?per_page=200", { items: [1], links: { pages: { next: `${origin}/v2/images?page=2&per_page=200` } } }, origin, 1)).toBe("/v2/images?page=2&per_page=200");
    expect(nextPagePath("/v2/images?per_page=200", { items: [1], links: { pages: { next: "https://evil.example/v2/images?page=2" } }, meta: { total: 300 } }, origin, 200)).toBe("/v2/images?per_page=200&page=2");
    expect(nextPagePath("/v2/images?per_page=200&page=2", { items: [1], meta: { total: 300 } }, origin, 300)).toBeUndefined();
    expect(nextPagePath("/v2/images?per_page=200", { items: [], meta: { total: 300 } }, origin, 0)).toBeUndefined();
  });
});

describe("poll interval", () => {
  test("starts at the minimum, grows by half each look, stops at the maximum", () => {
    const bounds = { minMs: MIN_POLL_INTERVAL_MS, maxMs: MAX_POLL_INTERVAL_MS };
    expect(nextPollInterval(MIN_POLL_INTERVAL_MS, bounds)).toBe(3_000);
    let interval = MIN_POLL_INTERVAL_MS;
    for (let i = 0; i < 20; i++) interval = nextPollInterval(interval, bounds);
    expect(interval).toBe(MAX_POLL_INTERVAL_MS);
  });
});
