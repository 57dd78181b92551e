import { findCompleted } from "../../provider/reconcile/actions";
import { CLOCK_MARGIN_MS, InFlightScan, LONGEST_ACTION_MS } from "../../provider/coalesce/in-flight-scan";
import type { AccountSession } from "../../provider/session";
import { ManualClock } from "../support/manual-clock";
import { FakeReads, settle, transfer } from "./fake-client";

const HOUR = 3_600_000;
let fake: FakeReads;
let clock: ManualClock;
let scan: InFlightScan;
beforeEach(() => {
  fake = new FakeReads();
  clock = new ManualClock();
  scan = new InFlightScan(fake.client, clock);
});

/** `count` actions on other images, started a minute apart going back from `newest`. */
function otherActions(count: number, newest: number): ReturnType<typeof transfer>[] {
  return Array.from({ length: count }, (_, i) => transfer(10_000 + i, 900 + (i % 50), "lon1", newest - i * 60_000, "completed"));
}

describe("InFlightScan", () => {
  it("asks the image's own action list for a lone image, as a single resource always has", async () => {
    fake.actions = [transfer(1, 7, "ams3", clock.now() - 60_000)];
    await expect(scan.actionsOf(7)).resolves.toMatchObject({ actions: [{ id: 1 }], complete: true });
    expect(fake.requests).toEqual(["GET /v2/images/7/actions"]);
  });

  it("answers images asked about at the same moment with one scan, finding a transfer an interrupted run left 20 hours ago", async () => {
    const now = clock.now();
    fake.actions = [transfer(3, 8, "sfo3", now - 60_000), transfer(2, 99, "ams3", now - 2 * HOUR), transfer(1, 7, "ams3", now - 20 * HOUR)];
    fake.autoGrant = false;
    const seven = scan.actionsOf(7);
    await settle();
    const eight = scan.actionsOf(8);
    const nine = scan.actionsOf(9);
    fake.grantSlots();
    await expect(seven).resolves.toMatchObject({ actions: [{ id: 1, status: "in-progress", region_slug: "ams3" }], complete: false });
    await expect(eight).resolves.toMatchObject({ actions: [{ id: 3 }] });
    await expect(nine).resolves.toEqual({ actions: [], complete: false });
    expect(fake.requests).toEqual(["GET /v2/actions?page=1"]);
  });

  it("stops at the page that reaches back past the longest an action can run", async () => {
    const horizon = clock.now() - LONGEST_ACTION_MS - CLOCK_MARGIN_MS;
    // 200 recent actions, then the 200th of them already older than the horizon, with more pages behind it.
    fake.actions = [...otherActions(199, clock.now()), transfer(500, 900, "lon1", horizon - 1, "completed"), ...otherActions(300, horizon - HOUR)];
    await Promise.all([7, 8, 9].map((id) => scan.actionsOf(id)));
    expect(fake.requests).toEqual(["GET /v2/actions?page=1"]);
  });

  it("reads every image's own list when the scan would need more pages than it saves, and skips the scan next time", async () => {
    // 600 actions in the last day: three pages, where three images' own lists cost three requests.
    fake.actions = otherActions(600, clock.now());
    await Promise.all([7, 8, 9].map((id) => scan.actionsOf(id)));
    expect(fake.requests).toEqual(["GET /v2/actions?page=1", "GET /v2/actions?page=2", "GET /v2/images/7/actions", "GET /v2/images/8/actions", "GET /v2/images/9/actions"]);
    fake.requests = [];
    await Promise.all([7, 8, 9].map((id) => scan.actionsOf(id)));
    expect(fake.requests).toEqual(["GET /v2/images/7/actions", "GET /v2/images/8/actions", "GET /v2/images/9/actions"]);
  });

  it("does not trust a scan when DigitalOcean's clock and this one disagree", async () => {
    fake.actions = [transfer(2, 8, "sfo3", clock.now() + CLOCK_MARGIN_MS + HOUR), transfer(1, 7, "ams3", clock.now() - HOUR)];
    const answers = await Promise.all([7, 8].map((id) => scan.actionsOf(id)));
    expect(answers.map((seen) => seen.actions.map((action) => action.id))).toEqual([[1], [2]]);
    expect(fake.requests).toEqual(["GET /v2/actions?page=1", "GET /v2/images/7/actions", "GET /v2/images/8/actions"]);
  });

  it("does not trust a scan showing an image action without the image's id", async () => {
    fake.actions = [{ ...transfer(2, 8, "sfo3", clock.now() - HOUR), resource_id: null }, transfer(1, 7, "ams3", clock.now() - HOUR)];
    await Promise.all([7, 8].map((id) => scan.actionsOf(id)));
    expect(fake.requests).toEqual(["GET /v2/actions?page=1", "GET /v2/images/7/actions", "GET /v2/images/8/actions"]);
  });

  it("ignores other resources' actions that carry the same number as an image", async () => {
    fake.actions = [{ ...transfer(2, 7, "sfo3", clock.now() - HOUR), type: "power_on", resource_type: "droplet" }, transfer(1, 7, "ams3", clock.now() - HOUR)];
    const [seven] = await Promise.all([7, 8].map((id) => scan.actionsOf(id)));
    expect(seven.actions.map((action) => action.id)).toEqual([1]);
  });
});

describe("findCompleted through the scan", () => {
  const CONVERT = { type: "convert" } as const;
  const convert = (id: number, imageId: number, startedAt: number) => ({ ...transfer(id, imageId, "", startedAt, "completed"), type: "convert", region_slug: null });
  const session = () => ({ client: fake.client, inFlight: scan }) as unknown as AccountSession;

  it("takes a completed convert the shared scan shows, and asks the image's own list only for images whose convert is older than the scan reaches", async () => {
    const old = clock.now() - LONGEST_ACTION_MS - CLOCK_MARGIN_MS - 30 * 24 * HOUR;
    // Page 1 reaches past the horizon; image 8's convert is on page 2, which the scan has no reason to read.
    fake.actions = [convert(2, 7, clock.now() - HOUR), ...otherActions(198, clock.now() - 2 * HOUR), transfer(501, 900, "lon1", old + HOUR, "completed"), convert(1, 8, old)];
    const [seven, eight] = await Promise.all([7, 8].map((id) => findCompleted(session(), id, CONVERT)));
    expect([seven?.id, eight?.id]).toEqual([2, 1]);
    expect(fake.requests).toEqual(["GET /v2/actions?page=1", "GET /v2/images/8/actions"]);
  });

  it("asks nothing more when the image's own list showed no convert", async () => {
    await expect(findCompleted(session(), 7, CONVERT)).resolves.toBeUndefined();
    expect(fake.requests).toEqual(["GET /v2/images/7/actions"]);
  });
});
