/**
 * Chaos-suite support: a simulator seeded with many snapshots and backups,
 * dynamic-provider servers (the packed package, on the simulator's scaled
 * clock) and a small engine driver that runs a stack's steps in parallel, as
 * the Pulumi engine does for independent resources.
 */
import type { Action } from "../../provider/api/types";
import { ROUTE_TEMPLATES, startSimulator, type ActionDurations, type FaultConfig, type Simulator } from "../../provider/simulator";
import type { CapturedResource, PropertyMap } from "../engine/capture";
import { preparePackage } from "../engine/package";
import { ProviderError, startDynamicProvider, type DynamicProviderServer } from "../engine/server";
import type { PausableClock } from "../support/pausable-clock";

export const TIME_SCALE = 0.001;

/** Snapshots 100001000.. in nyc3, ready to be copied. */
export const SNAPSHOT_BASE = 100_001_000;
/** Droplets 4000000.. in nyc3; Droplet i has backups 100002000 + 10 i + j. */
export const DROPLET_BASE = 4_000_000;
export const BACKUP_BASE = 100_002_000;

/** Everything at once: 5xx, dropped connections, lost responses, scattered 429s, jitter (a sustained 429 storm is in storm.test.ts). */
export const REQUEST_FAULTS: FaultConfig = {
  seed: 20250604,
  serverErrorRate: 0.1,
  dropRate: 0.03,
  lostResponseRate: 0.03,
  tooManyRequestsRate: 0.03,
  stormRetryAfterSeconds: 2,
  latencyMs: { min: 0, max: 1_500 },
};

/**
 * The same faults on every route but the action POST. A POST hit three times
 * running by a 5xx or a drop fails its resource with an error naming the call
 * (the next run retries it); tests that need every resource of one run to
 * succeed use these.
 */
export const READ_AND_TAG_FAULTS: FaultConfig = { ...REQUEST_FAULTS, routes: ROUTE_TEMPLATES.filter((t) => t !== "POST /v2/images/:id/actions") };

export function snapshotIds(count: number): number[] {
  return Array.from({ length: count }, (_, i) => SNAPSHOT_BASE + i);
}

export function backupIds(droplets: number, perDroplet: number): number[] {
  return Array.from({ length: droplets }, (_, d) => Array.from({ length: perDroplet }, (_, j) => BACKUP_BASE + 10 * d + j)).flat();
}

/** A simulator on the scaled clock holding `snapshots` snapshots and `droplets` Droplets with `backupsPerDroplet` backups each. */
export async function chaosSimulator(options: {
  snapshots: number;
  droplets: number;
  backupsPerDroplet: number;
  faults?: FaultConfig;
  actionDurations?: ActionDurations;
  /** A clock of TIME_SCALE the test can pause, to hold actions in progress. */
  clock?: PausableClock;
  token?: string;
  /** The simulator's assumption that DigitalOcean refuses a duplicate of an action in flight (off by default). */
  refuseDuplicateActions?: boolean;
}): Promise<Simulator> {
  const sim = await startSimulator({
    ...(options.clock ? { clock: options.clock } : { timeScale: TIME_SCALE }),
    faults: options.faults,
    actionDurations: options.actionDurations,
    token: options.token,
    refuseDuplicateActions: options.refuseDuplicateActions,
  });
  for (const id of snapshotIds(options.snapshots)) {
    sim.state.addImage({ id, name: `app-${id}`, type: "snapshot", regions: ["nyc3"], created_at: "2025-06-01T00:00:00Z" });
  }
  for (let d = 0; d < options.droplets; d++) {
    sim.state.addDroplet({
      id: DROPLET_BASE + d,
      name: `web-${d}`,
      region: "nyc3",
      backup_policy: { plan: "daily", hour: 4 },
      backups: Array.from({ length: options.backupsPerDroplet }, (_, j) => ({
        id: BACKUP_BASE + 10 * d + j,
        name: `web-${d} backup ${j}`,
        created_at: `2025-06-0${j + 1}T04:00:00Z`,
      })),
    });
  }
  return sim;
}

