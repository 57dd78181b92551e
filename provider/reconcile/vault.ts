import { DigitalOceanError } from "../errors";
import type { AccountSession } from "../session";
import { deadlineAfter, type Deadline } from "../waiter/deadline";
import { BackupNotFoundError, IncompleteError, SnapshotDeletedError } from "./errors";
import type { Log } from "./progress";
import { convergeRegionCopy } from "./region-copy";
import { convergeSnapshot, deleteSnapshot, readSnapshot, type BackupChoice, type SnapshotAttributes, type SnapshotObservation } from "./snapshot";

/** What a program declares for a Droplet's backup policy, after `check` normalized it. */
export interface VaultSpec {
  dropletId: number;
  rotationKey: string;
  keep: number;
  copyToRegions: string[];
  namePattern: string;
  tags?: string[];
  waitTimeoutSeconds: number;
  /** The budget of the operation; without one, `waitTimeoutSeconds` from now. */
  deadline?: Deadline;
}

/** The spec with the operation's deadline, which every wait of one converge shares. */
type Budgeted = VaultSpec & { deadline: Deadline };

/** One kept snapshot of the vault. */
export interface Generation {
  /** The rotation key the generation was made for. */
  rotationKey: string;
  /** The Droplet the backup came from. */
  dropletId: number;
  /** The snapshot's id. */
  snapshotId: number;
  /** The snapshot's name. */
  name: string;
  /** When the backup was taken (ISO 8601). */
  createdAt: string;
  /** Every region the snapshot is in. */
  regions: string[];
  /** The convert and transfer actions made for it. */
  actionIds: number[];
}

export interface VaultObservation {
  /** Newest first; at most `keep` long, except after a run that stopped before retiring the ones beyond it. */
  generations: Generation[];
  /** Snapshots this run deleted because they fell beyond `keep`. */
  retiredSnapshotIds: number[];
  /** A generation whose convert did not finish yet: the next run resumes it with the same backup. */
  pending?: { rotationKey: string; dropletId: number; backupId: number };
}

const RUN_AGAIN = "Run `pulumi up` again to finish; nothing done so far is repeated.";

/** The vault's resource id: stable for its life, even if it later follows another Droplet. */
export function vaultId(dropletId: number): string {
  return `backup-vault-${dropletId}`;
}

/** Fills `{dropletId}` and `{key}` in the naming pattern. */
export function renderName(pattern: string, dropletId: number, rotationKey: string): string {
  return pattern.replaceAll("{dropletId}", String(dropletId)).replaceAll("{key}", rotationKey);
}

/**
 * Brings the vault to its declared policy, reusing the snapshot and copy
 * reconcilers: a rotation key (or Droplet) the newest generation was not made
 * for starts a new generation from the Droplet's newest backup; every kept
 * generation is named, tagged and copied as declared; generations beyond
 * `keep` are deleted. Only snapshots recorded in `previous` are ever deleted,
 * so snapshots made elsewhere are never touched.
 *
 * One deadline bounds every wait of the run: a pending convert, then the
 * rotation's, then the copies of every kept generation at once, then the
 * deletions at once. A phase that ends incomplete ends the run, so what comes
 * after it waits for the next run.
 */
export async function convergeVault(session: AccountSession, vaultSpec: VaultSpec, previous: VaultObservation | undefined, log: Log): Promise<VaultObservation> {
  const spec: Budgeted = { ...vaultSpec, deadline: vaultSpec.deadline ?? deadlineAfter(session.clock, vaultSpec.waitTimeoutSeconds) };
  let generations = [...(previous?.generations ?? [])];
  const pending = previous?.pending;
  const resumable = pending?.rotationKey === spec.rotationKey && pending.dropletId === spec.dropletId ? pending : undefined;
  if (pending && !resumable) generations = await keepOvertakenPending(session, pending, generations, spec, log);
  generations = await rotate(session, spec, generations, resumable, log);
  const { kept, beyondKeep } = await refreshGenerations(session, spec, generations, log);
  return retire(session, spec, kept, beyondKeep, log);
}

