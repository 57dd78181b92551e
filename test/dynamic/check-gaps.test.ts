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
