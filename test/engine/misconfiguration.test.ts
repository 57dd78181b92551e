/**
 * A configuration mistake must never read as "deleted". A stack is created
 * with the right endpoint and token; then the provider process is started the
 * way a later `pulumi refresh` or `pulumi destroy` with a mistaken config would
 * start it. What the engine does with the answers decides whether a snapshot
 * is forgotten, so these run through the real dynamic-provider server.
 */
import * as pulumi from "@pulumi/pulumi";
import { ImageRegionCopy, SnapshotFromBackup } from "pulumi-digitalocean-image-actions";
import { startSimulator, type Simulator } from "../../provider/simulator";
import { startEngineAccount, TIME_SCALE, WEB_NEWEST_BACKUP, type EngineAccount } from "./account";
import { EngineStack, startDynamicProvider, StepsFailedError, upProgram, type DynamicProviderServer } from "./harness";

let account: EngineAccount;
let otherAccount: Simulator;
const servers: DynamicProviderServer[] = [];

beforeAll(async () => {
  account = await startEngineAccount();
  // Another team's account: same API, none of the first account's images or history.
  otherAccount = await startSimulator({ timeScale: TIME_SCALE });
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await otherAccount?.close();
  await account?.close();
});

/** A provider process as a run with this stack config would start it. */
async function serverWith(config: Record<string, string>): Promise<DynamicProviderServer> {
  const server = await startDynamicProvider({
    cwd: account.pkg.dir,
    env: { DO_IMAGE_ACTIONS_TIME_SCALE: String(TIME_SCALE), DIGITALOCEAN_TOKEN: undefined, DIGITALOCEAN_ACCESS_TOKEN: undefined },
    config,
    secretConfigKeys: ["digitalocean:token"],
  });
  servers.push(server);
  return server;
}

function drProgram(backupId = WEB_NEWEST_BACKUP) {
  return () => {
    const kept = new SnapshotFromBackup("web-kept", { backupId, name: "web-kept" });
    const copies = new ImageRegionCopy("web-dr", { imageId: kept.snapshotId, regions: ["ams3"] });
    return pulumi.output({ snapshotId: kept.snapshotId, availableRegions: copies.availableRegions });
  };
}

async function failure(run: Promise<unknown>): Promise<StepsFailedError> {
  const error = await run.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(StepsFailedError);
  return error as StepsFailedError;
}

let stack: EngineStack;
beforeAll(async () => {
  stack = new EngineStack(account.server);
  await upProgram(stack, drProgram());
}, 60_000);

beforeEach(() => account.sim.resetRequests());

describe("an endpoint with a path DigitalOcean does not serve (every request answers 404)", () => {
  const wrongEndpoint = () => `${account.sim.url}/digitalocean`;

  it("refresh fails naming the endpoint, and both resources stay in state", async () => {
    stack.provider = await serverWith({ ...account.config, "digitalocean:apiEndpoint": wrongEndpoint() });
    const error = await failure(stack.refresh());

    expect(error.steps.map((s) => s.op)).toEqual(["refresh", "refresh"]);
    for (const step of error.steps) {
      expect(step.error?.message).toContain(`${wrongEndpoint()} (stack config digitalocean:apiEndpoint)`);
      expect(step.error?.message).toContain("nothing was removed from state");
    }
    expect([...stack.state.values()].map((r) => r.name)).toEqual(["web-kept", "web-dr"]);
  });

  it("destroy deletes nothing, and the snapshot stays in state and in the account", async () => {
    const error = await failure(stack.destroy());

    // The copy's delete calls no API (copies stay with the image), so only the snapshot's delete can fail.
    expect(error.steps.map((s) => `${s.op} ${s.name} ${s.error ? "failed" : "done"}`)).toEqual(["delete web-dr done", "delete web-kept failed"]);
    expect(error.steps[1].error?.message).toContain(wrongEndpoint());
    expect([...stack.state.values()].map((r) => r.name)).toEqual(["web-kept"]);
    expect(account.sim.state.imageView(WEB_NEWEST_BACKUP)?.type).toBe("snapshot");
    expect(account.writes()).toEqual([]);
  });

  it("with the endpoint fixed, up adopts the copy again with no write and refresh finds everything where it was", async () => {
    stack.provider = account.server;
    await upProgram(stack, drProgram());
    expect(account.writes()).toEqual([]);
    const steps = await stack.refresh();
    expect(steps.map((s) => `${s.op} ${s.name}`)).toEqual(["refresh web-kept", "refresh web-dr"]);
  });
});

it("an endpoint pasted with DigitalOcean's /v2 prefix reaches the same API", async () => {
  stack.provider = await serverWith({ ...account.config, "digitalocean:apiEndpoint": `${account.sim.url}/v2` });
  const steps = await stack.refresh();
  expect(steps.map((s) => `${s.op} ${s.name}`)).toEqual(["refresh web-kept", "refresh web-dr"]);
  expect(account.sim.requests().every((r) => r.path.startsWith("/v2/") && !r.path.startsWith("/v2/v2"))).toBe(true);
});

it("another account's token: refresh and destroy say so, and nothing leaves state", async () => {
  const olderBackup = WEB_NEWEST_BACKUP - 1;
  const stack = new EngineStack(account.server);
  await upProgram(stack, drProgram(olderBackup));
  stack.provider = await serverWith({ "digitalocean:token": otherAccount.token, "digitalocean:apiEndpoint": otherAccount.url });

  const refreshed = await failure(stack.refresh());
  for (const step of refreshed.steps) expect(step.error?.message).toMatch(/another account's or team's token/);
  expect([...stack.state.values()].map((r) => r.name)).toEqual(["web-kept", "web-dr"]);
  const destroyed = await failure(stack.destroy());
  expect(destroyed.steps.find((s) => s.name === "web-kept")?.error?.message).toMatch(/another account's or team's token/);

  expect(stack.state.has(stack.get("web-kept").urn)).toBe(true);
  expect(account.sim.state.imageView(olderBackup)?.type).toBe("snapshot");
});
