import { ApiError } from "../../provider/client/errors";
import * as vaultHandlers from "../../provider/dynamic/backup-vault";
import { startSimulator } from "../../provider/simulator";
import { describeSchedule } from "../../provider/reconcile/backup-window";
import { IncompleteError } from "../../provider/reconcile/errors";
import { convergeVault, type VaultObservation, type VaultSpec } from "../../provider/reconcile/vault";
import { collectingLog, GOLDEN_SNAPSHOT, nightlyBackup, SEED, sessionFor, simulatedAccount, WEB_BACKUPS, WEB_DROPLET, type Account } from "../support/account";
import { PausableClock } from "../support/pausable-clock";

let account: Account;
beforeEach(async () => {
  account = await simulatedAccount();
});
afterEach(() => account.close());

const policy: VaultSpec = {
  dropletId: WEB_DROPLET,
  rotationKey: "2025-W23",
  keep: 2,
  copyToRegions: ["ams3"],
  namePattern: "web-{key}",
  tags: ["vault"],
  waitTimeoutSeconds: 3600,
};

/** Every snapshot in the account, by name, with its regions. */
function snapshots(): Record<string, string[]> {
  const images = account.sim.state.listImages({ privateOnly: true, type: "snapshot" });
  return Object.fromEntries(images.map((image) => [image.name, [...image.regions].sort()]));
}

async function rotate(key: string, previous: VaultObservation | undefined, overrides: Partial<VaultSpec> = {}, log: (message: string) => void = () => {}): Promise<VaultObservation> {
  return convergeVault(account.session, { ...policy, rotationKey: key, ...overrides }, previous, log);
}

