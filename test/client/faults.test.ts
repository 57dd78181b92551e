import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DigitalOceanClient } from "../../provider/client/client";
import { ApiError, RequestTimeoutError, NetworkError } from "../../provider/client/errors";
import { RequestPacer } from "../../provider/client/rate-limit/pacer";
import { scaledClock } from "../../provider/clock";
import type { Simulator } from "../../provider/simulator";
import { BACKUPS, clientFor, hostileServer, seededSimulator, SNAPSHOT } from "./helpers";

let sim: Simulator;
let client: DigitalOceanClient;

beforeEach(async () => {
  sim = await seededSimulator();
  client = clientFor(sim);
});

afterEach(async () => {
  await client.close();
  await sim.close();
});

const only = (route: string) => sim.requests().filter((r) => r.route === route);

describe.each([
  ["5xx", { serverErrorRate: 1 }, "fault:server-error"],
  ["dropped connection", { dropRate: 1 }, "fault:drop"],
  ["lost response", { lostResponseRate: 1 }, "fault:lost-response"],
])("idempotent requests are retried after a %s", (_kind, fault, outcome) => {
  /** The fault hits the first two attempts of the route, then clears. */
  async function faultTwice(route: string, call: () => Promise<unknown>, lastOutcome = "ok"): Promise<unknown> {
    sim.setFaults({ ...fault, routes: [route] });
    const pending = call();
    const cleared = (async () => {
      while (only(route).length < 2) await new Promise((r) => setTimeout(r, 1));
      sim.setFaults({});
    })();
    const [result] = await Promise.all([pending, cleared]);
    const attempts = only(route);
    expect(attempts.slice(0, 2).map((r) => r.outcome)).toEqual([outcome, outcome]);
    expect(attempts[attempts.length - 1].outcome).toBe(lastOutcome);
    return result;
  }

  test("GET", async () => {
    const image = (await faultTwice("GET /v2/images/:id", () => client.getImage(SNAPSHOT))) as { id: number };
    expect(image.id).toBe(SNAPSHOT);
  });

  test("PUT", async () => {
    const image = (await faultTwice("PUT /v2/images/:id", () => client.updateImage(SNAPSHOT, { name: "renamed" }))) as { name: string };
    expect(image.name).toBe("renamed");
  });

  test("DELETE", async () => {
    // After a lost response the image is already gone: the retry then answers 404, which the caller reads as done.
    const gone = outcome === "fault:lost-response";
    const result = faultTwice(
      "DELETE /v2/images/:id",
      () => client.deleteImage(SNAPSHOT).catch((e: unknown) => (ApiError.isNotFound(e) ? "gone" : Promise.reject(e))),
      gone ? "error:404" : "ok",
    );
    await expect(result).resolves.toBe(gone ? "gone" : undefined);
    expect(sim.state.imageView(SNAPSHOT)).toBeUndefined();
  });
});

test("an idempotent request gives up after a bounded number of attempts and names the failure", async () => {
  sim.setFaults({ serverErrorRate: 1 });
  const error = await client.getImage(SNAPSHOT).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ApiError);
  expect((error as ApiError).status).toBeGreaterThanOrEqual(500);
  expect(sim.requests().length).toBe(6);
});

test("a request timeout (simulator latency over the per-request timeout) is retried once the endpoint has answered", async () => {
  await client.close();
  // A real second per attempt, ample for the warm-up call on a loaded machine (a first call is not retried on a timeout);
  // the held call's latency is ten times that, so its first attempt times out however the timers run.
  client = clientFor(sim, { requestTimeoutMs: 1_000_000 });
  await client.listRegions();
  sim.resetRequests();
  sim.setFaults({ latencyMs: 10_000_000, routes: ["GET /v2/images/:id"] });
  const pending = client.getImage(SNAPSHOT);
  while (sim.requests().length < 1) await new Promise((r) => setTimeout(r, 1));
  sim.setFaults({});
  await expect(pending).resolves.toMatchObject({ id: SNAPSHOT });
  expect(sim.requests().length).toBeGreaterThanOrEqual(2);
});

