import * as vault from "../../provider/dynamic/backup-vault";
import * as copy from "../../provider/dynamic/image-region-copy";
import * as snapshot from "../../provider/dynamic/snapshot-from-backup";
import { UNKNOWN } from "../../provider/inputs/unknown";

type Failure = { property: string; reason: string };
const failuresOf = (result: { failures?: readonly Failure[] }) => [...(result.failures ?? [])];

test("an input the resource does not have is refused, with the near name and the known ones", async () => {
  const [typo] = failuresOf(await copy.check({}, { imageId: 5, regions: ["ams3"], region: "sfo3", __provider: "serialized" }));
  expect(typo.property).toBe("region");
  expect(typo.reason).toContain('did you mean "regions"?');
  expect(typo.reason).toContain("imageId, regions, waitTimeoutSeconds");
  expect(failuresOf(await snapshot.check({}, { backupId: 5, waitTimeout: 60 })).map((f) => f.property)).toEqual(["waitTimeout"]);
  expect(failuresOf(await vault.check({}, { dropletId: 5, rotationKey: "k", keeps: 2 }))[0].reason).toContain('did you mean "keep"?');
  // Pulumi's own __provider and inputs left undefined are not the user's typos.
  expect(failuresOf(await copy.check({}, { imageId: 5, regions: ["ams3"], waitTimeoutSeconds: undefined, __provider: "x" }))).toEqual([]);
});

test("a name or description with a control character is refused", async () => {
  const failures = failuresOf(await snapshot.check({}, { backupId: 5, name: "web\nkeep", description: "tab\there" }));
  expect(failures.map((f) => f.property)).toEqual(["name", "description"]);
  expect(failures[0].reason).toContain("control character");
});

test("a tags list holding a value known only after apply still has its known tags checked", async () => {
  const failures = failuresOf(await snapshot.check({}, { backupId: 5, tags: [UNKNOWN, "bad tag"] }));
  expect(failures.map((f) => f.property)).toEqual(["tags[1]"]);
  expect((await snapshot.check({}, { backupId: 5, tags: [UNKNOWN, "ok"] })).inputs.tags).toEqual([UNKNOWN, "ok"]);
});

test("two spellings of one tag (tags ignore case) are refused", async () => {
  const [failure] = failuresOf(await snapshot.check({}, { backupId: 5, tags: ["Prod", "prod"] }));
  expect(failure).toMatchObject({ property: "tags[1]" });
  expect(failure.reason).toContain('the same DigitalOcean tag as "Prod"');
});

test("NaN and Infinity are shown as themselves, not as null", async () => {
  const [failure] = failuresOf(await snapshot.check({}, { backupId: 5, waitTimeoutSeconds: Number.NaN }));
  expect(failure.reason).toContain("got NaN");
  expect(failuresOf(await copy.check({}, { imageId: Number.POSITIVE_INFINITY, regions: ["ams3"] }))[0].reason).toContain("got Infinity");
});

test("a BackupVault namePattern whose name would exceed DigitalOcean's 255 characters is refused before any rotation", async () => {
  const [failure] = failuresOf(await vault.check({}, { dropletId: 3164494, rotationKey: "k".repeat(100), namePattern: `${"n".repeat(160)}-{key}` }));
  expect(failure.property).toBe("namePattern");
  expect(failure.reason).toMatch(/261 characters long .* at most 255/);
  expect(failuresOf(await vault.check({}, { dropletId: 3164494, rotationKey: "2026-W48", namePattern: `${"n".repeat(160)}-{key}` }))).toEqual([]);
});

test("a declared tag differing from the recorded one only in case is no change", async () => {
  const olds = { snapshotId: 1, backupId: 1, imageType: "snapshot", name: "n", description: "", tags: ["env:prod"], regions: ["nyc3"], sizeGigabytes: 1, minDiskSize: 1, createdAt: "", actionId: null };
  expect((await snapshot.diff("1", olds, { backupId: 1, tags: ["ENV:PROD"] })).changes).toBe(false);
  expect((await snapshot.diff("1", olds, { backupId: 1, tags: ["env:dev"] })).changes).toBe(true);
});

test("a wait timeout given as a string of digits, as pulumi.Config.get returns it, is accepted like an id", async () => {
  for (const check of [
    () => snapshot.check({}, { backupId: 5, waitTimeoutSeconds: "600" }),
    () => copy.check({}, { imageId: 5, regions: ["ams3"], waitTimeoutSeconds: " 600 " }),
    () => vault.check({}, { dropletId: 5, rotationKey: "k", waitTimeoutSeconds: "600" }),
  ]) {
    const result = await check();
    expect(failuresOf(result)).toEqual([]);
    // Normalized to a number, so diff sees no change against the number recorded before.
    expect(result.inputs.waitTimeoutSeconds).toBe(600);
  }
  expect(failuresOf(await copy.check({}, { imageId: 5, regions: ["ams3"], waitTimeoutSeconds: "5" }))[0].reason).toContain("from 10 to 86400");
});

describe("a well-formed region slug DigitalOcean did not have at release", () => {
  let lines: string[];
  beforeEach(() => {
    lines = [];
    jest.spyOn(console, "log").mockImplementation((line: string) => void lines.push(line));
  });
  afterEach(() => jest.restoreAllMocks());

  test("passes check with a warning naming the field, the value and the known slugs", async () => {
    const result = await copy.check({}, { imageId: 5, regions: ["ams3", "nyc4"] });
    expect(failuresOf(result)).toEqual([]);
    expect(result.inputs.regions).toEqual(["ams3", "nyc4"]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ImageRegionCopy: warning: regions\[1\] is "nyc4"/);
    expect(lines[0]).toContain("nyc1, nyc2, nyc3");
    expect(lines[0]).toContain("`pulumi up` refuses a region DigitalOcean does not list");
  });

  test("is warned about in a BackupVault's copyToRegions too", async () => {
    const result = await vault.check({}, { dropletId: 5, rotationKey: "k", copyToRegions: ["nyc4"] });
    expect(failuresOf(result)).toEqual([]);
    expect(lines).toEqual([expect.stringMatching(/^BackupVault: warning: copyToRegions\[0\] is "nyc4"/)]);
  });

  test("no warning for known regions or a region known only after apply", async () => {
    await copy.check({}, { imageId: 5, regions: ["ams3", "sfo3", "atl1", UNKNOWN] });
    await vault.check({}, { dropletId: 5, rotationKey: "k", copyToRegions: ["fra1"] });
    expect(lines).toEqual([]);
  });
});