/**
 * A pending generation whose rotation key has since changed: its convert may have finished after
 * its run gave up, so it is kept as the generation it was made for (and retired by `keep` like any
 * other) instead of being forgotten with its snapshot left in the account. A convert still running
 * keeps it pending; one that ended errored is started again while the backup lasts (and keeps it
 * pending if that one does not finish either); a backup expired meanwhile drops it.
 */
async function keepOvertakenPending(
  session: AccountSession,
  pending: NonNullable<VaultObservation["pending"]>,
  generations: Generation[],
  spec: Budgeted,
  log: Log,
): Promise<Generation[]> {
  try {
    const snapshot = await convergeSnapshot(
      session,
      { backupId: pending.backupId, ...keptAs(spec, pending.dropletId, pending.rotationKey) },
      log,
    );
    log(`rotation ${pending.rotationKey}: its convert finished after its run; kept backup ${snapshot.backupId} as snapshot "${snapshot.name}"`);
    return [toGeneration(pending.rotationKey, pending.dropletId, snapshot), ...generations];
  } catch (error) {
    if (error instanceof BackupNotFoundError) {
      log(`rotation ${pending.rotationKey}: backup ${pending.backupId} expired before its convert finished; nothing kept for it`);
      return generations;
    }
    if (!(error instanceof IncompleteError)) throw error;
    throw incompleteVault(spec, `rotation ${pending.rotationKey} is still pending: ${error.message}`, { generations, retiredSnapshotIds: [], pending }, error);
  }
}

/**
 * Starts the generation of the declared rotation key (and Droplet) unless the newest one is it:
 * from the pending backup when its run left one, else from the Droplet's newest backup.
 */
async function rotate(session: AccountSession, spec: Budgeted, generations: Generation[], resumable: VaultObservation["pending"], log: Log): Promise<Generation[]> {
  const newest = generations[0];
  if (newest?.rotationKey === spec.rotationKey && newest.dropletId === spec.dropletId) return generations;
  const choice: BackupChoice = resumable
    ? { backupId: resumable.backupId, dropletId: spec.dropletId }
    : // A rotation must keep a newer backup than the last generation, never an older one left over.
      { dropletId: spec.dropletId, takenAfter: newest?.dropletId === spec.dropletId ? newest.createdAt : undefined };
  let snapshot: SnapshotObservation;
  try {
    snapshot = await convergeSnapshot(session, { ...choice, ...keptAs(spec, spec.dropletId, spec.rotationKey) }, log);
  } catch (error) {
    if (!(error instanceof IncompleteError)) throw error;
    const partial = error.state as SnapshotObservation;
    const pending = { rotationKey: spec.rotationKey, dropletId: spec.dropletId, backupId: partial.backupId };
    throw incompleteVault(spec, error.message, { generations, retiredSnapshotIds: [], pending }, error);
  }
  log(`rotation ${spec.rotationKey}: kept backup ${snapshot.backupId} as snapshot "${snapshot.name}"`);
  return [toGeneration(spec.rotationKey, spec.dropletId, snapshot), ...generations];
}

/**
 * Names, tags and copies the newest `keep` generations as declared; the older ones are returned
 * apart, to be retired. A generation whose snapshot was deleted by hand no longer counts towards
 * keep, so an older one stays instead. The generations due are refreshed at once (their copies are
 * independent, and share the deadline); only when some turn out deleted are the next older ones
 * refreshed, so no generation beyond keep is copied.
 */