test("an endpoint that has never answered is not retried on a timeout: the error comes after one attempt and names it", async () => {
  await client.close();
  // A real second for the attempt to reach the simulator, so it is seen there once however loaded the machine; ten times that of latency times it out.
  client = clientFor(sim, { requestTimeoutMs: 1_000_000 });
  sim.setFaults({ latencyMs: 10_000_000 });
  const error = await client.getImage(SNAPSHOT).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RequestTimeoutError);
  expect((error as Error).message).toContain(`waiting for ${sim.url} (the configured endpoint) to answer GET /v2/images/${SNAPSHOT}`);
  expect(sim.requests()).toHaveLength(1);
});

test("a call still waiting for the endpoint's first answer is reported in the log, naming the endpoint; once it has answered, no more", async () => {
  await client.close();
  const notices: string[] = [];
  // Clock ms: an attempt times out after a real second, so the call answered below, which is not retried, has room on a
  // loaded machine; still a hundred times the latency of the last call.
  client = clientFor(sim, { requestTimeoutMs: 1_000_000, notice: (message) => notices.push(message), firstAnswerNoticeMs: 1 });
  sim.setFaults({ latencyMs: 10_000_000 });
  await expect(client.getImage(SNAPSHOT)).rejects.toBeInstanceOf(RequestTimeoutError);
  expect(notices).toEqual([
    `no answer yet from ${sim.url} (the configured endpoint) to GET /v2/images/${SNAPSHOT} after 0.001 s; still waiting. If this endpoint is wrong, fix it and run again`,
  ]);

  sim.setFaults({});
  await client.getImage(SNAPSHOT);
  const beforeAnswered = notices.length;
  sim.setFaults({ latencyMs: 10_000 });
  await client.getImage(SNAPSHOT);
  expect(notices).toHaveLength(beforeAnswered);
});

test("a POST whose response is lost ends with exactly one action", async () => {
  sim.setFaults({ lostResponseRate: 1, routes: ["POST /v2/images/:id/actions"] });
  const action = await client.startImageAction(BACKUPS[0], { type: "convert" });
  expect(action).toMatchObject({ type: "convert", resource_id: BACKUPS[0] });
  expect(sim.state.listActions(BACKUPS[0])).toHaveLength(1);
  expect(sim.state.listActions(BACKUPS[0])[0].id).toBe(action.id);
  expect(only("POST /v2/images/:id/actions")).toHaveLength(1);
});

test("a transfer POST with a lost response finds its own transfer, not another region's", async () => {
  await client.startImageAction(SNAPSHOT, { type: "transfer", region: "ams3" });
  sim.setFaults({ lostResponseRate: 1, routes: ["POST /v2/images/:id/actions"] });
  const action = await client.startImageAction(SNAPSHOT, { type: "transfer", region: "sfo3" });
  expect(action.region_slug).toBe("sfo3");
  expect(sim.state.listActions(SNAPSHOT).map((a) => a.region_slug).sort()).toEqual(["ams3", "sfo3"]);
});

test("a POST refused with a 5xx before being processed is sent again after checking", async () => {
  sim.setFaults({ serverErrorRate: 1, routes: ["POST /v2/images/:id/actions"] });
  const pending = client.startImageAction(BACKUPS[0], { type: "convert" });
  while (only("GET /v2/images/:id/actions").length < 1) await new Promise((r) => setTimeout(r, 1));
  sim.setFaults({});
  const action = await pending;
  expect(sim.state.listActions(BACKUPS[0]).map((a) => a.id)).toEqual([action.id]);
  expect(only("POST /v2/images/:id/actions").map((r) => r.outcome)).toEqual(["fault:server-error", "ok"]);
});

