import * as copy from "../../provider/dynamic/image-region-copy";
import { captureConfig } from "../../provider/dynamic/context";
import { GOLDEN_SNAPSHOT, simulatedAccount, type Account } from "../support/account";

let account: Account;
beforeAll(async () => {
  account = await simulatedAccount();
});
afterAll(() => account.close());

const config = () => captureConfig({ get: (key) => ({ "digitalocean:token": account.sim.token, "digitalocean:apiEndpoint": account.sim.url })[key] });

/** What ImageRegionCopy's state holds after it copied the golden snapshot (in nyc3) to `regions`. */
const stateClaiming = (regions: string[]): copy.RegionCopyState => ({
  imageId: GOLDEN_SNAPSHOT,
  regions,
  availableRegions: [...new Set(["nyc3", ...regions])].sort(),
  transferredRegions: regions.filter((r) => r !== "nyc3"),
  actionIds: [],
  waitTimeoutSeconds: 600,
});

describe("ImageRegionCopy read (refresh)", () => {
  it("returns the inputs as they now hold when a declared region is missing, so the diff shows it", async () => {
    const result = await copy.read(String(GOLDEN_SNAPSHOT), stateClaiming(["ams3", "nyc3"]), config());

    expect(result.props).toMatchObject({ regions: ["ams3", "nyc3"], availableRegions: ["nyc3"] });
    expect(result.inputs).toEqual({ imageId: GOLDEN_SNAPSHOT, regions: ["nyc3"], waitTimeoutSeconds: 600 });
    const next = await copy.diff(String(GOLDEN_SNAPSHOT), result.props as copy.RegionCopyState, { imageId: GOLDEN_SNAPSHOT, regions: ["ams3", "nyc3"] });
    expect(next).toMatchObject({ changes: true, replaces: [] });
  });

  it("leaves the inputs alone when every declared region is there", async () => {
    const result = await copy.read(String(GOLDEN_SNAPSHOT), stateClaiming(["nyc3"]), config());

    expect(result.inputs).toBeUndefined();
    expect(account.writes()).toEqual([]);
  });
});
