/**
 * A run cut short: the convert outlives `waitTimeoutSeconds`, the step fails
 * naming the action, the engine keeps the resource as created-but-incomplete,
 * and the next `pulumi up` updates it to completion without a second convert.
 * The same across CI jobs, each in its own provider process: the policy a
 * pipeline relies on when actions outlast a job.
 */
import { ImageRegionCopy, SnapshotFromBackup } from "pulumi-digitalocean-image-actions";
import { MAX_WAIT_SECONDS } from "../../provider/inputs/rules";
import { startEngineAccount, TIME_SCALE, type EngineAccount } from "./account";
import { EngineStack, startDynamicProvider, StepsFailedError, upProgram, type Step } from "./harness";
import { until } from "../support/until";

const ACTION_POST = "POST /v2/images/:id/actions";

let account: EngineAccount;

beforeAll(async () => {
  // A convert takes 60 s plus 1 s per GB: about a minute for the seed's 3 GB
  // backups, and long enough for a big one to be still running on the next up.
  account = await startEngineAccount({ simulator: { actionDurations: { convertMs: 60_000, perGigabyteMs: 1_000 } } });
}, 120_000);

afterAll(async () => {
  await account?.close();
});

beforeEach(() => account.sim.resetRequests());

const keep = (backupId: number, waitTimeoutSeconds: number) => () => {
  new SnapshotFromBackup("kept", { backupId, name: `kept-${backupId}`, waitTimeoutSeconds });
};

async function failedSteps(run: Promise<unknown>): Promise<Step[]> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StepsFailedError);
  return (err as StepsFailedError).steps;
}

function converts(imageId: number) {
  return account.sim.state.listActions(imageId).filter((a) => a.type === "convert");
}

it("a convert that outlives the wait fails the step naming the action; the resource stays, incomplete", async () => {
  const backupId = 100000103;
  const stack = new EngineStack(account.server);

  // A 63 s convert, a 10 s wait; the simulator is paused until the test has looked, so the convert is still running however slow the machine.
  account.simClock.pause();
  const [step] = await failedSteps(upProgram(stack, keep(backupId, 10)));

  const [convert] = converts(backupId);
  expect(step.op).toBe("create");
  expect(step.error?.message).toContain(`Gave up waiting for DigitalOcean action ${convert.id} (convert of image ${backupId}`);
  expect(step.error?.message).toContain("Run `pulumi up` again to resume waiting (no second convert is started)");
  const kept = stack.get("kept");
  expect(kept.id).toBe(String(backupId));
  expect(kept.initErrors).toHaveLength(1);
  expect(kept.outputs).toMatchObject({ snapshotId: backupId, imageType: "backup", actionId: convert.id });
  expect(account.count(ACTION_POST)).toBe(1);
  account.simClock.resume();

  // The convert finishes at DigitalOcean meanwhile; the next up, with the
  // program unchanged, updates the resource (init errors) and only renames it.
  await until(() => account.sim.state.action(convert.id)?.status === "completed", "the convert");
  account.sim.resetRequests();
  const { steps } = await upProgram(stack, keep(backupId, 10));

  expect(steps.map((s) => s.op)).toEqual(["update"]);
  expect(stack.get("kept").initErrors).toBeUndefined();
  expect(stack.get("kept").outputs).toMatchObject({ imageType: "snapshot", name: `kept-${backupId}`, actionId: convert.id });
  expect(account.count(ACTION_POST)).toBe(0);
  expect(account.sim.requests().filter((r) => r.method !== "GET").map((r) => r.route)).toEqual(["PUT /v2/images/:id"]);
  expect(converts(backupId)).toHaveLength(1);
});

it("the next up joins a convert still in flight instead of starting another", async () => {
  // A 500 GB backup: its convert takes over 9 minutes (half a second here).
  const backupId = account.sim.state.addBackup(3164495, { name: "db-01 big", size_gigabytes: 500 }).id;
  const stack = new EngineStack(account.server);
  // Paused until the next up has joined the convert: it is still running then, however slow the machine.
  account.simClock.pause();
  await failedSteps(upProgram(stack, keep(backupId, 10)));
  const [convert] = converts(backupId);
  expect(account.sim.state.action(convert.id)?.status).toBe("in-progress");

  // As the error suggests: a longer wait. The convert is still running when the update starts.
  const update = upProgram(stack, keep(backupId, 600));
  await account.server.waitForLog(`convert of backup ${backupId}: joining action ${convert.id} already in progress`);
  account.simClock.resume();
  const { steps } = await update;

  expect(steps.map((s) => s.op)).toEqual(["update"]);
  expect(stack.get("kept").outputs).toMatchObject({ imageType: "snapshot", actionId: convert.id });
  expect(converts(backupId)).toHaveLength(1);
  expect(account.count(ACTION_POST)).toBe(1);
});

