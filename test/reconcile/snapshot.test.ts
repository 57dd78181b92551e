import { request } from "undici";
import { ApiError } from "../../provider/client/errors";
import { BackupNotFoundError, IncompleteError } from "../../provider/reconcile/errors";
import { convergeSnapshot, deleteSnapshot, readSnapshot, type BackupChoice, type SnapshotAttributes, type SnapshotObservation, type SnapshotSpec } from "../../provider/reconcile/snapshot";
import { deadlineAfter } from "../../provider/waiter";
import { until } from "../support/until";
import { actionFinishingAfterNextImageRead, collectingLog, sessionFor, simulatedAccount, WEB_BACKUPS, WEB_DROPLET, type Account } from "../support/account";

const WAIT = 3600;
/** A delete's wait budget of `seconds`, from now on the session's clock. */
const budget = (seconds: number) => deadlineAfter(account.session.clock, seconds);
let account: Account;
beforeEach(async () => {
  account = await simulatedAccount();
});
afterEach(() => account.close());

function converts(imageId: number): number {
  return account.sim.state.listActions(imageId).filter((a) => a.type === "convert").length;
}

function spec(overrides: BackupChoice & Partial<SnapshotAttributes>): SnapshotSpec {
  return { waitTimeoutSeconds: WAIT, ...overrides };
}

