import { ConfigurationError } from "../../provider/client/errors";
import { getSession, resetSessions, TIME_SCALE_VARIABLE } from "../../provider/session";
import { maxPerSlidingMinute, seededSimulator, SNAPSHOT } from "./helpers";

afterEach(async () => {
  delete process.env.DO_IMAGE_ACTIONS_TIME_SCALE;
  await resetSessions();
});

test("one session per token and endpoint, reset for tests", async () => {
  const a = getSession({ token: "t1", apiEndpoint: "http://127.0.0.1:1" });
  expect(getSession({ token: "t1", apiEndpoint: "http://127.0.0.1:1" })).toBe(a);
  expect(getSession({ token: "t2", apiEndpoint: "http://127.0.0.1:1" })).not.toBe(a);
  expect(getSession({ token: "t1", apiEndpoint: "http://127.0.0.1:2" })).not.toBe(a);
  expect(a.clock.scale).toBe(1);
  await resetSessions();
  expect(getSession({ token: "t1", apiEndpoint: "http://127.0.0.1:1" })).not.toBe(a);
});

test("DO_IMAGE_ACTIONS_TIME_SCALE sets a scaled clock", () => {
  process.env.DO_IMAGE_ACTIONS_TIME_SCALE = "0.01";
  expect(getSession({ token: "t3", apiEndpoint: "http://127.0.0.1:1" }).clock.scale).toBe(0.01);
});

test("DO_IMAGE_ACTIONS_TIME_SCALE is refused off loopback and when it is not a positive number, naming the variable", () => {
  process.env.DO_IMAGE_ACTIONS_TIME_SCALE = "0.01";
  expect(() => getSession({ token: "t4", apiEndpoint: "https://api.digitalocean.com" })).toThrow(ConfigurationError);
  expect(() => getSession({ token: "t4", apiEndpoint: "https://api.digitalocean.com" })).toThrow(/DO_IMAGE_ACTIONS_TIME_SCALE=0.01 is set, but the API endpoint https:\/\/api.digitalocean.com is not a local simulator/);
  for (const bad of ["fast", "0", "-1"]) {
    process.env.DO_IMAGE_ACTIONS_TIME_SCALE = bad;
    expect(() => getSession({ token: "t5", apiEndpoint: "http://127.0.0.1:1" })).toThrow(`DO_IMAGE_ACTIONS_TIME_SCALE is ${JSON.stringify(bad)}, not a positive number`);
  }
});

test("sessions of one token share its rate limiter whatever the endpoint spelling, and together stay under the limit", async () => {
  // No rate-limit headers: each session then knows of the other's requests only through a shared limiter.
  // At 1/100 speed a minute lasts 0.6 s, longer than 300 loopback calls take on a loaded machine.
  const sim = await seededSimulator({ rateLimit: false, timeScale: 0.01 });
  try {
    process.env[TIME_SCALE_VARIABLE] = "0.01";
    const a = getSession({ token: sim.token, apiEndpoint: sim.url });
    const b = getSession({ token: sim.token, apiEndpoint: `${sim.url}/` });
    expect(b).not.toBe(a);
    // 300 calls at 250 a minute: two limiters of their own would each let their 150 through within the first minute.
    await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 2 ? a : b).client.getImage(SNAPSHOT)));
    const log = sim.requests();
    expect(log).toHaveLength(300);
    expect(maxPerSlidingMinute(log.map((r) => r.clockMs))).toBeLessThanOrEqual(250);
  } finally {
    await resetSessions();
    await sim.close();
  }
});