describe("an API failure after the backup is chosen", () => {
  const DROPLET = 3164600;
  const OLDER = 100000601;
  const NEWEST = 100000602;
  let stack: EngineStack;
  beforeAll(() => {
    stack = new EngineStack(account.server);
  });
  const program = (name: string) => () => {
    new SnapshotFromBackup("api-kept", { dropletId: DROPLET, name, tags: ["dr"] });
  };

  async function withFault(route: string, run: () => Promise<unknown>): Promise<Step> {
    account.sim.setFaults({ serverErrorRate: 1, routes: [route] });
    try {
      const [step] = await failedSteps(run());
      return step;
    } finally {
      account.sim.setFaults({});
    }
  }

  it("a create whose tagging fails after the convert keeps the resource, pinned to that backup", async () => {
    account.sim.state.addDroplet({
      id: DROPLET,
      name: "api-01",
      region: "nyc3",
      backups: [
        { id: OLDER, name: "api-01 2025-06-03", created_at: "2025-06-03T04:00:00Z", size_gigabytes: 1 },
        { id: NEWEST, name: "api-01 2025-06-04", created_at: "2025-06-04T04:00:00Z", size_gigabytes: 1 },
      ],
    });

    const step = await withFault("POST /v2/tags", () => upProgram(stack, program("api-kept")));

    expect(step.op).toBe("create");
    expect(step.error?.message).toMatch(/^DigitalOcean API 50\d \w+ on POST \/v2\/tags:/);
    const kept = stack.get("api-kept");
    expect(kept.id).toBe(String(NEWEST));
    expect(kept.initErrors).toHaveLength(1);
    expect(kept.outputs).toMatchObject({ snapshotId: NEWEST, backupId: NEWEST, dropletId: DROPLET, imageType: "snapshot", name: "api-kept" });
    expect(typeof kept.outputs.__provider).toBe("string");
  });

  it("the next up tags the same snapshot and converts no other backup", async () => {
    account.sim.resetRequests();

    const { steps } = await upProgram(stack, program("api-kept"));

    expect(steps.map((s) => s.op)).toEqual(["update"]);
    expect(stack.get("api-kept").initErrors).toBeUndefined();
    expect(stack.get("api-kept").outputs).toMatchObject({ snapshotId: NEWEST, tags: ["dr"] });
    expect(account.count(ACTION_POST)).toBe(0);
    expect(converts(NEWEST)).toHaveLength(1);
    expect(converts(OLDER)).toEqual([]);
  });

  it("an update that fails before writing leaves the state as it was, not replaced by the API's error id", async () => {
    const before = structuredClone(stack.get("api-kept"));

    const step = await withFault("GET /v2/images/:id", () => upProgram(stack, program("api-renamed")));

    expect(step.op).toBe("update");
    expect(step.error?.message).toMatch(new RegExp(`^DigitalOcean API 50\\d \\w+ on GET /v2/images/${NEWEST}:`));
    expect(stack.get("api-kept")).toEqual(before);
    expect(account.sim.state.imageView(NEWEST)?.name).toBe("api-kept");
  });
});

