/**
 * Where the token could end up, through the real resource classes and the real
 * dynamic-provider server: the serialized `__provider`, inputs, the state the
 * engine keeps after up / refresh / destroy, error messages of failed steps,
 * the provider process's output and the simulator's request log.
 */
import { BackupVault, ImageRegionCopy, SnapshotFromBackup } from "pulumi-digitalocean-image-actions";
import { handlers } from "../../provider/dynamic";
import { startSimulator, type Simulator } from "../../provider/simulator";
import { capture } from "../engine/capture";
import { preparePackage } from "../engine/package";
import { startDynamicProvider, type DynamicProviderServer } from "../engine/server";
import { EngineStack } from "../engine/stack";
import { GOLDEN_SNAPSHOT, SEED, TIME_SCALE, WEB_BACKUPS, WEB_DROPLET } from "../support/account";
import { PausableClock } from "../support/pausable-clock";
import { leaks, renderError, stackConfig, TOKEN, useScaledHandlers } from "./support";

useScaledHandlers(TIME_SCALE);

let sim: Simulator;
/** Paused around a create whose transfer must outlive a 10 s wait, however slow the machine. */
let simClock: PausableClock;
const servers: DynamicProviderServer[] = [];
beforeEach(async () => {
  simClock = new PausableClock(TIME_SCALE);
  sim = await startSimulator({ clock: simClock, seed: SEED, token: TOKEN, actionDurations: { convertMs: 60_000, transferMs: 3_600_000 } });
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await sim.close();
});

async function server(config: Record<string, string>): Promise<DynamicProviderServer> {
  const pkg = await preparePackage();
  const started = await startDynamicProvider({
    cwd: pkg.dir,
    env: { DO_IMAGE_ACTIONS_TIME_SCALE: String(TIME_SCALE), DIGITALOCEAN_TOKEN: undefined, DIGITALOCEAN_ACCESS_TOKEN: undefined, DIGITALOCEAN_API_URL: undefined },
    config,
    secretConfigKeys: ["digitalocean:token"],
  });
  servers.push(started);
  return started;
}

async function simulatorLog(): Promise<string> {
  const [requests, counts, state] = await Promise.all(["/_sim/requests", "/_sim/requests/counts", "/_sim/state"].map((p) => fetch(sim.url + p).then((r) => r.text())));
  return [JSON.stringify(sim.requests()), requests, counts, state].join("\n");
}

it("never in __provider, inputs, state after up / refresh / destroy, the provider's output or the request log", async () => {
  const program = () => {
    new SnapshotFromBackup("keep", { backupId: WEB_BACKUPS[0], name: "kept", tags: ["audit"] });
    new ImageRegionCopy("copy", { imageId: GOLDEN_SNAPSHOT, regions: ["ams3"], waitTimeoutSeconds: 10 });
    new BackupVault("vault", { dropletId: WEB_DROPLET, rotationKey: "2025-W23", keep: 2 });
  };
  // The program has the token in its config too, as a secret, as `pulumi config set --secret` leaves it.
  const { resources } = await capture(program, { config: { "digitalocean:token": TOKEN }, secretConfigKeys: ["digitalocean:token"] });
  expect(resources).toHaveLength(3);
  for (const res of resources) {
    expect(typeof res.inputs.__provider).toBe("string");
    expect(leaks(String(res.inputs.__provider))).toEqual([]);
    expect(leaks(JSON.stringify([res.inputs, res.rawInputs]))).toEqual([]);
  }

  const provider = await server({ "digitalocean:token": TOKEN, "digitalocean:apiEndpoint": sim.url });
  const stack = new EngineStack(provider);
  // The copy times out (an hour-long transfer, a 10 s wait): a failed step whose state is kept. Not paused,
  // as the snapshot and the vault must complete; 3.6 s of real time against 10 ms is margin enough.
  const up = await stack.up(resources).catch((e: unknown) => e);
  expect(renderError(up)).toMatch(/Gave up waiting for DigitalOcean action \d+ \(transfer of image 100000010 to ams3\)/);
  expect(leaks(renderError(up))).toEqual([]);
  expect(stack.state.size).toBe(3);
  expect(leaks(JSON.stringify([...stack.state.values()]))).toEqual([]);

  await stack.refresh();
  expect(leaks(JSON.stringify([...stack.state.values()]))).toEqual([]);
  await stack.destroy();
  expect(stack.state.size).toBe(0);

  expect(leaks(provider.logs().stdout + provider.logs().stderr)).toEqual([]);
  expect(sim.requests().length).toBeGreaterThan(10);
  expect(leaks(await simulatorLog())).toEqual([]);
}, 60_000);

