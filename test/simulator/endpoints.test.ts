import { startSimulator, type Simulator } from "pulumi-digitalocean-image-actions/simulator";
import { call, expectError, SEED } from "./helpers";

const IMAGE_FIELDS = ["id", "name", "type", "distribution", "slug", "public", "regions", "created_at", "min_disk_size", "size_gigabytes", "description", "tags", "status", "error_message"];

let sim: Simulator;
beforeEach(async () => {
  sim = await startSimulator({ seed: SEED, rateLimit: false });
});
afterEach(() => sim.close());

describe("images", () => {
  it("reads an image with every documented field", async () => {
    const r = await call(sim, "GET", "/v2/images/100000001");
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.image).sort()).toEqual([...IMAGE_FIELDS].sort());
    expect(r.body.image).toMatchObject({ id: 100000001, type: "backup", slug: null, public: false, regions: ["nyc3"], status: "available" });
    expect(r.headers["content-type"]).toMatch(/^application\/json/);
    expect(r.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("reads a public base image by slug, but 404s unknown ids and slugs", async () => {
    const bySlug = await call(sim, "GET", "/v2/images/ubuntu-24-04-x64");
    expect(bySlug.body.image).toMatchObject({ public: true, type: "base", slug: "ubuntu-24-04-x64" });
    expectError(await call(sim, "GET", "/v2/images/424242"), 404, "not_found");
    expectError(await call(sim, "GET", "/v2/images/no-such-slug"), 404, "not_found");
  });

  it("lists private images only with private=true, and filters by type and tag", async () => {
    const all = await call(sim, "GET", "/v2/images");
    expect(all.body.images.some((i: { public: boolean }) => i.public)).toBe(true);
    const mine = await call(sim, "GET", "/v2/images?private=true");
    expect(mine.body.images.map((i: { id: number }) => i.id)).toEqual([100000001, 100000002, 100000003, 100000010]);
    expect(mine.body.meta).toEqual({ total: 4 });
    expect(mine.body.links).toEqual({});
    const snaps = await call(sim, "GET", "/v2/images?private=true&type=snapshot");
    expect(snaps.body.images.map((i: { id: number }) => i.id)).toEqual([100000010]);
    const dist = await call(sim, "GET", "/v2/images?type=distribution");
    expect(dist.body.images.every((i: { public: boolean }) => i.public)).toBe(true);
    expect(dist.body.images.length).toBeGreaterThan(0);

    await call(sim, "POST", "/v2/tags", { name: "keep" });
    await call(sim, "POST", "/v2/tags/keep/resources", { resources: [{ resource_id: "100000002", resource_type: "image" }] });
    const tagged = await call(sim, "GET", "/v2/images?tag_name=keep");
    expect(tagged.body.images.map((i: { id: number; tags: string[] }) => [i.id, i.tags])).toEqual([[100000002, ["keep"]]]);
  });

  it("updates name, description and distribution, mapping unknown distributions to Unknown", async () => {
    const r = await call(sim, "PUT", "/v2/images/100000010", { name: "renamed", description: "d", distribution: "Plan 9" });
    expect(r.status).toBe(200);
    expect(r.body.image).toMatchObject({ id: 100000010, name: "renamed", description: "d", distribution: "Unknown" });
    expect((await call(sim, "GET", "/v2/images/100000010")).body.image.name).toBe("renamed");
    expectError(await call(sim, "PUT", "/v2/images/100000010", { name: 7 }), 400, "bad_request");
    expectError(await call(sim, "PUT", "/v2/images/100000010", "[1,"), 400, "bad_request");
    expectError(await call(sim, "PUT", "/v2/images/999", { name: "x" }), 404, "not_found");
  });

  it("deletes a snapshot with an empty 204, then 404s; refuses to delete a backup", async () => {
    const del = await call(sim, "DELETE", "/v2/images/100000010");
    expect(del.status).toBe(204);
    expect(del.body).toBeUndefined();
    expectError(await call(sim, "GET", "/v2/images/100000010"), 404, "not_found");
    expectError(await call(sim, "DELETE", "/v2/images/100000010"), 404, "not_found");
    expectError(await call(sim, "DELETE", "/v2/images/100000001"), 422, "unprocessable_entity");
    expect((await call(sim, "GET", "/v2/images/100000001")).status).toBe(200);
  });
});

describe("Droplets, backups and regions", () => {
  it("returns a Droplet with its backup and snapshot ids", async () => {
    const r = await call(sim, "GET", "/v2/droplets/3164494");
    expect(r.status).toBe(200);
    const d = r.body.droplet;
    expect(d).toMatchObject({ id: 3164494, name: "web-01", status: "active", snapshot_ids: [100000010], size_slug: "s-1vcpu-1gb" });
    expect([...d.backup_ids].sort()).toEqual([100000001, 100000002, 100000003]);
    expect(d.region.slug).toBe("nyc3");
    expect(d.next_backup_window).toEqual({ start: expect.stringMatching(/T04:00:00Z$/), end: expect.stringMatching(/T08:00:00Z$/) });
    const list = await call(sim, "GET", "/v2/droplets");
    expect(list.body.droplets.map((x: { id: number }) => x.id)).toEqual([3164494]);
    expect(list.body.meta.total).toBe(1);
    expectError(await call(sim, "GET", "/v2/droplets/1"), 404, "not_found");
  });

  it("lists backups oldest first, typed backup", async () => {
    const r = await call(sim, "GET", "/v2/droplets/3164494/backups");
    expect(r.status).toBe(200);
    expect(r.body.backups.map((b: { id: number }) => b.id)).toEqual([100000001, 100000002, 100000003]);
    expect(r.body.backups.every((b: { type: string }) => b.type === "backup")).toBe(true);
    expect(r.body.meta.total).toBe(3);
    expectError(await call(sim, "GET", "/v2/droplets/1/backups"), 404, "not_found");
  });

  it("returns the backup policy under `policy`", async () => {
    const r = await call(sim, "GET", "/v2/droplets/3164494/backups/policy");
    expect(r.body).toEqual({
      policy: {
        droplet_id: 3164494,
        backup_enabled: true,
        backup_policy: { plan: "daily", hour: 4, window_length_hours: 4, retention_period_days: 7 },
        next_backup_window: { start: expect.any(String), end: expect.any(String) },
      },
    });
    expect(Date.parse(r.body.policy.next_backup_window.start)).toBeGreaterThan(sim.clock.now());
    sim.state.addDroplet({ id: 7, name: "nobackup", region: "ams3" });
    const off = await call(sim, "GET", "/v2/droplets/7/backups/policy");
    expect(off.body.policy).toEqual({ droplet_id: 7, backup_enabled: false, next_backup_window: null });
  });

  it("lists regions with features, including ones that refuse transfers", async () => {
    const r = await call(sim, "GET", "/v2/regions?per_page=200");
    expect(r.status).toBe(200);
    for (const region of r.body.regions) expect(Object.keys(region).sort()).toEqual(["available", "features", "name", "sizes", "slug"]);
    const bySlug = Object.fromEntries(r.body.regions.map((x: { slug: string }) => [x.slug, x]));
    expect(bySlug.nyc3.features).toContain("image_transfer");
    expect(bySlug.nyc2.features).not.toContain("image_transfer");
    expect(bySlug.sfo1.available).toBe(false);
  });
});

describe("tags", () => {
  it("creates a tag (201, also when it exists) and reflects membership on images", async () => {
    const created = await call(sim, "POST", "/v2/tags", { name: "env:prod" });
    expect(created.status).toBe(201);
    expect(created.body.tag).toMatchObject({ name: "env:prod", resources: { count: 0, images: { count: 0 } } });
    expect((await call(sim, "POST", "/v2/tags", { name: "env:prod" })).status).toBe(201);

    const body = { resources: [{ resource_id: "100000010", resource_type: "image" }] };
    expect((await call(sim, "POST", "/v2/tags/env:prod/resources", body)).status).toBe(204);
    expect((await call(sim, "GET", "/v2/images/100000010")).body.image.tags).toEqual(["env:prod"]);
    const tag = await call(sim, "GET", "/v2/tags/env:prod");
    expect(tag.body.tag.resources.images).toEqual({ count: 1, last_tagged_uri: `${sim.url}/v2/images/100000010` });

    const untag = await call(sim, "DELETE", "/v2/tags/env:prod/resources", body);
    expect(untag.status).toBe(204);
    expect(untag.body).toBeUndefined();
    expect((await call(sim, "GET", "/v2/images/100000010")).body.image.tags).toEqual([]);
  });

  it("lists every tag with its spelling, paginated, and answers a tag in another case as the request or the account spells it", async () => {
    await call(sim, "POST", "/v2/tags", { name: "env:prod" });
    await call(sim, "POST", "/v2/tags", { name: "Team:Web" });
    expect((await call(sim, "POST", "/v2/tags", { name: "ENV:PROD" })).body.tag.name).toBe("env:prod");
    const first = await call(sim, "GET", "/v2/tags?per_page=1");
    expect(first.body.tags.map((t: { name: string }) => t.name)).toEqual(["env:prod"]);
    expect(first.body.meta.total).toBe(2);
    expect((await call(sim, "GET", "/v2/tags?per_page=1&page=2")).body.tags.map((t: { name: string }) => t.name)).toEqual(["Team:Web"]);

    const echoing = await startSimulator({ seed: { tags: ["env:prod"] }, tagAnswerSpelling: "requested" });
    try {
      expect((await call(echoing, "POST", "/v2/tags", { name: "ENV:PROD" })).body.tag.name).toBe("ENV:PROD");
      // The tag keeps its first spelling: the echoed one names nothing.
      expectError(await call(echoing, "GET", "/v2/tags/ENV:PROD"), 404, "not_found");
    } finally {
      await echoing.close();
    }
  });

  it("deletes a tag, which leaves the images it was on untagged (204, then 404)", async () => {
    await call(sim, "POST", "/v2/tags", { name: "doomed" });
    await call(sim, "POST", "/v2/tags/doomed/resources", { resources: [{ resource_id: "100000010", resource_type: "image" }] });
    const deleted = await call(sim, "DELETE", "/v2/tags/doomed");
    expect(deleted.status).toBe(204);
    expect((await call(sim, "GET", "/v2/images/100000010")).body.image.tags).toEqual([]);
    expectError(await call(sim, "DELETE", "/v2/tags/doomed"), 404, "not_found");
  });

  it("refuses invalid names, unknown tags, unknown resources and malformed bodies", async () => {
    const bad = await call(sim, "POST", "/v2/tags", { name: "has space" });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ id: "bad_request", error: expect.stringContaining("invalid characters"), root_causes: [expect.any(String)] });
    expect((await call(sim, "POST", "/v2/tags", { name: "x".repeat(256) })).status).toBe(400);
    const nameless = await call(sim, "POST", "/v2/tags", {});
    expect(nameless.status).toBe(400);
    expect(nameless.body).toMatchObject({ id: "bad_request", error: expect.stringContaining("name is required"), root_causes: [expect.any(String)] });
    const malformed = await call(sim, "POST", "/v2/tags", "{not json");
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ id: "bad_request", error: expect.stringContaining("not valid JSON"), root_causes: [expect.any(String)] });
    const resources = { resources: [{ resource_id: "100000010", resource_type: "image" }] };
    expectError(await call(sim, "POST", "/v2/tags/nope/resources", resources), 404, "not_found");
    expectError(await call(sim, "GET", "/v2/tags/nope"), 404, "not_found");
    await call(sim, "POST", "/v2/tags", { name: "t" });
    expectError(await call(sim, "POST", "/v2/tags/t/resources", { resources: [{ resource_id: "1", resource_type: "image" }] }), 404, "not_found");
    expectError(await call(sim, "POST", "/v2/tags/t/resources", { resources: [{ resource_id: 100000010, resource_type: "image" }] }), 400, "bad_request");
    expectError(await call(sim, "POST", "/v2/tags/t/resources", { resources: [] }), 400, "bad_request");
  });
});

