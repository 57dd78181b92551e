/**
 * The nightly drift check of examples/gitops: `pulumi preview --refresh`, whose
 * plan opens an issue and fails the job when it holds anything but "same". The
 * refresh reads every resource (and, being a preview, saves nothing); the plan
 * is then what the next `pulumi up` would do about it.
 */
import { BackupVault, ImageRegionCopy, SnapshotFromBackup, type BackupVaultGeneration } from "pulumi-digitalocean-image-actions";
import { startEngineAccount, WEB_NEWEST_BACKUP, type EngineAccount } from "./account";
import { EngineStack, upProgram } from "./harness";
import { previewProgram } from "./preview-program";

const DB_DROPLET = 3164495;

let account: EngineAccount;
let stack: EngineStack;
/** The regions the program declares for the copy. */
let copyRegions = ["ams3", "sfo3"];

const program = () => {
  const kept = new SnapshotFromBackup("web-kept", { backupId: WEB_NEWEST_BACKUP, name: "web-kept" });
  new ImageRegionCopy("web-kept-dr", { imageId: kept.id, regions: copyRegions });
  new BackupVault("db-vault", { dropletId: DB_DROPLET, rotationKey: "2025-W23", keep: 2, copyToRegions: ["sfo3"], namePattern: "db-{key}" });
};

beforeAll(async () => {
  account = await startEngineAccount();
  stack = new EngineStack(account.server);
  await upProgram(stack, program);
}, 120_000);

afterAll(async () => {
  await account?.close();
});

beforeEach(() => account.resetLogs());

/** The drift job: refresh a copy of the state (a preview saves nothing), then plan. Returns every step that is not "same". */
async function driftCheck(): Promise<string[]> {
  const probe = new EngineStack(account.server);
  for (const [urn, resource] of stack.state) probe.state.set(urn, structuredClone(resource));
  await probe.refresh();
  const { steps } = await previewProgram(probe, program);
  return steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name}`);
}

/** What an operator does about it: `pulumi refresh`, then the next scheduled `pulumi up`. */
async function repair(): Promise<void> {
  await stack.refresh();
  await upProgram(stack, program);
}

const writes = () => account.writes();

async function deleteByHand(imageId: number): Promise<void> {
  const deleted = await fetch(`${account.sim.url}/v2/images/${imageId}`, { method: "DELETE", headers: { authorization: `Bearer ${account.sim.token}` } });
  expect(deleted.status).toBe(204);
  account.sim.resetRequests();
}

it("passes when DigitalOcean matches the stack, reading each resource and writing nothing", async () => {
  expect(await driftCheck()).toEqual([]);
  expect(writes()).toEqual([]);
  expect(account.sim.requests().length).toBeGreaterThan(0);
});

it("fails when a copy the stack records is missing; the next up copies it again and the check passes", async () => {
  // The stack records a copy in lon1, declared and made by an earlier run, that DigitalOcean no longer has.
  copyRegions = ["ams3", "lon1", "sfo3"];
  const copy = stack.get("web-kept-dr");
  copy.inputs = { ...copy.inputs, regions: copyRegions };
  copy.outputs = { ...copy.outputs, regions: copyRegions, availableRegions: ["ams3", "lon1", "nyc3", "sfo3"] };

  expect(await driftCheck()).toEqual(["update web-kept-dr"]);
  await account.server.waitForLog(`ImageRegionCopy ${WEB_NEWEST_BACKUP}: image is no longer in lon1; the next \`pulumi up\` copies it there again`);
  expect(writes()).toEqual([]);

  await repair();
  expect(writes()).toEqual(["POST /v2/images/:id/actions"]);
  expect(await driftCheck()).toEqual([]);
});

it("fails when a vault's snapshot was deleted by hand; the next up keeps a generation for its key again", async () => {
  const [generation] = stack.get("db-vault").outputs.generations as BackupVaultGeneration[];
  await deleteByHand(generation.snapshotId);

  expect(await driftCheck()).toEqual(["update db-vault"]);
  expect(writes()).toEqual([]);

  await repair();
  const [kept] = stack.get("db-vault").outputs.generations as BackupVaultGeneration[];
  expect(kept).toMatchObject({ rotationKey: "2025-W23", name: "db-2025-W23", regions: ["ams3", "sfo3"] });
  expect(kept.snapshotId).not.toBe(generation.snapshotId);
  expect(await driftCheck()).toEqual([]);
});

it("fails when a snapshot was deleted by hand; the next up cannot make it again once its backup is gone, and says so", async () => {
  await deleteByHand(WEB_NEWEST_BACKUP);

  expect(await driftCheck()).toEqual(["create web-kept", "create web-kept-dr"]);
  expect(writes()).toEqual([]);

  await expect(repair()).rejects.toThrow(`backup ${WEB_NEWEST_BACKUP} was not found`);
});
