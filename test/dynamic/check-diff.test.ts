import * as vault from "../../provider/dynamic/backup-vault";
import * as copy from "../../provider/dynamic/image-region-copy";
import * as snapshot from "../../provider/dynamic/snapshot-from-backup";
import { UNKNOWN } from "../../provider/inputs/unknown";

const snapshotState: snapshot.SnapshotState = {
  snapshotId: 111,
  backupId: 111,
  imageType: "snapshot",
  name: "web-keep",
  description: "kept",
  tags: ["dr", "prod"],
  regions: ["nyc3"],
  sizeGigabytes: 2.5,
  minDiskSize: 25,
  createdAt: "2026-11-20T04:00:00Z",
  actionId: 9,
};

const copyState: copy.RegionCopyState = {
  imageId: 222,
  regions: ["ams3", "sfo3"],
  availableRegions: ["ams3", "nyc3", "sfo3"],
  transferredRegions: ["ams3", "sfo3"],
  actionIds: [1, 2],
};

function properties(result: { failures?: readonly { property: string }[] }): string[] {
  return (result.failures ?? []).map((f) => f.property);
}

describe("SnapshotFromBackup check", () => {
  it("requires exactly one of backupId and dropletId", async () => {
    const neither = await snapshot.check({}, {});
    expect(neither.failures).toEqual([{ property: "backupId", reason: expect.stringContaining("neither is set") }]);
    const both = await snapshot.check({}, { backupId: 1, dropletId: 2 });
    expect(both.failures).toEqual([{ property: "dropletId", reason: expect.stringContaining("backupId 1, dropletId 2") }]);
  });

  it("normalizes ids given as digit strings, the way @pulumi/digitalocean exposes them", async () => {
    const result = await snapshot.check({}, { dropletId: "3164494" });
    expect(result.failures).toEqual([]);
    expect(result.inputs).toEqual({ dropletId: 3164494 });
  });

  it.each([["abc"], [-5], [1.5], [0], [true]])("refuses backupId %p, naming the field, the value and where to find ids", async (value) => {
    const result = await snapshot.check({}, { backupId: value });
    expect(properties(result)).toEqual(["backupId"]);
    const reason = result.failures![0].reason;
    expect(reason).toContain(JSON.stringify(value));
    expect(reason).toContain("doctl");
  });

  it("refuses triggers with a pinned backupId, since there is nothing newer to rotate to", async () => {
    const result = await snapshot.check({}, { backupId: 5, triggers: { week: "2026-W48" } });
    expect(properties(result)).toEqual(["triggers"]);
    expect(result.failures![0].reason).toContain("dropletId");
  });

  it("reports every failure at once", async () => {
    const result = await snapshot.check({}, { backupId: "x", name: "", tags: ["ok", "bad tag"], waitTimeoutSeconds: 5 });
    expect(properties(result).sort()).toEqual(["backupId", "name", "tags[1]", "waitTimeoutSeconds"]);
    expect(result.failures!.find((f) => f.property === "tags[1]")!.reason).toContain('"bad tag"');
    expect(result.failures!.find((f) => f.property === "waitTimeoutSeconds")!.reason).toContain("default of 3600");
  });

  it("sorts and de-duplicates tags", async () => {
    const result = await snapshot.check({}, { backupId: 7, tags: ["b", "a", "b"] });
    expect(result.inputs!.tags).toEqual(["a", "b"]);
  });

  it("lets preview's unknown values through unchanged", async () => {
    const result = await snapshot.check({}, { dropletId: UNKNOWN, name: UNKNOWN, tags: [UNKNOWN] });
    expect(result.failures).toEqual([]);
    expect(result.inputs).toEqual({ dropletId: UNKNOWN, name: UNKNOWN, tags: [UNKNOWN] });
  });
});

