import { DigitalOceanClient, type CallOptions } from "../../provider/client/client";
import type { Image } from "../../provider/api/types";
import { BackupNotFoundError, IncompleteError, SnapshotDeletedError, UnconfirmedNotFoundError } from "../../provider/reconcile/errors";
import { convergeRegionCopy } from "../../provider/reconcile/region-copy";
import { convergeSnapshot, deleteSnapshot, readSnapshot } from "../../provider/reconcile/snapshot";
import { createSession, type AccountSession } from "../../provider/session";
import { deadlineAfter } from "../../provider/waiter";
import { GOLDEN_SNAPSHOT, simulatedAccount, WEB_BACKUPS, WEB_DROPLET, type Account } from "../support/account";

let account: Account;
let misdirected: AccountSession;
beforeEach(async () => {
  account = await simulatedAccount();
  // A base path the API does not serve: every request answers 404, as a mangled endpoint's do.
  const client = new DigitalOceanClient({
    connection: { token: account.sim.token, apiEndpoint: `${account.sim.url}/proxy`, endpointSource: "stack config digitalocean:apiEndpoint" },
    clock: account.sim.clock,
  });
  misdirected = createSession(client, account.sim.clock);
});
afterEach(async () => {
  await misdirected.client.close();
  await account.close();
});

const WAIT = 3600;

describe("a 404 from an endpoint that does not reach DigitalOcean's API is never taken as 'gone'", () => {
  it("read and delete of an existing snapshot fail naming the endpoint, and nothing is deleted", async () => {
    for (const attempt of [() => readSnapshot(misdirected, GOLDEN_SNAPSHOT), () => deleteSnapshot(misdirected, GOLDEN_SNAPSHOT, deadlineAfter(misdirected.clock, WAIT), () => {})]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnconfirmedNotFoundError);
      expect((error as Error).message).toContain(`${account.sim.url}/proxy (stack config digitalocean:apiEndpoint)`);
    }
    expect(account.sim.state.imageView(GOLDEN_SNAPSHOT)).toBeDefined();
  });

  it("create does not blame the input: not imageId, backupId or dropletId", async () => {
    const attempts = [
      convergeRegionCopy(misdirected, { imageId: GOLDEN_SNAPSHOT, regions: ["ams3"], waitTimeoutSeconds: WAIT }, undefined, () => {}),
      convergeSnapshot(misdirected, { backupId: WEB_BACKUPS[0], waitTimeoutSeconds: WAIT }, () => {}),
      convergeSnapshot(misdirected, { dropletId: WEB_DROPLET, waitTimeoutSeconds: WAIT }, () => {}),
    ];
    for (const error of await Promise.all(attempts.map((p) => p.catch((e: unknown) => e)))) {
      expect(error).toBeInstanceOf(UnconfirmedNotFoundError);
      expect((error as Error).message).not.toMatch(/must name|check dropletId|has expired/);
    }
    expect(account.writes()).toEqual([]);
  });
});

describe("on an endpoint that reaches the account", () => {
  it("a missing image is reported gone after one access check per process, however many 404s follow", async () => {
    await account.session.client.deleteImage(GOLDEN_SNAPSHOT);
    expect(await readSnapshot(account.session, GOLDEN_SNAPSHOT)).toBeUndefined();
    expect(await readSnapshot(account.session, GOLDEN_SNAPSHOT)).toBeUndefined();
    await expect(convergeSnapshot(account.session, { backupId: GOLDEN_SNAPSHOT, waitTimeoutSeconds: WAIT }, () => {})).rejects.toBeInstanceOf(BackupNotFoundError);
    expect(account.sim.requests().filter((r) => r.route === "GET /v2/images")).toHaveLength(1);
  });

  it("a snapshot whose recorded convert the token cannot see is not reported gone", async () => {
    const error = await readSnapshot(account.session, 999_999_999, { actionIds: [2_100_000_000] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnconfirmedNotFoundError);
    expect((error as Error).message).toMatch(/another account's or team's token/);
  });

  it("an expired backup's advice fits the declaration: no 'set dropletId' when dropletId is declared", async () => {
    const declared = await convergeSnapshot(account.session, { backupId: 999_999_999, dropletId: WEB_DROPLET, waitTimeoutSeconds: WAIT }, () => {}).catch((e: unknown) => e);
    expect((declared as Error).message).toContain(`doctl compute droplet backups ${WEB_DROPLET}`);
    expect((declared as Error).message).not.toContain("set dropletId");
    const fixed = await convergeSnapshot(account.session, { backupId: 999_999_999, waitTimeoutSeconds: WAIT }, () => {}).catch((e: unknown) => e);
    expect((fixed as Error).message).toContain("set dropletId instead of backupId");
  });

  it("a snapshot deleted as soon as its convert completed is reported deleted, and the backup stays recorded", async () => {
    // The first read chooses the backup; before the read after the convert, someone deletes the new snapshot.
    class DeletedBeforeSecondRead extends DigitalOceanClient {
      private reads = 0;
      override async getImage(id: number, o?: CallOptions): Promise<Image> {
        if (++this.reads === 2) await this.deleteImage(id);
        return super.getImage(id, o);
      }
    }
    const client = new DeletedBeforeSecondRead({ connection: { token: account.sim.token, apiEndpoint: account.sim.url }, clock: account.sim.clock });
    try {
      const error = await convergeSnapshot(createSession(client, account.sim.clock), { backupId: WEB_BACKUPS[0], waitTimeoutSeconds: WAIT }, () => {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IncompleteError);
      expect((error as IncompleteError<unknown>).id).toBe(String(WEB_BACKUPS[0]));
      expect((error as Error).cause).toBeInstanceOf(SnapshotDeletedError);
      expect((error as Error).message).toMatch(new RegExp(`^snapshot ${WEB_BACKUPS[0]} was deleted outside this resource as soon as its convert \\(action \\d+\\) completed`));
    } finally {
      await client.close();
    }
  });
});
