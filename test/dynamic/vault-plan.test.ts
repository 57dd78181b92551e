/**
 * What BackupVault's diff tells a reviewer about an update: which snapshots it
 * deletes and which copies it makes again, from the state alone.
 */
import { describeVaultPlan, planVaultUpdate, type VaultPlanState } from "../../provider/dynamic/vault-plan";
import { UNKNOWN } from "../../provider/inputs/unknown";
import type { Generation } from "../../provider/reconcile/vault";

const DROPLET = 3164494;

function generation(rotationKey: string, snapshotId: number, regions = ["ams3", "nyc3"]): Generation {
  return { rotationKey, dropletId: DROPLET, snapshotId, name: `web-${rotationKey}`, createdAt: "2025-06-04T04:11:37Z", regions, actionIds: [] };
}

/** Newest first, as the vault records them. */
const state: VaultPlanState = { generations: [generation("W3", 103), generation("W2", 102), generation("W1", 101)] };
const inputs = { dropletId: DROPLET, rotationKey: "W3", keep: 3, copyToRegions: ["ams3"] };
const retiredIds = (s: VaultPlanState, news: typeof inputs | Record<string, unknown>) => planVaultUpdate(s, { ...inputs, ...news }).retired?.map((g) => g.snapshotId);

it("an unchanged policy deletes nothing and says nothing", () => {
  const plan = planVaultUpdate(state, inputs);
  expect(plan).toEqual({ rotation: false, retired: [], missingCopies: [] });
  expect(describeVaultPlan(plan, 3)).toEqual([]);
});

it("a rotation at keep=3 deletes the oldest, since the new generation takes a place", () => {
  const plan = planVaultUpdate(state, { ...inputs, rotationKey: "W4" });
  expect(plan.rotation).toBe(true);
  expect(plan.retired?.map((g) => g.snapshotId)).toEqual([101]);
  expect(describeVaultPlan(plan, 3)).toEqual([
    'this update deletes 1 snapshot(s) beyond keep=3, after the new generation is kept and copied: snapshot 101 "web-W1" (generation W1) ' +
      "(none if the Droplet has no newer backup, fewer if a snapshot was deleted outside the vault)",
  ]);
});

it("keep lowered without a rotation deletes the generations beyond it, oldest last", () => {
  expect(retiredIds(state, { keep: 1 })).toEqual([102, 101]);
  expect(describeVaultPlan(planVaultUpdate(state, { ...inputs, keep: 1 }), 1)[0]).toContain("after the generations kept are copied");
});

it("a Droplet or key unknown in preview counts as a rotation", () => {
  expect(planVaultUpdate(state, { ...inputs, rotationKey: UNKNOWN }).rotation).toBe(true);
  expect(retiredIds(state, { dropletId: UNKNOWN })).toEqual([101]);
});

it("keep unknown in preview: says the update may delete, not which", () => {
  const plan = planVaultUpdate(state, { ...inputs, keep: UNKNOWN });
  expect(plan.retired).toBeUndefined();
  expect(describeVaultPlan(plan, UNKNOWN)).toEqual(["keep is not known until the update runs: the update may delete kept snapshots beyond it"]);
  expect(planVaultUpdate({ generations: [] }, { ...inputs, keep: UNKNOWN }).retired).toEqual([]);
});

it("a pending generation overtaken by a new key joins the list and can be retired in turn", () => {
  const pending: VaultPlanState = { generations: [generation("W2", 102)], pending: { rotationKey: "W3", dropletId: DROPLET, backupId: 103 } };
  expect(retiredIds(pending, { rotationKey: "W4", keep: 2 })).toEqual([102]);
  const plan = planVaultUpdate(pending, { ...inputs, rotationKey: "W4", keep: 1 });
  expect(describeVaultPlan(plan, 1)[0]).toContain("snapshot 103 (generation W3, its convert pending), snapshot 102");
  // The same key resumes it: it is the rotation itself, not an extra generation.
  expect(retiredIds(pending, { rotationKey: "W3", keep: 1 })).toEqual([102]);
});

it("a kept generation missing a declared region is reported; one about to be deleted is not", () => {
  const drifted: VaultPlanState = { generations: [generation("W3", 103), generation("W2", 102, ["nyc3"]), generation("W1", 101, ["nyc3"])] };
  const plan = planVaultUpdate(drifted, { ...inputs, keep: 2 });
  expect(plan.missingCopies.map(({ generation: g, region }) => [g.snapshotId, region])).toEqual([[102, "ams3"]]);
  expect(describeVaultPlan(plan, 2)).toContain('snapshot 102 "web-W2" (generation W2) is not in ams3: this update copies it there');
  expect(planVaultUpdate(drifted, { ...inputs, copyToRegions: UNKNOWN }).missingCopies).toEqual([]);
});
