import type * as pulumi from "@pulumi/pulumi";
import { DiffCollector, sameSet, sameTags } from "../inputs/diff";
import { DEFAULT_WAIT_SECONDS, digitsAsNumber, InputChecker, show } from "../inputs/rules";
import { containsUnknown } from "../inputs/unknown";
import { convergeVault, deleteVault, readVault, renderName, vaultId, type VaultObservation, type VaultSpec } from "../reconcile/vault";
import { recordedAccount, type AccountIdentity } from "../api/account-identity";
import { forResource } from "../session";
import { asResourceInitFailure, callContext, checkResult, compact, type StackConfig } from "./context";
import { describeVaultPlan, planVaultUpdate } from "./vault-plan";

/** Inputs after `check`, defaults filled in. */
export type VaultInputs = Omit<VaultSpec, "waitTimeoutSeconds"> & { waitTimeoutSeconds?: number };

export type VaultState = VaultObservation &
  Omit<VaultInputs, "rotationKey"> & {
    /** The rotation key of the last create or update (the input; `diff` compares the newest generation's). */
    rotationKey?: string;
    /** The newest generation's snapshot id, for programs that boot or copy from it. */
    newestSnapshotId: number | null;
    /** Who the token reached when the vault was created; absent in state written before it was recorded. */
    account?: AccountIdentity;
  };

const DEFAULT_NAME_PATTERN = "{dropletId}-{key}";
const DEFAULT_KEEP = 4;
/** Each kept generation is billed as a snapshot; a policy beyond a hundred is more likely a typo. */
const MAX_KEEP = 100;
const LABEL = "BackupVault";
/** DigitalOcean's limit on an image's name. */
const MAX_IMAGE_NAME = 255;

export async function check(_olds: unknown, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
  const checker = new InputChecker();
  checker.knownOnly("BackupVault", news, ["dropletId", "rotationKey", "keep", "copyToRegions", "namePattern", "tags", "waitTimeoutSeconds"]);
  const inputs = {
    ...news,
    dropletId: news.dropletId === undefined ? checker.fail("dropletId", "dropletId is required: the Droplet whose backups the vault keeps") : checker.id("dropletId", news.dropletId, "doctl compute droplet list"),
    rotationKey: checkRotationKey(checker, news.rotationKey),
    keep: checkKeep(checker, news.keep),
    copyToRegions: news.copyToRegions === undefined ? [] : checkRegionList(checker, news.copyToRegions),
    namePattern: checkNamePattern(checker, news.namePattern),
    tags: checker.tags("tags", news.tags),
    waitTimeoutSeconds: checker.waitTimeoutSeconds("waitTimeoutSeconds", news.waitTimeoutSeconds),
  };
  checkRenderedName(checker, inputs.namePattern, inputs.dropletId, inputs.rotationKey);
  return checkResult(LABEL, checker, inputs);
}

/** DigitalOcean refuses image names over 255 characters; the name a rotation would give is checked now, not after the convert. */
function checkRenderedName(checker: InputChecker, pattern: unknown, dropletId: unknown, rotationKey: unknown): void {
  if (typeof pattern !== "string" || typeof dropletId !== "number" || typeof rotationKey !== "string" || containsUnknown(rotationKey)) return;
  const name = renderName(pattern, dropletId, rotationKey);
  if (name.length > MAX_IMAGE_NAME) {
    checker.fail(
      "namePattern",
      `namePattern ${show(pattern)} gives the name ${show(name)}, ${name.length} characters long for rotationKey ${show(rotationKey)}; ` +
        `DigitalOcean accepts at most ${MAX_IMAGE_NAME}. Shorten the pattern or the rotation key`,
    );
  }
}

function checkRotationKey(checker: InputChecker, value: unknown): unknown {
  if (containsUnknown(value)) return value;
  if (typeof value !== "string" || value.trim() === "" || value.length > 100) {
    return checker.fail(
      "rotationKey",
      `rotationKey must be a non-empty string of at most 100 characters that changes when a new generation is due, ` +
        `like the ISO week "2026-W48"; got ${show(value)}`,
    );
  }
  return value;
}

function checkKeep(checker: InputChecker, value: unknown): unknown {
  if (value === undefined) return DEFAULT_KEEP;
  if (containsUnknown(value)) return value;
  const n = digitsAsNumber(value);
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_KEEP) {
    return checker.fail("keep", `keep must be a whole number of generations from 1 to ${MAX_KEEP} (a number or a string of digits), got ${show(value)}; leave it out for ${DEFAULT_KEEP}`);
  }
  return n;
}

function checkRegionList(checker: InputChecker, value: unknown): unknown {
  if (containsUnknown(value) && !Array.isArray(value)) return value;
  if (!Array.isArray(value)) return checker.notAList("copyToRegions", value, "region slugs", '["ams3"]');
  const slugs = value.map((region, i) => checker.regionSlug(`copyToRegions[${i}]`, region));
  return [...new Set(slugs.filter((slug): slug is string => slug !== undefined))].sort();
}

