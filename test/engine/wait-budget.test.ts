/**
 * `waitTimeoutSeconds` is one budget for a resource's whole update: a BackupVault
 * update that resumes an overtaken pending convert, rotates, and copies every kept
 * generation to a new region returns after one budget, recorded incomplete, and the
 * next up finishes it without starting any action twice.
 *
 * Each action is slow, and how slow is set per action through the simulator's
 * per-gigabyte duration (backup sizes below), in budgets (B): waited for one after
 * another, the update below takes about 2.4 B (as it did before the budget was shared).
 */
import { BackupVault, type BackupVaultGeneration } from "pulumi-digitalocean-image-actions";
import { scaledClock } from "../../provider/clock";
import { startEngineAccount, TIME_SCALE, type EngineAccount } from "./account";
import { EngineStack, StepsFailedError, upProgram } from "./harness";

/** The budget: 3000 s of clock time, 3 s of real time at the engine tests' scale. */
const BUDGET_SECONDS = 3000;
const B = BUDGET_SECONDS * 1000;
/** Durations are size × this (converts) and 0.2 B more (transfers). */
const MS_PER_GB = 1000;
const gigabytesFor = (budgets: number) => (budgets * B) / MS_PER_GB;

const DROPLET = 3164800;
const VAULT = "budget-vault";
let account: EngineAccount;

beforeAll(async () => {
  account = await startEngineAccount({ simulator: { actionDurations: { convertMs: 0, transferMs: 0.2 * B, perGigabyteMs: MS_PER_GB } } });
  account.sim.state.addDroplet({ id: DROPLET, name: "app-01", region: "nyc3", backups: [] });
}, 120_000);

afterAll(async () => {
  await account?.close();
});

/** A backup of the Droplet taken on `day` of July 2025, `gigabytes` big. */
function backup(day: number, gigabytes: number): number {
  const date = `2025-07-${String(day).padStart(2, "0")}`;
  return account.sim.state.addBackup(DROPLET, { name: `app-01 ${date}`, created_at: `${date}T04:10:00Z`, size_gigabytes: gigabytes }).id;
}

const program = (key: string, regions: string[], waitTimeoutSeconds = BUDGET_SECONDS) => () => {
  new BackupVault(VAULT, { dropletId: DROPLET, rotationKey: key, keep: 4, copyToRegions: regions, namePattern: "app-{key}", waitTimeoutSeconds });
};

/** Every convert and transfer ever started on the image: "convert", "transfer ams3"... */
function actionsOn(imageId: number): string[] {
  return account.sim.state
    .listActions(imageId)
    .map((a) => (a.type === "transfer" ? `transfer ${a.region_slug}` : a.type))
    .sort();
}

it("a vault update waits one budget in all, and the next up finishes it without starting anything twice", async () => {
  const stack = new EngineStack(account.server);
  // K1 to K3: three generations copied to ams3, quickly (small backups).
  const kept: number[] = [];
  for (const [i, key] of ["K1", "K2", "K3"].entries()) {
    kept.push(backup(i + 1, 1));
    await upProgram(stack, program(key, ["ams3"]));
    expect(actionsOn(kept[i])).toEqual(["convert", "transfer ams3"]);
  }

  // K4: its convert (0.25 B) outlives a 10 s wait and is left pending.
  const k4 = backup(4, gigabytesFor(0.25));
  account.simClock.pause();
  await expect(upProgram(stack, program("K4", ["ams3"], 10))).rejects.toBeInstanceOf(StepsFailedError);
  expect(stack.get(VAULT).outputs.pending).toEqual({ rotationKey: "K4", dropletId: DROPLET, backupId: k4 });

  // K5 with sfo3 added: K4's convert is overtaken (still running when joined), K5's convert takes 0.5 B, and then
  // the transfers: K5's 0.7 B, K4's 0.45 B, K3's and K2's 0.2 B. K1 is beyond keep=4.
  const k5 = backup(5, gigabytesFor(0.5));
  account.resetLogs();
  const providerClock = scaledClock(TIME_SCALE, account.sim.clock.anchorMs); // the provider reads the simulator's anchor too
  const startedAt = providerClock.now();
  const running = upProgram(stack, program("K5", ["ams3", "sfo3"])).then(
    () => undefined,
    (e: unknown) => e,
  );
  const [k4Convert] = account.sim.state.listActions(k4);
  await account.server.waitForLog(`convert of backup ${k4}: joining action ${k4Convert.id} already in progress`);
  account.simClock.resume();
  const error = await running;
  const elapsed = providerClock.now() - startedAt;

  // One budget, not one per wait: back after at least B (the deadline is not cut short) and well before 2 B.
  expect(elapsed / B).toBeGreaterThanOrEqual(1);
  expect(elapsed / B).toBeLessThan(2);
  expect(error).toBeInstanceOf(StepsFailedError);
  const message = (error as StepsFailedError).steps[0].error?.message ?? "";
  expect(message).toContain(`generation K5 (snapshot ${k5})`);
  expect(message).toContain("Run `pulumi up` again");
  // Recorded incomplete: K4 kept as its own generation, K5 made, K1 not deleted while K5's copies are unfinished.
  const vault = stack.get(VAULT);
  expect(vault.initErrors).toHaveLength(1);
  expect(vault.outputs.pending).toBeUndefined();
  expect((vault.outputs.generations as BackupVaultGeneration[]).map((g) => [g.rotationKey, g.snapshotId])).toEqual([
    ["K5", k5],
    ["K4", k4],
    ["K3", kept[2]],
    ["K2", kept[1]],
    ["K1", kept[0]],
  ]);
  // Every kept generation's transfers started at once: the last one started before the first one ended.
  const transfers = [k5, k4, kept[2], kept[1]].flatMap((id) => account.sim.state.listActions(id)).filter((a) => a.type === "transfer" && a.started_at >= new Date(startedAt).toISOString());
  expect(transfers.map((a) => `${a.resource_id} ${a.region_slug}`).sort()).toEqual(
    [`${k5} ams3`, `${k5} sfo3`, `${k4} ams3`, `${k4} sfo3`, `${kept[2]} sfo3`, `${kept[1]} sfo3`].sort(),
  );
  const lastStart = Math.max(...transfers.map((a) => Date.parse(a.started_at)));
  const ends = transfers.flatMap((a) => (a.completed_at === null ? [] : [Date.parse(a.completed_at)]));
  expect(ends.every((end) => end > lastStart)).toBe(true);
  // Nothing is written once the budget is spent: the run ends with reads only.
  expect(account.sim.requests().filter((r) => r.method !== "GET" && r.clockMs > startedAt + B)).toEqual([]);

  // The next up joins the transfers still running, then retires K1; it starts nothing.
  account.resetLogs();
  await upProgram(stack, program("K5", ["ams3", "sfo3"]));
  expect(account.writePaths()).toEqual([`DELETE /v2/images/${kept[0]}`]);
  expect(stack.get(VAULT).initErrors).toBeUndefined();
  expect(stack.get(VAULT).outputs.retiredSnapshotIds).toEqual([kept[0]]);
  expect(actionsOn(k5)).toEqual(["convert", "transfer ams3", "transfer sfo3"]);
  expect(actionsOn(k4)).toEqual(["convert", "transfer ams3", "transfer sfo3"]);
  for (const id of kept.slice(1)) expect(actionsOn(id)).toEqual(["convert", "transfer ams3", "transfer sfo3"]);
}, 120_000);
