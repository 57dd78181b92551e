import { DigitalOceanError } from "../../provider/errors";
import { IncompleteError } from "../../provider/reconcile/errors";
import { convergeRegionCopy, readRegionCopy, type RegionCopyObservation, type RegionCopySpec } from "../../provider/reconcile/region-copy";
import { convergeSnapshot } from "../../provider/reconcile/snapshot";
import { listImageActions, startOrJoin, waitLogged } from "../../provider/reconcile/actions";
import { deadlineAfter } from "../../provider/waiter";
import { actionFinishingAfterNextImageRead, collectingLog, GOLDEN_SNAPSHOT, sessionFor, simulatedAccount, WEB_BACKUPS, type Account } from "../support/account";
import { until } from "../support/until";

let account: Account;
beforeEach(async () => {
  account = await simulatedAccount();
});
afterEach(() => account.close());

function transfers(region?: string): number {
  return account.sim.state.listActions(GOLDEN_SNAPSHOT).filter((a) => a.type === "transfer" && (!region || a.region_slug === region)).length;
}

function spec(regions: string[], overrides: Partial<RegionCopySpec> = {}): RegionCopySpec {
  return { imageId: GOLDEN_SNAPSHOT, regions, waitTimeoutSeconds: 3600, ...overrides };
}

describe("convergeRegionCopy", () => {
  it("adopts regions the image is in and transfers the rest in parallel", async () => {
    // Paused until both transfers are posted, so neither can finish first however far apart the posts are in real time.
    account.simClock.pause();
    const converging = convergeRegionCopy(account.session, spec(["ams3", "nyc3", "sfo3"]), undefined, () => {});
    await until(() => account.sim.state.listActions(GOLDEN_SNAPSHOT).length === 2, "both transfers to start");
    account.simClock.resume();
    const result = await converging;
    expect(result).toMatchObject<Partial<RegionCopyObservation>>({
      imageId: GOLDEN_SNAPSHOT,
      availableRegions: ["ams3", "nyc3", "sfo3"],
      transferredRegions: ["ams3", "sfo3"],
    });
    expect(result.actionIds).toHaveLength(2);
    expect(transfers()).toBe(2);
    const posts = account.writes().filter((r) => r.route === "POST /v2/images/:id/actions");
    expect(posts).toHaveLength(2);
    // Both transfers were started before either finished: they ran in parallel.
    const completions = account.sim.state.listActions(GOLDEN_SNAPSHOT).map((a) => Date.parse(a.completed_at!));
    expect(Math.max(...posts.map((p) => p.clockMs))).toBeLessThan(Math.min(...completions));
  });

  it("reads the image's action list once for all its missing regions", async () => {
    await convergeRegionCopy(account.session, spec(["ams3", "sfo3", "sgp1"]), undefined, () => {});
    expect(account.sim.requestCounts().byRoute["GET /v2/images/:id/actions"]).toBe(1);
    expect(transfers()).toBe(3);
  });

  it("writes nothing when run again", async () => {
    const first = await convergeRegionCopy(account.session, spec(["ams3", "sfo3"]), undefined, () => {});
    account.sim.resetRequests();
    const second = await convergeRegionCopy(account.session, spec(["ams3", "sfo3"]), first, () => {});
    expect(account.writes()).toEqual([]);
    expect(second).toEqual(first);
  });

  it("joins a transfer that completes between the image read and the action list read, with no POST", async () => {
    const transfer = await actionFinishingAfterNextImageRead(account, GOLDEN_SNAPSHOT, { type: "transfer", region: "ams3" });
    const { log, lines } = collectingLog();

    const result = await convergeRegionCopy(account.session, spec(["ams3"]), undefined, log);

    expect(account.writes()).toEqual([]);
    expect(result).toMatchObject<Partial<RegionCopyObservation>>({ availableRegions: ["ams3", "nyc3"], transferredRegions: ["ams3"], actionIds: [transfer.id] });
    expect(transfers("ams3")).toBe(1);
    expect(lines).toContain(`transfer of image ${GOLDEN_SNAPSHOT} to ams3: joining action ${transfer.id} completed since the image was read`);
  });

  it("joins a transfer already in flight instead of starting another", async () => {
    // Paused until the run has found the transfer in progress, however long that takes.
    account.simClock.pause();
    try {
      const inFlight = await account.session.client.startImageAction(GOLDEN_SNAPSHOT, { type: "transfer", region: "ams3" });
      account.sim.resetRequests();
      const { log, lines } = collectingLog();
      const converging = convergeRegionCopy(account.session, spec(["ams3"]), undefined, log);
      await until(() => lines.includes(`transfer of image ${GOLDEN_SNAPSHOT} to ams3: joining action ${inFlight.id} already in progress`), "the run to join the transfer");
      account.simClock.resume();
      const result = await converging;
      expect(account.writes()).toEqual([]);
      expect(result.actionIds).toEqual([inFlight.id]);
      expect(transfers("ams3")).toBe(1);
    } finally {
      account.simClock.resume();
    }
  });

  // Separate processes POSTing at the same instant stay at one action only where the API refuses the
  // duplicate: the simulator's assumption, switched on here (DigitalOcean documents no such refusal).
  it("ends with one transfer per region when two pipelines declare the same copies, where the API refuses duplicates", async () => {
    await account.close();
    account = await simulatedAccount({ refuseDuplicateActions: true });
    const other = sessionFor(account.sim);
    await Promise.all([
      convergeRegionCopy(account.session, spec(["ams3", "sfo3"]), undefined, () => {}),
      convergeRegionCopy(other, spec(["ams3", "sfo3"]), undefined, () => {}),
    ]);
    await other.client.close();
    expect(transfers("ams3")).toBe(1);
    expect(transfers("sfo3")).toBe(1);
  });

  it("refuses unknown, unavailable and non-transfer regions before writing anything", async () => {
    const attempt = convergeRegionCopy(account.session, spec(["ams3", "nyc2", "sfo1", "xyz9"]), undefined, () => {});
    await expect(attempt).rejects.toBeInstanceOf(DigitalOceanError);
    await expect(attempt).rejects.toThrow(/"nyc2".*does not accept image transfers.*"sfo1".*not available.*"xyz9" is not a DigitalOcean region.*Regions that accept transfers: .*ams3/s);
    expect(account.writes()).toEqual([]);
  });

  it("refuses a backup, which DigitalOcean cannot transfer, and points to SnapshotFromBackup", async () => {
    await expect(convergeRegionCopy(account.session, spec(["ams3"], { imageId: WEB_BACKUPS[0] }), undefined, () => {})).rejects.toThrow(/SnapshotFromBackup/);
    expect(account.writes()).toEqual([]);
  });

  it("keeps completed copies when one transfer errors, and the next run retries only that region", async () => {
    account.sim.setFaults({ erroredActionRate: 1, routes: ["POST /v2/images/:id/actions"] });
    const attempt = convergeRegionCopy(account.session, spec(["ams3"]), undefined, () => {});
    const error = (await attempt.catch((e: unknown) => e)) as IncompleteError<RegionCopyObservation>;
    expect(error).toBeInstanceOf(IncompleteError);
    expect(error.id).toBe(String(GOLDEN_SNAPSHOT));
    expect(error.message).toMatch(/transfer of image 100000010 to ams3/);

    account.sim.setFaults({});
    const { log } = collectingLog();
    const done = await convergeRegionCopy(account.session, spec(["ams3", "sfo3"]), error.state, log);
    expect(done.availableRegions).toEqual(["ams3", "nyc3", "sfo3"]);
    expect(transfers("ams3")).toBe(2);
    expect(transfers("sfo3")).toBe(1);
  });

  it("reports a timeout as incomplete; the next run joins the transfers still running", async () => {
    // Paused until the next run polls the transfers, so they are still running when it finds them.
    account.simClock.pause();
    const error = (await convergeRegionCopy(account.session, spec(["ams3", "sfo3"], { waitTimeoutSeconds: 10 }), undefined, () => {}).catch((e: unknown) => e)) as IncompleteError<RegionCopyObservation>;
    expect(error).toBeInstanceOf(IncompleteError);
    expect(error.message).toMatch(/Run `pulumi up` again to resume waiting \(nothing is transferred twice\), or raise waitTimeoutSeconds \(now 10\)\.$/);
    // One line per transfer, and the advice once for both.
    expect(error.message.match(/goes on at DigitalOcean/g)).toHaveLength(2);
    expect(error.message.match(/again/g)).toHaveLength(1);
    expect(error.state.actionIds).toHaveLength(2);
    account.sim.resetRequests();
    const next = convergeRegionCopy(account.session, spec(["ams3", "sfo3"]), error.state, () => {});
    await until(() => account.sim.requests().some((r) => r.route === "GET /v2/actions"), "the next run to poll the transfers");
    account.simClock.resume();
    const done = await next;
    expect(done.transferredRegions).toEqual(["ams3", "sfo3"]);
    expect(transfers()).toBe(2);
  });

  it("records completed transfers from their actions, without reading the image again", async () => {
    const result = await convergeRegionCopy(account.session, spec(["ams3", "sfo3"]), undefined, () => {});
    expect(result.availableRegions).toEqual(["ams3", "nyc3", "sfo3"]);
    const imageReads = account.sim.requests().filter((r) => r.route === "GET /v2/images/:id" || r.route === "GET /v2/images");
    expect(imageReads).toHaveLength(1);
  });

  it("keeps the record of completed transfers when another errors and reading the image back fails", async () => {
    const image = account.sim.state.addImage({ name: "dr-source", type: "snapshot", regions: ["nyc3"] }).id;
    account.sim.state.failNextAction(image);
    // Paused until the read-back is broken, so both transfers are still running when it breaks however slow the machine.
    account.simClock.pause();
    try {
      const attempt = convergeRegionCopy(account.session, { imageId: image, regions: ["ams3", "sfo3"], waitTimeoutSeconds: 3600 }, undefined, () => {});
      await until(() => account.sim.state.listActions(image).length === 2, "both transfers to start");
      account.sim.setFaults({ serverErrorRate: 1, routes: ["GET /v2/images/:id"] });
      account.simClock.resume();

      const error = (await attempt.catch((e: unknown) => e)) as IncompleteError<RegionCopyObservation>;

      account.sim.setFaults({});
      expect(error).toBeInstanceOf(IncompleteError);
      const completed = account.sim.state.listActions(image).find((a) => a.status === "completed")!;
      expect(error.state).toMatchObject({ imageId: image, transferredRegions: [completed.region_slug], availableRegions: [completed.region_slug, "nyc3"].sort() });
      expect(account.sim.requests().filter((r) => r.route === "GET /v2/images/:id" && r.status === 500).length).toBeGreaterThan(0);
      const done = await convergeRegionCopy(account.session, { imageId: image, regions: ["ams3", "sfo3"], waitTimeoutSeconds: 3600 }, error.state, () => {});
      expect(done).toMatchObject({ availableRegions: ["ams3", "nyc3", "sfo3"], transferredRegions: ["ams3", "sfo3"] });
      expect(account.sim.state.listActions(image)).toHaveLength(3);
    } finally {
      account.simClock.resume();
    }
  });
});

