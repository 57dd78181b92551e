/**
 * Which account a token reaches decides whether a 404 means "gone": read once
 * per session, compared by kind and uuid, and only ever the uuids and a team's
 * name, never the user's email or name.
 */
import { DigitalOceanClient } from "../../provider/client/client";
import { ApiError } from "../../provider/client/errors";
import { scaledClock } from "../../provider/clock";
import { recordedAccount, sameAccount, type AccountIdentity } from "../../provider/api/account-identity";
import { UnconfirmedNotFoundError } from "../../provider/reconcile/errors";
import { deleteSnapshot, readSnapshot } from "../../provider/reconcile/snapshot";
import { createSession, forResource, type AccountSession } from "../../provider/session";
import { deadlineAfter } from "../../provider/waiter/deadline";
import { startSimulator, type Simulator, type SimulatorOptions } from "../../provider/simulator";
import { GOLDEN_SNAPSHOT, SEED, TIME_SCALE } from "../support/account";

const TEAM_A = { uuid: "a7f5a3a2-team-a", name: "Agency client A" };
const TEAM_B = { uuid: "b81e22c0-team-b", name: "Agency client B" };
const WAIT = 3600;

let sim: Simulator;
const sessions: AccountSession[] = [];
const notices: string[] = [];

async function start(options: SimulatorOptions): Promise<void> {
  sim = await startSimulator({ timeScale: TIME_SCALE, seed: SEED, ...options });
}
function session(token = sim.token): AccountSession {
  const clock = scaledClock(TIME_SCALE);
  const made = createSession(new DigitalOceanClient({ connection: { token, apiEndpoint: sim.url, tokenSource: "stack config digitalocean:token" }, clock }), clock, (m) => notices.push(m));
  sessions.push(made);
  return made;
}
const count = (route: string) => sim.requests().filter((r) => r.route === route).length;

afterEach(async () => {
  notices.length = 0;
  await Promise.all(sessions.splice(0).map((s) => s.client.close()));
  await sim.close();
});

describe("AccountSession.account", () => {
  it("is the team for a team's token, read once however many resources ask", async () => {
    await start({ account: { team: TEAM_A } });
    const s = session();
    const answers = await Promise.all([s.account(), s.account(), s.account()]);
    expect(await s.account()).toEqual({ kind: "team", ...TEAM_A });
    expect(answers).toEqual([answers[0], answers[0], answers[0]]);
    expect(count("GET /v2/account")).toBe(1);
  });

  it("is the user's uuid alone for a token outside any team: no email and no name", async () => {
    await start({ account: { uuid: "user-uuid-1", email: "sammy.private@example.com", team: null } });
    const s = session();
    const identity = await s.account();
    expect(identity).toEqual({ kind: "user", uuid: "user-uuid-1" });
    expect(JSON.stringify(identity)).not.toMatch(/sammy|example\.com/i);
  });

  it("is undefined for a token without account:read, warned about once, naming the scope", async () => {
    await start({ scopes: ["image:read", "image:update", "image:delete", "actions:read"] });
    const s = session();
    expect(await s.account()).toBeUndefined();
    expect(await s.account()).toBeUndefined();
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain("account:read");
    expect(notices[0]).toContain("stack config digitalocean:token");
    expect(count("GET /v2/account")).toBe(1);
  });

  it("rejects for a bad token (401), and reads again on the next ask", async () => {
    await start({});
    const s = session("dop_v1_revoked");
    for (let i = 0; i < 2; i++) {
      const error = await s.account().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(401);
    }
    expect(count("GET /v2/account")).toBe(2);
    expect(notices).toEqual([]);
  });


  it("rejects naming the endpoint when the endpoint is not DigitalOcean's API (a stray path answers 404)", async () => {
    await start({});
    const clock = scaledClock(TIME_SCALE);
    const misdirected = createSession(new DigitalOceanClient({ connection: { token: sim.token, apiEndpoint: `${sim.url}/proxy` }, clock }), clock, (m) => notices.push(m));
    sessions.push(misdirected);
    const error = await misdirected.account().catch((e: unknown) => e);
    expect((error as ApiError).status).toBe(404);
    expect((error as Error).message).toContain(`${sim.url}/proxy`);
    expect((error as Error).message).toContain("check the endpoint");
  });
});

