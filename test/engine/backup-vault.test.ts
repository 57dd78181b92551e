/**
 * BackupVault the way `pulumi preview / up / destroy` runs it: the real class's
 * registration, served by the real dynamic-provider server from the packed
 * package, against the simulator on the same scaled clock. After every
 * rotation the test checks exactly which snapshots exist in the account (id,
 * name, regions) and exactly what was written.
 */
import * as pulumi from "@pulumi/pulumi";
import { BackupVault, type BackupVaultGeneration } from "pulumi-digitalocean-image-actions";
import { GOLDEN_SNAPSHOT, startEngineAccount, WEB_DROPLET, WEB_NEWEST_BACKUP, type EngineAccount } from "./account";
import { capture, EngineStack, StepsFailedError, upProgram, type ResourceState, type Step, type StepOp } from "./harness";
import { nightlyBackup } from "../support/account";
import { until } from "../support/until";

/** An older backup of the web Droplet that the test converts by hand: a snapshot no vault made. */
const HAND_CONVERTED = 100000102;
const DB_DROPLET = 3164495;
const DB_NEWEST_BACKUP = 100000202;
const VAULT = "web-vault";

let account: EngineAccount;

beforeAll(async () => {
  account = await startEngineAccount();
  const res = await fetch(`${account.sim.url}/v2/images/${HAND_CONVERTED}/actions`, {
    method: "POST",
    headers: { authorization: `Bearer ${account.sim.token}`, "content-type": "application/json" },
    body: JSON.stringify({ type: "convert" }),
  });
  expect(res.status).toBe(201);
  await until(() => account.sim.state.imageView(HAND_CONVERTED)?.type === "snapshot", "the convert made by hand");
}, 120_000);

afterAll(async () => {
  await account?.close();
});

beforeEach(() => account.resetLogs());

interface Policy {
  key: string;
  keep?: number;
  regions?: string[];
  waitTimeoutSeconds?: number;
}

interface VaultOutputs {
  generations: BackupVaultGeneration[];
  newestSnapshotId: number | null;
  retiredSnapshotIds: number[];
}

/** The program: one vault over the web Droplet, exporting what a program would. */
function vaultProgram(policy: Policy) {
  return () => {
    const vault = new BackupVault(VAULT, {
      dropletId: WEB_DROPLET,
      rotationKey: policy.key,
      keep: policy.keep ?? 2,
      copyToRegions: policy.regions ?? ["ams3"],
      namePattern: "web-{key}",
      ...(policy.waitTimeoutSeconds === undefined ? {} : { waitTimeoutSeconds: policy.waitTimeoutSeconds }),
    });
    return pulumi.output({ generations: vault.generations, newestSnapshotId: vault.newestSnapshotId, retiredSnapshotIds: vault.retiredSnapshotIds });
  };
}

async function up(stack: EngineStack, policy: Policy): Promise<{ ops: StepOp[]; result: VaultOutputs }> {
  const { steps, result } = await upProgram(stack, vaultProgram(policy));
  return { ops: steps.map((s) => s.op), result: result as unknown as VaultOutputs };
}

async function preview(stack: EngineStack, policy: Policy): Promise<Step[]> {
  const { resources } = await capture(vaultProgram(policy), { preview: true });
  return stack.preview(resources);
}

async function failedUp(stack: EngineStack, policy: Policy): Promise<Step> {
  const err = await upProgram(stack, vaultProgram(policy)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StepsFailedError);
  const steps = (err as StepsFailedError).steps;
  expect(steps).toHaveLength(1);
  return steps[0];
}

/** Every snapshot in the account as "id name regions", by id. */
function snapshots(): string[] {
  return account.sim.state
    .listImages({ privateOnly: true, type: "snapshot" })
    .sort((a, b) => a.id - b.id)
    .map((image) => `${image.id} ${image.name} ${[...image.regions].sort().join(",")}`);
}

