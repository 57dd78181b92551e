/**
 * A resource remembers which account its token reached, and a 404 is taken as
 * "gone" only from a token of that account. These run through the real
 * dynamic-provider server, since what the engine does with the answers (drop
 * from state, report a delete) is what a wrong token must not cause.
 */
import { BackupVault, ImageRegionCopy, SnapshotFromBackup } from "pulumi-digitalocean-image-actions";
import { startSimulator, type Simulator } from "../../provider/simulator";
import { GOLDEN_SNAPSHOT, startEngineAccount, TIME_SCALE, WEB_DROPLET, WEB_NEWEST_BACKUP, type EngineAccount } from "./account";
import { capture, EngineStack, startDynamicProvider, StepsFailedError, type DynamicProviderServer } from "./harness";

const TEAM_A = { uuid: "0f5c1e7a-agency-client-a", name: "Client A" };
const TEAM_B = { uuid: "9b2d4c11-agency-client-b", name: "Client B" };
/** Every scope the README's table lists except account:read: a custom-scoped token that left it out. */
const SCOPES_WITHOUT_ACCOUNT = ["image:read", "image:update", "image:delete", "actions:read", "droplet:read", "regions:read", "tag:create", "tag:read", "tag:delete"];
const CUSTOM_TOKEN = "dop_v1_custom_scoped_without_account_read";
/** The README's "Token scopes" table, account:read included: a custom-scoped token made from it. */
const README_SCOPES = [...SCOPES_WITHOUT_ACCOUNT, "account:read"];
const README_TOKEN = "dop_v1_custom_scoped_as_the_readme_says";
/** The seed's second Droplet, on a weekly plan with two backups. */
const DB_DROPLET = 3164495;

let account: EngineAccount;
let teamB: Simulator;
const servers: DynamicProviderServer[] = [];

beforeAll(async () => {
  account = await startEngineAccount({
    simulator: {
      account: { team: TEAM_A },
      moreTokens: [
        { token: CUSTOM_TOKEN, scopes: SCOPES_WITHOUT_ACCOUNT },
        { token: README_TOKEN, scopes: README_SCOPES },
      ],
    },
  });
  teamB = await startSimulator({ timeScale: TIME_SCALE, account: { team: TEAM_B } });
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await teamB?.close();
  await account?.close();
});

/** A provider process as a run with this stack config would start it. */
async function serverWith(config: Record<string, string>, cwd = account.pkg.dir): Promise<DynamicProviderServer> {
  const server = await startDynamicProvider({
    cwd,
    env: { DO_IMAGE_ACTIONS_TIME_SCALE: String(TIME_SCALE), DIGITALOCEAN_TOKEN: undefined, DIGITALOCEAN_ACCESS_TOKEN: undefined },
    config,
    secretConfigKeys: ["digitalocean:token"],
  });
  servers.push(server);
  return server;
}

async function failure(run: Promise<unknown>): Promise<StepsFailedError> {
  const error = await run.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(StepsFailedError);
  return error as StepsFailedError;
}

/** The golden snapshot, adopted (already a snapshot: no action recorded), and a copy adopted where it already is. */
async function adoptedStack(stack = new EngineStack(account.server)): Promise<EngineStack> {
  const { resources } = await capture(() => {
    new SnapshotFromBackup("golden", { backupId: GOLDEN_SNAPSHOT });
    new ImageRegionCopy("golden-home", { imageId: GOLDEN_SNAPSHOT, regions: ["nyc3"] });
  });
  await stack.up(resources);
  return stack;
}