describe("scheduled CI jobs: each ends at waitTimeoutSeconds, the next resumes", () => {
  const W = 10;
  let stack: EngineStack;
  let backupId: number;
  const program = (waitTimeoutSeconds: number) => () => {
    const kept = new SnapshotFromBackup("big", { backupId, name: "big-kept", waitTimeoutSeconds });
    new ImageRegionCopy("big-dr", { imageId: kept.id, regions: ["lon1", "sfo3"], waitTimeoutSeconds });
  };

  /**
   * One CI job: a fresh runner, so a new provider process; only the stack's state carries over.
   * `started` runs once that process is up, before the program.
   */
  async function job(waitTimeoutSeconds: number, started?: () => void): Promise<Step[]> {
    const server = await startDynamicProvider({
      cwd: account.pkg.dir,
      env: { DO_IMAGE_ACTIONS_TIME_SCALE: String(TIME_SCALE), DIGITALOCEAN_TOKEN: undefined, DIGITALOCEAN_ACCESS_TOKEN: undefined },
      config: account.config,
      secretConfigKeys: ["digitalocean:token"],
    });
    stack.provider = server;
    try {
      started?.();
      return await upProgram(stack, program(waitTimeoutSeconds)).then(
        ({ steps }) => steps,
        (err: unknown) => {
          expect(err).toBeInstanceOf(StepsFailedError);
          return (err as StepsFailedError).steps;
        },
      );
    } finally {
      await server.close();
    }
  }

  const transfers = () => account.sim.state.listActions(backupId).filter((a) => a.type === "transfer");

  beforeAll(() => {
    stack = new EngineStack(account.server);
    // 4 TB, in ams3: a convert and transfers of over an hour each (four seconds here), far beyond a 10 s wait.
    backupId = account.sim.state.addBackup(3164495, { name: "db-01 huge", size_gigabytes: 4000 }).id;
  });

  it("job 1: the convert outlives the wait; the job ends with it still running, the snapshot recorded incomplete, its copy not started", async () => {
    // Paused until the test has looked: resuming returns the simulator to the present, which a slow job may have taken past the convert's end.
    account.simClock.pause();
    const steps = await job(W);

    expect(steps.map((s) => [s.op, s.name, Boolean(s.error)])).toEqual([["create", "big", true]]);
    const [convert] = converts(backupId);
    expect(account.sim.state.action(convert.id)?.status).toBe("in-progress");
    expect(stack.get("big")).toMatchObject({ initErrors: [expect.stringContaining("Run `pulumi up` again to resume waiting")], outputs: { imageType: "backup", actionId: convert.id } });
    // The copy depends on the snapshot: the engine does not create it in a run where the snapshot failed.
    expect([...stack.state.values()].map((r) => r.name)).toEqual(["big"]);
    expect(account.count(ACTION_POST)).toBe(1);
    account.simClock.resume();
  });

  it("job 2: finishes the snapshot without a second convert, starts both transfers, and ends with them running", async () => {
    await until(() => converts(backupId)[0]?.status === "completed", "the convert");
    account.sim.resetRequests();
    // Paused until job 3 polls the transfers: they are still running then, however long its process takes to start.
    account.simClock.pause();

    const steps = await job(W);

    expect(steps.map((s) => [s.op, s.name, Boolean(s.error)])).toEqual([
      ["update", "big", false],
      ["create", "big-dr", true],
    ]);
    expect(converts(backupId)).toHaveLength(1);
    expect(account.count(ACTION_POST)).toBe(2);
    expect(transfers().map((a) => [a.region_slug, a.status]).sort()).toEqual([
      ["lon1", "in-progress"],
      ["sfo3", "in-progress"],
    ]);
    expect(stack.get("big-dr").initErrors).toHaveLength(1);
  });

  it("job 3, with the transfers still running: joins them, sends no action request, and completes", async () => {
    account.sim.resetRequests();

    const polled = until(() => account.sim.requests().some((r) => r.route === "GET /v2/actions"), "job 3 to poll the transfers").then(() => account.simClock.resume());
    // The longest wait allowed: however long the jobs took, the transfers' remaining 4120 s at most end within it.
    const steps = await job(MAX_WAIT_SECONDS, () => expect(transfers().map((a) => a.status)).toEqual(["in-progress", "in-progress"])).finally(() => account.simClock.resume());
    await polled;

    // The snapshot is updated only because its waitTimeoutSeconds changed, and writes nothing.
    expect(steps.map((s) => [s.op, s.name, Boolean(s.error)])).toEqual([
      ["update", "big", false],
      ["update", "big-dr", false],
    ]);
    expect(account.writes()).toEqual([]);
    expect(transfers()).toHaveLength(2);
    expect(stack.get("big-dr").initErrors).toBeUndefined();
    expect(stack.get("big-dr").outputs).toMatchObject({ availableRegions: ["ams3", "lon1", "sfo3"], transferredRegions: ["lon1", "sfo3"] });
  });
});