describe("convergeSnapshot", () => {
  it("converts the backup in place, then names and tags it", async () => {
    const { log, lines } = collectingLog();
    const result = await convergeSnapshot(account.session, spec({ backupId: WEB_BACKUPS[1], name: "web-keep", tags: ["dr", "web"] }), log);

    expect(result).toMatchObject<Partial<SnapshotObservation>>({
      snapshotId: WEB_BACKUPS[1],
      backupId: WEB_BACKUPS[1],
      imageType: "snapshot",
      name: "web-keep",
      tags: ["dr", "web"],
      regions: ["nyc3"],
    });
    expect(result.actionId).toEqual(expect.any(Number));
    expect(account.sim.state.imageView(WEB_BACKUPS[1])).toMatchObject({ type: "snapshot", name: "web-keep", tags: ["dr", "web"] });
    expect(converts(WEB_BACKUPS[1])).toBe(1);
    expect(lines.some((line) => line.includes("started action"))).toBe(true);
  });

  it("keeps the Droplet's newest backup when given dropletId", async () => {
    const result = await convergeSnapshot(account.session, spec({ dropletId: WEB_DROPLET }), () => {});
    expect(result.backupId).toBe(WEB_BACKUPS[3]);
    expect(account.sim.state.imageView(WEB_BACKUPS[3])?.type).toBe("snapshot");
  });

  it("writes nothing when run again", async () => {
    const declared = spec({ backupId: WEB_BACKUPS[0], name: "web-keep", description: "kept", tags: ["dr"] });
    const first = await convergeSnapshot(account.session, declared, () => {});
    account.sim.resetRequests();
    const second = await convergeSnapshot(account.session, { ...declared, knownActionId: first.actionId ?? undefined }, () => {});
    expect(account.writes()).toEqual([]);
    expect(second).toEqual(first);
  });

  it("adopts a backup someone already converted by hand, with no write", async () => {
    await account.session.client.startImageAction(WEB_BACKUPS[2], { type: "convert" });
    await account.sim.clock.sleep(61_000);
    account.sim.resetRequests();
    const result = await convergeSnapshot(account.session, spec({ backupId: WEB_BACKUPS[2] }), () => {});
    expect(account.writes()).toEqual([]);
    expect(result.imageType).toBe("snapshot");
    expect(converts(WEB_BACKUPS[2])).toBe(1);
  });

  it("joins a convert left in flight by an interrupted run instead of starting another", async () => {
    // Paused until the run has found the convert in progress, however long that takes.
    account.simClock.pause();
    const inFlight = await account.session.client.startImageAction(WEB_BACKUPS[0], { type: "convert" });
    account.sim.resetRequests();
    const { log, lines } = collectingLog();
    const converging = convergeSnapshot(account.session, spec({ backupId: WEB_BACKUPS[0] }), log);
    await until(() => lines.some((line) => line.includes(`joining action ${inFlight.id}`)), "the run to join the convert");
    account.simClock.resume();
    const result = await converging;
    expect(account.writes()).toEqual([]);
    expect(result.actionId).toBe(inFlight.id);
    expect(converts(WEB_BACKUPS[0])).toBe(1);
  });

  // Separate processes POSTing at the same instant stay at one action only where the API refuses the
  // duplicate: the simulator's assumption, switched on here (DigitalOcean documents no such refusal).
  it("joins a convert that completes between the image read and the action list read, with no POST", async () => {
    const inFlight = await actionFinishingAfterNextImageRead(account, WEB_BACKUPS[0], { type: "convert" });
    const { log, lines } = collectingLog();

    const result = await convergeSnapshot(account.session, spec({ backupId: WEB_BACKUPS[0] }), log);

    expect(account.writes()).toEqual([]);
    expect(result).toMatchObject({ imageType: "snapshot", actionId: inFlight.id });
    expect(converts(WEB_BACKUPS[0])).toBe(1);
    expect(lines.join("\n")).toContain(`joining action ${inFlight.id} completed since the image was read`);
  });

  it("ends with one convert when two pipelines keep the same backup at once, where the API refuses duplicates", async () => {
    await account.close();
    account = await simulatedAccount({ refuseDuplicateActions: true });
    const other = sessionFor(account.sim);
    const [a, b] = await Promise.all([
      convergeSnapshot(account.session, spec({ backupId: WEB_BACKUPS[1] }), () => {}),
      convergeSnapshot(other, spec({ backupId: WEB_BACKUPS[1] }), () => {}),
    ]);
    await other.client.close();
    expect(a.imageType).toBe("snapshot");
    expect(b.imageType).toBe("snapshot");
    expect(converts(WEB_BACKUPS[1])).toBe(1);
  });

  it("explains backup retention when the backup is gone", async () => {
    const attempt = convergeSnapshot(account.session, spec({ backupId: 999 }), () => {});
    await expect(attempt).rejects.toBeInstanceOf(BackupNotFoundError);
    await expect(attempt).rejects.toThrow(/7 days \(daily plan\) or 4 weeks \(weekly plan\).*doctl compute droplet backups/s);
    expect(account.writes()).toEqual([]);
  });

  it("tells a Droplet with no backup yet when its first window opens, and one without backups to enable them", async () => {
    account.sim.state.addDroplet({ id: 500, name: "new-web", region: "nyc3", backup_policy: { plan: "weekly", weekday: "SUN", hour: 20 } });
    account.sim.state.addDroplet({ id: 501, name: "no-backups", region: "nyc3" });

    const waiting = (await convergeSnapshot(account.session, spec({ dropletId: 500 }), () => {}).catch((e: unknown) => e)) as Error;
    const window = account.sim.state.listDroplets().find((d) => d.id === 500)!.next_backup_window as { start: string };
    expect(waiting.message).toContain(`droplet 500 has no backups yet: the next weekly backup window opens Sunday ${window.start.slice(0, 10)} 20:00 UTC and lasts 4 hours`);
    const disabled = (await convergeSnapshot(account.session, spec({ dropletId: 501 }), () => {}).catch((e: unknown) => e)) as Error;
    expect(disabled.message).toContain("droplet 501 has no backups: backups are disabled on it. Enable backups on it (`backups: true`");
    expect(account.writes()).toEqual([]);
  });

  it("refuses an image that is neither a backup nor a snapshot", async () => {
    const custom = account.sim.state.addImage({ name: "uploaded", type: "custom", regions: ["nyc3"] });
    await expect(convergeSnapshot(account.session, spec({ backupId: custom.id }), () => {})).rejects.toThrow(/custom image, not a backup/);
  });

  it("reports a timed-out convert as incomplete with the id, and the next run resumes it with no second convert", async () => {
    const error = await account.simClock.paused(() => convergeSnapshot(account.session, spec({ backupId: WEB_BACKUPS[2], waitTimeoutSeconds: 10 }), () => {}).catch((e: unknown) => e));
    expect(error).toBeInstanceOf(IncompleteError);
    const incomplete = error as IncompleteError<SnapshotObservation>;
    expect(incomplete.id).toBe(String(WEB_BACKUPS[2]));
    expect(incomplete.state).toMatchObject({ imageType: "backup", actionId: expect.any(Number) });
    expect(incomplete.message).toMatch(/goes on at DigitalOcean\. Run `pulumi up` again to resume waiting \(no second convert is started\), or raise waitTimeoutSeconds \(now 10\)\.$/);
    // Said once: the waiter's error states what happened, the convert says what to do.
    expect(incomplete.message.match(/again/g)).toHaveLength(1);

    const resumed = await convergeSnapshot(account.session, spec({ backupId: WEB_BACKUPS[2] }), () => {});
    expect(resumed).toMatchObject({ imageType: "snapshot", actionId: incomplete.state.actionId });
    expect(converts(WEB_BACKUPS[2])).toBe(1);
  });

  it("reports an errored convert as incomplete, naming the action", async () => {
    account.sim.state.failNextAction(WEB_BACKUPS[0]);
    const error = (await convergeSnapshot(account.session, spec({ backupId: WEB_BACKUPS[0] }), () => {}).catch((e: unknown) => e)) as IncompleteError<SnapshotObservation>;
    expect(error).toBeInstanceOf(IncompleteError);
    expect(error.message).toContain(String(error.state.actionId));
    expect(account.sim.state.imageView(WEB_BACKUPS[0])?.type).toBe("backup");
  });

  it("renames with one PUT and changes only the tags that differ", async () => {
    await convergeSnapshot(account.session, spec({ backupId: WEB_BACKUPS[1], tags: ["a", "b"] }), () => {});
    account.sim.resetRequests();
    const result = await convergeSnapshot(account.session, spec({ backupId: WEB_BACKUPS[1], name: "renamed", tags: ["b", "c"], knownActionId: 1 }), () => {});
    const writes = account.writes().map((r) => `${r.method} ${r.path}`);
    expect(writes.filter((w) => w.startsWith("PUT"))).toEqual([`PUT /v2/images/${WEB_BACKUPS[1]}`]);
    expect(writes).toEqual(expect.arrayContaining(["POST /v2/tags/c/resources", "DELETE /v2/tags/a/resources"]));
    expect(writes.some((w) => w.includes("/tags/b/"))).toBe(false);
    expect(result).toMatchObject({ name: "renamed", tags: ["b", "c"] });
  });

  it("creates a tag once for many snapshots, and again when it was deleted meanwhile", async () => {
    await convergeSnapshot(account.session, spec({ backupId: WEB_BACKUPS[0], tags: ["dr"] }), () => {});
    await convergeSnapshot(account.session, spec({ backupId: WEB_BACKUPS[1], tags: ["dr"] }), () => {});
    expect(account.sim.requestCounts().byRoute["POST /v2/tags"]).toBe(1);
    expect(account.sim.state.imageView(WEB_BACKUPS[1])?.tags).toEqual(["dr"]);

    await request(`${account.sim.url}/v2/tags/dr`, { method: "DELETE", headers: { authorization: `Bearer ${account.sim.token}` } });
    await convergeSnapshot(account.session, spec({ backupId: WEB_BACKUPS[2], tags: ["dr"] }), () => {});
    expect(account.sim.requestCounts().byRoute["POST /v2/tags"]).toBe(2);
    expect(account.sim.state.imageView(WEB_BACKUPS[2])?.tags).toEqual(["dr"]);
  });
});

