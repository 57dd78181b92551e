import { startSimulator, type Simulator } from "pulumi-digitalocean-image-actions/simulator";
import { request } from "undici";
import { call, SEED } from "./helpers";

let sim: Simulator;
beforeEach(async () => {
  sim = await startSimulator({ seed: SEED, token: "dop_v1_secret_value" });
});
afterEach(() => sim.close());

async function sim_(method: string, path: string, body?: unknown) {
  const res = await request(new URL(path, sim.url), { method: method as "GET", body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? JSON.parse(text) : undefined, raw: text };
}

it("logs /v2 requests with route templates, query, status and outcome, but never the token", async () => {
  await call(sim, "GET", "/v2/images?private=true&per_page=5");
  await call(sim, "GET", "/v2/images/100000001", undefined, "wrong");
  await call(sim, "POST", "/v2/images/100000001/actions", { type: "convert" });
  const log = await sim_("GET", "/_sim/requests");
  expect(log.status).toBe(200);
  expect(log.body.requests).toEqual([
    expect.objectContaining({ seq: 1, method: "GET", path: "/v2/images", route: "GET /v2/images", query: { private: "true", per_page: "5" }, status: 200, outcome: "ok" }),
    expect.objectContaining({ seq: 2, route: "GET /v2/images/:id", status: 401 }),
    expect.objectContaining({ seq: 3, route: "POST /v2/images/:id/actions", status: 201 }),
  ]);
  expect(Date.parse(log.body.requests[0].time)).toBe(log.body.requests[0].clockMs);
  expect(log.raw).not.toContain("secret_value");
  expect(log.raw).not.toContain("wrong");
  expect(sim.requests()).toEqual(log.body.requests);
});

it("counts by route, method and outcome, only 2xx answers as ok and error answers by status, and resets", async () => {
  await call(sim, "GET", "/v2/images/100000001");
  await call(sim, "GET", "/v2/images/100000002");
  await call(sim, "GET", "/v2/nothing-here");
  await call(sim, "GET", "/v2/images/100000001", undefined, "wrong");
  await call(sim, "POST", "/v2/images/100000010/actions", { type: "convert" });
  const counts = await sim_("GET", "/_sim/requests/counts");
  expect(counts.body).toEqual({
    total: 5,
    byRoute: { "GET /v2/images/:id": 3, "(unmatched)": 1, "POST /v2/images/:id/actions": 1 },
    byMethod: { GET: 4, POST: 1 },
    byOutcome: { ok: 2, "error:404": 1, "error:401": 1, "error:422": 1 },
  });
  expect(sim.requestCounts()).toEqual(counts.body);
  expect(sim.requests().map((r) => [r.status, r.outcome])).toEqual([
    [200, "ok"],
    [200, "ok"],
    [404, "error:404"],
    [401, "error:401"],
    [422, "error:422"],
  ]);
  expect((await sim_("DELETE", "/_sim/requests")).status).toBe(204);
  expect(sim.requests()).toEqual([]);
  await call(sim, "GET", "/v2/regions");
  expect(sim.requests()[0].seq).toBe(6);
  sim.resetRequests();
  expect(sim.requestCounts().total).toBe(0);
});

it("counts a request still waiting for its answer as pending, not ok", async () => {
  sim.setFaults({ latencyMs: 60_000, routes: ["GET /v2/regions"] });
  const waiting = call(sim, "GET", "/v2/regions").catch(() => undefined);
  while (sim.requests().length === 0) await new Promise((resolve) => setImmediate(resolve));
  expect(sim.requestCounts().byOutcome).toEqual({ pending: 1 });
  expect(sim.requests()[0]).toMatchObject({ status: null, outcome: "pending" });
  await sim.close();
  await waiting;
});

it("does not log, limit or authenticate the inspection API itself", async () => {
  await sim_("GET", "/_sim/state");
  await sim_("GET", "/_sim/requests");
  expect(sim.requests()).toHaveLength(0);
});

it("shows the whole state", async () => {
  await call(sim, "POST", "/v2/images/100000010/actions", { type: "transfer", region: "sfo3" });
  const state = (await sim_("GET", "/_sim/state")).body;
  expect(state.images.map((i: { id: number }) => i.id)).toEqual(expect.arrayContaining([100000001, 100000010]));
  expect(state.actions).toEqual([expect.objectContaining({ type: "transfer", region_slug: "sfo3", status: "in-progress" })]);
  expect(state.droplets[0].id).toBe(3164494);
  expect(state.regions.length).toBeGreaterThan(5);
  expect(state).toEqual(JSON.parse(JSON.stringify(sim.state.snapshot())));
});

it("replaces the fault config over HTTP and validates it", async () => {
  const put = await sim_("PUT", "/_sim/faults", { serverErrorRate: 1, routes: ["GET /v2/regions"] });
  expect(put.status).toBe(200);
  expect(put.body.faults).toEqual({ serverErrorRate: 1, routes: ["GET /v2/regions"] });
  expect(sim.faults()).toEqual(put.body.faults);
  expect((await call(sim, "GET", "/v2/regions")).status).toBeGreaterThanOrEqual(500);
  expect((await call(sim, "GET", "/v2/droplets")).status).toBe(200);
  const bad = await sim_("PUT", "/_sim/faults", { dropRate: "lots" });
  expect(bad.status).toBe(400);
  expect(bad.body.message).toMatch(/dropRate/);
  expect((await sim_("GET", "/_sim/faults")).body.faults.serverErrorRate).toBe(1);
  expect((await sim_("GET", "/_sim/nope")).status).toBe(404);
});