describe("an adopted snapshot and copy, with another team's token", () => {
  let stack: EngineStack;
  beforeAll(async () => {
    stack = await adoptedStack();
  }, 60_000);

  it("were recorded with the team the token reached, and nothing was written", () => {
    expect(account.writes()).toEqual([]);
    // No recorded action either: the earlier evidence could not tell these from deleted images.
    expect(stack.get("golden").outputs.actionId).toBeNull();
    expect(stack.get("golden-home").outputs.actionIds).toEqual([]);
    for (const name of ["golden", "golden-home"]) expect(stack.get(name).outputs.account).toEqual({ kind: "team", ...TEAM_A });
  });

  it("refresh fails for both, naming the token's team and the recorded one, and both stay in state as they were", async () => {
    const before = [...stack.state.values()].map((r) => structuredClone(r.outputs));
    stack.provider = await serverWith({ "digitalocean:token": teamB.token, "digitalocean:apiEndpoint": teamB.url });
    const error = await failure(stack.refresh());

    expect(error.steps.map((s) => `${s.op} ${s.name}`)).toEqual(["refresh golden", "refresh golden-home"]);
    for (const step of error.steps) {
      expect(step.error?.message).toContain(`reaches team "${TEAM_B.name}" (${TEAM_B.uuid})`);
      expect(step.error?.message).toContain(`made in team "${TEAM_A.name}" (${TEAM_A.uuid})`);
      expect(step.error?.message).toContain(`Set a token of team "${TEAM_A.name}"`);
      expect(step.error?.message).not.toContain(teamB.token);
    }
    expect([...stack.state.values()].map((r) => r.outputs)).toEqual(before);
    expect(teamB.requests().filter((r) => r.route === "GET /v2/account")).toHaveLength(1);
  });

  it("destroy deletes nothing: the snapshot's delete fails naming the teams and it stays in state and in the account", async () => {
    const error = await failure(stack.destroy());

    // The copy's delete calls no API (a copy cannot be removed from one region), so only the snapshot's delete can fail.
    expect(error.steps.map((s) => `${s.op} ${s.name} ${s.error ? "failed" : "done"}`)).toEqual(["delete golden-home done", "delete golden failed"]);
    expect(error.steps[1].error?.message).toContain(`team "${TEAM_A.name}" (${TEAM_A.uuid})`);
    expect(error.steps[1].error?.message).toContain("nothing was removed from state or deleted");
    expect([...stack.state.values()].map((r) => r.name)).toEqual(["golden"]);
    expect(account.sim.state.imageView(GOLDEN_SNAPSHOT)?.type).toBe("snapshot");
    expect(teamB.requests().filter((r) => r.method !== "GET")).toEqual([]);
  });

  it("with team A's token again, up adopts the copy again with no write and refresh finds both where they were", async () => {
    stack.provider = account.server;
    account.sim.resetRequests();
    await adoptedStack(stack);
    const steps = await stack.refresh();
    expect(steps.map((s) => `${s.op} ${s.name}`)).toEqual(["refresh golden", "refresh golden-home"]);
    expect(account.writes()).toEqual([]);
  });
});

describe("a custom-scoped token without account:read", () => {
  it("still works: refresh of a deleted image drops it, warning once that the scope is missing", async () => {
    const stack = new EngineStack(account.server);
    const { resources } = await capture(() => {
      const kept = new SnapshotFromBackup("older", { backupId: WEB_NEWEST_BACKUP - 1, name: "older" });
      new ImageRegionCopy("older-dr", { imageId: kept.snapshotId, regions: ["ams3"] });
    });
    await stack.up(resources.map((r) => (r.name === "older-dr" ? { ...r, inputs: { ...r.inputs, imageId: WEB_NEWEST_BACKUP - 1 } } : r)));
    expect(stack.get("older").outputs.account).toEqual({ kind: "team", ...TEAM_A });

    const scoped = await serverWith({ "digitalocean:token": CUSTOM_TOKEN, "digitalocean:apiEndpoint": account.sim.url });
    stack.provider = scoped;
    account.sim.resetRequests();
    await fetch(`${account.sim.url}/v2/images/${WEB_NEWEST_BACKUP - 1}`, { method: "DELETE", headers: { authorization: `Bearer ${account.sim.token}` } });

    const steps = await stack.refresh();
    // A refresh that finds the resource gone removes it from state, which the harness reports as a delete.
    expect(steps.map((s) => `${s.op} ${s.name}`)).toEqual(["delete older", "delete older-dr"]);
    expect(stack.state.size).toBe(0);
    const warning = /lacks the account:read scope/g;
    await scoped.waitForLog(warning);
    expect(scoped.logs().stdout.match(warning)).toHaveLength(1);
    expect(account.sim.requests().filter((r) => r.route === "GET /v2/account").map((r) => r.status)).toEqual([403]);
  });
});

