/**
 * A sustained 429 storm, not scattered 429s: for a stretch of requests
 * DigitalOcean refuses every one with `retry-after`, while a stack's copies
 * and converts are being created through the real dynamic-provider server.
 */
import { ImageRegionCopy, SnapshotFromBackup } from "pulumi-digitalocean-image-actions";
import type { Simulator } from "../../provider/simulator";
import { POLL_ROUTES } from "../engine/account";
import { capture } from "../engine/capture";
import type { DynamicProviderServer } from "../engine/server";
import { ACTION_POSTS, actionsFor, backupIds, chaosSimulator, ParallelStack, performedPosts, providerFor, snapshotIds } from "./support";

const SNAPSHOTS = snapshotIds(8);
const BACKUPS = backupIds(3, 2);
const REGIONS = ["ams3", "sfo3"];
const ACTIONS = SNAPSHOTS.length * REGIONS.length + BACKUPS.length;
/**
 * The resources' reads before their POSTs are a handful, shared (the token's
 * account, the images in one listing, the regions, a scan of the account's
 * actions), then come the 22 POSTs, so from request 17 on some actions are
 * running and others still to start. 60 refusals, in batches of the requests in flight
 * 20 s apart, last about two minutes of the clock: longer than a convert.
 */
const STORM = { after: 16, count: 60 };

let sim: Simulator;
let provider: DynamicProviderServer | undefined;
afterEach(async () => {
  await provider?.close();
  provider = undefined;
  await sim?.close();
});

it("a storm of 429s while actions start and run: every resource converges, one action per copy and convert, no 429 surfaces", async () => {
  sim = await chaosSimulator({ snapshots: SNAPSHOTS.length, droplets: 3, backupsPerDroplet: 2, faults: { storm: STORM, stormRetryAfterSeconds: 20 } });
  provider = await providerFor(sim);
  const { resources } = await capture(() => {
    for (const id of SNAPSHOTS) new ImageRegionCopy(`copy-${id}`, { imageId: id, regions: REGIONS });
    for (const id of BACKUPS) new SnapshotFromBackup(`keep-${id}`, { backupId: id });
  });

  const outcomes = await new ParallelStack().up(provider, resources);
  expect([...outcomes].filter(([, o]) => !o.ok)).toEqual([]);
  const { stdout, stderr } = provider.logs();
  expect(stdout + stderr).not.toMatch(/429|rate limit/i);

  // The provider retried through the whole storm, which fell on creation: after
  // some actions had started, refusing polls of them and POSTs of others.
  const log = sim.requests();
  const refused = log.filter((r) => r.outcome === "fault:too-many-requests");
  expect(sim.requestCounts().byOutcome).toEqual({ ok: log.length - STORM.count, "fault:too-many-requests": STORM.count });
  const startedBeforeStorm = performedPosts(sim) - performedPosts(sim, refused[0].seq);
  expect(startedBeforeStorm).toBeGreaterThan(0);
  expect(refused.filter((r) => r.route === ACTION_POSTS).length).toBeGreaterThan(0);
  expect(refused.filter((r) => POLL_ROUTES.includes(r.route ?? "")).length).toBeGreaterThan(0);

  // A refused POST was never performed, and its retry started the one action.
  for (const id of SNAPSHOTS) {
    for (const region of REGIONS) expect({ id, region, statuses: actionsFor(sim, id, region).map((a) => a.status) }).toEqual({ id, region, statuses: ["completed"] });
    expect(sim.state.imageView(id)?.regions).toEqual(expect.arrayContaining(REGIONS));
  }
  for (const id of BACKUPS) {
    expect({ id, statuses: actionsFor(sim, id, "convert").map((a) => a.status) }).toEqual({ id, statuses: ["completed"] });
    expect(sim.state.imageView(id)?.type).toBe("snapshot");
  }
  expect(sim.state.listActions()).toHaveLength(ACTIONS);
  expect(performedPosts(sim)).toBe(ACTIONS);
}, 60_000);
