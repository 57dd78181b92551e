/**
 * What a reviewer reads in the pull-request comment (`pulumi preview --diff`)
 * for each pull request a user of this package would open, and what the merge
 * (`pulumi up`) then does. Each preview runs, as in CI, in its own provider
 * process configured without a token, and must send no API request; each
 * merge runs in the stack's usual, configured process.
 *
 * The preview shows the plan (create, update, replace, same), the inputs whose
 * values change (the engine's own diff of old and new inputs) and what the
 * provider writes during `diff` (the CLI's diagnostics).
 */
import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { isDeepStrictEqual } from "node:util";
import { BackupVault, ImageRegionCopy, SnapshotFromBackup } from "pulumi-digitalocean-image-actions";
import { startEngineAccount, WEB_DROPLET, WEB_NEWEST_BACKUP, type EngineAccount } from "./account";
import { EngineStack, startDynamicProvider, UNKNOWN, upProgram, type DynamicProviderServer, type PropertyMap, type Step } from "./harness";
import { previewProgram } from "./preview-program";
import { nightlyBackup } from "../support/account";

let account: EngineAccount;
/** What the CI job that previews pull requests has: the stack's endpoint, no token. */
let previewer: DynamicProviderServer;

beforeAll(async () => {
  account = await startEngineAccount();
  previewer = await startDynamicProvider({
    cwd: account.pkg.dir,
    env: { DIGITALOCEAN_TOKEN: undefined, DIGITALOCEAN_ACCESS_TOKEN: undefined },
    config: { "digitalocean:apiEndpoint": account.sim.url },
  });
}, 120_000);

afterAll(async () => {
  await previewer?.close();
  await account?.close();
});

beforeEach(() => {
  account.resetLogs();
  previewer.clearLogs();
});

interface Review {
  /** "op name" per resource of this package, as the preview lists them. */
  plan: string[];
  /** Per resource with an update or replace: the inputs whose values change, and what diff decided. */
  changes: Record<string, { inputs: string[]; replaces: string[] }>;
  /** The checked inputs of every resource, as the preview shows a create. */
  inputs: Record<string, PropertyMap | undefined>;
}

/** Resolves once the preview's diagnostics (the provider's output) contain `text`. */
const said = (text: string) => previewer.waitForLog(text);

/** `pulumi preview --diff` of `program` against `stack`, in the token-less preview process. */
async function review(stack: EngineStack, program: () => unknown): Promise<Review> {
  const olds = new Map([...stack.state.values()].map((r) => [r.urn, r.inputs]));
  stack.provider = previewer;
  let steps: Step[];
  try {
    ({ steps } = await previewProgram(stack, program));
  } finally {
    stack.provider = account.server;
  }
  expect(account.sim.requests()).toEqual([]);
  const changes: Review["changes"] = {};
  for (const step of steps) {
    if (step.op !== "update" && step.op !== "replace") continue;
    const old = olds.get(step.urn) ?? {};
    const keys = [...new Set([...Object.keys(old), ...Object.keys(step.inputs ?? {})])].filter((k) => k !== "__provider");
    changes[step.name] = { inputs: keys.filter((k) => !isDeepStrictEqual(old[k], step.inputs?.[k])).sort(), replaces: step.diff?.replaces ?? [] };
  }
  const inputs = Object.fromEntries(steps.map((s) => [s.name, s.inputs]));
  return { plan: steps.map((s) => `${s.op} ${s.name}`), changes, inputs };
}

const writes = () => account.writePaths();

const actionPost = (id: number) => `POST /v2/images/${id}/actions`;
const deletion = (id: number) => `DELETE /v2/images/${id}`;

