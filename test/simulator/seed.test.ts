import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSeed, startSimulator, validateSeed, type Simulator } from "pulumi-digitalocean-image-actions/simulator";
import { call } from "./helpers";

const EXAMPLE = join(__dirname, "../../examples/seed.json");

let sim: Simulator | undefined;
afterEach(() => sim?.close());

it("loads examples/seed.json: a Droplet in nyc3 with backups on different days and a snapshot", async () => {
  sim = await startSimulator({ seed: loadSeed(EXAMPLE), rateLimit: false });
  const backups = (await call(sim, "GET", "/v2/droplets/3164494/backups")).body.backups;
  expect(backups.length).toBeGreaterThanOrEqual(3);
  const days = new Set(backups.map((b: { created_at: string }) => b.created_at.slice(0, 10)));
  expect(days.size).toBe(backups.length);
  const policy = (await call(sim, "GET", "/v2/droplets/3164494/backups/policy")).body.policy;
  expect(policy.backup_enabled).toBe(true);
  const mine = (await call(sim, "GET", "/v2/images?private=true&per_page=200")).body.images;
  const ids = mine.map((i: { id: number }) => i.id);
  for (const b of backups) expect(ids).toContain(b.id);
  expect(mine.some((i: { type: string; regions: string[] }) => i.type === "snapshot" && i.regions.includes("nyc3"))).toBe(true);
});

it("names the offending field of a bad seed", () => {
  expect(() => validateSeed({ droplets: [{ id: "x", name: "a", region: "nyc3" }] })).toThrow("seed.droplets[0].id must be a positive integer");
  expect(() => validateSeed({ images: [{ name: "a", type: "weird" }] })).toThrow(/images\[0\]\.type/);
  expect(() => validateSeed([])).toThrow(/JSON object/);
});

it("reports unreadable and non-JSON seed files with their path", () => {
  const dir = mkdtempSync(join(tmpdir(), "sim-seed-"));
  const bad = join(dir, "bad.json");
  writeFileSync(bad, "{ nope");
  expect(() => loadSeed(bad)).toThrow(`seed file ${bad} is not valid JSON`);
  expect(() => loadSeed(join(dir, "missing.json"))).toThrow(/cannot read seed file/);
});

it("refuses seeds that reference unknown regions or Droplets", async () => {
  await expect(startSimulator({ seed: { droplets: [{ id: 1, name: "a", region: "mars1" }] } })).rejects.toThrow(/unknown region "mars1"/);
  await expect(startSimulator({ seed: { images: [{ name: "b", type: "backup", droplet_id: 5 }] } })).rejects.toThrow(/unknown droplet_id 5/);
});

it("seeds from code too, assigning ids from 100000000 up", async () => {
  sim = await startSimulator({ rateLimit: false });
  sim.state.addRegion({ slug: "lab1", name: "Lab 1", features: ["image_transfer"], available: true, sizes: [] });
  sim.state.addDroplet({ id: 42, name: "lab", region: "lab1" });
  const backup = sim.state.addBackup(42, { name: "lab backup", created_at: "2025-01-01T00:00:00Z" });
  const snap = sim.state.addImage({ name: "lab snap", regions: ["lab1"], tags: ["lab"] });
  expect(backup).toMatchObject({ type: "backup", regions: ["lab1"] });
  expect(backup.id).toBeGreaterThan(100_000_000);
  expect(snap.id).toBe(backup.id + 1);
  expect(snap.tags).toEqual(["lab"]);
  expect((await call(sim, "GET", "/v2/droplets/42")).body.droplet.backup_ids).toEqual([backup.id]);
  expect(() => sim!.state.addDroplet({ id: 42, name: "again", region: "lab1" })).toThrow(/already exists/);
});