it("never in the errors of failed steps: 401, 404, 422, errored actions, config errors", async () => {
  const provider = await server({ "digitalocean:token": TOKEN, "digitalocean:apiEndpoint": sim.url });
  sim.state.failNextAction(WEB_BACKUPS[1]);
  const { resources } = await capture(() => {
    new SnapshotFromBackup("gone", { backupId: 999999999 }); // 404
    new SnapshotFromBackup("errored", { backupId: WEB_BACKUPS[1] });
    new ImageRegionCopy("backup-copy", { imageId: WEB_BACKUPS[2], regions: ["ams3"] }); // refused before writing
  });
  // Three independent failures: the engine runs them at once, so all three fail in one run; stepped one at a time, only with continueOnError.
  const failed = await new EngineStack(provider).up(resources, { continueOnError: true }).catch((e: unknown) => e);
  const text = renderError(failed);
  expect(text).toMatch(/backup 999999999 was not found/);
  expect(text).toMatch(/DigitalOcean action \d+ \(convert of image 100000102 in nyc3\) ended errored/);
  expect(text).toMatch(/image 100000103 is a backup/);
  expect(leaks(text)).toEqual([]);

  // The token is refused (401): the wrong token is the one that must not leak.
  const other = await startSimulator({ timeScale: TIME_SCALE, seed: SEED });
  try {
    const wrong = await server({ "digitalocean:token": TOKEN, "digitalocean:apiEndpoint": other.url });
    const refused = await new EngineStack(wrong).up(resources.slice(0, 1)).catch((e: unknown) => e);
    // A create reads the token's account first, so that is where the 401 comes.
    expect(renderError(refused)).toMatch(/DigitalOcean API 401 unauthorized on GET \/v2\/account/);
    expect(leaks(renderError(refused))).toEqual([]);
    expect(leaks(wrong.logs().stdout + wrong.logs().stderr)).toEqual([]);
  } finally {
    await other.close();
  }

  // Config errors: an insecure endpoint with the token set.
  const insecure = await server({ "digitalocean:token": TOKEN, "digitalocean:apiEndpoint": "http://203.0.113.7:8080" });
  const refusedEndpoint = await new EngineStack(insecure).up(resources.slice(0, 1)).catch((e: unknown) => e);
  expect(renderError(refusedEndpoint)).toMatch(/Refusing the DigitalOcean API endpoint http:\/\/203\.0\.113\.7:8080: plain http/);
  expect(leaks(renderError(refusedEndpoint))).toEqual([]);

  for (const s of servers) expect(leaks(s.logs().stdout + s.logs().stderr)).toEqual([]);
  expect(leaks(await simulatorLog())).toEqual([]);
}, 60_000);

it("never in an error's stack, causes or inspection, in the provider's own process", async () => {
  const config = stackConfig(sim.url);
  const errors: unknown[] = [];
  const collect = (p: Promise<unknown>) => p.then(() => errors.push(new Error("expected a failure")), (e: unknown) => errors.push(e));

  await collect(handlers.SnapshotFromBackup.create({ backupId: 999999999 }, config)); // 404
  sim.state.failNextAction(WEB_BACKUPS[0]);
  await collect(handlers.SnapshotFromBackup.create({ backupId: WEB_BACKUPS[0] }, config)); // errored action
  await simClock.paused(() => collect(handlers.ImageRegionCopy.create({ imageId: GOLDEN_SNAPSHOT, regions: ["ams3"], waitTimeoutSeconds: 10 }, config))); // timeout
  await collect(handlers.SnapshotFromBackup.create({ backupId: WEB_BACKUPS[1] }, stackConfig(sim.url, `${TOKEN}x`))); // 401
  await collect(handlers.SnapshotFromBackup.create({ backupId: WEB_BACKUPS[1] }, stackConfig("http://198.51.100.1"))); // config
  await collect(handlers.SnapshotFromBackup.create({ backupId: WEB_BACKUPS[1] }, stackConfig(`https://user:${encodeURIComponent(TOKEN)}@api.example.com`))); // config

  const names = errors.map((e) => (e as Error).message.slice(0, 60));
  expect(errors).toHaveLength(6);
  expect(names.some((m) => m.startsWith("expected a failure"))).toBe(false);
  for (const error of errors) expect(leaks(renderError(error))).toEqual([]);
  // The 422 path: a transfer to a region the image is in is refused by DigitalOcean.
  const client = (await import("../../provider/session")).getSession({ token: TOKEN, apiEndpoint: sim.url }).client;
  const unprocessable = await client.startImageAction(GOLDEN_SNAPSHOT, { type: "transfer", region: "nyc3" }).catch((e: unknown) => e);
  expect(renderError(unprocessable)).toMatch(/422 unprocessable_entity/);
  expect(leaks(renderError(unprocessable))).toEqual([]);
});
