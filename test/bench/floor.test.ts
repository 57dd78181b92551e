import { floorMs, minimalRequests, minimalRequestsOfClients, physicalFloorMs, rateFloorMs, shareOf, type ClientShare } from "../../bench/floor";
import { buildScenario, COPY_REGIONS, TAG } from "../../bench/scenario";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The full bench's larger run: 1,000 snapshots copied to 3 regions, 100 backups kept, renamed and tagged. */
const THOUSAND_COPIES: ClientShare = { images: 1100, converts: 100, transfers: 3000, renames: 100, tags: 1, accountImages: 1100, actionsToScan: 0 };

describe("rateFloorMs", () => {
  it("answers a minute's burst at once, then one burst a minute, then waits out the hour", () => {
    expect(rateFloorMs(0)).toBe(0);
    expect(rateFloorMs(250)).toBe(0);
    expect(rateFloorMs(251)).toBe(MINUTE);
    expect(rateFloorMs(5_000)).toBe(19 * MINUTE);
    expect(rateFloorMs(5_001)).toBe(HOUR);
    expect(rateFloorMs(5_251)).toBe(HOUR + MINUTE);
  });

  it("is the longest action when the requests fit in less", () => {
    expect(floorMs(300, 5 * MINUTE)).toBe(5 * MINUTE);
    expect(floorMs(3_000, 5 * MINUTE)).toBe(11 * MINUTE);
  });
});

describe("minimalRequests", () => {
  it("counts each action, rename and tag once, a list page per 200 images, one scan page and the pages that confirm the actions", () => {
    expect(minimalRequests(THOUSAND_COPIES)).toEqual({
      writes: 3000 + 100 + 100 + 2,
      imageReads: 6,
      actionScan: 1,
      confirmations: 6,
      total: 3215,
    });
  });

  it("confirms through the action list when that takes fewer pages than the images", () => {
    const converts = minimalRequests({ images: 1000, converts: 300, transfers: 0, renames: 0, tags: 0, accountImages: 1000, actionsToScan: 0 });
    expect(converts.confirmations).toBe(2);
  });

  it("reads one image by id, and its own action list, when the account has more pages than the client has images", () => {
    const one = minimalRequests({ images: 1, converts: 0, transfers: 3, renames: 0, tags: 0, accountImages: 5000, actionsToScan: 900 });
    expect(one).toEqual({ writes: 3, imageReads: 1, actionScan: 1, confirmations: 1, total: 6 });
  });

  it("scans back to the oldest action still in progress", () => {
    expect(minimalRequests({ ...THOUSAND_COPIES, actionsToScan: 450 }).actionScan).toBe(3);
  });

  it("needs no scan and no confirmation when nothing is to be started", () => {
    const adoption = minimalRequests({ images: 300, converts: 0, transfers: 0, renames: 0, tags: 0, accountImages: 300, actionsToScan: 0 });
    expect(adoption).toEqual({ writes: 0, imageReads: 2, actionScan: 0, confirmations: 0, total: 2 });
  });

  it("needs nothing when nothing is declared", () => {
    expect(minimalRequests({ images: 0, converts: 0, transfers: 0, renames: 0, tags: 0, accountImages: 300, actionsToScan: 0 }).total).toBe(0);
  });

  it("charges each client sharing a token its own reads and tag creation", () => {
    const quarter: ClientShare = { images: 50, converts: 25, transfers: 75, renames: 25, tags: 1, accountImages: 200, actionsToScan: 0 };
    const whole: ClientShare = { images: 200, converts: 100, transfers: 300, renames: 100, tags: 1, accountImages: 200, actionsToScan: 0 };
    expect(minimalRequests(whole).total).toBe(502 + 1 + 1 + 1);
    expect(minimalRequestsOfClients([quarter, quarter, quarter, quarter])).toBe(4 * (127 + 1 + 1 + 1));
  });
});

describe("physicalFloorMs", () => {
  it("adds the longest action to the time the limits need for the minimal requests", () => {
    expect(physicalFloorMs(3215, 5 * MINUTE)).toBe(12 * MINUTE + 5 * MINUTE);
    expect(physicalFloorMs(6000, 5 * MINUTE)).toBe(HOUR + 3 * MINUTE + 5 * MINUTE);
  });
});

describe("shareOf", () => {
  it("derives the share of a bench scenario from its seed and declarations", () => {
    const scenario = buildScenario({ label: "test", copies: 3, snapshots: 2 });
    expect(shareOf(scenario.seed, scenario.declarations)).toEqual({
      images: 5,
      converts: 2,
      transfers: 3 * COPY_REGIONS.length,
      renames: 2,
      tags: 1,
      accountImages: 5,
      actionsToScan: 0,
    });
  });

  it("leaves out what the account already has, and counts an image declared twice once", () => {
    const scenario = buildScenario({ label: "test", copies: 1, snapshots: 1 });
    const [copy, snapshot] = scenario.declarations;
    const seed = structuredClone(scenario.seed);
    seed.images![0].regions!.push(COPY_REGIONS[0]);
    const backup = seed.droplets![0].backups![0];
    seed.images!.push({ ...backup, type: "snapshot", droplet_id: seed.droplets![0].id, tags: [TAG.toUpperCase()] });
    seed.droplets![0].backups = [];
    if (snapshot.kind !== "SnapshotFromBackup") throw new Error("the scenario declares copies first");
    seed.images![1].name = snapshot.inputs.name;
    expect(shareOf(seed, [copy, copy, snapshot])).toEqual({
      images: 2,
      converts: 0,
      transfers: COPY_REGIONS.length - 1,
      renames: 0,
      tags: 0,
      accountImages: 2,
      actionsToScan: 0,
    });
  });

  it("refuses a declared image the seed does not name", () => {
    const scenario = buildScenario({ label: "test", copies: 1, snapshots: 0 });
    expect(() => shareOf({}, scenario.declarations)).toThrow(/image 200000001 is declared but not seeded/);
  });
});
