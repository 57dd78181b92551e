import type * as pulumi from "@pulumi/pulumi";
import { DiffCollector, sameSet } from "../inputs/diff";
import { DEFAULT_WAIT_SECONDS, InputChecker } from "../inputs/rules";
import { containsUnknown } from "../inputs/unknown";
import { convergeRegionCopy, readRegionCopy, type RegionCopyObservation, type RegionCopySpec } from "../reconcile/region-copy";
import { recordedAccount, type AccountIdentity } from "../api/account-identity";
import { forResource } from "../session";
import { asResourceInitFailure, callContext, checkResult, compact, type StackConfig } from "./context";

/** Inputs after `check`: the image id a number, regions sorted and unique. */
export interface RegionCopyInputs {
  imageId: number;
  regions: string[];
  waitTimeoutSeconds?: number;
}

export type RegionCopyState = RegionCopyObservation &
  Pick<RegionCopyInputs, "regions" | "waitTimeoutSeconds"> & {
    /** Who the token reached when the copy was made or adopted; absent in state written before it was recorded. */
    account?: AccountIdentity;
  };

const LABEL = "ImageRegionCopy";

export async function check(_olds: unknown, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
  const checker = new InputChecker();
  checker.knownOnly("ImageRegionCopy", news, ["imageId", "regions", "waitTimeoutSeconds"]);
  const imageId = news.imageId === undefined ? checker.fail("imageId", "imageId is required: the id of the snapshot or custom image to copy") : checker.id("imageId", news.imageId, "doctl compute image list-user");
  const inputs = {
    ...news,
    imageId,
    regions: checkRegions(checker, news.regions),
    waitTimeoutSeconds: checker.waitTimeoutSeconds("waitTimeoutSeconds", news.waitTimeoutSeconds),
  };
  return checkResult(LABEL, checker, inputs);
}

function checkRegions(checker: InputChecker, value: unknown): unknown {
  if (containsUnknown(value) && !Array.isArray(value)) return value;
  if (value === undefined) return checker.fail("regions", 'regions is required: the region slugs to copy the image to, like ["ams3", "sfo3"]');
  if (!Array.isArray(value)) return checker.notAList("regions", value, "region slugs", '["ams3", "sfo3"]');
  if (value.length === 0) return checker.fail("regions", 'regions must list at least one region slug to copy the image to, like ["ams3", "sfo3"]; got []');
  const slugs = value.map((region, i) => checker.regionSlug(`regions[${i}]`, region));
  return [...new Set(slugs.filter((slug): slug is string => slug !== undefined))].sort();
}

export async function diff(_id: string, olds: RegionCopyState, news: RegionCopyInputs): Promise<pulumi.dynamic.DiffResult> {
  const d = new DiffCollector();
  d.compare("imageId", news.imageId, olds.imageId, { replaces: true });
  d.compare("regions", news.regions, olds.regions, { equal: sameSet });
  // A declared region the image is no longer in (seen by refresh) is drift the next update repairs.
  if (!containsUnknown(news.regions) && news.regions.some((region) => !olds.availableRegions?.includes(region))) d.change("regions");
  d.compare("waitTimeoutSeconds", news.waitTimeoutSeconds, olds.waitTimeoutSeconds);
  return d.result();
}

export async function create(inputs: RegionCopyInputs, config?: StackConfig): Promise<pulumi.dynamic.CreateResult> {
  const ctx = callContext(config, `${LABEL} ${inputs.imageId}`);
  // Read before anything is written: failing after the transfers would leave copies no state records.
  const account = await ctx.session().account();
  try {
    const observation = await convergeRegionCopy(forResource(ctx.session(), account), specOf(inputs), undefined, ctx.log);
    return { id: String(observation.imageId), outs: stateOf(inputs, observation, account) };
  } catch (error) {
    throw asResourceInitFailure<RegionCopyObservation>(error, (partial) => stateOf(inputs, partial, account), undefined, inputs);
  }
}

export async function update(id: string, olds: RegionCopyState, news: RegionCopyInputs, config?: StackConfig): Promise<pulumi.dynamic.UpdateResult> {
  const ctx = callContext(config, `${LABEL} ${id}`);
  const dropped = (olds.regions ?? []).filter((region) => !news.regions.includes(region));
  if (dropped.length > 0) {
    ctx.log(`no longer declaring ${dropped.join(", ")}: DigitalOcean cannot remove an image from one region, so those copies stay`);
  }
  const recorded = recordedAccount(olds.account);
  // State from before accounts were recorded gains the token's: the update reads the image with it.
  const account = recorded ?? (await ctx.session().account());
  try {
    const observation = await convergeRegionCopy(forResource(ctx.session(), recorded), specOf(news), olds, ctx.log);
    return { outs: stateOf(news, observation, account) };
  } catch (error) {
    throw asResourceInitFailure<RegionCopyObservation>(error, (partial) => stateOf(news, partial, account), undefined, news);
  }
}

/**
 * Refresh: re-reads the image's regions; a declared region it lacks is drift the next update repairs.
 * State that records no account gains the token's, which has just read the image.
 */
export async function read(id: string, props: RegionCopyState, config?: StackConfig): Promise<pulumi.dynamic.ReadResult> {
  const ctx = callContext(config, `${LABEL} ${id}`);
  const recorded = recordedAccount(props.account);
  const observation = await readRegionCopy(forResource(ctx.session(), recorded), Number(id), props);
  if (!observation) return {};
  const account = recorded ?? (await ctx.session().account());
  const missing = props.regions.filter((region) => !observation.availableRegions.includes(region));
  if (missing.length === 0) return { id, props: stateOf(props, observation, account) };
  ctx.log(`image is no longer in ${missing.join(", ")}; the next \`pulumi up\` copies it there again`);
  // Inputs as they now hold, so `pulumi preview --diff` shows the regions the next update restores.
  const held = { imageId: Number(id), regions: props.regions.filter((region) => !missing.includes(region)), waitTimeoutSeconds: props.waitTimeoutSeconds };
  return { id, props: stateOf(props, observation, account), inputs: compact(held) };
}

/** Deleting the resource leaves the copies: DigitalOcean has no call that removes an image from one region. */
export async function destroy(id: string, props: RegionCopyState, config?: StackConfig): Promise<void> {
  callContext(config, `${LABEL} ${id}`).log(`copies in ${(props.transferredRegions ?? []).join(", ") || "no regions"} stay; delete the image itself to remove them`);
}

function specOf(inputs: RegionCopyInputs): RegionCopySpec {
  return { imageId: inputs.imageId, regions: inputs.regions, waitTimeoutSeconds: inputs.waitTimeoutSeconds ?? DEFAULT_WAIT_SECONDS };
}

function stateOf(inputs: Pick<RegionCopyInputs, "regions" | "waitTimeoutSeconds">, observation: RegionCopyObservation, account: AccountIdentity | undefined): Record<string, unknown> {
  return compact({ ...observation, regions: inputs.regions, waitTimeoutSeconds: inputs.waitTimeoutSeconds, account });
}
