import { startSimulator, type FaultConfig, type Simulator } from "pulumi-digitalocean-image-actions/simulator";
import { ManualClock } from "../support/manual-clock";
import { until } from "../support/until";
import { call, expectError, SEED } from "./helpers";

const POST_ACTIONS = "POST /v2/images/:id/actions";

let sim: Simulator;
beforeEach(async () => {
  sim = await startSimulator({ seed: SEED, rateLimit: { perMinute: 250, perHour: 5000 }, timeScale: 0.01 });
});
afterEach(() => sim.close());

it("answers 5xx without performing the operation", async () => {
  sim.setFaults({ serverErrorRate: 1, routes: [POST_ACTIONS] });
  for (let i = 0; i < 6; i++) {
    const r = await call(sim, "POST", "/v2/images/100000001/actions", { type: "convert" });
    expect([500, 502, 503]).toContain(r.status);
    expect(r.body).toEqual({ id: expect.any(String), message: expect.any(String), request_id: r.headers["x-request-id"] });
  }
  expect(sim.state.listActions()).toHaveLength(0);
  expect(sim.requests().every((e) => e.outcome === "fault:server-error")).toBe(true);
  // Other routes are untouched.
  expect((await call(sim, "GET", "/v2/images/100000001")).status).toBe(200);
});

it("drops the connection before answering, without performing the operation", async () => {
  sim.setFaults({ dropRate: 1 });
  await expect(call(sim, "DELETE", "/v2/images/100000010")).rejects.toThrow();
  expect(sim.state.imageView(100000010)).toBeDefined();
  expect(sim.requests()[0]).toMatchObject({ route: "DELETE /v2/images/:id", status: null, outcome: "fault:drop" });
});

it("performs the operation and then loses the response", async () => {
  // On a clock that stands still, the convert is in progress whenever it is read, however slow the machine.
  await sim.close();
  sim = await startSimulator({ seed: SEED, rateLimit: { perMinute: 250, perHour: 5000 }, clock: new ManualClock() });
  sim.setFaults({ lostResponseRate: 1, routes: [POST_ACTIONS] });
  await expect(call(sim, "POST", "/v2/images/100000001/actions", { type: "convert" })).rejects.toThrow();
  sim.setFaults({});
  // The client cannot tell whether it worked; the server-side action exists exactly once.
  const actions = (await call(sim, "GET", "/v2/images/100000001/actions")).body.actions;
  expect(actions).toHaveLength(1);
  expect(actions[0]).toMatchObject({ type: "convert", status: "in-progress" });
  // A blind retry would start a second one (DigitalOcean documents no refusal of a duplicate), which is why the client reads first.
  expect((await call(sim, "POST", "/v2/images/100000001/actions", { type: "convert" })).status).toBe(201);
  expect((await call(sim, "GET", "/v2/images/100000001/actions")).body.actions).toHaveLength(2);
  expect(sim.requests()[0]).toMatchObject({ status: 201, outcome: "fault:lost-response" });
});

it("loses responses of image updates and deletes after performing them", async () => {
  sim.setFaults({ lostResponseRate: 1 });
  await expect(call(sim, "PUT", "/v2/images/100000010", { name: "renamed" })).rejects.toThrow();
  expect(sim.state.imageView(100000010)?.name).toBe("renamed");
  await expect(call(sim, "DELETE", "/v2/images/100000010")).rejects.toThrow();
  expect(sim.state.imageView(100000010)).toBeUndefined();
});

it("adds latency on the clock: the answer waits until the clock has moved that far", async () => {
  await sim.close();
  const clock = new ManualClock();
  sim = await startSimulator({ seed: SEED, clock });
  sim.setFaults({ latencyMs: 20_000 });
  const slow = call(sim, "GET", "/v2/regions");
  await until(() => clock.pendingSleeps === 1, "the request to be held");
  await clock.advance(19_999);
  expect(clock.pendingSleeps).toBe(1);
  await clock.advance(1);
  expect(clock.pendingSleeps).toBe(0);
  expect((await slow).status).toBe(200);

  sim.setFaults({ seed: 7, latencyMs: { min: 0, max: 1000 } });
  const quick = call(sim, "GET", "/v2/regions");
  // Logged and, if its draw is above 0, asleep in the same turn.
  await until(() => sim.requests().length === 2, "the second request to arrive");
  await clock.advance(1000);
  expect(clock.pendingSleeps).toBe(0);
  expect((await quick).status).toBe(200);
});

