import type * as pulumi from "@pulumi/pulumi";
import { DiffCollector, sameTags } from "../inputs/diff";
import { DEFAULT_WAIT_SECONDS, InputChecker, show } from "../inputs/rules";
import { convergeSnapshot, deleteSnapshot, readSnapshot, type BackupChoice, type SnapshotObservation, type SnapshotSpec } from "../reconcile/snapshot";
import { BackupNotFoundError } from "../reconcile/errors";
import { deadlineAfter } from "../waiter/deadline";
import { recordedAccount, type AccountIdentity } from "../api/account-identity";
import { forResource } from "../session";
import { asResourceInitFailure, callContext, checkResult, compact, type StackConfig } from "./context";

/** Inputs after `check`: ids are numbers, tags sorted and unique, and exactly one of backupId or dropletId set. */
export type SnapshotInputs = SnapshotDeclaration & ({ backupId: number; dropletId?: undefined } | { backupId?: undefined; dropletId: number });

/** The inputs beside the backup's choice. */
interface SnapshotDeclaration {
  name?: string;
  description?: string;
  tags?: string[];
  triggers?: unknown;
  waitTimeoutSeconds?: number;
}

/** What Pulumi stores: the observation plus the inputs that diff needs to compare against. */
export type SnapshotState = SnapshotObservation &
  Pick<SnapshotDeclaration, "triggers" | "waitTimeoutSeconds"> & {
    dropletId?: number;
    /** Who the token reached when the snapshot was kept or adopted; absent in state written before it was recorded. */
    account?: AccountIdentity;
  };

const LABEL = "SnapshotFromBackup";

export async function check(_olds: unknown, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
  const checker = new InputChecker();
  checker.knownOnly("SnapshotFromBackup", news, ["backupId", "dropletId", "name", "description", "tags", "triggers", "waitTimeoutSeconds"]);
  const inputs = {
    ...news,
    backupId: checker.id("backupId", news.backupId, "doctl compute droplet backups <droplet-id>"),
    dropletId: checker.id("dropletId", news.dropletId, "doctl compute droplet list"),
    name: checker.text("name", news.name, { maxLength: 255, allowEmpty: false }),
    description: checker.text("description", news.description, { maxLength: 1024, allowEmpty: true }),
    tags: checker.tags("tags", news.tags),
    waitTimeoutSeconds: checker.waitTimeoutSeconds("waitTimeoutSeconds", news.waitTimeoutSeconds),
  };
  const hasBackup = news.backupId !== undefined;
  const hasDroplet = news.dropletId !== undefined;
  if (hasBackup === hasDroplet) {
    checker.fail(
      hasBackup ? "dropletId" : "backupId",
      `set exactly one of backupId (keep that backup) or dropletId (keep the Droplet's newest backup); ` +
        (hasBackup ? `both are set (backupId ${show(news.backupId)}, dropletId ${show(news.dropletId)})` : "neither is set"),
    );
  }
  if (hasBackup && news.triggers !== undefined) {
    checker.fail(
      "triggers",
      "triggers rotate the snapshot to the Droplet's newest backup, which needs dropletId; with backupId the backup is fixed. " +
        "Use dropletId, or remove triggers",
    );
  }
  return checkResult(LABEL, checker, inputs);
}

export async function diff(id: string, olds: SnapshotState, news: SnapshotInputs): Promise<pulumi.dynamic.DiffResult> {
  const d = new DiffCollector();
  if (news.backupId !== undefined) d.compare("backupId", news.backupId, olds.backupId, { replaces: true });
  if (news.dropletId !== undefined) d.compare("dropletId", news.dropletId, olds.dropletId, { replaces: true });
  // A convert that had not finished (a timed-out run, then a refresh) is still owed an update that resumes it.
  const unfinished = olds.imageType !== undefined && olds.imageType !== "snapshot";
  if (unfinished) d.change("imageType");
  // Triggers rotate a dropletId resource to a newer backup. A replacement must not end up on the old
  // resource's own image, or the old resource's delete removes the snapshot the new one adopted: that
  // happens with a fixed backupId, and while the pinned backup, unconverted, is still the newest.
  // Then the update finishes the pinned backup under the new triggers instead.
  if (news.backupId === undefined) d.compare("triggers", news.triggers, olds.triggers, { replaces: !unfinished });
  if (news.name !== undefined) d.compare("name", news.name, olds.name);
  if (news.description !== undefined) d.compare("description", news.description, olds.description);
  if (news.tags !== undefined) d.compare("tags", news.tags, olds.tags, { equal: sameTags });
  d.compare("waitTimeoutSeconds", news.waitTimeoutSeconds, olds.waitTimeoutSeconds);
  const result = d.result();
  if (result.replaces.length > 0) {
    // Preview shows "replace"; what a reviewer must also know is that the old snapshot goes, for good.
    const name = olds.name ? ` "${olds.name}"` : "";
    callContext(undefined, `${LABEL} ${id}`).log(
      `replacing it (${result.replaces.join(", ")} changed) deletes snapshot ${id}${name} at the end of the update unless the resource has retainOnDelete; ` +
        "a snapshot of a backup DigitalOcean has since expired cannot be made again",
    );
  }
  return result;
}