describe("readSnapshot and deleteSnapshot", () => {
  it("reads changes made by hand and reports a deleted snapshot gone", async () => {
    await convergeSnapshot(account.session, spec({ backupId: WEB_BACKUPS[0], name: "keep" }), () => {});
    await account.session.client.updateImage(WEB_BACKUPS[0], { name: "renamed by hand" });
    expect((await readSnapshot(account.session, WEB_BACKUPS[0]))?.name).toBe("renamed by hand");
    await account.session.client.deleteImage(WEB_BACKUPS[0]);
    expect(await readSnapshot(account.session, WEB_BACKUPS[0])).toBeUndefined();
  });

  it("deletes the snapshot, and treats one already gone as done", async () => {
    await convergeSnapshot(account.session, spec({ backupId: WEB_BACKUPS[0] }), () => {});
    await deleteSnapshot(account.session, WEB_BACKUPS[0], budget(WAIT), () => {});
    await expect(account.session.client.getImage(WEB_BACKUPS[0])).rejects.toBeInstanceOf(ApiError);
    account.sim.resetRequests();
    await expect(deleteSnapshot(account.session, WEB_BACKUPS[0], budget(WAIT), () => {})).resolves.toBeUndefined();
    expect(account.writes()).toEqual([]);
  });

  it("never tries to delete an image that is still a backup", async () => {
    const { log, lines } = collectingLog();
    await deleteSnapshot(account.session, WEB_BACKUPS[3], budget(WAIT), log);
    expect(account.writes()).toEqual([]);
    expect(account.sim.state.imageView(WEB_BACKUPS[3])?.type).toBe("backup");
    expect(lines.join("\n")).toMatch(/still a backup/);
  });

  it("waits for a convert still in flight, then deletes the snapshot it made", async () => {
    // Paused until the delete has found the convert running, however slow the machine.
    account.simClock.pause();
    try {
      const timedOut = await convergeSnapshot(account.session, spec({ backupId: WEB_BACKUPS[2], waitTimeoutSeconds: 10 }), () => {}).catch((e: unknown) => e);
      expect(timedOut).toBeInstanceOf(IncompleteError);
      expect(account.sim.state.imageView(WEB_BACKUPS[2])?.type).toBe("backup");
      account.sim.resetRequests();
      const { log, lines } = collectingLog();

      const deleting = deleteSnapshot(account.session, WEB_BACKUPS[2], budget(WAIT), log);
      await until(() => lines.some((line) => line.includes("still running; waiting for it before deleting")), "the delete to wait for the convert");
      account.simClock.resume();
      await deleting;

      expect(account.sim.state.imageView(WEB_BACKUPS[2])).toBeUndefined();
      expect(account.writes().map((r) => `${r.method} ${r.path}`)).toEqual([`DELETE /v2/images/${WEB_BACKUPS[2]}`]);
      expect(converts(WEB_BACKUPS[2])).toBe(1);
    } finally {
      account.simClock.resume();
    }
  });

  it("deletes the snapshot made by a convert that completes between the image read and the action list read", async () => {
    await actionFinishingAfterNextImageRead(account, WEB_BACKUPS[1], { type: "convert" });

    await deleteSnapshot(account.session, WEB_BACKUPS[1], budget(WAIT), () => {});

    expect(account.sim.state.imageView(WEB_BACKUPS[1])).toBeUndefined();
    expect(account.writes().map((r) => `${r.method} ${r.path}`)).toEqual([`DELETE /v2/images/${WEB_BACKUPS[1]}`]);
  });

  it("refuses to delete while a convert outlives the wait, writing nothing", async () => {
    // Held by the paused simulator: the convert outlives both 10 s waits however slow the machine.
    account.simClock.pause();
    const big = account.sim.state.addBackup(WEB_DROPLET, { name: "web-01 big", size_gigabytes: 500 }).id;
    await convergeSnapshot(account.session, spec({ backupId: big, waitTimeoutSeconds: 10 }), () => {}).catch(() => undefined);
    account.sim.resetRequests();

    const error = await deleteSnapshot(account.session, big, budget(10), () => {}).catch((e: unknown) => e);

    expect((error as Error).message).toMatch(new RegExp(`cannot delete snapshot ${big} yet: its convert \\(action \\d+\\) was still running after 10 s`));
    expect(account.writes()).toEqual([]);
    expect(account.sim.state.imageView(big)?.type).toBe("backup");
    account.simClock.resume();
  });
});