/** The real dynamic-provider server from the packed package, configured for `sim` on the same clock. */
export async function providerFor(sim: Simulator, options: { token?: string } = {}): Promise<DynamicProviderServer> {
  const pkg = await preparePackage();
  return startDynamicProvider({
    cwd: pkg.dir,
    env: { DO_IMAGE_ACTIONS_TIME_SCALE: String(TIME_SCALE), DIGITALOCEAN_TOKEN: undefined, DIGITALOCEAN_ACCESS_TOKEN: undefined, DIGITALOCEAN_API_URL: undefined },
    config: { "digitalocean:token": options.token ?? sim.token, "digitalocean:apiEndpoint": sim.url },
    secretConfigKeys: ["digitalocean:token"],
    callTimeoutMs: 60_000,
  });
}

interface Recorded {
  id: string;
  inputs: PropertyMap;
  outputs: PropertyMap;
  /** The last create or update failed after the resource existed (the engine's init errors). */
  initErrors: string[];
}

export type Outcome = { ok: true; op: "create" | "update" | "same"; outputs: PropertyMap } | { ok: false; op: "create" | "update"; error: ProviderError | Error };

/**
 * The engine's bookkeeping for `pulumi up`, with every resource's step run at
 * once (the engine runs independent resources in parallel). As the engine
 * does, a resource in state with init errors is updated on the next run even
 * when diff finds no change, so its action is resumed or retried.
 */
export class ParallelStack {
  readonly state = new Map<string, Recorded>();

  async up(provider: DynamicProviderServer, resources: CapturedResource[]): Promise<Map<string, Outcome>> {
    const outcomes = await Promise.all(resources.map(async (res) => [res.name, await this.step(provider, res)] as const));
    return new Map(outcomes);
  }

  private async step(provider: DynamicProviderServer, res: CapturedResource): Promise<Outcome> {
    const old = this.state.get(res.urn);
    const { inputs, failures } = await provider.check(res.urn, old?.inputs ?? {}, res.inputs);
    if (failures.length > 0) throw new Error(`${res.name}: check failed: ${JSON.stringify(failures)}`);
    if (!old) {
      try {
        const { id, properties } = await provider.create(res.urn, inputs);
        this.state.set(res.urn, { id, inputs, outputs: properties, initErrors: [] });
        return { ok: true, op: "create", outputs: properties };
      } catch (error) {
        const init = error instanceof ProviderError ? error.initFailure : undefined;
        if (init) this.state.set(res.urn, { id: init.id, inputs, outputs: init.properties, initErrors: init.reasons });
        return { ok: false, op: "create", error: error as Error };
      }
    }
    const diff = await provider.diff(old.id, res.urn, old.outputs, inputs, old.inputs);
    if (diff.replaces.length > 0) throw new Error(`${res.name}: unexpected replace of ${diff.replaces.join(", ")}`);
    if (diff.changes !== true && old.initErrors.length === 0) return { ok: true, op: "same", outputs: old.outputs };
    try {
      const outputs = await provider.update(old.id, res.urn, old.outputs, inputs, old.inputs);
      this.state.set(res.urn, { ...old, inputs, outputs, initErrors: [] });
      return { ok: true, op: "update", outputs };
    } catch (error) {
      const init = error instanceof ProviderError ? error.initFailure : undefined;
      if (init) this.state.set(res.urn, { ...old, inputs, outputs: init.properties, initErrors: init.reasons });
      return { ok: false, op: "update", error: error as Error };
    }
  }
}

/** The actions on `imageId` that do `kind` (`convert`, or a transfer's target region). */
export function actionsFor(sim: Simulator, imageId: number, kind: "convert" | string): Action[] {
  return sim.state.listActions(imageId).filter((a) => (kind === "convert" ? a.type === "convert" : a.type === "transfer" && a.region_slug === kind));
}

export const ACTION_POSTS = "POST /v2/images/:id/actions";

/** Action POSTs the simulator performed (201, whether the answer arrived or was lost), after request `sinceSeq`. */
export function performedPosts(sim: Simulator, sinceSeq = 0): number {
  return sim.requests().filter((r) => r.seq > sinceSeq && r.route === ACTION_POSTS && r.status === 201).length;
}