export async function create(inputs: SnapshotInputs, config?: StackConfig): Promise<pulumi.dynamic.CreateResult> {
  const ctx = callContext(config, LABEL);
  // Read before anything is written: failing after the convert would leave a snapshot no state records.
  const account = await ctx.session().account();
  try {
    const observation = await convergeSnapshot(forResource(ctx.session(), account), specOf(inputs), ctx.log);
    return { id: String(observation.snapshotId), outs: stateOf(inputs, observation, account) };
  } catch (error) {
    throw asResourceInitFailure<SnapshotObservation>(error, (partial) => stateOf(inputs, partial, account), undefined, inputs);
  }
}

export async function update(id: string, olds: SnapshotState, news: SnapshotInputs, config?: StackConfig): Promise<pulumi.dynamic.UpdateResult> {
  const ctx = callContext(config, `${LABEL} ${id}`);
  const pinned = { ...news, backupId: olds.backupId ?? Number(id), dropletId: news.dropletId ?? olds.dropletId };
  const recorded = recordedAccount(olds.account);
  // State from before accounts were recorded gains the token's: the update reads the image with it.
  const account = recorded ?? (await ctx.session().account());
  try {
    const observation = await convergeSnapshot(forResource(ctx.session(), recorded), { ...specOf(pinned), knownActionId: olds.actionId ?? undefined }, ctx.log);
    return { outs: stateOf(pinned, { ...observation, actionId: observation.actionId ?? olds.actionId ?? null }, account) };
  } catch (error) {
    if (error instanceof BackupNotFoundError && news.dropletId !== undefined && olds.imageType !== "snapshot") throw expiredBeforeKept(pinned.backupId, news.dropletId, error);
    throw asResourceInitFailure<SnapshotObservation>(error, (partial) => stateOf(pinned, partial, account), undefined, news);
  }
}

/**
 * The backup a dropletId resource pinned expired before its convert finished, so nothing was kept
 * from it. An update cannot change the resource's id to another backup; a refresh reports the
 * resource gone, and the up after it creates it again from the Droplet's newest backup.
 */
function expiredBeforeKept(backupId: number, dropletId: number, cause: BackupNotFoundError): BackupNotFoundError {
  return new BackupNotFoundError(backupId, { dropletId, cause }).withAdvice(
    `It expired before it was kept, so nothing was made from it and choosing droplet ${dropletId}'s newest backup instead is safe: ` +
      "run `pulumi up --refresh` (or `pulumi refresh`, then `pulumi up`); the refresh drops this resource and the up keeps the newest backup",
  );
}

/**
 * Refresh: Pulumi passes the stored state; the snapshot is re-read and reported gone when deleted.
 * State that records no account gains the token's, which has just read the image.
 */
export async function read(id: string, props: SnapshotState, config?: StackConfig): Promise<pulumi.dynamic.ReadResult> {
  const ctx = callContext(config, `${LABEL} ${id}`);
  const recorded = recordedAccount(props.account);
  const observation = await readSnapshot(forResource(ctx.session(), recorded), Number(id), { actionIds: [props.actionId] });
  if (!observation) return {};
  return { id, props: stateOf(props, { ...observation, actionId: props.actionId }, recorded ?? (await ctx.session().account())) };
}

export async function destroy(id: string, props: SnapshotState, config?: StackConfig): Promise<void> {
  const ctx = callContext(config, `${LABEL} ${id}`);
  const session = forResource(ctx.session(), recordedAccount(props.account));
  await deleteSnapshot(session, Number(id), deadlineAfter(session.clock, props.waitTimeoutSeconds ?? DEFAULT_WAIT_SECONDS), ctx.log, { actionIds: [props.actionId] });
}

function specOf(inputs: SnapshotDeclaration & BackupChoice): SnapshotSpec {
  const choice: BackupChoice = inputs.backupId !== undefined ? { backupId: inputs.backupId, dropletId: inputs.dropletId } : { dropletId: inputs.dropletId };
  return {
    ...choice,
    name: inputs.name,
    description: inputs.description,
    tags: inputs.tags,
    waitTimeoutSeconds: inputs.waitTimeoutSeconds ?? DEFAULT_WAIT_SECONDS,
  };
}

function stateOf(
  inputs: Pick<SnapshotDeclaration, "triggers" | "waitTimeoutSeconds"> & { dropletId?: number },
  observation: SnapshotObservation,
  account: AccountIdentity | undefined,
): Record<string, unknown> {
  return compact({
    ...observation,
    dropletId: inputs.dropletId,
    triggers: inputs.triggers,
    waitTimeoutSeconds: inputs.waitTimeoutSeconds,
    account,
  });
}
