/**
 * The shim protocol is a wire format: every stack keeps the `__provider` text
 * (the shim) of the version that created or last updated each resource, and
 * refresh and destroy run that text against the package installed now. For
 * each fixture in test/fixtures/shim-protocol (state as a released version
 * wrote it), today's package must refresh, update and delete through the
 * fixture's own shim.
 */
import * as fs from "node:fs";
import { GOLDEN_SNAPSHOT, startEngineAccount, TIME_SCALE, WEB_NEWEST_BACKUP, type EngineAccount } from "./account";
import { EngineStack, preparePackage, startDynamicProvider, type CapturedResource, type DynamicProviderServer, type PropertyMap } from "./harness";
import { captureEachKind, fixturePath, readFixtures, type FixtureResource, type ShimFixture } from "./shim-protocol";

const fixtures = readFixtures();

it("has a fixture for this package version, holding the shim it serializes today", async () => {
  const pkg = await preparePackage();
  const target = fixturePath(pkg.version);
  if (!fs.existsSync(target)) throw new Error(`no shim-protocol fixture for ${pkg.version}: run \`npm run shim-fixture\` and commit it`);
  const current = fixtures.find((f) => f.packageVersion === pkg.version)!;
  const today = await captureEachKind(pkg);
  // A different text here means the shim changed within a version: bump the version and add its fixture.
  expect(today.map((r) => [r.type, r.inputs.__provider])).toEqual(current.resources.map((r) => [r.type, r.inputs.__provider]));
}, 120_000);

/** As the engine sends a program's registration: the fixture's own checked inputs and shim. */
function registration(res: FixtureResource, inputs: PropertyMap = res.inputs): CapturedResource {
  return { type: res.type, name: res.name, urn: res.urn, custom: true, inputs, rawInputs: inputs, secretPaths: [], dependencies: [], options: { ignoreChanges: [] } };
}

const kind = (res: FixtureResource) => res.type.split(":").pop();

describe.each(fixtures.map((f): [string, ShimFixture] => [f.packageVersion, f]))("state written by %s", (_version, fixture) => {
  let account: EngineAccount;
  let stack: EngineStack;
  /** The provider process of the commands after the upgrade: the CLI starts one per command, with nothing read yet. */
  let upgraded: DynamicProviderServer | undefined;
  const byKind = (name: string) => fixture.resources.find((r) => kind(r) === name)!;

  beforeAll(async () => {
    account = await startEngineAccount();
    // The account as that state describes it: the same resources made from the seed.
    stack = new EngineStack(account.server);
    await stack.up(fixture.resources.map((r) => registration(r)));
    // Then the state exactly as that version wrote it, its shim in every __provider.
    for (const res of fixture.resources) {
      stack.state.set(res.urn, { urn: res.urn, type: res.type, name: res.name, id: res.id, inputs: res.inputs, outputs: res.outputs });
    }
  }, 120_000);
  afterAll(async () => {
    await upgraded?.close();
    await account?.close();
  });

  it("holds one resource of each kind, each with its serialized shim", () => {
    expect(fixture.resources.map(kind).sort()).toEqual(["BackupVault", "ImageRegionCopy", "SnapshotFromBackup"]);
    for (const res of fixture.resources) {
      expect(res.outputs.__provider).toEqual(expect.stringContaining("pulumi-digitalocean-image-actions/dynamic"));
    }
  });

  it("refresh reads every resource through the stored shim, writes nothing and keeps the shim in state", async () => {
    upgraded = await startDynamicProvider({
      cwd: account.pkg.dir,
      env: { DO_IMAGE_ACTIONS_TIME_SCALE: String(TIME_SCALE), DIGITALOCEAN_TOKEN: undefined, DIGITALOCEAN_ACCESS_TOKEN: undefined },
      config: account.config,
      secretConfigKeys: ["digitalocean:token"],
    });
    stack.provider = upgraded;
    account.sim.resetRequests();
    const steps = await stack.refresh();
    expect(steps.map((s) => `${s.op} ${s.name}`)).toEqual(fixture.resources.map((r) => `refresh ${r.name}`));
    expect(account.writes()).toEqual([]);
    const team = account.sim.account.team!;
    for (const res of fixture.resources) {
      const now = stack.get(res.name);
      expect(now.id).toBe(res.id);
      expect(now.outputs.__provider).toBe(res.outputs.__provider);
      // State written before accounts were recorded gains the token's on its first read, with no write and no replacement.
      expect(now.outputs.account).toEqual(res.outputs.account ?? { kind: "team", uuid: team.uuid, name: team.name });
    }
    // One account read for the process, however many resources gain it.
    const recorded = fixture.resources.filter((r) => r.outputs.account !== undefined).length;
    expect(account.sim.requests().filter((r) => r.route === "GET /v2/account")).toHaveLength(recorded === fixture.resources.length ? 0 : 1);
    expect(stack.get(byKind("SnapshotFromBackup").name).outputs).toMatchObject({ snapshotId: WEB_NEWEST_BACKUP, imageType: "snapshot" });
    expect(stack.get(byKind("ImageRegionCopy").name).outputs.availableRegions).toEqual(expect.arrayContaining(["ams3"]));
    expect(stack.get(byKind("BackupVault").name).outputs.generations).toHaveLength(1);
  });

  it("an update through the stored shim renames, copies and retags", async () => {
    const snapshot = byKind("SnapshotFromBackup");
    const copy = byKind("ImageRegionCopy");
    const vault = byKind("BackupVault");
    const changed = [
      registration(snapshot, { ...snapshot.inputs, name: "renamed" }),
      registration(copy, { ...copy.inputs, regions: [...(copy.inputs.regions as string[]), "sfo3"] }),
      registration(vault, { ...vault.inputs, tags: ["renamed"] }),
    ];
    const steps = await stack.up(changed);
    expect(steps.map((s) => `${s.op} ${s.name}`)).toEqual(changed.map((r) => `update ${r.name}`));
    expect(account.sim.state.imageView(WEB_NEWEST_BACKUP)?.name).toBe("renamed");
    expect(account.sim.state.imageView(GOLDEN_SNAPSHOT)?.regions).toEqual(expect.arrayContaining(["ams3", "sfo3"]));
    const vaultSnapshot = stack.get(vault.name).outputs.newestSnapshotId as number;
    expect(account.sim.state.imageView(vaultSnapshot)?.tags).toEqual(["renamed"]);
  });

  it("destroy deletes through the stored shim", async () => {
    const vaultSnapshot = stack.get(byKind("BackupVault").name).outputs.newestSnapshotId as number;
    await stack.destroy();
    expect(stack.state.size).toBe(0);
    expect(account.sim.state.imageView(WEB_NEWEST_BACKUP)).toBeUndefined();
    expect(account.sim.state.imageView(vaultSnapshot)).toBeUndefined();
  });
});