it("a revoked token fails refresh with DigitalOcean's 401 as before, and nothing leaves state", async () => {
  const stack = await adoptedStack();
  stack.provider = await serverWith({ "digitalocean:token": "dop_v1_revoked", "digitalocean:apiEndpoint": account.sim.url });
  const error = await failure(stack.refresh());
  for (const step of error.steps) {
    expect(step.error?.message).toMatch(/^DigitalOcean API 401 unauthorized on GET \/v2\/images\/\d+/);
    expect(step.error?.message).toContain("check that it is current");
  }
  expect([...stack.state.values()].map((r) => r.name)).toEqual(["golden", "golden-home"]);
});

describe("a user's own token, outside any team", () => {
  const EMAIL = "sammy.private@example.com";
  let user: EngineAccount;
  beforeAll(async () => {
    user = await startEngineAccount({ simulator: { account: { uuid: "3c0ffee0-user-only", email: EMAIL, team: null } } });
  }, 120_000);
  afterAll(() => user?.close());

  it("records {kind: \"user\", uuid}, and neither the email nor the name reaches state or the logs", async () => {
    const stack = new EngineStack(user.server);
    const { resources } = await capture(() => {
      new SnapshotFromBackup("kept", { backupId: WEB_NEWEST_BACKUP, name: "kept" });
    });
    await stack.up(resources);
    await stack.refresh();

    expect(stack.get("kept").outputs.account).toEqual({ kind: "user", uuid: "3c0ffee0-user-only" });
    const everything = JSON.stringify([...stack.state.values()]) + user.server.logs().stdout + user.server.logs().stderr;
    expect(everything).toContain("3c0ffee0-user-only");
    expect(everything).not.toContain(EMAIL);
    expect(everything).not.toMatch(/sammy/i);
  });
});

it("a token with exactly the README's scopes runs every resource's create, update, refresh and destroy", async () => {
  const server = await serverWith({ "digitalocean:token": README_TOKEN, "digitalocean:apiEndpoint": account.sim.url });
  const stack = new EngineStack(server);
  const program = (tags: string[]) => () => {
    const kept = new SnapshotFromBackup("scoped", { dropletId: WEB_DROPLET, name: "scoped", tags });
    new ImageRegionCopy("scoped-dr", { imageId: kept.snapshotId, regions: ["ams3"] });
    new BackupVault("scoped-vault", { dropletId: DB_DROPLET, rotationKey: "2025-W23", keep: 1, copyToRegions: ["sfo3"], tags });
  };
  account.sim.resetRequests();
  const first = await capture(program(["env:prod", "team:web"]));
  await stack.up(first.resources.map((r) => (r.name === "scoped-dr" ? { ...r, inputs: { ...r.inputs, imageId: WEB_NEWEST_BACKUP } } : r)));
  // Dropping a tag untags the snapshot (tag:delete on its resources).
  const second = await capture(program(["env:prod"]));
  await stack.up(second.resources.map((r) => (r.name === "scoped-dr" ? { ...r, inputs: { ...r.inputs, imageId: WEB_NEWEST_BACKUP } } : r)));
  await stack.refresh();
  await stack.destroy();

  expect(account.sim.requests().filter((r) => r.status === 403)).toEqual([]);
  for (const route of ["POST /v2/images/:id/actions", "PUT /v2/images/:id", "DELETE /v2/tags/:tag/resources", "DELETE /v2/images/:id", "GET /v2/account"]) {
    expect(account.count(route)).toBeGreaterThan(0);
  }
  expect(stack.state.size).toBe(0);
});