describe("convergeVault", () => {
  it("keeps, copies and retires generations across rotations, touching nothing it did not make", async () => {
    const golden = account.sim.state.imageView(GOLDEN_SNAPSHOT)!.name;

    const first = await rotate("2025-W23", undefined);
    expect(first.generations.map((g) => [g.rotationKey, g.snapshotId])).toEqual([["2025-W23", WEB_BACKUPS[3]]]);
    expect(snapshots()).toEqual({ [golden]: ["nyc3"], "web-2025-W23": ["ams3", "nyc3"] });

    const second = await rotate("2025-W24", first).catch((e: unknown) => e);
    expect(String(second)).toMatch(/no backup taken after 2025-06-04T04:11:37Z/);

    const w24 = nightlyBackup(account.sim, 9);
    const afterW24 = await rotate("2025-W24", first);
    expect(afterW24.generations.map((g) => g.snapshotId)).toEqual([w24, WEB_BACKUPS[3]]);
    expect(afterW24.retiredSnapshotIds).toEqual([]);

    const w25 = nightlyBackup(account.sim, 16);
    const afterW25 = await rotate("2025-W25", afterW24);
    expect(afterW25.generations.map((g) => g.snapshotId)).toEqual([w25, w24]);
    expect(afterW25.retiredSnapshotIds).toEqual([WEB_BACKUPS[3]]);
    expect(snapshots()).toEqual({ [golden]: ["nyc3"], "web-2025-W24": ["ams3", "nyc3"], "web-2025-W25": ["ams3", "nyc3"] });
    expect(account.sim.state.imageView(WEB_BACKUPS[3])).toBeUndefined();
    // Older backups the vault never kept are still backups, untouched.
    expect(WEB_BACKUPS.slice(0, 3).map((id) => account.sim.state.imageView(id)?.type)).toEqual(["backup", "backup", "backup"]);
    expect(account.sim.state.imageView(w25)?.tags).toEqual(["vault"]);
  });

  it("reads each kept generation's image once per run, for its snapshot and its copies alike", async () => {
    const first = await rotate("2025-W23", undefined);
    nightlyBackup(account.sim, 9);
    const second = await rotate("2025-W24", first);
    // Counted where reads are asked for: shared reads may serve several of them with one request.
    const reads = jest.spyOn(account.session.images, "read");
    await rotate("2025-W24", second);
    expect(reads.mock.calls.map(([id]) => id).sort()).toEqual(second.generations.map((g) => g.snapshotId).sort());
  });

  it("copies every kept generation to a region added later, and retires down to a lower keep", async () => {
    const first = await rotate("2025-W23", undefined);
    nightlyBackup(account.sim, 9);
    const second = await rotate("2025-W24", first);
    account.sim.resetRequests();
    const widened = await rotate("2025-W24", second, { copyToRegions: ["ams3", "sfo3"], keep: 1 });
    expect(widened.generations).toHaveLength(1);
    expect(widened.generations[0].regions).toEqual(["ams3", "nyc3", "sfo3"]);
    expect(widened.retiredSnapshotIds).toEqual([WEB_BACKUPS[3]]);
    const posts = account.writes().filter((r) => r.route === "POST /v2/images/:id/actions");
    expect(posts).toHaveLength(1);
  });

  it("resumes a generation whose convert outlived the wait with the same backup and no second convert", async () => {
    const error = (await account.simClock.paused(() => rotate("2025-W23", undefined, { waitTimeoutSeconds: 10 }).catch((e: unknown) => e))) as IncompleteError<VaultObservation>;
    expect(error).toBeInstanceOf(IncompleteError);
    expect(error.state.pending).toEqual({ rotationKey: "2025-W23", dropletId: WEB_DROPLET, backupId: WEB_BACKUPS[3] });
    const resumed = await rotate("2025-W23", error.state);
    expect(resumed.generations.map((g) => g.snapshotId)).toEqual([WEB_BACKUPS[3]]);
    expect(resumed.pending).toBeUndefined();
    expect(account.sim.state.listActions(WEB_BACKUPS[3]).filter((a) => a.type === "convert")).toHaveLength(1);
  });
  it("keeps a pending generation overtaken by the next rotation key instead of leaving its snapshot behind", async () => {
    const first = await rotate("2025-W23", undefined);
    const w24 = nightlyBackup(account.sim, 9);
    const timedOut = (await account.simClock.paused(() => rotate("2025-W24", first, { waitTimeoutSeconds: 10 }).catch((e: unknown) => e))) as IncompleteError<VaultObservation>;
    expect(timedOut.state.pending).toEqual({ rotationKey: "2025-W24", dropletId: WEB_DROPLET, backupId: w24 });
    // The convert finishes at DigitalOcean; the program's key moves on before the next run.
    await account.session.watcher.waitFor(account.sim.state.listActions(w24)[0], { timeoutMs: 3_600_000 });
    const w25 = nightlyBackup(account.sim, 16);

    const third = await rotate("2025-W25", timedOut.state);

    expect(third.generations.map((g) => [g.rotationKey, g.snapshotId])).toEqual([
      ["2025-W25", w25],
      ["2025-W24", w24],
    ]);
    expect(third.pending).toBeUndefined();
    expect(third.retiredSnapshotIds).toEqual([WEB_BACKUPS[3]]);
    const golden = account.sim.state.imageView(GOLDEN_SNAPSHOT)!.name;
    expect(snapshots()).toEqual({ [golden]: ["nyc3"], "web-2025-W24": ["ams3", "nyc3"], "web-2025-W25": ["ams3", "nyc3"] });
    expect(account.sim.state.listActions(w24).filter((a) => a.type === "convert")).toHaveLength(1);
  });

  it("keeps an overtaken generation pending while its convert still runs, losing nothing", async () => {
    const first = await rotate("2025-W23", undefined);
    const big = account.sim.state.addBackup(WEB_DROPLET, { name: "web-01 big", created_at: "2025-06-09T04:10:00Z", size_gigabytes: 500 }).id;
    // Paused throughout: the convert of `big` is still running when W25 comes.
    account.simClock.pause();
    const timedOut = (await rotate("2025-W24", first, { waitTimeoutSeconds: 10 }).catch((e: unknown) => e)) as IncompleteError<VaultObservation>;
    nightlyBackup(account.sim, 16);

    const error = (await rotate("2025-W25", timedOut.state, { waitTimeoutSeconds: 10 }).catch((e: unknown) => e)) as IncompleteError<VaultObservation>;
    account.simClock.resume();

    expect(error).toBeInstanceOf(IncompleteError);
    expect(error.message).toContain("rotation 2025-W24 is still pending");
    expect(error.state).toEqual({ generations: first.generations, retiredSnapshotIds: [], pending: { rotationKey: "2025-W24", dropletId: WEB_DROPLET, backupId: big } });
    expect(account.sim.state.listActions(big).filter((a) => a.type === "convert")).toHaveLength(1);
  });

  it("drops a generation whose snapshot was deleted by hand, and keeps an older one in its place", async () => {
    const first = await rotate("2025-W23", undefined);
    const w24 = nightlyBackup(account.sim, 9);
    const second = await rotate("2025-W24", first);
    const w25 = nightlyBackup(account.sim, 16);
    await account.session.client.deleteImage(w24);
    account.sim.resetRequests();

    const { log, lines } = collectingLog();
    const third = await rotate("2025-W25", second, {}, log);
    expect(lines).toContain(`generation 2025-W24: snapshot ${w24} was deleted outside the vault; it is no longer kept`);

    // keep=2 counts snapshots that exist: W24's is gone, so W23's is kept, not retired.
    expect(third.generations.map((g) => [g.rotationKey, g.snapshotId])).toEqual([
      ["2025-W25", w25],
      ["2025-W23", WEB_BACKUPS[3]],
    ]);
    expect(third.retiredSnapshotIds).toEqual([]);
    expect(account.writes().filter((r) => r.method === "DELETE" && r.path.startsWith("/v2/images/"))).toEqual([]);

    // The run after is a plain no-change rotation, not stuck on the missing snapshot.
    await expect(rotate("2025-W25", third)).resolves.toMatchObject({ generations: third.generations });
  });

});

