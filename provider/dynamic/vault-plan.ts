/**
 * What a BackupVault update will do that `pulumi preview` cannot show. The
 * engine shows the inputs that change (`keep: 4 => 2`), not which snapshots go,
 * and a dynamic provider's diff cannot add a detailed diff. What it can do is
 * write to its output: the CLI shows a dynamic provider's output as diagnostics,
 * in preview too, so it reaches a pull-request comment. The state holds the
 * generations, so `diff` works this out with no API call.
 */
import type { Generation } from "../reconcile/vault";
import { containsUnknown } from "../inputs/unknown";

type Planned = Pick<Generation, "rotationKey" | "dropletId" | "snapshotId"> & Partial<Pick<Generation, "name" | "regions">> & { pending?: true };

export interface VaultPlanInputs {
  dropletId: unknown;
  rotationKey: unknown;
  keep: unknown;
  copyToRegions: unknown;
}

export interface VaultPlanState {
  generations?: Generation[];
  pending?: { rotationKey: string; dropletId: number; backupId: number };
}

export interface VaultPlan {
  /** A new generation is due (or may be: an unknown key or Droplet). */
  rotation: boolean;
  /** Snapshots the update deletes, oldest last; undefined when there are some and `keep` is not known yet. */
  retired?: Planned[];
  /** Kept generations missing from a declared region, as "generation (snapshot) region". */
  missingCopies: { generation: Planned; region: string }[];
}

/**
 * Mirrors convergeVault's order: a pending generation overtaken by a new key
 * joins the list, a due rotation puts a new generation first, and everything
 * beyond `keep` is deleted. Fewer may go in the end: a snapshot deleted outside
 * the vault stops counting, and a rotation that finds no newer backup fails
 * before deleting anything.
 */
export function planVaultUpdate(olds: VaultPlanState, news: VaultPlanInputs): VaultPlan {
  const generations: Planned[] = [...(olds.generations ?? [])];
  const keyKnown = !containsUnknown(news.rotationKey) && !containsUnknown(news.dropletId);
  const pending = olds.pending;
  if (pending && !(keyKnown && pending.rotationKey === news.rotationKey && pending.dropletId === news.dropletId)) {
    generations.unshift({ rotationKey: pending.rotationKey, dropletId: pending.dropletId, snapshotId: pending.backupId, pending: true });
  }
  const newest = generations[0];
  const rotation = !keyKnown || !newest || newest.rotationKey !== news.rotationKey || newest.dropletId !== news.dropletId;
  const keep = typeof news.keep === "number" ? news.keep : undefined;
  // The new generation takes one of the `keep` places.
  const stays = keep === undefined ? generations : generations.slice(0, rotation ? keep - 1 : keep);
  const retired = keep !== undefined ? generations.slice(stays.length) : generations.length > 0 ? undefined : [];
  const regions = Array.isArray(news.copyToRegions) && !containsUnknown(news.copyToRegions) ? (news.copyToRegions as string[]) : [];
  // A generation recorded without regions (written before they were kept) cannot be compared.
  const missingCopies = stays.flatMap((generation) =>
    generation.regions === undefined ? [] : regions.filter((region) => !generation.regions?.includes(region)).map((region) => ({ generation, region })),
  );
  return { rotation, retired, missingCopies };
}

/** The lines `diff` writes for a reviewer; none when the update deletes and copies nothing. */
export function describeVaultPlan(plan: VaultPlan, keep: unknown): string[] {
  const lines: string[] = [];
  if (plan.retired === undefined) {
    lines.push("keep is not known until the update runs: the update may delete kept snapshots beyond it");
  } else if (plan.retired.length > 0) {
    const after = plan.rotation ? "after the new generation is kept and copied" : "after the generations kept are copied";
    const caveat = plan.rotation ? "none if the Droplet has no newer backup, fewer" : "fewer";
    lines.push(
      `this update deletes ${plan.retired.length} snapshot(s) beyond keep=${String(keep)}, ${after}: ${plan.retired.map(describeGeneration).join(", ")} ` +
        `(${caveat} if a snapshot was deleted outside the vault)`,
    );
  }
  for (const { generation, region } of plan.missingCopies) lines.push(`${describeGeneration(generation)} is not in ${region}: this update copies it there`);
  return lines;
}

function describeGeneration(generation: Planned): string {
  const name = generation.name === undefined ? "" : ` "${generation.name}"`;
  const pending = generation.pending ? ", its convert pending" : "";
  return `snapshot ${generation.snapshotId}${name} (generation ${generation.rotationKey}${pending})`;
}
