import { startSimulator, type Simulator } from "pulumi-digitalocean-image-actions/simulator";
import { ManualClock } from "../support/manual-clock";
import { call, expectError, SEED } from "./helpers";

// Actions end when the simulator's clock passes their end, so a test moves it
// and reads: a 60 s convert is in progress until the clock has moved 60 s.
let clock: ManualClock;
let sim: Simulator;
beforeEach(async () => {
  clock = new ManualClock();
  sim = await startSimulator({ seed: SEED, clock, rateLimit: false });
});
afterEach(() => sim.close());

describe("convert", () => {
  it("starts in-progress (201) and turns the backup into a snapshot in place when done", async () => {
    const started = await call(sim, "POST", "/v2/images/100000001/actions", { type: "convert" });
    expect(started.status).toBe(201);
    const action = started.body.action;
    expect(action).toMatchObject({ status: "in-progress", type: "convert", completed_at: null, resource_id: 100000001, resource_type: "image", region_slug: "nyc3" });
    expect(action.id).toBeGreaterThanOrEqual(2_000_000_000);
    expect(action.region.slug).toBe("nyc3");
    expect((await call(sim, "GET", "/v2/images/100000001")).body.image.type).toBe("backup");

    await clock.advance(60_000);
    const done = await call(sim, "GET", `/v2/actions/${action.id}`);
    expect(done.body.action.status).toBe("completed");
    expect(Date.parse(done.body.action.completed_at) - Date.parse(done.body.action.started_at)).toBe(60_000);
    const image = (await call(sim, "GET", "/v2/images/100000001")).body.image;
    expect(image).toMatchObject({ id: 100000001, type: "snapshot" });
    const droplet = (await call(sim, "GET", "/v2/droplets/3164494")).body.droplet;
    expect(droplet.snapshot_ids).toContain(100000001);
    expect(droplet.backup_ids).not.toContain(100000001);
  });

  it("accepts a second convert while one runs (DigitalOcean documents no refusal), and refuses a convert of a non-backup", async () => {
    expect((await call(sim, "POST", "/v2/images/100000001/actions", { type: "convert" })).status).toBe(201);
    expect((await call(sim, "POST", "/v2/images/100000001/actions", { type: "convert" })).status).toBe(201);
    expectError(await call(sim, "POST", "/v2/images/100000010/actions", { type: "convert" }), 422, "unprocessable_entity");
    await clock.advance(60_000);
    // Converted now, so converting again is impossible.
    expectError(await call(sim, "POST", "/v2/images/100000001/actions", { type: "convert" }), 422, "unprocessable_entity");
    expect(sim.state.listActions(100000001)).toHaveLength(2);
  });
});

describe("transfer", () => {
  it("adds the region to the image when it completes, keeping the original", async () => {
    const started = await call(sim, "POST", "/v2/images/100000010/actions", { type: "transfer", region: "sfo3" });
    expect(started.status).toBe(201);
    expect(started.body.action).toMatchObject({ type: "transfer", status: "in-progress", region_slug: "sfo3" });
    expect(started.body.action.region.slug).toBe("sfo3");
    await clock.advance(119_999);
    expect((await call(sim, "GET", "/v2/images/100000010")).body.image.regions).toEqual(["nyc3"]);
    await clock.advance(1);
    const action = (await call(sim, "GET", `/v2/images/100000010/actions/${started.body.action.id}`)).body.action;
    expect(action.status).toBe("completed");
    expect((await call(sim, "GET", "/v2/images/100000010")).body.image.regions).toEqual(["nyc3", "sfo3"]);
  });

  it("runs transfers to different regions in parallel, and accepts a duplicate in flight unless told to refuse it", async () => {
    expect((await call(sim, "POST", "/v2/images/100000010/actions", { type: "transfer", region: "sfo3" })).status).toBe(201);
    expect((await call(sim, "POST", "/v2/images/100000010/actions", { type: "transfer", region: "ams3" })).status).toBe(201);
    expect((await call(sim, "POST", "/v2/images/100000010/actions", { type: "transfer", region: "sfo3" })).status).toBe(201);
    const strict = await startSimulator({ timeScale: 0.001, refuseDuplicateActions: true, seed: { images: [{ id: 100000011, name: "s", type: "snapshot", regions: ["nyc3"] }] } });
    try {
      expect((await call(strict, "POST", "/v2/images/100000011/actions", { type: "transfer", region: "sfo3" })).status).toBe(201);
      expectError(await call(strict, "POST", "/v2/images/100000011/actions", { type: "transfer", region: "sfo3" }), 422, "unprocessable_entity");
    } finally {
      await strict.close();
    }
    await clock.advance(120_000);
    expect((await call(sim, "GET", "/v2/images/100000010")).body.image.regions.sort()).toEqual(["ams3", "nyc3", "sfo3"]);
    // Now it is there: transferring again is refused.
    expectError(await call(sim, "POST", "/v2/images/100000010/actions", { type: "transfer", region: "sfo3" }), 422, "unprocessable_entity");
  });

  it.each([
    ["a region the image is in", "nyc3"],
    ["a region without image_transfer", "nyc2"],
    ["an unavailable region", "sfo1"],
    ["an unknown region", "xyz9"],
  ])("refuses %s with 422", async (_what, region) => {
    expectError(await call(sim, "POST", "/v2/images/100000010/actions", { type: "transfer", region }), 422, "unprocessable_entity");
    expect(sim.state.listActions()).toHaveLength(0);
  });

  it("refuses to transfer a backup", async () => {
    expectError(await call(sim, "POST", "/v2/images/100000001/actions", { type: "transfer", region: "sfo3" }), 422, "unprocessable_entity");
  });
});