describe("readRegionCopy", () => {
  it("reads the regions back and reports a deleted image gone", async () => {
    const transfer = await account.session.client.startImageAction(GOLDEN_SNAPSHOT, { type: "transfer", region: "ams3" });
    await account.sim.clock.sleep(121_000);
    const previous = { transferredRegions: ["ams3"], actionIds: [transfer.id] };
    expect(await readRegionCopy(account.session, GOLDEN_SNAPSHOT, previous)).toEqual({ imageId: GOLDEN_SNAPSHOT, availableRegions: ["ams3", "nyc3"], ...previous });
    await account.session.client.deleteImage(GOLDEN_SNAPSHOT);
    expect(await readRegionCopy(account.session, GOLDEN_SNAPSHOT, previous)).toBeUndefined();
  });
});

describe("two resources of one run asking for the same copy", () => {
  it("start one transfer per region between them, though the simulator accepts duplicates as DigitalOcean may", async () => {
    const spec = { imageId: GOLDEN_SNAPSHOT, regions: ["ams3", "sfo3"], waitTimeoutSeconds: 3600 };
    const { log, lines } = collectingLog();
    const [a, b] = await Promise.all([convergeRegionCopy(account.session, spec, undefined, log), convergeRegionCopy(account.session, spec, undefined, log)]);

    expect(account.sim.state.listActions(GOLDEN_SNAPSHOT).map((action) => action.region_slug).sort()).toEqual(["ams3", "sfo3"]);
    expect(a.actionIds).toEqual(b.actionIds);
    expect(lines.filter((line) => line.includes("started for another resource in this run"))).toHaveLength(2);
  });

  it("keep the retry of an errored transfer joined when a resource still waiting on the errored one gives up", async () => {
    const request = { type: "transfer", region: "ams3" } as const;
    account.sim.state.failNextAction(GOLDEN_SNAPSHOT);
    const errored = await startOrJoin(account.session, GOLDEN_SNAPSHOT, request, () => {});
    const joined = await startOrJoin(account.session, GOLDEN_SNAPSHOT, request, () => {});
    expect(joined.id).toBe(errored.id);
    await expect(waitLogged(account.session, errored, GOLDEN_SNAPSHOT, request, deadlineAfter(account.session.clock, 3600), () => {})).rejects.toThrow(/ended errored/);

    // A resource reads the image's actions (only the errored one), another starts the retry, then the
    // resource that joined the errored action finishes waiting for it.
    // Paused from before the retry starts, so it is still in progress at the end however slow the machine.
    account.simClock.pause();
    try {
      const readBeforeRetry = await listImageActions(account.session, GOLDEN_SNAPSHOT);
      const retry = await startOrJoin(account.session, GOLDEN_SNAPSHOT, request, () => {});
      await expect(waitLogged(account.session, joined, GOLDEN_SNAPSHOT, request, deadlineAfter(account.session.clock, 3600), () => {})).rejects.toThrow(/ended errored/);

      const late = await startOrJoin(account.session, GOLDEN_SNAPSHOT, request, () => {}, readBeforeRetry);
      expect(late.id).toBe(retry.id);
      expect(account.sim.state.listActions(GOLDEN_SNAPSHOT).map((a) => [a.id, a.status])).toEqual([
        [retry.id, "in-progress"],
        [errored.id, "errored"],
      ]);
    } finally {
      account.simClock.resume();
    }
  });

  it("and two keeping the same backup start one convert", async () => {
    const spec = { backupId: WEB_BACKUPS[0], waitTimeoutSeconds: 3600 };
    await Promise.all([convergeSnapshot(account.session, spec, () => {}), convergeSnapshot(account.session, spec, () => {})]);
    expect(account.sim.state.listActions(WEB_BACKUPS[0]).filter((action) => action.type === "convert")).toHaveLength(1);
  });
});