describe("the dr-copy program: the web Droplet's newest backup kept each week and copied", () => {
  let stack: EngineStack;
  const program = (o: { week: string; regions: string[]; dropletId?: pulumi.Input<number | string>; name?: string; copyById?: boolean }) => () => {
    const kept = new SnapshotFromBackup("web-weekly", { dropletId: o.dropletId ?? WEB_DROPLET, name: o.name ?? `web-${o.week}`, triggers: { week: o.week } });
    new ImageRegionCopy("web-weekly-dr", { imageId: o.copyById ? kept.id : kept.snapshotId, regions: o.regions });
  };

  beforeAll(async () => {
    stack = new EngineStack(account.server);
    await upProgram(stack, program({ week: "2025-W23", regions: ["ams3", "sfo3"] }));
  });

  it("adds a region: an update of regions, no replacement; the merge starts one transfer", async () => {
    const next = program({ week: "2025-W23", regions: ["ams3", "sfo3", "lon1"] });

    const seen = await review(stack, next);

    expect(seen.plan).toEqual(["same web-weekly", "update web-weekly-dr"]);
    expect(seen.changes).toEqual({ "web-weekly-dr": { inputs: ["regions"], replaces: [] } });
    await upProgram(stack, next);
    expect(writes()).toEqual([actionPost(WEB_NEWEST_BACKUP)]);
    expect(account.sim.state.imageView(WEB_NEWEST_BACKUP)?.regions.sort()).toEqual(["ams3", "lon1", "nyc3", "sfo3"]);
  });

  it("removes a region: an update of regions that writes nothing, and the copy stays", async () => {
    const next = program({ week: "2025-W23", regions: ["ams3", "sfo3"] });

    const seen = await review(stack, next);

    expect(seen.plan).toEqual(["same web-weekly", "update web-weekly-dr"]);
    expect(seen.changes).toEqual({ "web-weekly-dr": { inputs: ["regions"], replaces: [] } });
    await upProgram(stack, next);
    expect(writes()).toEqual([]);
    expect(account.sim.state.imageView(WEB_NEWEST_BACKUP)?.regions).toContain("lon1");
    await account.server.waitForLog(`no longer declaring lon1: DigitalOcean cannot remove an image from one region, so those copies stay`);
  });

  it("replaces the Droplet, whose new id is unknown at preview: a replacement of both, said to delete the snapshot", async () => {
    const seen = await review(stack, () => {
      const web = new digitalocean.Droplet("web", { image: "ubuntu-24-04-x64", region: "nyc3", size: "s-1vcpu-1gb", backups: true });
      program({ week: "2025-W23", regions: ["ams3", "sfo3"], dropletId: web.id })();
    });

    expect(seen.plan).toEqual(["replace web-weekly", "replace web-weekly-dr"]);
    expect(seen.changes).toEqual({
      "web-weekly": { inputs: ["dropletId"], replaces: ["dropletId"] },
      "web-weekly-dr": { inputs: ["imageId"], replaces: ["imageId"] },
    });
    await said(
      `SnapshotFromBackup ${WEB_NEWEST_BACKUP}: replacing it (dropletId changed) deletes snapshot ${WEB_NEWEST_BACKUP} "web-2025-W23" at the end of the update unless the resource has retainOnDelete`,
    );
  });

  it("moves triggers to the next week: a replacement; the merge keeps the new backup and deletes the old snapshot", async () => {
    const backup = nightlyBackup(account.sim, 9);
    const next = program({ week: "2025-W24", regions: ["ams3", "sfo3"] });

    const seen = await review(stack, next);

    expect(seen.plan).toEqual(["replace web-weekly", "replace web-weekly-dr"]);
    expect(seen.changes["web-weekly"]).toEqual({ inputs: ["name", "triggers"], replaces: ["triggers"] });
    // The new snapshot's id is not known before the merge: the copy follows it.
    expect(seen.changes["web-weekly-dr"]).toEqual({ inputs: ["imageId"], replaces: ["imageId"] });
    await said(`replacing it (triggers changed) deletes snapshot ${WEB_NEWEST_BACKUP} "web-2025-W23"`);

    await upProgram(stack, next);
    expect(writes().filter((w) => w.startsWith("DELETE"))).toEqual([deletion(WEB_NEWEST_BACKUP)]);
    expect(account.sim.state.imageView(WEB_NEWEST_BACKUP)).toBeUndefined();
    expect(stack.get("web-weekly").outputs).toMatchObject({ snapshotId: backup, imageType: "snapshot", name: "web-2025-W24" });
    expect(account.sim.state.imageView(backup)?.regions.sort()).toEqual(["ams3", "nyc3", "sfo3"]);
  });

  it("renames the snapshot: an update; a copy wired to snapshotId previews as a replacement the merge does not make, one wired to id as the same", async () => {
    const snapshot = Number(stack.get("web-weekly").id);
    const renamed = { week: "2025-W24", regions: ["ams3", "sfo3"], name: "web-2025-W24-dr" };

    // An update's outputs in preview are its new inputs, and snapshotId is not one of them; its id is kept.
    const bySnapshotId = await review(stack, program(renamed));
    expect(bySnapshotId.plan).toEqual(["update web-weekly", "replace web-weekly-dr"]);
    expect(bySnapshotId.changes["web-weekly-dr"]).toEqual({ inputs: ["imageId"], replaces: ["imageId"] });
    const byId = await review(stack, program({ ...renamed, copyById: true }));
    expect(byId.plan).toEqual(["update web-weekly", "same web-weekly-dr"]);

    const { steps } = await upProgram(stack, program(renamed));
    expect(steps.map((step) => `${step.op} ${step.name}`)).toEqual(["update web-weekly", "same web-weekly-dr"]);
    expect(writes()).toEqual([`PUT /v2/images/${snapshot}`]);
  });
});

