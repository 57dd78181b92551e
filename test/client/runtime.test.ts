import { ConfigurationError } from "../../provider/client/errors";
import { getRuntime, resetRuntimes } from "../../provider/runtime";

afterEach(async () => {
  delete process.env.DO_IMAGE_ACTIONS_TIME_SCALE;
  await resetRuntimes();
});

test("one runtime per token and endpoint, reset for tests", async () => {
  const a = getRuntime({ token: "t1", apiEndpoint: "http://127.0.0.1:1" });
  expect(getRuntime({ token: "t1", apiEndpoint: "http://127.0.0.1:1" })).toBe(a);
  expect(getRuntime({ token: "t2", apiEndpoint: "http://127.0.0.1:1" })).not.toBe(a);
  expect(getRuntime({ token: "t1", apiEndpoint: "http://127.0.0.1:2" })).not.toBe(a);
  expect(a.clock.scale).toBe(1);
  await resetRuntimes();
  expect(getRuntime({ token: "t1", apiEndpoint: "http://127.0.0.1:1" })).not.toBe(a);
});

test("DO_IMAGE_ACTIONS_TIME_SCALE sets a scaled clock", () => {
  process.env.DO_IMAGE_ACTIONS_TIME_SCALE = "0.01";
  expect(getRuntime({ token: "t3", apiEndpoint: "http://127.0.0.1:1" }).clock.scale).toBe(0.01);
});

test("DO_IMAGE_ACTIONS_TIME_SCALE is refused off loopback and when it is not a positive number, naming the variable", () => {
  process.env.DO_IMAGE_ACTIONS_TIME_SCALE = "0.01";
  expect(() => getRuntime({ token: "t4", apiEndpoint: "https://api.digitalocean.com" })).toThrow(ConfigurationError);
  expect(() => getRuntime({ token: "t4", apiEndpoint: "https://api.digitalocean.com" })).toThrow(/DO_IMAGE_ACTIONS_TIME_SCALE=0.01 is set, but the API endpoint https:\/\/api.digitalocean.com is not a local simulator/);
  for (const bad of ["fast", "0", "-1"]) {
    process.env.DO_IMAGE_ACTIONS_TIME_SCALE = bad;
    expect(() => getRuntime({ token: "t5", apiEndpoint: "http://127.0.0.1:1" })).toThrow(`DO_IMAGE_ACTIONS_TIME_SCALE is ${JSON.stringify(bad)}, not a positive number`);
  }
});
