/**
 * The shim protocol fixtures: state as a released version of the package writes
 * it, for every resource kind, so each later version can prove it still serves
 * that state (see test/fixtures/shim-protocol/README.md).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { GOLDEN_SNAPSHOT, WEB_NEWEST_BACKUP } from "./account";
import { capture, type CapturedResource, type PropertyMap } from "./capture";
import { loadFromPackage, REPO_ROOT, type PreparedPackage } from "./package";
import type { EngineStack } from "./stack";

export const FIXTURE_DIR = path.join(REPO_ROOT, "test", "fixtures", "shim-protocol");
/** The Droplet the vault keeps (the seed's db-01), apart from the snapshot's web-01. */
export const VAULT_DROPLET = 3164495;

export interface ShimFixture {
  /** The package version that wrote this state. */
  packageVersion: string;
  /** The @pulumi/pulumi that serialized the shim. */
  sdkVersion: string;
  resources: FixtureResource[];
}

export interface FixtureResource {
  type: string;
  name: string;
  urn: string;
  id: string;
  /** Checked inputs, `__provider` (the serialized shim) included. */
  inputs: PropertyMap;
  /** Outputs as stored in state, `__provider` included. */
  outputs: PropertyMap;
}

/**
 * One resource of each kind, registered by the packed package's own classes,
 * so `__provider` is the text users' state holds. Resources are independent
 * (no input is another's output) and use the seed's fixed ids.
 */
export async function captureEachKind(pkg: PreparedPackage): Promise<CapturedResource[]> {
  const { SnapshotFromBackup, ImageRegionCopy, BackupVault } = loadFromPackage<typeof import("pulumi-digitalocean-image-actions")>(pkg);
  const { resources } = await capture(() => {
    new SnapshotFromBackup("kept", { backupId: WEB_NEWEST_BACKUP, name: "kept", description: "shim protocol fixture", tags: ["fixture"], waitTimeoutSeconds: 600 });
    new ImageRegionCopy("copies", { imageId: GOLDEN_SNAPSHOT, regions: ["ams3"], waitTimeoutSeconds: 600 });
    new BackupVault("vault", { dropletId: VAULT_DROPLET, rotationKey: "2026-W48", keep: 2, copyToRegions: ["ams3"], namePattern: "db-{key}", tags: ["fixture"] });
  });
  return resources;
}

export function fixtureOf(stack: EngineStack, packageVersion: string, sdkVersion: string): ShimFixture {
  return {
    packageVersion,
    sdkVersion,
    resources: [...stack.state.values()].map(({ type, name, urn, id, inputs, outputs }) => ({ type, name, urn, id, inputs, outputs })),
  };
}

export function readFixtures(): ShimFixture[] {
  return fs
    .readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(FIXTURE_DIR, f), "utf8")) as ShimFixture);
}

export function fixturePath(packageVersion: string): string {
  return path.join(FIXTURE_DIR, `${packageVersion}.json`);
}
