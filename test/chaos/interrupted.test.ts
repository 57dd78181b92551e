/**
 * Runs that do not end cleanly, through the real dynamic-provider server under
 * request faults: a provider process killed with actions in flight, and two
 * provider processes declaring the same copies at the same time.
 */
import { ImageRegionCopy, SnapshotFromBackup } from "pulumi-digitalocean-image-actions";
import { MAX_WAIT_SECONDS } from "../../provider/inputs/rules";
import type { Simulator } from "../../provider/simulator";
import { capture } from "../engine/capture";
import type { DynamicProviderServer } from "../engine/server";
import { ACTION_POSTS, actionsFor, backupIds, chaosSimulator, ParallelStack, performedPosts, providerFor, READ_AND_TAG_FAULTS, snapshotIds, TIME_SCALE } from "./support";
import { PausableClock } from "../support/pausable-clock";
import { until } from "../support/until";

let sim: Simulator;
const servers: DynamicProviderServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await sim?.close();
});

it("a provider killed with converts and transfers in flight: the next run joins every one of them and POSTs nothing", async () => {
  const snapshots = snapshotIds(6);
  const backups = backupIds(2, 2);
  // Slow actions (50 and 55 minutes of DigitalOcean time, 3 s here), held in progress by pausing the simulator
  // from before the first run until the next run has joined each one, however slow the machine.
  const simClock = new PausableClock(TIME_SCALE);
  sim = await chaosSimulator({ snapshots: 6, droplets: 2, backupsPerDroplet: 2, faults: READ_AND_TAG_FAULTS, actionDurations: { convertMs: 3_000_000, transferMs: 3_300_000 }, clock: simClock });
  // The longest wait allowed, so that no wait of the first run runs out before the kill, however long starting every action takes.
  const { resources } = await capture(() => {
    for (const id of snapshots) new ImageRegionCopy(`copy-${id}`, { imageId: id, regions: ["ams3", "sgp1"], waitTimeoutSeconds: MAX_WAIT_SECONDS });
    for (const id of backups) new SnapshotFromBackup(`keep-${id}`, { backupId: id, waitTimeoutSeconds: MAX_WAIT_SECONDS });
  });
  const expected = snapshots.length * 2 + backups.length;
  const stack = new ParallelStack();

  const doomed = await providerFor(sim);
  servers.push(doomed);
  const { inFlight, killedAtSeq, secondRun } = await simClock.paused(async () => {
    const firstRun = stack.up(doomed, resources).catch((e: unknown) => e);
    await until(() => sim.state.listActions().length === expected, `${expected} actions to start`);
    process.kill(doomed.pid, "SIGKILL");
    const killedAtSeq = Math.max(0, ...sim.requests().map((r) => r.seq));
    const inFlight = sim.state.listActions().filter((a) => a.status === "in-progress");
    expect(inFlight).toHaveLength(expected);

    const outcomes = await firstRun;
    expect(outcomes).toBeInstanceOf(Map);
    expect([...(outcomes as Map<string, { ok: boolean }>).values()].every((o) => !o.ok)).toBe(true);
    // The engine never heard back, so nothing is in state: the next `pulumi up` creates all of them again.
    expect(stack.state.size).toBe(0);

    const next = await providerFor(sim);
    servers.push(next);
    const secondRun = stack.up(next, resources);
    for (const action of inFlight) await next.waitForLog(`joining action ${action.id} `).catch(() => Promise.reject(new Error(`not joined: ${action.id}\n${next.logs().stdout}`)));
    return { inFlight, killedAtSeq, secondRun };
  });
  const second = await secondRun;
  expect([...second.values()].filter((o) => !o.ok)).toEqual([]);

  // No action POST at all after the restart, not even one the simulator refused.
  expect(sim.requests().filter((r) => r.seq > killedAtSeq && r.route === ACTION_POSTS)).toEqual([]);
  expect(performedPosts(sim, killedAtSeq)).toBe(0);
  expect(sim.state.listActions().map((a) => [a.id, a.status]).sort()).toEqual(inFlight.map((a) => [a.id, "completed"]).sort());
  for (const id of snapshots) {
    const outputs = second.get(`copy-${id}`);
    expect(outputs?.ok && outputs.outputs.actionIds).toEqual([actionsFor(sim, id, "ams3")[0].id, actionsFor(sim, id, "sgp1")[0].id].sort());
  }
  for (const id of backups) {
    const outputs = second.get(`keep-${id}`);
    expect(outputs?.ok && outputs.outputs).toMatchObject({ imageType: "snapshot", actionId: actionsFor(sim, id, "convert")[0].id });
  }
}, 60_000);

// Two processes POSTing the same action at the same instant can only be kept to one action if the
// API refuses the second: the simulator's assumption, switched on here. Real DigitalOcean documents
// no such refusal; pipelines that do not POST at the same instant are kept apart by the action-list read.
it("two provider processes declaring the same copies and converts at once both succeed, with one action each (where the API refuses duplicates)", async () => {
  const snapshots = snapshotIds(8);
  const backups = backupIds(2, 2);
  sim = await chaosSimulator({ snapshots: 8, droplets: 2, backupsPerDroplet: 2, faults: READ_AND_TAG_FAULTS, refuseDuplicateActions: true });
  const { resources } = await capture(() => {
    for (const id of snapshots) new ImageRegionCopy(`copy-${id}`, { imageId: id, regions: ["ams3", "sfo3", "tor1"] });
    for (const id of backups) new SnapshotFromBackup(`keep-${id}`, { backupId: id });
  });
  const [left, right] = await Promise.all([providerFor(sim), providerFor(sim)]);
  servers.push(left, right);
  const [a, b] = await Promise.all([new ParallelStack().up(left, resources), new ParallelStack().up(right, resources)]);

  expect([...a, ...b].filter(([, o]) => !o.ok)).toEqual([]);
  for (const id of snapshots) {
    for (const region of ["ams3", "sfo3", "tor1"]) expect(actionsFor(sim, id, region).map((x) => x.status)).toEqual(["completed"]);
  }
  for (const id of backups) expect(actionsFor(sim, id, "convert").map((x) => x.status)).toEqual(["completed"]);
  expect(sim.state.listActions()).toHaveLength(snapshots.length * 3 + backups.length);
  expect(performedPosts(sim)).toBe(snapshots.length * 3 + backups.length);
  // What each process recorded is that one action per region, whoever started it.
  for (const id of snapshots) {
    const ids = sim.state.listActions(id).map((x) => x.id);
    for (const outcome of [a.get(`copy-${id}`), b.get(`copy-${id}`)]) {
      expect(outcome?.ok && outcome.outputs.availableRegions).toEqual(["ams3", "nyc3", "sfo3", "tor1"]);
      expect(ids).toEqual(expect.arrayContaining((outcome?.ok && (outcome.outputs.actionIds as number[])) || [-1]));
    }
  }
}, 60_000);
