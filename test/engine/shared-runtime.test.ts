/**
 * Many resources in one provider process, as under the CLI (one
 * pulumi-resource-pulumi-nodejs plugin serves every dynamic resource of a
 * stack, and the engine steps independent resources in parallel): they share
 * one rate limiter and one action poller.
 */
import { ImageRegionCopy, SnapshotFromBackup } from "pulumi-digitalocean-image-actions";
import { POLL_ROUTES, startEngineAccount, type EngineAccount } from "./account";
import { capture } from "./harness";

let account: EngineAccount;

beforeAll(async () => {
  account = await startEngineAccount();
}, 120_000);

afterAll(async () => {
  await account?.close();
});

const BACKUPS = [100000101, 100000102, 100000103, 100000201, 100000202];
const REGIONS = ["ams3", "sfo3"];

it("35 creates at once: one poller's reads, far fewer than one poll per action per tick, and no 429", async () => {
  const images = Array.from({ length: 30 }, (_, i) => account.sim.state.addImage({ name: `app-${i}`, type: "snapshot", regions: ["nyc3"] }).id);
  const { resources } = await capture(() => {
    BACKUPS.forEach((backupId) => new SnapshotFromBackup(`kept-${backupId}`, { backupId }));
    images.forEach((imageId) => new ImageRegionCopy(`copy-${imageId}`, { imageId, regions: REGIONS }));
  });
  expect(resources).toHaveLength(35);
  account.sim.resetRequests();

  const started = Date.now();
  const created = await Promise.all(
    resources.map(async (res) => {
      const { inputs, failures } = await account.server.check(res.urn, {}, res.inputs);
      expect(failures).toEqual([]);
      return account.server.create(res.urn, inputs);
    }),
  );
  const elapsedMs = Date.now() - started;

  for (const id of images) expect(account.sim.state.imageView(id)?.regions.sort()).toEqual(["ams3", "nyc3", "sfo3"]);
  for (const id of BACKUPS) expect(account.sim.state.imageView(id)?.type).toBe("snapshot");
  expect(created.map((c) => c.id).sort()).toEqual([...BACKUPS, ...images].map(String).sort());

  const counts = account.sim.requestCounts();
  const actions = BACKUPS.length + images.length * REGIONS.length; // 5 converts, 60 transfers
  expect(counts.byRoute["POST /v2/images/:id/actions"]).toBe(actions);
  expect(counts.byOutcome).toEqual({ ok: counts.total });
  expect(account.server.logs().stdout + account.server.logs().stderr).not.toMatch(/429|rate limit/i);

  // Watched one by one, each action would be polled on its own backoff
  // (2 s, x1.5, capped at 30 s): ~7 looks for a 60 s convert and ~9 for a
  // 120 s transfer, about 575 reads. One shared poller reads the account's
  // action list once per tick for all of them.
  const polls = POLL_ROUTES.reduce((n, route) => n + (counts.byRoute[route] ?? 0), 0);
  const perActionPolls = BACKUPS.length * 7 + images.length * REGIONS.length * 9;
  expect(polls).toBeGreaterThan(0);
  expect(polls).toBeLessThan(perActionPolls / 10);
  console.log(`35 creates, ${actions} actions: ${counts.total} requests, ${polls} polls, ${elapsedMs} ms`);
});