describe("refusals", () => {
  it("answers 401 for a missing or wrong token, without performing the request", async () => {
    expectError(await call(sim, "GET", "/v2/images", undefined, null), 401, "unauthorized");
    expectError(await call(sim, "DELETE", "/v2/images/100000010", undefined, "dop_v1_wrong"), 401, "unauthorized");
    expect((await call(sim, "GET", "/v2/images/100000010")).status).toBe(200);
  });

  it("answers 404 for unknown routes and methods", async () => {
    expectError(await call(sim, "GET", "/v2/volumes"), 404, "not_found");
    expectError(await call(sim, "PATCH", "/v2/images/100000010"), 404, "not_found");
    expectError(await call(sim, "GET", "/nowhere"), 404, "not_found");
  });
});

describe("pagination", () => {
  beforeEach(() => {
    for (let i = 0; i < 45; i++) sim.state.addImage({ name: `extra-${i}`, regions: ["nyc1"] });
  });

  it("pages with next/last links on the simulator's URL and meta.total", async () => {
    const first = await call(sim, "GET", "/v2/images?private=true");
    expect(first.body.images).toHaveLength(20);
    expect(first.body.meta.total).toBe(49);
    expect(first.body.links.pages).toEqual({
      next: `${sim.url}/v2/images?private=true&page=2&per_page=20`,
      last: `${sim.url}/v2/images?private=true&page=3&per_page=20`,
    });
    const next = new URL(first.body.links.pages.next);
    const second = await call(sim, "GET", next.pathname + next.search);
    expect(second.body.links.pages).toEqual({
      first: `${sim.url}/v2/images?private=true&page=1&per_page=20`,
      prev: `${sim.url}/v2/images?private=true&page=1&per_page=20`,
      next: `${sim.url}/v2/images?private=true&page=3&per_page=20`,
      last: `${sim.url}/v2/images?private=true&page=3&per_page=20`,
    });
    const last = await call(sim, "GET", "/v2/images?private=true&page=3");
    expect(last.body.images).toHaveLength(9);
    expect(last.body.links.pages.next).toBeUndefined();
    const ids = [...first.body.images, ...second.body.images, ...last.body.images].map((i: { id: number }) => i.id);
    expect(new Set(ids).size).toBe(49);
  });

  it("clamps per_page to 200 and rejects non-integer page values", async () => {
    for (let i = 0; i < 200; i++) sim.state.addImage({ name: `more-${i}`, regions: ["nyc1"] });
    const r = await call(sim, "GET", "/v2/images?private=true&per_page=500");
    expect(r.body.images).toHaveLength(200);
    expect(r.body.links.pages.next).toContain("per_page=200");
    expectError(await call(sim, "GET", "/v2/images?page=two"), 400, "bad_request");
  });

  it("pages backups too", async () => {
    const r = await call(sim, "GET", "/v2/droplets/3164494/backups?per_page=2&page=2");
    expect(r.body.backups.map((b: { id: number }) => b.id)).toEqual([100000003]);
    expect(r.body.links.pages.prev).toContain("page=1");
  });
});