describe("a golden image pinned by backupId, kept with retainOnDelete", () => {
  const FIRST = 100000101;
  const SECOND = 100000102;
  let stack: EngineStack;
  const program = (backupId: number) => () => {
    const golden = new SnapshotFromBackup("golden", { backupId, name: "golden" }, { retainOnDelete: true });
    new ImageRegionCopy("golden-dr", { imageId: golden.snapshotId, regions: ["ams3"] });
  };

  beforeAll(async () => {
    stack = new EngineStack(account.server);
    await upProgram(stack, program(FIRST));
  });

  it("changes backupId: a replacement of both; the merge keeps the old snapshot and its copy", async () => {
    const seen = await review(stack, program(SECOND));

    expect(seen.plan).toEqual(["replace golden", "replace golden-dr"]);
    expect(seen.changes).toEqual({
      golden: { inputs: ["backupId"], replaces: ["backupId"] },
      "golden-dr": { inputs: ["imageId"], replaces: ["imageId"] },
    });
    // The provider cannot see retainOnDelete, so it says what happens without it.
    await said(`SnapshotFromBackup ${FIRST}: replacing it (backupId changed) deletes snapshot ${FIRST} "golden" at the end of the update unless the resource has retainOnDelete`);

    await upProgram(stack, program(SECOND));
    expect(writes().filter((w) => w.startsWith("DELETE"))).toEqual([]);
    expect(account.sim.state.imageView(FIRST)).toMatchObject({ type: "snapshot", regions: expect.arrayContaining(["ams3", "nyc3"]) });
    expect(account.sim.state.imageView(SECOND)).toMatchObject({ type: "snapshot", name: "golden", regions: expect.arrayContaining(["ams3", "nyc3"]) });
  });
});

describe("a BackupVault keeping three daily generations of a Droplet", () => {
  const DROPLET = 3164700;
  let stack: EngineStack;
  const snapshots: number[] = [];
  const program = (day: number, keep: number) => () => {
    new BackupVault("db-vault", { dropletId: DROPLET, rotationKey: `2025-06-${day}`, keep, copyToRegions: ["ams3"], namePattern: "db-{key}" });
  };
  const backup = (day: number) =>
    account.sim.state.addBackup(DROPLET, { name: `db-02 2025-06-${day}`, created_at: `2025-06-${day}T04:10:00Z`, size_gigabytes: 1 }).id;

  beforeAll(async () => {
    account.sim.state.addDroplet({ id: DROPLET, name: "db-02", region: "nyc3", backups: [] });
    stack = new EngineStack(account.server);
    for (const day of [11, 12, 13]) {
      snapshots.unshift(backup(day));
      await upProgram(stack, program(day, 3));
    }
    expect(stack.get("db-vault").outputs.generations).toHaveLength(3);
  });

  it("rotates after the backup window: an update of rotationKey that names the snapshot it deletes", async () => {
    const newest = backup(14);
    const oldest = snapshots.at(-1)!;

    const seen = await review(stack, program(14, 3));

    expect(seen.plan).toEqual(["update db-vault"]);
    expect(seen.changes).toEqual({ "db-vault": { inputs: ["rotationKey"], replaces: [] } });
    await said(
      `BackupVault backup-vault-${DROPLET}: this update deletes 1 snapshot(s) beyond keep=3, after the new generation is kept and copied: ` +
        `snapshot ${oldest} "db-2025-06-11" (generation 2025-06-11)`,
    );

    await upProgram(stack, program(14, 3));
    expect(writes().filter((w) => w.startsWith("DELETE"))).toEqual([deletion(oldest)]);
    snapshots.pop();
    snapshots.unshift(newest);
    expect(stack.get("db-vault").outputs.retiredSnapshotIds).toEqual([oldest]);
  });

  it("lowers keep to 1: an update of keep that names both snapshots it deletes, and the merge deletes exactly those", async () => {
    const [, second, third] = snapshots;

    const seen = await review(stack, program(14, 1));

    expect(seen.plan).toEqual(["update db-vault"]);
    expect(seen.changes).toEqual({ "db-vault": { inputs: ["keep"], replaces: [] } });
    await said(
      `this update deletes 2 snapshot(s) beyond keep=1, after the generations kept are copied: ` +
        `snapshot ${second} "db-2025-06-13" (generation 2025-06-13), snapshot ${third} "db-2025-06-12" (generation 2025-06-12)`,
    );

    await upProgram(stack, program(14, 1));
    // Deleted at once, so in either order.
    expect(writes().sort()).toEqual([deletion(second), deletion(third)].sort());
  });
});

describe("a new Droplet and the resources built on it", () => {
  it("plans creates with the Droplet's id unknown, and needs neither a request nor a token", async () => {
    const stack = new EngineStack(account.server);

    const seen = await review(stack, () => {
      const api = new digitalocean.Droplet("api", { image: "ubuntu-24-04-x64", region: "nyc3", size: "s-1vcpu-1gb", backups: true });
      const kept = new SnapshotFromBackup("api-weekly", { dropletId: api.id, triggers: { week: "2025-W23" } });
      new ImageRegionCopy("api-weekly-dr", { imageId: kept.snapshotId, regions: ["ams3"] });
      new BackupVault("api-vault", { dropletId: api.id, rotationKey: "2025-W23", copyToRegions: ["ams3"] });
    });

    expect(seen.plan.sort()).toEqual(["create api-vault", "create api-weekly", "create api-weekly-dr"]);
    expect(seen.inputs["api-weekly"]).toMatchObject({ dropletId: UNKNOWN, triggers: { week: "2025-W23" } });
    expect(seen.inputs["api-weekly-dr"]).toMatchObject({ imageId: UNKNOWN, regions: ["ams3"] });
    expect(seen.inputs["api-vault"]).toMatchObject({ dropletId: UNKNOWN, keep: 4 });
    expect(stack.state.size).toBe(0);
  });
});
