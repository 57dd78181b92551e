import type { IncomingMessage, ServerResponse } from "node:http";
import { inspect } from "node:util";
import { DigitalOceanClient } from "../../provider/client/client";
import { ApiError, NetworkError, ResponseBodyError } from "../../provider/client/errors";
import { DigitalOceanError } from "../../provider/errors";
import { RequestPacer } from "../../provider/client/rate-limit/pacer";
import { scaledClock } from "../../provider/clock";
import { BACKUPS, clientFor, DROPLET, hostileServer, seededSimulator, SNAPSHOT } from "./helpers";

const TOKEN = "dop_v1_secret_0123456789abcdef0123456789abcdef";

/** Every way an error could be shown: none may contain the token. */
function expectNoToken(error: unknown): void {
  const e = error as Error;
  for (const shown of [e.message, e.stack ?? "", JSON.stringify(e), inspect(e, { depth: 10, showHidden: true }), String(e)]) {
    expect(shown).not.toContain(TOKEN);
    expect(shown).not.toContain("secret_0123");
  }
}

const clock = scaledClock(0.001);
/**
 * Half a real second per attempt: ample for a local answer on a loaded machine. The first call of
 * a client is not retried on a timeout (a silent endpoint is most likely a wrong one), so a bound
 * tighter than a busy machine's answer time would fail these tests at random.
 */
const ANSWER_TIME_MS = 500_000;
const clientOf = (url: string, maxResponseBytes?: number) =>
  new DigitalOceanClient({ connection: { token: TOKEN, apiEndpoint: url }, clock, pacer: new RequestPacer(clock), requestTimeoutMs: ANSWER_TIME_MS, maxResponseBytes });

async function failureFrom(respond: (req: IncomingMessage, res: ServerResponse) => void, call: (c: DigitalOceanClient) => Promise<unknown>, maxBytes?: number) {
  const hostile = await hostileServer(respond);
  const client = clientOf(hostile.url, maxBytes);
  try {
    const error = await call(client).then(
      () => undefined,
      (e: unknown) => e,
    );
    expectNoToken(error);
    return { error: error as Error, hits: hostile.hits() };
  } finally {
    await client.close();
    hostile.server.closeAllConnections();
    await new Promise((r) => hostile.server.close(r));
  }
}

test("an API error carries status, id, request id, method and path, and never the token", async () => {
  const sim = await seededSimulator({ token: TOKEN });
  const client = clientFor(sim);
  try {
    const error = await client.getImage(424242).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toBeInstanceOf(DigitalOceanError);
    const api = error as ApiError;
    expect(api).toMatchObject({ status: 404, errorId: "not_found", method: "GET", path: "/v2/images/424242" });
    expect(api.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(api.message).toBe(`DigitalOcean API 404 not_found on GET /v2/images/424242: The resource you requested could not be found. (request_id ${api.requestId})`);
    expect(ApiError.isNotFound(api)).toBe(true);
    expectNoToken(api);
    expect(inspect(client, { depth: 5, showHidden: true })).not.toContain(TOKEN);
    expect(JSON.stringify(client)).not.toContain(TOKEN);

    const refused = await new DigitalOceanClient({ connection: { token: "dop_v1_wrong", apiEndpoint: sim.url }, clock: sim.clock }).getImage(SNAPSHOT).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 401, errorId: "unauthorized" });

    const unprocessable = await client.startImageAction(SNAPSHOT, { type: "convert" }).catch((e: unknown) => e);
    expect(unprocessable).toMatchObject({ status: 422, errorId: "unprocessable_entity", method: "POST", path: `/v2/images/${SNAPSHOT}/actions` });
    expectNoToken(unprocessable);
  } finally {
    await client.close();
    await sim.close();
  }
});

test("the request carries the bearer token, a versioned user agent and JSON", async () => {
  let seen: IncomingMessage | undefined;
  let body = "";
  const hostile = await hostileServer((req, res) => {
    seen = req;
    req.on("data", (c: Buffer) => (body += c));
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ image: { id: 1, regions: [] } })));
  });
  const client = clientOf(hostile.url);
  await client.updateImage(1, { name: "n" });
  await client.close();
  await new Promise((r) => hostile.server.close(r));
  expect(seen?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  expect(seen?.headers["user-agent"]).toMatch(/^pulumi-digitalocean-image-actions\/\d+\.\d+\.\d+/);
  expect(seen?.headers["content-type"]).toBe("application/json");
  expect(JSON.parse(body)).toEqual({ name: "n" });
});

test("a non-JSON error page becomes an ApiError quoting it briefly, with x-request-id", async () => {
  const { error } = await failureFrom(
    (_req, res) => res.writeHead(403, { "content-type": "text/html", "x-request-id": "req-7" }).end(`<html>${"Forbidden ".repeat(50)}</html>`),
    (c) => c.getImage(5),
  );
  expect(error).toBeInstanceOf(ApiError);
  expect(error).toMatchObject({ status: 403, errorId: "unknown", requestId: "req-7" });
  expect(error.message).toContain("text/html");
  expect(error.message.length).toBeLessThan(400);
});

test("an error body of the error/root_causes kind is read for its message", async () => {
  const detail = 'Error validating resource tag: "tag-name \\"a b\\" contains invalid characters"';
  const { error } = await failureFrom(
    (_req, res) => res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: detail, messages: null, root_causes: [detail] })),
    (c) => c.ensureTag("a b"),
  );
  expect(error).toMatchObject({ status: 400, errorId: "unknown", apiMessage: detail, method: "POST", path: "/v2/tags" });
});

