import { captureConfig } from "../../provider/dynamic/context";
import * as snapshot from "../../provider/dynamic/snapshot-from-backup";
import { resetSessions } from "../../provider/session";
import { simulatedAccount, WEB_DROPLET, type Account } from "../support/account";

let account: Account;
beforeAll(async () => {
  account = await simulatedAccount();
});
afterAll(async () => {
  await resetSessions();
  await account.close();
});

const config = () => captureConfig({ get: (key) => ({ "digitalocean:token": account.sim.token, "digitalocean:apiEndpoint": account.sim.url })[key] });
const EXPIRED = 100_000_199;

/** A dropletId resource whose first run chose backup EXPIRED and failed before converting it; then DigitalOcean expired it. */
const pinnedToExpired: snapshot.SnapshotState = {
  snapshotId: EXPIRED,
  backupId: EXPIRED,
  imageType: "backup",
  name: "web-01 2025-05-01",
  description: "",
  tags: [],
  regions: ["nyc3"],
  sizeGigabytes: 3.3,
  minDiskSize: 25,
  createdAt: "2025-05-01T04:10:00Z",
  actionId: null,
  dropletId: WEB_DROPLET,
  triggers: { week: "2025-W18" },
};

it("an update pinned to a backup that expired before it was kept says how to move on, and refresh makes that possible", async () => {
  const error = (await snapshot.update(String(EXPIRED), pinnedToExpired, { dropletId: WEB_DROPLET, triggers: { week: "2025-W19" } }, config()).catch((e: unknown) => e)) as Error;
  expect(error.message).toContain(`backup ${EXPIRED} was not found`);
  expect(error.message).toContain("pulumi up --refresh");
  expect(error.message).not.toContain("set dropletId instead of backupId");
  expect(account.writes()).toEqual([]);

  // The refresh that advice runs reports the resource gone, so the next up creates it from the newest backup.
  expect(await snapshot.read(String(EXPIRED), pinnedToExpired, config())).toEqual({});
});