test("a POST is not sent again after a 5xx when the server did create the action", async () => {
  // A proxy that lets the first POST through to the simulator but answers it with a 502, as a failing gateway would.
  let posts = 0;
  const proxy: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const upstream = httpRequest(`${sim.url}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
        const isPost = req.method === "POST" && /\/actions$/.test(req.url ?? "");
        if (isPost && ++posts === 1) {
          up.resume();
          res.writeHead(502, { "content-type": "text/html" }).end("<html>Bad Gateway</html>");
          return;
        }
        res.writeHead(up.statusCode ?? 500, up.headers);
        up.pipe(res);
      });
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  const viaProxy = clientFor(sim, { connection: { token: sim.token, apiEndpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` } });
  try {
    const action = await viaProxy.startImageAction(BACKUPS[1], { type: "convert" });
    expect(posts).toBe(1);
    expect(sim.state.listActions(BACKUPS[1]).map((a) => a.id)).toEqual([action.id]);
  } finally {
    await viaProxy.close();
    await new Promise((r) => proxy.close(r));
  }
});

test("a POST that failed ambiguously is not sent again without limit", async () => {
  sim.setFaults({ dropRate: 1, routes: ["POST /v2/images/:id/actions"] });
  await expect(client.startImageAction(BACKUPS[0], { type: "convert" })).rejects.toBeInstanceOf(NetworkError);
  expect(only("POST /v2/images/:id/actions")).toHaveLength(3);
  expect(only("GET /v2/images/:id/actions")).toHaveLength(2);
});

test("429s are waited out per retry-after and never surfaced, for GET and POST", async () => {
  sim.setFaults({ tooManyRequestsRate: 1, stormRetryAfterSeconds: 2 });
  const image = client.getImage(SNAPSHOT);
  const action = client.startImageAction(BACKUPS[2], { type: "convert" });
  while (sim.requests().length < 4) await new Promise((r) => setTimeout(r, 1));
  sim.setFaults({});
  await expect(image).resolves.toMatchObject({ id: SNAPSHOT });
  await expect(action).resolves.toMatchObject({ type: "convert" });
  const log = sim.requests();
  const stormed = log.filter((r) => r.outcome === "fault:too-many-requests");
  const lastStorm = Math.max(...stormed.map((r) => r.clockMs));
  const firstOk = Math.min(...log.filter((r) => r.outcome === "ok").map((r) => r.clockMs));
  // The retry came only after the 2 s retry-after of the latest 429.
  expect(firstOk - lastStorm).toBeGreaterThanOrEqual(1_900);
  expect(sim.state.listActions(BACKUPS[2])).toHaveLength(1);
});

test("429s waited out do not use up the attempts: a 503 after several of them is still retried", async () => {
  // Seven 429s (more than the attempts a GET gets), then a 503, then the image: scripted, so no timing decides the order.
  const answers = [...Array<number>(7).fill(429), 503, 200];
  const scripted = await hostileServer((_req, res) => {
    const status = answers.shift() ?? 200;
    if (status === 429) res.writeHead(429, { "retry-after": "1", "content-type": "application/json" }).end(JSON.stringify({ id: "too_many_requests", message: "API rate limit exceeded." }));
    else if (status === 503) res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ id: "service_unavailable", message: "try again" }));
    else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ image: { id: SNAPSHOT, regions: ["nyc3"] } }));
  });
  const clock = scaledClock(0.001);
  const scriptedClient = new DigitalOceanClient({ connection: { token: "t", apiEndpoint: scripted.url }, clock, pacer: new RequestPacer(clock) });
  try {
    await expect(scriptedClient.getImage(SNAPSHOT)).resolves.toMatchObject({ id: SNAPSHOT });
    expect(scripted.hits()).toBe(9);
  } finally {
    await scriptedClient.close();
    await new Promise((r) => scripted.server.close(r));
  }
});