test("a 2xx body that is not JSON is a ResponseBodyError, not a crash", async () => {
  const { error } = await failureFrom((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html>maintenance</html>"), (c) => c.getImage(5));
  expect(error).toBeInstanceOf(ResponseBodyError);
  expect(error).toMatchObject({ problem: "not-json", status: 200, method: "GET", path: "/v2/images/5" });
});

test("JSON of the wrong shape is a ResponseBodyError", async () => {
  const { error } = await failureFrom((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ image: "nope" })), (c) => c.getImage(5));
  expect(error).toMatchObject({ problem: "wrong-shape" });
  const listing = await failureFrom((_req, res) => res.writeHead(200).end(JSON.stringify({ backups: [{ id: "x" }] })), async (c) => {
    for await (const backup of c.listDropletBackups(5)) void backup;
  });
  expect(listing.error).toMatchObject({ problem: "wrong-shape" });
});

test("a body over the size bound is a ResponseBodyError, declared or streamed", async () => {
  const declared = await failureFrom((_req, res) => res.writeHead(200, { "content-length": String(10_000_000) }).write("{"), (c) => c.getImage(5), 64 * 1024);
  expect(declared.error).toMatchObject({ problem: "too-large" });
  const streamed = await failureFrom(
    (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(`{"image":{"id":1,"regions":[],"pad":"${"x".repeat(200_000)}"}}`);
    },
    (c) => c.getImage(5),
    64 * 1024,
  );
  expect(streamed.error).toBeInstanceOf(ResponseBodyError);
  expect(streamed.error).toMatchObject({ problem: "too-large" });
  expect(streamed.hits).toBe(1);
});

test("a truncated body is retried for a GET, then reported as truncated", async () => {
  const { error, hits } = await failureFrom((_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
    res.write('{"image":{"id":');
    setTimeout(() => res.socket?.destroy(), 1);
  }, (c) => c.getImage(5));
  expect(error).toBeInstanceOf(ResponseBodyError);
  expect(error).toMatchObject({ problem: "truncated" });
  expect(hits).toBe(6);
});

test("a server that never finishes answering hits the request timeout instead of hanging", async () => {
  const { error, hits } = await failureFrom((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write("{");
  }, (c) => c.getImage(5));
  expect(error.name).toBe("RequestTimeoutError");
  expect(error.message).toContain("GET /v2/images/5");
  expect(hits).toBe(6);
});

test("a refused connection is a NetworkError naming the call", async () => {
  const hostile = await hostileServer(() => undefined);
  const url = hostile.url;
  await new Promise((r) => hostile.server.close(r));
  const client = clientOf(url);
  const error = await client.getImage(9).catch((e: unknown) => e);
  await client.close();
  expect(error).toBeInstanceOf(NetworkError);
  expect(error).toMatchObject({ code: "ECONNREFUSED", method: "GET", path: "/v2/images/9" });
  expect((error as Error).message).toContain(`the connection to ${url} (the configured endpoint) failed; nothing accepts connections there`);
  expectNoToken(error);
});

test("a 401 says where the token came from", async () => {
  const sim = await seededSimulator();
  const client = new DigitalOceanClient({ connection: { token: "dop_v1_revoked", apiEndpoint: sim.url, tokenSource: "environment variable DIGITALOCEAN_TOKEN" }, clock });
  const error = await client.getImage(SNAPSHOT).catch((e: unknown) => e);
  await client.close();
  await sim.close();
  expect(error).toMatchObject({ status: 401 });
  expect((error as Error).message).toContain("The token comes from environment variable DIGITALOCEAN_TOKEN");
});

test("pagination follows links across pages with 200 per page", async () => {
  const sim = await seededSimulator();
  for (let i = 0; i < 450; i++) sim.state.addBackup(DROPLET, { name: `b-${i}`, created_at: "2025-06-05T04:00:00Z" });
  const client = clientFor(sim);
  try {
    const ids: number[] = [];
    for await (const backup of client.listDropletBackups(DROPLET)) ids.push(backup.id);
    expect(ids).toHaveLength(450 + BACKUPS.length);
    expect(new Set(ids).size).toBe(450 + BACKUPS.length);
    const pages = sim.requests().map((r) => r.query);
    expect(pages).toEqual([{ per_page: "200" }, expect.objectContaining({ page: "2", per_page: "200" }), expect.objectContaining({ page: "3", per_page: "200" })]);
    // Lazily: stopping early fetches no further page.
    sim.resetRequests();
    for await (const backup of client.listDropletBackups(DROPLET)) if (backup) break;
    expect(sim.requests()).toHaveLength(1);

    const page = await client.listActions({ page: 1, perPage: 200 });
    expect(page).toEqual({ actions: [], total: 0, hasNext: false });
    expect((await client.listRegions()).map((r) => r.slug)).toContain("nyc3");
  } finally {
    await client.close();
    await sim.close();
  }
});

test("an abort signal cancels a call waiting for the rate limit", async () => {
  const sim = await seededSimulator({ rateLimit: { perMinute: 1, perHour: 100 } });
  const client = clientFor(sim, { pacer: new RequestPacer(sim.clock, { perMinute: 1, perHour: 100 }) });
  try {
    await client.getImage(SNAPSHOT);
    const controller = new AbortController();
    const pending = client.getImage(SNAPSHOT, { signal: controller.signal });
    const reason = new Error("stop");
    setTimeout(() => controller.abort(reason), 5);
    await expect(pending).rejects.toBe(reason);
    expect(sim.requests()).toHaveLength(1);
  } finally {
    await client.close();
    await sim.close();
  }
});