describe("an errored transfer", () => {
  it("reads as one sentence with advice that fits, and an image deleted meanwhile is not worth retrying", async () => {
    account.sim.state.failNextAction(GOLDEN_SNAPSHOT);
    const error = (await convergeRegionCopy(account.session, { imageId: GOLDEN_SNAPSHOT, regions: ["ams3"], waitTimeoutSeconds: 3600 }, undefined, () => {}).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(IncompleteError);
    expect(error.message).not.toContain("..");
    expect(error.message).toContain("Run `pulumi up` again to retry the failed regions");

    // Paused until the image is deleted, so the deletion lands while the second transfer is still running.
    account.simClock.pause();
    try {
      const transfer = convergeRegionCopy(account.session, { imageId: GOLDEN_SNAPSHOT, regions: ["ams3"], waitTimeoutSeconds: 3600 }, undefined, () => {});
      await until(() => account.sim.state.listActions(GOLDEN_SNAPSHOT).some((a) => a.status === "in-progress"), "the second transfer to start");
      await account.session.client.deleteImage(GOLDEN_SNAPSHOT);
      account.simClock.resume();
      await expect(transfer).rejects.toThrow(/was deleted while it was being transferred, so there is nothing left to copy/);
    } finally {
      account.simClock.resume();
    }
  });

  it("whose region the image has all the same, copied by another pipeline meanwhile, is recorded as copied", async () => {
    const other = sessionFor(account.sim);
    try {
      account.simClock.pause();
      account.sim.state.failNextAction(GOLDEN_SNAPSHOT);
      const { log, lines } = collectingLog();
      const ours = convergeRegionCopy(account.session, spec(["ams3"]), undefined, log);
      await until(() => transfers("ams3") === 1, "this resource's transfer to start");
      // DigitalOcean is not documented to refuse a second transfer in flight; the simulator by default accepts it.
      await other.client.startImageAction(GOLDEN_SNAPSHOT, { type: "transfer", region: "ams3" });
      account.simClock.resume();

      const result = await ours;
      expect(account.sim.state.listActions(GOLDEN_SNAPSHOT).map((a) => a.status).sort()).toEqual(["completed", "errored"]);
      expect(result).toMatchObject({ availableRegions: ["ams3", "nyc3"], transferredRegions: ["ams3"] });
      expect(lines).toContainEqual(expect.stringMatching(/transfer of image \d+ to ams3: .*ended errored.*, but the image is in ams3; counted as copied$/));
    } finally {
      account.simClock.resume();
      await other.client.close();
    }
  });
});