describe.each(["existing", "requested"] as const)("tags in another capitalization than the account's, when POST /v2/tags answers the %s spelling", (spelling) => {
  let local: Account;
  beforeEach(async () => {
    local = await simulatedAccount({ tagAnswerSpelling: spelling });
  });
  afterEach(() => local.close());

  it("use the spelling DigitalOcean keeps, record it, and write nothing on the next run", async () => {
    await local.session.client.ensureTag("env:prod");
    const { log, lines } = collectingLog();
    const declared = spec({ backupId: WEB_BACKUPS[0], tags: ["ENV:PROD"] });
    const first = await convergeSnapshot(local.session, declared, log);

    expect(first.tags).toEqual(["env:prod"]);
    expect(local.sim.state.imageView(WEB_BACKUPS[0])?.tags).toEqual(["env:prod"]);
    expect(lines).toContain('tag "ENV:PROD" exists on the account as "env:prod" (DigitalOcean keeps the first spelling); tagging with "env:prod"');
    // The account's tag list is read only when the answer's spelling fails to tag.
    expect(local.sim.requests().filter((r) => r.route === "GET /v2/tags")).toHaveLength(spelling === "requested" ? 1 : 0);
    local.sim.resetRequests();
    await convergeSnapshot(local.session, { ...declared, knownActionId: first.actionId ?? undefined }, () => {});
    expect(local.writes()).toEqual([]);
  });
});
