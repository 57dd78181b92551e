import { convergeRegionCopy } from "../../provider/reconcile/region-copy";
import { convergeSnapshot } from "../../provider/reconcile/snapshot";
import { GOLDEN_SNAPSHOT, simulatedAccount, WEB_BACKUPS, type Account } from "../support/account";

let account: Account;
beforeEach(async () => {
  account = await simulatedAccount();
});
afterEach(() => account.close());

/** The routes of the reads sent before the first action was started. */
function readsBeforeFirstStart(): (string | null)[] {
  const requests = account.sim.requests();
  const firstStart = requests.findIndex((r) => r.route === "POST /v2/images/:id/actions");
  return requests.slice(0, firstStart).map((r) => r.route);
}

function routes(route: string): number {
  return account.sim.requests().filter((r) => r.route === route).length;
}

describe("reads shared between resources", () => {
  it("a lone snapshot reads its image and its own action list, as before", async () => {
    await convergeSnapshot(account.session, { backupId: WEB_BACKUPS[0], waitTimeoutSeconds: 3600 }, () => {});
    expect(readsBeforeFirstStart()).toEqual(["GET /v2/images/:id", "GET /v2/images/:id/actions"]);
  });

  it("a lone copy reads its image, its own action list and the regions, as before", async () => {
    await convergeRegionCopy(account.session, { imageId: GOLDEN_SNAPSHOT, regions: ["ams3"], waitTimeoutSeconds: 3600 }, undefined, () => {});
    expect(readsBeforeFirstStart()).toEqual(["GET /v2/images/:id", "GET /v2/regions", "GET /v2/images/:id/actions"]);
  });

  it("snapshots converging at once read one list page and one action scan, not a GET and a listing each", async () => {
    await Promise.all(WEB_BACKUPS.map((backupId) => convergeSnapshot(account.session, { backupId, waitTimeoutSeconds: 3600 }, () => {})));
    expect(readsBeforeFirstStart()).toEqual(["GET /v2/images", "GET /v2/actions"]);
    expect(routes("GET /v2/images/:id/actions")).toBe(0);
    expect(routes("POST /v2/images/:id/actions")).toBe(WEB_BACKUPS.length);
    expect(WEB_BACKUPS.map((id) => account.sim.state.imageView(id)?.type)).toEqual(WEB_BACKUPS.map(() => "snapshot"));
  });
});