async function refreshGenerations(session: AccountSession, spec: Budgeted, generations: Generation[], log: Log): Promise<{ kept: Generation[]; beyondKeep: Generation[] }> {
  const kept: Generation[] = [];
  const failures: string[] = [];
  // An incomplete convert or copy says itself how the next run resumes it; the others get the vault's advice.
  let advised = true;
  let next = 0;
  while (kept.length < spec.keep && next < generations.length) {
    const due = generations.slice(next, next + spec.keep - kept.length);
    next += due.length;
    const outcomes = await Promise.allSettled(due.map((generation) => refreshGeneration(session, generation, spec, log)));
    for (const [i, outcome] of outcomes.entries()) {
      const generation = due[i];
      if (outcome.status === "fulfilled") {
        kept.push(outcome.value);
        continue;
      }
      const error: unknown = outcome.reason;
      if (error instanceof SnapshotDeletedError) {
        log(`generation ${generation.rotationKey}: ${error.message}; it is no longer kept`);
        continue;
      }
      if (!(error instanceof DigitalOceanError)) throw error;
      failures.push(`generation ${generation.rotationKey} (snapshot ${generation.snapshotId}): ${error.message.replace(/\.$/, "")}`);
      advised &&= error instanceof IncompleteError && error.advised;
      kept.push(generation);
    }
  }
  const beyondKeep = generations.slice(next);
  if (failures.length > 0) {
    // The generations beyond keep stay recorded, not deleted: state is the only record that the vault made
    // them, so the run that finishes the copies retires them. Dropped here, they would be left behind for good.
    // Said outright: while this repeats, every rotation adds a billed snapshot and none is retired.
    const held = beyondKeep.length > 0 ? ` Until then ${beyondKeep.length} generation(s) beyond keep=${spec.keep} are kept too, and billed.` : "";
    throw incompleteVault(spec, `${failures.join("; ")}.${advised ? "" : ` ${RUN_AGAIN}`}${held}`, { generations: [...kept, ...beyondKeep], retiredSnapshotIds: [] });
  }
  return { kept, beyondKeep };
}

/** Deletes the snapshots of the generations beyond keep, all at once; those not deleted stay recorded. */
async function retire(session: AccountSession, spec: Budgeted, kept: Generation[], beyondKeep: Generation[], log: Log): Promise<VaultObservation> {
  const outcomes = await Promise.allSettled(
    beyondKeep.map((generation) => {
      log(`retiring generation ${generation.rotationKey}: deleting snapshot ${generation.snapshotId} (beyond keep=${spec.keep})`);
      return deleteSnapshot(session, generation.snapshotId, spec.deadline, log, generation);
    }),
  );
  const retiredSnapshotIds = beyondKeep.filter((_, i) => outcomes[i].status === "fulfilled").map((generation) => generation.snapshotId);
  const failed = beyondKeep.flatMap((generation, i) => {
    const outcome = outcomes[i];
    return outcome.status === "rejected" ? [{ generation, error: outcome.reason as unknown }] : [];
  });
  if (failed.length === 0) return { generations: kept, retiredSnapshotIds };
  const unexpected = failed.find((f) => !(f.error instanceof DigitalOceanError));
  if (unexpected) throw unexpected.error;
  // A plain failure would make the engine keep the previous state, which lacks a generation made in this run.
  const lines = failed.map((f) => `retiring generation ${f.generation.rotationKey} (snapshot ${f.generation.snapshotId}): ${(f.error as Error).message}`);
  throw incompleteVault(
    spec,
    `${lines.join("; ")}. ${RUN_AGAIN}`,
    { generations: [...kept, ...failed.map((f) => f.generation)], retiredSnapshotIds },
    failed[0].error,
  );
}

/** The vault got part of the way: `state` is what it holds now, recorded so the next run goes on from there. */
function incompleteVault(spec: VaultSpec, message: string, state: VaultObservation, cause?: unknown): IncompleteError<VaultObservation> {
  return new IncompleteError<VaultObservation>(message, vaultId(spec.dropletId), state, cause === undefined ? undefined : { cause });
}