describe("a rotation before the Droplet's next backup", () => {
  it("says when the next backup window opens, from the Droplet's backup policy", async () => {
    const first = await rotate("2025-W23", undefined);
    account.sim.resetRequests();
    const error = (await rotate("2025-W24", first).catch((e: unknown) => e)) as Error;

    // The window the simulator serves for the seed's daily 04:00 plan, in the words of the message.
    const window = account.sim.state.listDroplets().find((d) => d.id === WEB_DROPLET)!.next_backup_window as { start: string };
    const day = new Date(window.start).toLocaleDateString("en-US", { weekday: "long", timeZone: "UTC" });
    expect(error.message).toContain(`no backup taken after ${first.generations[0].createdAt}`);
    expect(error.message).toContain(`the next daily backup window opens ${day} ${window.start.slice(0, 10)} 04:00 UTC and lasts 4 hours`);
    expect(error.message).toContain("Run `pulumi up` again once it has closed");
    expect(error.message).not.toContain("may have stopped");
    expect(account.writes()).toEqual([]);
  });

  it("falls back to the general message when the policy cannot be read", async () => {
    const first = await rotate("2025-W23", undefined);
    const forbidden = new ApiError({ status: 403, errorId: "forbidden", apiMessage: "You are not authorized to perform this operation", method: "GET", path: `/v2/droplets/${WEB_DROPLET}/backups/policy` });
    jest.spyOn(account.session.client, "getDropletBackupPolicy").mockRejectedValueOnce(forbidden);
    const error = (await rotate("2025-W24", first).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/no backup taken after .*its backups may have stopped/);
  });

  it("describes the plan itself when DigitalOcean gives no next window", () => {
    const weekly = { droplet_id: 1, backup_enabled: true, backup_policy: { plan: "weekly", weekday: "SUN", hour: 4, window_length_hours: 4 } };
    expect(describeSchedule(weekly)).toEqual({ enabled: true, nextWindow: "the weekly backup window opens Sundays at 04:00 UTC and lasts 4 hours" });
    expect(describeSchedule({ ...weekly, backup_policy: { plan: "daily", hour: 20 } })).toEqual({ enabled: true, nextWindow: "the daily backup window opens at 20:00 UTC" });
    // Nothing to say without an hour: the caller keeps its general message.
    expect(describeSchedule({ ...weekly, backup_policy: { plan: "weekly" } })).toBeUndefined();
  });

  it("says backups are disabled when the policy says so", async () => {
    const seed = { ...SEED, droplets: SEED.droplets!.map((d) => (d.id === WEB_DROPLET ? { ...d, backup_policy: null } : d)) };
    const sim = await startSimulator({ clock: new PausableClock(account.sim.clock.scale), seed });
    const session = sessionFor(sim);
    try {
      const kept = await convergeVault(session, policy, undefined, () => {});
      const error = (await convergeVault(session, { ...policy, rotationKey: "2025-W24" }, kept, () => {}).catch((e: unknown) => e)) as Error;
      expect(error.message).toContain("backups are disabled on it");
      expect(error.message).not.toContain("may have stopped");
    } finally {
      await session.client.close();
      await sim.close();
    }
  });
});

describe("BackupVault check and diff", () => {
  it("fills defaults and reports every bad input with the field and the fix", async () => {
    const ok = await vaultHandlers.check({}, { dropletId: "3164494", rotationKey: "2025-W23" });
    expect(ok.failures).toEqual([]);
    expect(ok.inputs).toEqual({ dropletId: WEB_DROPLET, rotationKey: "2025-W23", keep: 4, copyToRegions: [], namePattern: "{dropletId}-{key}" });

    const bad = await vaultHandlers.check({}, { rotationKey: "", keep: 0, namePattern: "web", copyToRegions: ["AMS"] });
    expect(bad.failures!.map((f) => f.property).sort()).toEqual(["copyToRegions[0]", "dropletId", "keep", "namePattern", "rotationKey"]);
    expect(bad.failures!.find((f) => f.property === "namePattern")!.reason).toContain('"{key}"');
  });

  it("takes keep as a string of digits, as pulumi.Config.get returns it, and refuses other strings naming the field", async () => {
    const fromConfig = await vaultHandlers.check({}, { dropletId: "3164494", rotationKey: "2025-W23", keep: "7" });
    expect(fromConfig.failures).toEqual([]);
    expect(fromConfig.inputs.keep).toBe(7);
    const words = await vaultHandlers.check({}, { dropletId: "3164494", rotationKey: "2025-W23", keep: "seven" });
    expect(words.failures).toEqual([{ property: "keep", reason: expect.stringContaining('got "seven"') }]);
  });

  it("sees a new rotation key as an update, never a replacement, and an unchanged one as no change", async () => {
    const state = { ...policy, generations: [{ rotationKey: "2025-W23" }], newestSnapshotId: 1, retiredSnapshotIds: [] } as unknown as vaultHandlers.VaultState;
    const same = { ...policy, rotationKey: "2025-W23" } as vaultHandlers.VaultInputs;
    expect(await vaultHandlers.diff("v", state, same)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    expect(await vaultHandlers.diff("v", state, { ...same, rotationKey: "2025-W24" })).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    expect(await vaultHandlers.diff("v", state, { ...same, keep: 3 })).toMatchObject({ changes: true, replaces: [] });
  });
});