function checkNamePattern(checker: InputChecker, value: unknown): unknown {
  if (value === undefined) return DEFAULT_NAME_PATTERN;
  if (containsUnknown(value)) return value;
  if (typeof value !== "string" || !value.includes("{key}") || value.length > 200) {
    return checker.fail(
      "namePattern",
      `namePattern must contain "{key}" (and may contain "{dropletId}") so each generation gets its own name, ` +
        `at most 200 characters; got ${show(value)}`,
    );
  }
  return value;
}

export async function diff(id: string, olds: VaultState, news: VaultInputs): Promise<pulumi.dynamic.DiffResult> {
  const d = new DiffCollector();
  // The newest generation's key, not an echo of the input: a rotation that failed is still due.
  d.compare("rotationKey", news.rotationKey, olds.generations?.[0]?.rotationKey);
  d.compare("dropletId", news.dropletId, olds.dropletId);
  d.compare("keep", news.keep, olds.keep);
  d.compare("copyToRegions", news.copyToRegions, olds.copyToRegions, { equal: sameSet });
  d.compare("namePattern", news.namePattern, olds.namePattern);
  if (news.tags !== undefined) d.compare("tags", news.tags, olds.tags, { equal: sameTags });
  d.compare("waitTimeoutSeconds", news.waitTimeoutSeconds, olds.waitTimeoutSeconds);
  const plan = planVaultUpdate(olds, news);
  // A kept generation missing a copy (deleted by hand, seen by refresh) is drift the next update repairs.
  if (plan.missingCopies.length > 0) d.change("copyToRegions");
  // Preview shows which inputs change, not which snapshots go: say it where the reviewer reads the preview.
  const log = callContext(undefined, `${LABEL} ${id}`).log;
  for (const line of describeVaultPlan(plan, news.keep)) log(line);
  return d.result();
}

export async function create(inputs: VaultInputs, config?: StackConfig): Promise<pulumi.dynamic.CreateResult> {
  const id = vaultId(inputs.dropletId);
  const ctx = callContext(config, `${LABEL} ${id}`);
  // Read before anything is written: failing after a convert would leave a snapshot no state records.
  const account = await ctx.session().account();
  try {
    const observation = await convergeVault(forResource(ctx.session(), account), specOf(inputs), undefined, ctx.log);
    return { id, outs: stateOf(inputs, observation, account) };
  } catch (error) {
    throw asResourceInitFailure<VaultObservation>(error, (partial) => stateOf(inputs, partial, account), id, inputs);
  }
}

export async function update(id: string, olds: VaultState, news: VaultInputs, config?: StackConfig): Promise<pulumi.dynamic.UpdateResult> {
  const ctx = callContext(config, `${LABEL} ${id}`);
  const recorded = recordedAccount(olds.account);
  // State from before accounts were recorded gains the token's: the update reads the generations with it.
  const account = recorded ?? (await ctx.session().account());
  try {
    const observation = await convergeVault(forResource(ctx.session(), recorded), specOf(news), olds, ctx.log);
    return { outs: stateOf(news, observation, account) };
  } catch (error) {
    throw asResourceInitFailure<VaultObservation>(error, (partial) => stateOf(news, partial, account), id, news);
  }
}

/**
 * Refresh: generations whose snapshot was deleted by hand drop out. State that records no account
 * gains the token's once it has read a generation's snapshot.
 */
export async function read(id: string, props: VaultState, config?: StackConfig): Promise<pulumi.dynamic.ReadResult> {
  const ctx = callContext(config, `${LABEL} ${id}`);
  const recorded = recordedAccount(props.account);
  const observation = await readVault(forResource(ctx.session(), recorded), props);
  const account = recorded ?? (observation.generations.length > 0 ? await ctx.session().account() : undefined);
  return { id, props: compact({ ...props, ...observation, newestSnapshotId: observation.generations[0]?.snapshotId ?? null, account }) };
}

export async function destroy(id: string, props: VaultState, config?: StackConfig): Promise<void> {
  const ctx = callContext(config, `${LABEL} ${id}`);
  await deleteVault(forResource(ctx.session(), recordedAccount(props.account)), props, props.waitTimeoutSeconds ?? DEFAULT_WAIT_SECONDS, ctx.log);
}

function specOf(inputs: VaultInputs): VaultSpec {
  return {
    dropletId: inputs.dropletId,
    rotationKey: inputs.rotationKey,
    keep: inputs.keep,
    copyToRegions: inputs.copyToRegions,
    namePattern: inputs.namePattern,
    tags: inputs.tags,
    waitTimeoutSeconds: inputs.waitTimeoutSeconds ?? DEFAULT_WAIT_SECONDS,
  };
}

function stateOf(inputs: VaultInputs, observation: VaultObservation, account: AccountIdentity | undefined): Record<string, unknown> {
  return compact({
    dropletId: inputs.dropletId,
    rotationKey: inputs.rotationKey,
    keep: inputs.keep,
    copyToRegions: inputs.copyToRegions,
    namePattern: inputs.namePattern,
    tags: inputs.tags,
    waitTimeoutSeconds: inputs.waitTimeoutSeconds,
    ...observation,
    newestSnapshotId: observation.generations[0]?.snapshotId ?? null,
    account,
  });
}