it("answers a 429 storm with retry-after, without performing or spending quota", async () => {
  sim.setFaults({ tooManyRequestsRate: 1, stormRetryAfterSeconds: 3 });
  const r = await call(sim, "DELETE", "/v2/images/100000010");
  expectError(r, 429, "too_many_requests");
  expect(r.headers["retry-after"]).toBe("3");
  expect(r.headers["ratelimit-remaining"]).toBe("5000");
  expect(sim.state.imageView(100000010)).toBeDefined();
  sim.setFaults({});
  expect((await call(sim, "GET", "/v2/regions")).headers["ratelimit-remaining"]).toBe("4999");
});

it("answers a sustained storm on the requests of its window, counted on its routes from when the config is set", async () => {
  sim.setFaults({ storm: { after: 2, count: 3 }, stormRetryAfterSeconds: 4, routes: ["GET /v2/regions"] });
  const statuses: number[] = [];
  for (let i = 0; i < 7; i++) {
    const r = await call(sim, "GET", "/v2/regions");
    statuses.push(r.status);
    if (r.status === 429) expect(r.headers["retry-after"]).toBe("4");
    // Another route: neither refused nor counted.
    expect((await call(sim, "GET", "/v2/images/100000010")).status).toBe(200);
  }
  expect(statuses).toEqual([200, 200, 429, 429, 429, 200, 200]);
  expect(sim.requests().filter((e) => e.outcome === "fault:too-many-requests").map((e) => e.route)).toEqual(Array(3).fill("GET /v2/regions"));

  // Set again, the window starts over; a refused POST is not performed.
  sim.setFaults({ storm: { count: 1 } });
  expectError(await call(sim, "POST", "/v2/images/100000001/actions", { type: "convert" }), 429, "too_many_requests");
  expect(sim.state.listActions()).toHaveLength(0);
  expect((await call(sim, "POST", "/v2/images/100000001/actions", { type: "convert" })).status).toBe(201);
});

it("is deterministic for a seed and mixes faults at the configured shares", async () => {
  const config: FaultConfig = { seed: 42, serverErrorRate: 0.3, tooManyRequestsRate: 0.2 };
  const run = async () => {
    sim.setFaults(config);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await call(sim, "GET", "/v2/regions")).status);
    return statuses;
  };
  const first = await run();
  expect(await run()).toEqual(first);
  const ok = first.filter((s) => s === 200).length;
  expect(ok).toBeGreaterThan(10);
  expect(ok).toBeLessThan(40);
  expect(first.some((s) => s === 429)).toBe(true);
  expect(first.some((s) => s >= 500)).toBe(true);
});

it("rejects invalid fault configs", () => {
  expect(() => sim.setFaults({ dropRate: 2 })).toThrow(/dropRate/);
  expect(() => sim.setFaults({ latencyMs: { min: 5, max: 1 } })).toThrow(/latencyMs/);
  expect(() => sim.setFaults({ routes: ["POST /v2/image/:id/actions"] })).toThrow(/unknown templates/);
  expect(() => sim.setFaults({ storm: { count: 0 } })).toThrow(/storm/);
  expect(() => sim.setFaults({ storm: { after: -1, count: 2 } })).toThrow(/storm/);
});

it("accepts faults at start", async () => {
  await sim.close();
  sim = await startSimulator({ faults: { serverErrorRate: 1 } });
  expect((await call(sim, "GET", "/v2/regions")).status).toBeGreaterThanOrEqual(500);
  // The inspection API is never faulted.
  expect((await call(sim, "GET", "/_sim/state")).status).toBe(200);
});