const GOLDEN = `${GOLDEN_SNAPSHOT} web-01 golden 2025-05-30 nyc3`;
const HAND = `${HAND_CONVERTED} web-01 2025-06-02 nyc3`;

const writes = () => account.writePaths();

/** The actions ever run on an image: "convert", "transfer ams3"... */
function actionsOn(imageId: number): string[] {
  return account.sim.state
    .listActions(imageId)
    .map((a) => (a.type === "transfer" ? `transfer ${a.region_slug}` : a.type))
    .sort();
}

function actionIds(imageId: number): number[] {
  return account.sim.state
    .listActions(imageId)
    .map((a) => a.id)
    .sort((a, b) => a - b);
}

function generation(rotationKey: string, snapshotId: number, createdAt: string, regions: string[]): BackupVaultGeneration {
  return { rotationKey, dropletId: WEB_DROPLET, snapshotId, name: `web-${rotationKey}`, createdAt, regions, actionIds: actionIds(snapshotId) };
}

const actionPost = (id: number) => `POST /v2/images/${id}/actions`;
const rename = (id: number) => `PUT /v2/images/${id}`;
const deletion = (id: number) => `DELETE /v2/images/${id}`;

describe("a vault keeping two weekly generations of the web Droplet, copied to ams3", () => {
  let stack: EngineStack;
  let w1: BackupVaultGeneration;
  let w2: BackupVaultGeneration;
  let w3: BackupVaultGeneration;
  beforeAll(() => {
    stack = new EngineStack(account.server);
  });
  const vault = (): ResourceState => stack.get(VAULT);

  it("preview of the new vault plans a create and sends no request", async () => {
    const steps = await preview(stack, { key: "W1" });

    expect(steps.map((s) => s.op)).toEqual(["create"]);
    expect(account.sim.requests()).toEqual([]);
    expect(stack.state.size).toBe(0);
  });

  it("W1: keeps the Droplet's newest backup as a snapshot and copies it to ams3", async () => {
    const { ops, result } = await up(stack, { key: "W1" });

    expect(ops).toEqual(["create"]);
    expect(actionsOn(WEB_NEWEST_BACKUP)).toEqual(["convert", "transfer ams3"]);
    w1 = generation("W1", WEB_NEWEST_BACKUP, "2025-06-04T04:11:37Z", ["ams3", "nyc3"]);
    expect(result).toEqual({ generations: [w1], newestSnapshotId: WEB_NEWEST_BACKUP, retiredSnapshotIds: [] });
    expect(vault().id).toBe(`backup-vault-${WEB_DROPLET}`);
    expect(vault().outputs).toMatchObject({ dropletId: WEB_DROPLET, rotationKey: "W1", keep: 2, copyToRegions: ["ams3"], namePattern: "web-{key}", generations: [w1] });
    expect(vault().outputs.pending).toBeUndefined();
    expect(snapshots()).toEqual([GOLDEN, HAND, `${WEB_NEWEST_BACKUP} web-W1 ams3,nyc3`]);
    // The convert, the rename to the pattern, the transfer: nothing else.
    expect(writes()).toEqual([actionPost(WEB_NEWEST_BACKUP), rename(WEB_NEWEST_BACKUP), actionPost(WEB_NEWEST_BACKUP)]);
  });

  it("the same key again: preview and up see no change and send no request", async () => {
    const before = structuredClone(vault());

    const steps = await preview(stack, { key: "W1" });
    expect(steps.map((s) => s.op)).toEqual(["same"]);
    expect(account.sim.requests()).toEqual([]);

    const { ops, result } = await up(stack, { key: "W1" });
    expect(ops).toEqual(["same"]);
    expect(account.sim.requests()).toEqual([]);
    expect(result.generations).toEqual([w1]);
    expect(vault().outputs).toEqual(before.outputs);
  });

  it("W2 after a new backup: a second generation, nothing deleted", async () => {
    const backup = nightlyBackup(account.sim, 9);

    const { ops, result } = await up(stack, { key: "W2" });

    expect(ops).toEqual(["update"]);
    expect(actionsOn(backup)).toEqual(["convert", "transfer ams3"]);
    w2 = generation("W2", backup, "2025-06-09T04:10:00Z", ["ams3", "nyc3"]);
    expect(result).toEqual({ generations: [w2, w1], newestSnapshotId: backup, retiredSnapshotIds: [] });
    // The inputs in force are outputs too, the rotation key included.
    expect(vault().outputs.rotationKey).toBe("W2");
    expect(snapshots()).toEqual([GOLDEN, HAND, `${WEB_NEWEST_BACKUP} web-W1 ams3,nyc3`, `${backup} web-W2 ams3,nyc3`]);
    // W1 is re-read, not written: it is already named and copied.
    expect(writes()).toEqual([actionPost(backup), rename(backup), actionPost(backup)]);
    expect(actionsOn(WEB_NEWEST_BACKUP)).toEqual(["convert", "transfer ams3"]);
  });

  it("W3 after a new backup: a third generation, and W1's snapshot, beyond keep=2, deleted", async () => {
    const backup = nightlyBackup(account.sim, 16);

    const { ops, result } = await up(stack, { key: "W3" });

    expect(ops).toEqual(["update"]);
    w3 = generation("W3", backup, "2025-06-16T04:10:00Z", ["ams3", "nyc3"]);
    expect(result).toEqual({ generations: [w3, w2], newestSnapshotId: backup, retiredSnapshotIds: [WEB_NEWEST_BACKUP] });
    // The golden snapshot and the one converted by hand are untouched; W1's is gone.
    expect(snapshots()).toEqual([GOLDEN, HAND, `${w2.snapshotId} web-W2 ams3,nyc3`, `${backup} web-W3 ams3,nyc3`]);
    expect(account.sim.state.imageView(WEB_NEWEST_BACKUP)).toBeUndefined();
    // The deletion comes last, after the new generation is kept and copied.
    expect(writes()).toEqual([actionPost(backup), rename(backup), actionPost(backup), deletion(WEB_NEWEST_BACKUP)]);
    // Backups the vault never kept stay backups.
    expect([100000101, 100000103].map((id) => account.sim.state.imageView(id)?.type)).toEqual(["backup", "backup"]);
    await account.server.waitForLog(`retiring generation W1: deleting snapshot ${WEB_NEWEST_BACKUP} (beyond keep=2)`);
  });

  it("W4 with no newer backup: the step fails saying when the next backup window opens, and the state keeps its generations", async () => {
    const before = structuredClone(vault());

    const step = await failedUp(stack, { key: "W4" });

    expect(step.op).toBe("update");
    // The newest backup left is 100000103: 104 and the nightly ones are snapshots now, 102 was converted by hand.
    expect(step.error?.message).toContain(
      `droplet ${WEB_DROPLET} has no backup taken after 2025-06-16T04:10:00Z (its newest is 100000103, taken 2025-06-03T04:15:02Z), ` +
        "so this rotation waits for its next backup: the next daily backup window opens",
    );
    expect(step.error?.message).toMatch(/opens \w+day \d{4}-\d{2}-\d{2} 04:00 UTC and lasts 4 hours\. Run `pulumi up` again once it has closed/);
    expect(vault()).toEqual(before);
    expect(vault().initErrors).toBeUndefined();
    // The backups, then the policy that says when the next one comes.
    expect(account.sim.requests().map((r) => r.route)).toEqual(["GET /v2/droplets/:id/backups", "GET /v2/droplets/:id/backups/policy"]);
    expect(snapshots()).toEqual([GOLDEN, HAND, `${w2.snapshotId} web-W2 ams3,nyc3`, `${w3.snapshotId} web-W3 ams3,nyc3`]);
  });

  it("keep lowered to 1: the older generation is deleted and nothing else is written", async () => {
    const { ops, result } = await up(stack, { key: "W3", keep: 1 });

    expect(ops).toEqual(["update"]);
    expect(result).toEqual({ generations: [w3], newestSnapshotId: w3.snapshotId, retiredSnapshotIds: [w2.snapshotId] });
    expect(snapshots()).toEqual([GOLDEN, HAND, `${w3.snapshotId} web-W3 ams3,nyc3`]);
    expect(writes()).toEqual([deletion(w2.snapshotId)]);
  });

  it("sfo3 added to copyToRegions: the kept generation is copied there with one transfer", async () => {
    const { ops, result } = await up(stack, { key: "W3", keep: 1, regions: ["ams3", "sfo3"] });

    expect(ops).toEqual(["update"]);
    expect(writes()).toEqual([actionPost(w3.snapshotId)]);
    expect(actionsOn(w3.snapshotId)).toEqual(["convert", "transfer ams3", "transfer sfo3"]);
    w3 = generation("W3", w3.snapshotId, w3.createdAt, ["ams3", "nyc3", "sfo3"]);
    expect(w3.actionIds).toHaveLength(3);
    expect(result).toEqual({ generations: [w3], newestSnapshotId: w3.snapshotId, retiredSnapshotIds: [] });
    expect(vault().outputs.copyToRegions).toEqual(["ams3", "sfo3"]);
    expect(snapshots()).toEqual([GOLDEN, HAND, `${w3.snapshotId} web-W3 ams3,nyc3,sfo3`]);
  });

  it("preview of a rotation plans an update, never a replace, and sends no request", async () => {
    const before = structuredClone(vault());

    const steps = await preview(stack, { key: "W4", keep: 1, regions: ["ams3", "sfo3"] });

    expect(steps.map((s) => s.op)).toEqual(["update"]);
    expect(steps[0].diff).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    expect(account.sim.requests()).toEqual([]);
    expect(vault()).toEqual(before);
  });

  it("W4 whose convert outlives the wait: the step fails, the vault is kept incomplete with the backup pending", async () => {
    const backup = nightlyBackup(account.sim, 23);

    // Paused until the test has looked: the convert is still running, however slow the machine.
    account.simClock.pause();
    const step = await failedUp(stack, { key: "W4", keep: 1, regions: ["ams3", "sfo3"], waitTimeoutSeconds: 10 });

    const [convert] = account.sim.state.listActions(backup);
    expect(convert.type).toBe("convert");
    expect(step.op).toBe("update");
    expect(step.error?.message).toContain(`Gave up waiting for DigitalOcean action ${convert.id} (convert of image ${backup}`);
    expect(step.error?.message).toContain("no second convert is started");
    expect(vault().initErrors).toHaveLength(1);
    expect(vault().outputs).toMatchObject({
      generations: [w3],
      newestSnapshotId: w3.snapshotId,
      retiredSnapshotIds: [],
      pending: { rotationKey: "W4", dropletId: WEB_DROPLET, backupId: backup },
    });
    expect(writes()).toEqual([actionPost(backup)]);
    expect(snapshots()).toEqual([GOLDEN, HAND, `${w3.snapshotId} web-W3 ams3,nyc3,sfo3`]);
    // Left paused: the next up finds this convert still running, however long this machine took.
  });

  it("the next up joins W4's convert still running, with the same backup though a newer one exists, and starts no second one", async () => {
    const pending = (vault().outputs.pending as { backupId: number }).backupId;
    const newer = nightlyBackup(account.sim, 24);
    const [convert] = account.sim.state.listActions(pending);

    const finishing = up(stack, { key: "W4", keep: 1, regions: ["ams3", "sfo3"] });
    await account.server.waitForLog(`convert of backup ${pending}: joining action ${convert.id} already in progress`);
    account.simClock.resume();
    const { ops, result } = await finishing;

    expect(ops).toEqual(["update"]);
    expect(vault().initErrors).toBeUndefined();
    expect(vault().outputs.pending).toBeUndefined();
    expect(actionsOn(pending)).toEqual(["convert", "transfer ams3", "transfer sfo3"]);
    const w4 = generation("W4", pending, "2025-06-23T04:10:00Z", ["ams3", "nyc3", "sfo3"]);
    expect(result).toEqual({ generations: [w4], newestSnapshotId: pending, retiredSnapshotIds: [w3.snapshotId] });
    expect(snapshots()).toEqual([GOLDEN, HAND, `${pending} web-W4 ams3,nyc3,sfo3`]);
    // No convert POST: the rename, the two transfers, then W3's deletion.
    expect(writes().sort()).toEqual([rename(pending), actionPost(pending), actionPost(pending), deletion(w3.snapshotId)].sort());
    expect(writes().at(-1)).toBe(deletion(w3.snapshotId));
    expect(account.sim.state.imageView(newer)?.type).toBe("backup");
    expect(actionsOn(newer)).toEqual([]);
  });

  it("W5 whose copies outlive the wait keeps W4 in state, and the next up retires it once W5 is copied", async () => {
    const w4 = (vault().outputs.generations as BackupVaultGeneration[])[0];
    const backup = account.sim.state.backups(WEB_DROPLET).at(-1)!.id;
    expect(backup).toBeGreaterThan(w4.snapshotId);
    const w5Policy: Policy = { key: "W5", keep: 1, regions: ["ams3", "sfo3"], waitTimeoutSeconds: 10 };

    // The convert outlives the wait; it completes at DigitalOcean before the next run.
    await account.simClock.paused(() => failedUp(stack, w5Policy));
    await until(() => account.sim.state.imageView(backup)?.type === "snapshot", "the W5 convert");
    account.sim.resetRequests();

    // The next run adopts the snapshot; now the transfers outlive the wait.
    account.simClock.pause();
    const step = await failedUp(stack, w5Policy);
    expect(step.error?.message).toContain(`generation W5 (snapshot ${backup})`);
    // The copy's advice, once: the vault adds its own only to failures that carry none.
    expect(step.error?.message).toContain("Run `pulumi up` again to resume waiting (nothing is transferred twice)");
    expect(step.error?.message.match(/again/g)).toHaveLength(1);
    expect(step.error?.message).toContain("Until then 1 generation(s) beyond keep=1 are kept too, and billed.");
    expect(writes().sort()).toEqual([rename(backup), actionPost(backup), actionPost(backup)].sort());
    expect(vault().initErrors).toHaveLength(1);
    // W4 is still recorded: it is beyond keep, but W5 is not copied yet, so it was not deleted.
    expect((vault().outputs.generations as BackupVaultGeneration[]).map((g) => [g.rotationKey, g.snapshotId])).toEqual([
      ["W5", backup],
      ["W4", w4.snapshotId],
    ]);
    expect(snapshots()).toEqual([GOLDEN, HAND, `${w4.snapshotId} web-W4 ams3,nyc3,sfo3`, `${backup} web-W5 nyc3`]);

    // Still paused until the next up polls the transfers, so it finds them running.
    account.sim.resetRequests();
    const finishing = up(stack, { ...w5Policy, waitTimeoutSeconds: undefined });
    await until(() => account.sim.requests().some((r) => r.route === "GET /v2/actions"), "the next up to poll the transfers");
    account.simClock.resume();
    const { ops, result } = await finishing;

    expect(ops).toEqual(["update"]);
    // The transfers in flight were joined, not started again; then W4 went.
    expect(actionsOn(backup)).toEqual(["convert", "transfer ams3", "transfer sfo3"]);
    expect(writes()).toEqual([deletion(w4.snapshotId)]);
    const w5 = generation("W5", backup, "2025-06-24T04:10:00Z", ["ams3", "nyc3", "sfo3"]);
    expect(result).toEqual({ generations: [w5], newestSnapshotId: backup, retiredSnapshotIds: [w4.snapshotId] });
    expect(snapshots()).toEqual([GOLDEN, HAND, `${backup} web-W5 ams3,nyc3,sfo3`]);
  });

  it("W6 whose retirement fails keeps the new generation in state, and the next up retires W5 with no other write", async () => {
    const w5 = (vault().outputs.generations as BackupVaultGeneration[])[0];
    const backup = nightlyBackup(account.sim, 30);
    account.sim.setFaults({ serverErrorRate: 1, routes: ["DELETE /v2/images/:id"] });
    let step: Step;
    try {
      step = await failedUp(stack, { key: "W6", keep: 1, regions: ["ams3", "sfo3"] });
    } finally {
      account.sim.setFaults({});
    }

    expect(step.error?.message).toContain(`retiring generation W5 (snapshot ${w5.snapshotId})`);
    expect(actionsOn(backup)).toEqual(["convert", "transfer ams3", "transfer sfo3"]);
    // W6 is made and recorded, so the next run neither loses it nor makes it again; W5 is still due for deletion.
    expect(vault().initErrors).toHaveLength(1);
    expect((vault().outputs.generations as BackupVaultGeneration[]).map((g) => [g.rotationKey, g.snapshotId])).toEqual([
      ["W6", backup],
      ["W5", w5.snapshotId],
    ]);
    expect(snapshots()).toEqual([GOLDEN, HAND, `${w5.snapshotId} web-W5 ams3,nyc3,sfo3`, `${backup} web-W6 ams3,nyc3,sfo3`]);

    account.sim.resetRequests();
    const { ops, result } = await up(stack, { key: "W6", keep: 1, regions: ["ams3", "sfo3"] });

    expect(ops).toEqual(["update"]);
    expect(writes()).toEqual([deletion(w5.snapshotId)]);
    const w6 = generation("W6", backup, "2025-06-30T04:10:00Z", ["ams3", "nyc3", "sfo3"]);
    expect(result).toEqual({ generations: [w6], newestSnapshotId: backup, retiredSnapshotIds: [w5.snapshotId] });
    expect(snapshots()).toEqual([GOLDEN, HAND, `${backup} web-W6 ams3,nyc3,sfo3`]);
  });

  it("destroy deletes every snapshot the vault keeps, and nothing else", async () => {
    const kept = (vault().outputs.generations as BackupVaultGeneration[]).map((g) => g.snapshotId);
    expect(kept).toHaveLength(1);

    const steps = await stack.destroy();

    expect(steps.map((s) => [s.op, s.name, s.retained])).toEqual([["delete", VAULT, undefined]]);
    expect(writes()).toEqual(kept.map(deletion));
    expect(snapshots()).toEqual([GOLDEN, HAND]);
    expect(stack.state.size).toBe(0);
    expect([100000101, 100000103].map((id) => account.sim.state.imageView(id)?.type)).toEqual(["backup", "backup"]);
  });
});

describe("a vault with retainOnDelete", () => {
  it("destroy forgets it without calling the provider: its snapshots stay", async () => {
    const stack = new EngineStack(account.server);
    const program = () => {
      new BackupVault("db-vault", { dropletId: DB_DROPLET, rotationKey: "W1", keep: 1, namePattern: "db-{key}" }, { retainOnDelete: true });
    };
    await upProgram(stack, program);
    expect(stack.get("db-vault").outputs.newestSnapshotId).toBe(DB_NEWEST_BACKUP);
    const db = `${DB_NEWEST_BACKUP} db-W1 ams3`;
    expect(snapshots()).toEqual([GOLDEN, HAND, db]);
    account.sim.resetRequests();

    const steps = await stack.destroy();

    expect(steps.map((s) => [s.op, s.name, s.retained])).toEqual([["delete", "db-vault", true]]);
    expect(account.sim.requests()).toEqual([]);
    expect(stack.state.size).toBe(0);
    expect(snapshots()).toEqual([GOLDEN, HAND, db]);
  });
});