describe("a 404 for an image whose state records an account", () => {
  it("from a token of another team fails naming both teams and what to do, and deletes nothing", async () => {
    await start({ account: { team: TEAM_B } });
    // The image does not exist here, as an adopted snapshot of team A does not for team B's token.
    const s = forResource(session(), { kind: "team", ...TEAM_A });
    for (const attempt of [() => readSnapshot(s, GOLDEN_SNAPSHOT + 1), () => deleteSnapshot(s, GOLDEN_SNAPSHOT + 1, deadlineAfter(s.clock, WAIT), () => {})]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnconfirmedNotFoundError);
      const message = (error as Error).message;
      expect(message).toContain(`team "${TEAM_B.name}" (${TEAM_B.uuid})`);
      expect(message).toContain(`team "${TEAM_A.name}" (${TEAM_A.uuid})`);
      expect(message).toContain(`Set a token of team "${TEAM_A.name}"`);
      expect(message).not.toContain(sim.token);
    }
    expect(sim.requests().filter((r) => r.method !== "GET")).toEqual([]);
  });

  it("from a token of that same team means gone, with no image listing or action lookup", async () => {
    await start({ account: { team: TEAM_A } });
    const s = forResource(session(), { kind: "team", ...TEAM_A });
    expect(await readSnapshot(s, GOLDEN_SNAPSHOT + 1, { actionIds: [2_100_000_000] })).toBeUndefined();
    expect(sim.requests().map((r) => r.route)).toEqual(["GET /v2/images/:id", "GET /v2/account"]);
  });

  it("from a user's token, when state records a team of the same uuid, is another account", async () => {
    await start({ account: { uuid: TEAM_A.uuid, team: null } });
    const s = forResource(session(), { kind: "team", ...TEAM_A });
    const error = await readSnapshot(s, GOLDEN_SNAPSHOT + 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnconfirmedNotFoundError);
    expect((error as Error).message).toContain(`a personal account outside any team (user ${TEAM_A.uuid})`);
  });

  it("from a token without account:read falls back to the earlier evidence: an unknown recorded action is not 'gone'", async () => {
    await start({ account: { team: TEAM_A }, scopes: ["image:read", "actions:read"] });
    const s = forResource(session(), { kind: "team", ...TEAM_B });
    const error = await readSnapshot(s, GOLDEN_SNAPSHOT + 1, { actionIds: [2_100_000_000] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnconfirmedNotFoundError);
    expect((error as Error).message).toMatch(/another account's or team's token/);
    expect(await readSnapshot(s, GOLDEN_SNAPSHOT + 1)).toBeUndefined();
    expect(count("GET /v2/images")).toBe(1);
    expect(notices).toHaveLength(1);
  });
});

describe("identities in state", () => {
  it("are compared by kind and uuid, not by name", () => {
    const team: AccountIdentity = { kind: "team", uuid: "u1", name: "Ops" };
    expect(sameAccount(team, { kind: "team", uuid: "u1", name: "Ops (renamed)" })).toBe(true);
    expect(sameAccount(team, { kind: "user", uuid: "u1" })).toBe(false);
    expect(sameAccount(team, { kind: "team", uuid: "u2", name: "Ops" })).toBe(false);
  });

  it("are read back only when well formed; anything else counts as none recorded", () => {
    expect(recordedAccount({ kind: "team", uuid: "u1", name: "Ops" })).toEqual({ kind: "team", uuid: "u1", name: "Ops" });
    expect(recordedAccount({ kind: "user", uuid: "u1", email: "x@example.com" })).toEqual({ kind: "user", uuid: "u1" });
    for (const junk of [undefined, null, "team", { kind: "team", uuid: "u1" }, { kind: "user", uuid: "" }, { kind: "org", uuid: "u1" }]) {
      expect(recordedAccount(junk)).toBeUndefined();
    }
  });
});
