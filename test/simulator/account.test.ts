import { startSimulator, validateSeed, type Simulator, type SimulatorOptions } from "pulumi-digitalocean-image-actions/simulator";
import { call, expectError, SEED } from "./helpers";

const sims: Simulator[] = [];
async function simulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({ seed: SEED, rateLimit: false, ...options });
  sims.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(sims.splice(0).map((sim) => sim.close()));
});

const TEAM = { uuid: "5df3e3004a17e242b7c20ca6c9fc25b701a47ece", name: "Platform" };

describe("GET /v2/account", () => {
  it("answers the user and, for a team's token, the team", async () => {
    const sim = await simulator({ account: { uuid: "user-1", email: "ops@example.com", team: TEAM } });
    const r = await call(sim, "GET", "/v2/account");
    expect(r.status).toBe(200);
    expect(r.body.account).toMatchObject({ uuid: "user-1", email: "ops@example.com", team: TEAM, status: "active" });
    expect(sim.account).toEqual({ uuid: "user-1", email: "ops@example.com", team: TEAM });
  });

  it("answers no team for a user's own token", async () => {
    const sim = await simulator({ account: { team: null } });
    const r = await call(sim, "GET", "/v2/account");
    expect(r.body.account).not.toHaveProperty("team");
    expect(r.body.account.uuid).toBe(sim.account.uuid);
  });

  it("gives two simulators two different teams by default", async () => {
    const [a, b] = [await simulator(), await simulator()];
    expect(a.account.team?.uuid).toEqual(expect.any(String));
    expect(a.account.team?.uuid).not.toBe(b.account.team?.uuid);
  });

  it("takes the account from the seed, and the option over the seed", async () => {
    const seeded = await simulator({ seed: { ...SEED, account: { team: TEAM } } });
    expect((await call(seeded, "GET", "/v2/account")).body.account.team).toEqual(TEAM);
    const overridden = await simulator({ seed: { ...SEED, account: { team: TEAM } }, account: { team: null } });
    expect((await call(overridden, "GET", "/v2/account")).body.account).not.toHaveProperty("team");
  });

  it("refuses a seed account of the wrong shape, naming the field", () => {
    expect(() => validateSeed({ account: { team: { uuid: 5, name: "x" } } })).toThrow("seed.account.team.uuid must be a string");
    expect(() => validateSeed({ account: "team" })).toThrow("seed.account must be an object");
  });
});

describe("token scopes", () => {
  const WITHOUT_ACCOUNT = ["image:read", "image:update", "image:delete", "actions:read"];

  it("answers 403 forbidden where a custom-scoped token lacks the endpoint's scope, and serves the rest", async () => {
    const sim = await simulator({ scopes: WITHOUT_ACCOUNT });
    expectError(await call(sim, "GET", "/v2/account"), 403, "forbidden");
    expectError(await call(sim, "GET", "/v2/regions"), 403, "forbidden");
    expect((await call(sim, "GET", "/v2/images/100000010")).status).toBe(200);
    expect(sim.requests().map((r) => r.status)).toEqual([403, 403, 200]);
  });

  it("accepts more tokens of the same account, each with its own scopes, and still refuses an unknown one", async () => {
    const sim = await simulator({ moreTokens: [{ token: "dop_v1_custom", scopes: WITHOUT_ACCOUNT }] });
    expect((await call(sim, "GET", "/v2/account")).status).toBe(200);
    expectError(await call(sim, "GET", "/v2/account", undefined, "dop_v1_custom"), 403, "forbidden");
    expect((await call(sim, "GET", "/v2/images/100000010", undefined, "dop_v1_custom")).status).toBe(200);
    expectError(await call(sim, "GET", "/v2/account", undefined, "dop_v1_other"), 401, "unauthorized");
  });

  it("refuses scopes that are not resource:action, and a token given twice", async () => {
    await expect(startSimulator({ scopes: ["account"] })).rejects.toThrow('scopes: scope "account" is not of the form resource:action');
    await expect(startSimulator({ token: "dop_v1_a", moreTokens: [{ token: "dop_v1_a" }] })).rejects.toThrow("moreTokens[0].token");
  });
});