/** Re-reads every generation; those whose snapshot was deleted by hand drop out. */
export async function readVault(session: AccountSession, previous: VaultObservation): Promise<VaultObservation> {
  const generations: Generation[] = [];
  for (const generation of previous.generations) {
    const snapshot = await readSnapshot(session, generation.snapshotId, generation);
    if (snapshot) generations.push({ ...generation, name: snapshot.name, regions: snapshot.regions });
  }
  return { ...previous, generations };
}

/**
 * Deletes every snapshot the vault kept, and the one a pending generation's convert is making, all at
 * once and within one `waitTimeoutSeconds`. Those deleted stay deleted when another fails: the next
 * destroy finds them gone, which counts as done.
 */
export async function deleteVault(session: AccountSession, previous: VaultObservation, waitTimeoutSeconds: number, log: Log): Promise<void> {
  const deadline = deadlineAfter(session.clock, waitTimeoutSeconds);
  const outcomes = await Promise.allSettled([
    ...previous.generations.map((generation) => deleteSnapshot(session, generation.snapshotId, deadline, log, generation)),
    ...(previous.pending ? [deleteSnapshot(session, previous.pending.backupId, deadline, log)] : []),
  ]);
  const failures = outcomes.flatMap((outcome) => (outcome.status === "rejected" ? [outcome.reason as unknown] : []));
  const unexpected = failures.find((error) => !(error instanceof DigitalOceanError));
  if (unexpected !== undefined || failures.length === 1) throw unexpected ?? failures[0];
  if (failures.length > 1) {
    throw new DigitalOceanError(`${failures.length} of the vault's snapshots were not deleted: ${failures.map((error) => (error as Error).message).join("; ")}`, {
      cause: failures[0],
    });
  }
}

/** What every kept snapshot carries: the pattern's name for its key, and the policy's tags and wait. */
function keptAs(spec: Budgeted, dropletId: number, rotationKey: string): Pick<SnapshotAttributes, "name" | "tags" | "waitTimeoutSeconds" | "deadline"> {
  return { name: renderName(spec.namePattern, dropletId, rotationKey), tags: spec.tags, waitTimeoutSeconds: spec.waitTimeoutSeconds, deadline: spec.deadline };
}

/** The generation named, tagged and copied as declared; SnapshotDeletedError when its snapshot is gone. */
async function refreshGeneration(session: AccountSession, generation: Generation, spec: Budgeted, log: Log): Promise<Generation> {
  let snapshot: SnapshotObservation;
  try {
    snapshot = await convergeSnapshot(
      session,
      { backupId: generation.snapshotId, knownActionId: generation.actionIds[0], ...keptAs(spec, generation.dropletId, generation.rotationKey) },
      log,
    );
  } catch (error) {
    // The generation's image was a snapshot the vault kept, so its absence is a deletion, not a backup's expiry.
    if (error instanceof BackupNotFoundError) throw new SnapshotDeletedError(generation.snapshotId, "the vault", { cause: error });
    throw error;
  }
  const copy =
    spec.copyToRegions.length > 0
      ? await convergeRegionCopy(
          session,
          {
            imageId: generation.snapshotId,
            regions: spec.copyToRegions,
            waitTimeoutSeconds: spec.waitTimeoutSeconds,
            deadline: spec.deadline,
            // convergeSnapshot has just read the image and returned only once it is a snapshot.
            image: { id: snapshot.snapshotId, type: "snapshot", regions: snapshot.regions },
          },
          undefined,
          log,
        )
      : undefined;
  return {
    ...generation,
    name: snapshot.name,
    regions: copy?.availableRegions ?? snapshot.regions,
    actionIds: [...new Set([...generation.actionIds, ...(copy?.actionIds ?? [])])],
  };
}

function toGeneration(rotationKey: string, dropletId: number, snapshot: SnapshotObservation): Generation {
  return {
    rotationKey,
    dropletId,
    snapshotId: snapshot.snapshotId,
    name: snapshot.name,
    createdAt: snapshot.createdAt,
    regions: snapshot.regions,
    actionIds: snapshot.actionId === null ? [] : [snapshot.actionId],
  };
}