describe("SnapshotFromBackup diff", () => {
  it("reports no change when the declared inputs match the state", async () => {
    const result = await snapshot.diff("111", snapshotState, { backupId: 111, name: "web-keep", tags: ["prod", "dr"] });
    expect(result).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it("replaces for a different backup, Droplet or triggers", async () => {
    expect((await snapshot.diff("111", snapshotState, { backupId: 112 })).replaces).toEqual(["backupId"]);
    expect((await snapshot.diff("111", { ...snapshotState, dropletId: 5 }, { dropletId: 6 })).replaces).toEqual(["dropletId"]);
    const rotated = await snapshot.diff("111", { ...snapshotState, dropletId: 5, triggers: { week: "W47" } }, { dropletId: 5, triggers: { week: "W48" } });
    expect(rotated).toMatchObject({ changes: true, replaces: ["triggers"] });
  });

  it("keeps the snapshot when a dropletId resource is pinned to the backup it already converted", async () => {
    const result = await snapshot.diff("111", { ...snapshotState, dropletId: 5 }, { backupId: 111 });
    expect(result.replaces).toEqual([]);
    // Its triggers go with dropletId; a replacement would adopt the same snapshot and then delete it.
    const rotating = await snapshot.diff("111", { ...snapshotState, dropletId: 5, triggers: { week: "W47" } }, { backupId: 111 });
    expect(rotating.replaces).toEqual([]);
  });

  it("updates in place for name, description, tags and timeout", async () => {
    for (const news of [{ name: "other" }, { description: "new" }, { tags: ["dr"] }, { waitTimeoutSeconds: 600 }]) {
      const result = await snapshot.diff("111", snapshotState, { backupId: 111, ...news });
      expect(result).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    }
  });

  it("owes an update to a snapshot whose convert had not finished, even with nothing declared changed", async () => {
    const unfinished = { ...snapshotState, imageType: "backup" };
    expect(await snapshot.diff("111", unfinished, { backupId: 111 })).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it("rotates an unfinished snapshot in place: a replacement would convert the same newest backup, then delete it", async () => {
    const unfinished = { ...snapshotState, imageType: "backup", dropletId: 5, triggers: { week: "W47" } };
    const rotated = await snapshot.diff("111", unfinished, { dropletId: 5, triggers: { week: "W48" } });
    expect(rotated).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it("leaves undeclared attributes alone", async () => {
    const result = await snapshot.diff("111", snapshotState, { backupId: 111 });
    expect(result.changes).toBe(false);
  });

  it("treats unknown values as changes, and as replacements where the field forces one", async () => {
    expect(await snapshot.diff("111", snapshotState, { backupId: 111, name: UNKNOWN })).toMatchObject({ changes: true, replaces: [] });
    expect(await snapshot.diff("111", snapshotState, { backupId: UNKNOWN as unknown as number })).toMatchObject({ changes: true, replaces: ["backupId"] });
    expect(await snapshot.diff("111", { ...snapshotState, dropletId: 5 }, { dropletId: 5, triggers: { week: UNKNOWN } })).toMatchObject({
      changes: true,
      replaces: ["triggers"],
    });
  });
});

describe("ImageRegionCopy check", () => {
  it("requires imageId and at least one region", async () => {
    const result = await copy.check({}, { regions: [] });
    expect(properties(result)).toEqual(["imageId", "regions"]);
  });

  it("names the offending element of regions", async () => {
    const result = await copy.check({}, { imageId: 1, regions: ["ams3", "NYC 3"] });
    expect(result.failures).toEqual([{ property: "regions[1]", reason: expect.stringContaining('"NYC 3"') }]);
  });

  it("sorts and de-duplicates regions and normalizes the id", async () => {
    const result = await copy.check({}, { imageId: "42", regions: ["sfo3", "ams3", "sfo3"] });
    expect(result.inputs).toEqual({ imageId: 42, regions: ["ams3", "sfo3"] });
  });

  it("accepts unknown regions during preview", async () => {
    expect((await copy.check({}, { imageId: 1, regions: UNKNOWN })).failures).toEqual([]);
    expect((await copy.check({}, { imageId: UNKNOWN, regions: ["ams3", UNKNOWN] })).failures).toEqual([]);
  });
});

describe("ImageRegionCopy diff", () => {
  it("reports no change for the same regions in another order", async () => {
    expect((await copy.diff("222", copyState, { imageId: 222, regions: ["sfo3", "ams3"] })).changes).toBe(false);
  });

  it("replaces only for another image", async () => {
    expect(await copy.diff("222", copyState, { imageId: 223, regions: ["ams3", "sfo3"] })).toMatchObject({ changes: true, replaces: ["imageId"] });
  });

  it("updates in place when a region is added or removed", async () => {
    expect(await copy.diff("222", copyState, { imageId: 222, regions: ["ams3", "sfo3", "sgp1"] })).toMatchObject({ changes: true, replaces: [] });
    expect(await copy.diff("222", copyState, { imageId: 222, regions: ["ams3"] })).toMatchObject({ changes: true, replaces: [] });
  });

  it("reports drift: a declared region the image is no longer in", async () => {
    const drifted = { ...copyState, availableRegions: ["ams3", "nyc3"] };
    expect(await copy.diff("222", drifted, { imageId: 222, regions: ["ams3", "sfo3"] })).toMatchObject({ changes: true, replaces: [] });
  });

  it("treats unknown regions as a change and an unknown image as a replacement", async () => {
    expect(await copy.diff("222", copyState, { imageId: 222, regions: UNKNOWN as unknown as string[] })).toMatchObject({ changes: true, replaces: [] });
    expect(await copy.diff("222", copyState, { imageId: UNKNOWN as unknown as number, regions: ["ams3", "sfo3"] })).toMatchObject({
      changes: true,
      replaces: ["imageId"],
    });
  });
});

describe("every check failure names the field, the value and the fix", () => {
  type Check = (olds: unknown, news: Record<string, unknown>) => ReturnType<typeof snapshot.check>;
  const cases: [string, Check, Record<string, unknown>, string, string[]][] = [
    ["dropletId not an id", snapshot.check, { dropletId: "web" }, "dropletId", ['"web"', "doctl compute droplet list"]],
    ["name not a string", snapshot.check, { backupId: 1, name: 5 }, "name", ["must be a string, got 5"]],
    ["name too long", snapshot.check, { backupId: 1, name: "n".repeat(256) }, "name", ["256 characters", "at most 255"]],
    ["description too long", snapshot.check, { backupId: 1, description: "d".repeat(1025) }, "description", ["1025 characters", "at most 1024"]],
    ["tags not a list", snapshot.check, { backupId: 1, tags: "dr" }, "tags", ['got "dr"', "must be a list of tag names", 'write ["dr"]']],
    ["copyToRegions not a list", vault.check, { dropletId: 1, rotationKey: "k", copyToRegions: "ams3" }, "copyToRegions", ["must be a list of region slugs", 'got "ams3"', 'write ["ams3"]']],
    ["vault tags not a list", vault.check, { dropletId: 1, rotationKey: "k", tags: "backup-vault" }, "tags", ['got "backup-vault"', 'write ["backup-vault"]']],
    ["wait a string of other than digits", copy.check, { imageId: 1, regions: ["ams3"], waitTimeoutSeconds: "10m" }, "waitTimeoutSeconds", ['got "10m"', "a string of digits"]],
    ["wait beyond a day", snapshot.check, { backupId: 1, waitTimeoutSeconds: 90000 }, "waitTimeoutSeconds", ["90000", "10 to 86400", "default of 3600"]],
    ["both ids, one not known yet", snapshot.check, { backupId: 1, dropletId: UNKNOWN }, "dropletId", ["backupId 1", "dropletId (a value known only after apply)", "exactly one"]],
    ["imageId not an id", copy.check, { imageId: "img", regions: ["ams3"] }, "imageId", ['"img"', "doctl compute image list-user"]],
    ["regions not a list", copy.check, { imageId: 1, regions: "ams3" }, "regions", ["must be a list of region slugs", 'got "ams3"', 'write ["ams3"]']],
    ["regions neither a list nor a string", copy.check, { imageId: 1, regions: 3 }, "regions", ["must be a list of region slugs", "got 3", '["ams3", "sfo3"]']],
    ["a region in capitals", copy.check, { imageId: 1, regions: ["AMS3"] }, "regions[0]", ['"AMS3"', "doctl compute region list"]],
    ["copy wait too short", copy.check, { imageId: 1, regions: ["ams3"], waitTimeoutSeconds: 5 }, "waitTimeoutSeconds", ["got 5", "10 to 86400"]],
  ];

  it.each(cases)("%s", async (_title, check, news, property, fragments) => {
    const result = await check({}, news);

    expect(properties(result)).toEqual([property]);
    for (const fragment of fragments) expect(result.failures![0].reason).toContain(fragment);
    expect(result.failures![0].reason).not.toContain(UNKNOWN);
  });
});