describe("malformed action requests", () => {
  it.each([
    ["not JSON", "{type:"],
    ["an empty body", ""],
    ["an array", "[]"],
    ["an unknown type", { type: "resize" }],
    ["a transfer without region", { type: "transfer" }],
    ["a region that is not a string", { type: "transfer", region: 3 }],
  ])("answers 400 for %s", async (_what, body) => {
    expectError(await call(sim, "POST", "/v2/images/100000010/actions", body), 400, "bad_request");
    expect(sim.state.listActions()).toHaveLength(0);
  });

  it("answers 404 for an unknown image", async () => {
    expectError(await call(sim, "POST", "/v2/images/999/actions", { type: "convert" }), 404, "not_found");
    expectError(await call(sim, "GET", "/v2/images/999/actions"), 404, "not_found");
    expectError(await call(sim, "GET", "/v2/actions/5"), 404, "not_found");
  });
});

describe("errored actions", () => {
  it("ends the marked image's next action errored and leaves the image unchanged", async () => {
    sim.state.failNextAction(100000001);
    const a = (await call(sim, "POST", "/v2/images/100000001/actions", { type: "convert" })).body.action;
    expect(a.status).toBe("in-progress");
    await clock.advance(60_000);
    const done = (await call(sim, "GET", `/v2/actions/${a.id}`)).body.action;
    expect(done.status).toBe("errored");
    expect(done.completed_at).not.toBeNull();
    expect((await call(sim, "GET", "/v2/images/100000001")).body.image.type).toBe("backup");
    // Only the next one: a retry succeeds.
    const retry = (await call(sim, "POST", "/v2/images/100000001/actions", { type: "convert" })).body.action;
    await clock.advance(60_000);
    expect((await call(sim, "GET", `/v2/actions/${retry.id}`)).body.action.status).toBe("completed");
  });

  it("errors a configured share of actions", async () => {
    sim.setFaults({ erroredActionRate: 1 });
    const a = (await call(sim, "POST", "/v2/images/100000010/actions", { type: "transfer", region: "sfo3" })).body.action;
    await clock.advance(120_000);
    expect((await call(sim, "GET", `/v2/actions/${a.id}`)).body.action.status).toBe("errored");
    expect((await call(sim, "GET", "/v2/images/100000010")).body.image.regions).toEqual(["nyc3"]);
  });
});

describe("action lists", () => {
  it("lists actions newest first, per image and account-wide", async () => {
    const t = (await call(sim, "POST", "/v2/images/100000010/actions", { type: "transfer", region: "sfo3" })).body.action;
    const c = (await call(sim, "POST", "/v2/images/100000002/actions", { type: "convert" })).body.action;
    const t2 = (await call(sim, "POST", "/v2/images/100000010/actions", { type: "transfer", region: "ams3" })).body.action;
    const all = await call(sim, "GET", "/v2/actions");
    expect(all.body.actions.map((a: { id: number }) => a.id)).toEqual([t2.id, c.id, t.id]);
    expect(all.body.meta.total).toBe(3);
    const mine = await call(sim, "GET", "/v2/images/100000010/actions?per_page=1");
    expect(mine.body.actions.map((a: { id: number }) => a.id)).toEqual([t2.id]);
    expect(mine.body.meta.total).toBe(2);
    expect(mine.body.links.pages.next).toBe(`${sim.url}/v2/images/100000010/actions?per_page=1&page=2`);
    // An action is only found under its own image.
    expectError(await call(sim, "GET", `/v2/images/100000002/actions/${t.id}`), 404, "not_found");
  });
});

it("makes durations grow with image size when configured", async () => {
  await sim.close();
  sim = await startSimulator({ seed: SEED, clock, rateLimit: false, actionDurations: { convertMs: 10_000, perGigabyteMs: 40_000 } });
  const a = (await call(sim, "POST", "/v2/images/100000001/actions", { type: "convert" })).body.action; // 3 GB: 130 s
  await clock.advance(129_999);
  expect((await call(sim, "GET", `/v2/actions/${a.id}`)).body.action.status).toBe("in-progress");
  await clock.advance(1);
  expect((await call(sim, "GET", `/v2/actions/${a.id}`)).body.action.status).toBe("completed");
});
