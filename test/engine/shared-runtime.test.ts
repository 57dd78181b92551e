/**
 * Many resources in one provider process, as under the CLI (one
 * pulumi-resource-pulumi-nodejs plugin serves every dynamic resource of a
 * stack, and the engine steps independent resources in parallel): they share
 * one rate limiter and one action poller.
 */
import { ImageRegionCopy, SnapshotFromBackup } from "pulumi-digitalocean-image-actions";
import { MAX_IN_FLIGHT } from "../../provider/client/rate-limit/pacer";
import { loadSeed, startSimulator, type RequestLogEntry, type Simulator } from "../../provider/simulator";
import { POLL_ROUTES, SEED_FILE, startEngineAccount, type EngineAccount } from "./account";
import { capture, preparePackage, startDynamicProvider, type CapturedResource, type CreateResult, type DynamicProviderServer } from "./harness";

let account: EngineAccount;

beforeAll(async () => {
  account = await startEngineAccount();
}, 120_000);

afterAll(async () => {
  await account?.close();
});

const BACKUPS = [100000101, 100000102, 100000103, 100000201, 100000202];
const REGIONS = ["ams3", "sfo3"];
const COPIES = 30;
const ACTIONS = BACKUPS.length + COPIES * REGIONS.length; // 5 converts, 60 transfers
const ACTION_POSTS = "POST /v2/images/:id/actions";

/** Adds 30 snapshots to `sim` and declares 35 resources: a convert of each backup and a copy of each snapshot. */
async function declare35(sim: Simulator): Promise<{ images: number[]; resources: CapturedResource[] }> {
  const images = Array.from({ length: COPIES }, (_, i) => sim.state.addImage({ name: `app-${i}`, type: "snapshot", regions: ["nyc3"] }).id);
  const { resources } = await capture(() => {
    BACKUPS.forEach((backupId) => new SnapshotFromBackup(`kept-${backupId}`, { backupId }));
    images.forEach((imageId) => new ImageRegionCopy(`copy-${imageId}`, { imageId, regions: REGIONS }));
  });
  expect(resources).toHaveLength(35);
  return { images, resources };
}

/** Creates every resource at once, as the engine steps independent resources. */
function createAll(server: DynamicProviderServer, resources: CapturedResource[]): Promise<CreateResult[]> {
  return Promise.all(
    resources.map(async (res) => {
      const { inputs, failures } = await server.check(res.urn, {}, res.inputs);
      expect(failures).toEqual([]);
      return server.create(res.urn, inputs);
    }),
  );
}

function expectConverged(sim: Simulator, images: number[], created: CreateResult[]): void {
  for (const id of images) expect(sim.state.imageView(id)?.regions.sort()).toEqual(["ams3", "nyc3", "sfo3"]);
  for (const id of BACKUPS) expect(sim.state.imageView(id)?.type).toBe("snapshot");
  expect(created.map((c) => c.id).sort()).toEqual([...BACKUPS, ...images].map(String).sort());
  expect(sim.state.listActions()).toHaveLength(ACTIONS);
}

it("35 creates at once: one poller's reads, far fewer than one poll per action per tick, and no 429", async () => {
  const { images, resources } = await declare35(account.sim);
  account.sim.resetRequests();

  const created = await createAll(account.server, resources);
  expectConverged(account.sim, images, created);

  const counts = account.sim.requestCounts();
  expect(counts.byRoute[ACTION_POSTS]).toBe(ACTIONS);
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
});

/** Far below the 250/min the provider's limiter assumes: only the simulator's answers tell it otherwise. */
const TIGHT_LIMIT = { perMinute: 30, perHour: 5000 };
/**
 * 200x rather than the account's 1000x: a clock minute is 300 ms, in which the
 * provider sends far more than 30 requests even on a busy machine, so the
 * limit binds again and again.
 */
const TIGHT_SCALE = 0.005;

/** The length of each run of consecutive 429s in the simulator's log. */
function rateLimitedRuns(log: RequestLogEntry[]): number[] {
  const runs: number[] = [];
  let refused = 0;
  for (const entry of log) {
    if (entry.outcome === "rate-limited") {
      refused += 1;
    } else if (refused > 0) {
      runs.push(refused);
      refused = 0;
    }
  }
  if (refused > 0) runs.push(refused);
  return runs;
}

it("35 creates at once against a 30/min limit: the first sign the minute is spent pauses all of them", async () => {
  const sim = await startSimulator({ timeScale: TIGHT_SCALE, seed: loadSeed(SEED_FILE), rateLimit: TIGHT_LIMIT });
  let server: DynamicProviderServer | undefined;
  try {
    server = await startDynamicProvider({
      cwd: (await preparePackage()).dir,
      env: { DO_IMAGE_ACTIONS_TIME_SCALE: String(TIGHT_SCALE), DIGITALOCEAN_TOKEN: undefined, DIGITALOCEAN_ACCESS_TOKEN: undefined },
      config: { "digitalocean:token": sim.token, "digitalocean:apiEndpoint": sim.url },
      secretConfigKeys: ["digitalocean:token"],
      callTimeoutMs: 60_000,
    });
    const { images, resources } = await declare35(sim);
    const created = await createAll(server, resources);

    // Every resource converged and no 429 surfaced: each refused POST was retried and performed once.
    expectConverged(sim, images, created);
    expect(sim.requests().filter((r) => r.route === ACTION_POSTS && r.status === 201)).toHaveLength(ACTIONS);
    expect(server.logs().stdout + server.logs().stderr).not.toMatch(/429|rate limit/i);

    // The limit bit, and bit again after the process resumed.
    expect(Object.keys(sim.requestCounts().byOutcome).sort()).toEqual(["ok", "rate-limited"]);
    const runs = rateLimitedRuns(sim.requests());
    expect(runs.length).toBeGreaterThanOrEqual(2);
    // One limiter hears the first 429 and holds every resource's requests until its retry-after
    // has passed, so a run of 429s is only what was already in flight when that answer came back:
    // at most MAX_IN_FLIGHT, however slow the machine. Limiters per resource would each learn on
    // their own, in runs as long as the resources still sending (up to all 35). How many succeed
    // between runs is not asserted: it depends on how the last minute's requests were spread in time.
    expect(MAX_IN_FLIGHT).toBeLessThan(resources.length);
    expect(runs.filter((refused) => refused > MAX_IN_FLIGHT)).toEqual([]);
  } finally {
    await server?.close();
    await sim.close();
  }
}, 60_000);
