import { resolveConnection, isLoopback } from "../../provider/client/config";
import { ConfigurationError, InsecureEndpointError } from "../../provider/client/errors";

const config = (values: Record<string, string>) => ({ get: (key: string) => values[key] });
const TOKEN = "dop_v1_config_secret";

test("the stack config wins over the environment, and the endpoint defaults to DigitalOcean's", () => {
  expect(resolveConnection(config({ "digitalocean:token": "from-config" }), { DIGITALOCEAN_TOKEN: "from-env" })).toEqual({
    token: "from-config",
    apiEndpoint: "https://api.digitalocean.com",
    tokenSource: "stack config digitalocean:token",
    endpointSource: "the default endpoint",
  });
  expect(
    resolveConnection(config({ "digitalocean:apiEndpoint": "https://proxy.example.com/do/" }), {
      DIGITALOCEAN_ACCESS_TOKEN: "from-access",
      DIGITALOCEAN_API_URL: "https://other.example.com",
    }),
  ).toMatchObject({ token: "from-access", apiEndpoint: "https://proxy.example.com/do", tokenSource: "environment variable DIGITALOCEAN_ACCESS_TOKEN" });
});

test("DIGITALOCEAN_TOKEN comes before DIGITALOCEAN_ACCESS_TOKEN; empty values are skipped", () => {
  expect(resolveConnection(undefined, { DIGITALOCEAN_TOKEN: "a", DIGITALOCEAN_ACCESS_TOKEN: "b" }).token).toBe("a");
  expect(resolveConnection(config({ "digitalocean:token": " " }), { DIGITALOCEAN_TOKEN: "", DIGITALOCEAN_ACCESS_TOKEN: "b" }).token).toBe("b");
  expect(resolveConnection(undefined, { DIGITALOCEAN_TOKEN: "a", DIGITALOCEAN_API_URL: "https://x.example" }).apiEndpoint).toBe("https://x.example");
});

test("no token: a ConfigurationError showing both ways to set it", () => {
  const error = (() => {
    try {
      resolveConnection(config({}), {});
    } catch (e) {
      return e as Error;
    }
  })();
  expect(error).toBeInstanceOf(ConfigurationError);
  expect(error?.message).toContain("pulumi config set --secret digitalocean:token");
  expect(error?.message).toContain("export DIGITALOCEAN_TOKEN=");
});

test("plain http is refused off loopback and allowed on it; messages never show the token", () => {
  for (const endpoint of ["http://api.digitalocean.com", "http://10.0.0.1:8080", "http://128.0.0.1"]) {
    let error: unknown;
    try {
      resolveConnection(config({ "digitalocean:token": TOKEN, "digitalocean:apiEndpoint": endpoint }), {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InsecureEndpointError);
    expect((error as Error).message).not.toContain(TOKEN);
  }
  for (const endpoint of ["http://127.0.0.1:4010", "http://127.9.9.9", "http://[::1]:4010", "http://localhost:4010"]) {
    expect(resolveConnection(config({ "digitalocean:token": TOKEN, "digitalocean:apiEndpoint": endpoint }), {}).apiEndpoint).toBe(endpoint);
  }
  expect(() => resolveConnection(config({ "digitalocean:token": TOKEN, "digitalocean:apiEndpoint": `https://user:${TOKEN}@x.example` }), {})).toThrow(ConfigurationError);
  try {
    resolveConnection(config({ "digitalocean:token": TOKEN, "digitalocean:apiEndpoint": TOKEN }), {});
  } catch (e) {
    expect((e as Error).message).not.toContain(TOKEN);
  }
});

test("loopback means 127.0.0.0/8, ::1 and localhost only", () => {
  expect(["127.0.0.1", "127.255.0.3", "::1", "[::1]", "localhost", "LOCALHOST"].every(isLoopback)).toBe(true);
  expect(["128.0.0.1", "10.0.0.1", "::2", "localhost.example.com", "127.0.0.1.nip.io"].some(isLoopback)).toBe(false);
});

test("an endpoint pasted with DigitalOcean's /v2 prefix means the same API, so requests never go to /v2/v2", () => {
  const endpointOf = (value: string) => resolveConnection(config({ "digitalocean:token": TOKEN, "digitalocean:apiEndpoint": value }), {}).apiEndpoint;
  expect(endpointOf("https://api.digitalocean.com/v2")).toBe("https://api.digitalocean.com");
  expect(endpointOf("https://api.digitalocean.com/v2/")).toBe("https://api.digitalocean.com");
  expect(endpointOf("https://proxy.example.com/do/v2")).toBe("https://proxy.example.com/do");
  expect(endpointOf("https://proxy.example.com/v20")).toBe("https://proxy.example.com/v20");
  expect(() => endpointOf("https://api.digitalocean.com/?x=1")).toThrow(/must not have a query/);
});

describe("a token that cannot be a DigitalOcean token is refused by name of its source, never shown", () => {
  const cases: [string, string, RegExp][] = [
    ["a newline in the middle", `dop_v1_abc\ndef`, /line break/],
    ["a NUL", `dop_v1_abc\0def`, /NUL/],
    ["typographic quotes", `\u201Cdop_v1_abcdef\u201D`, /typographic quotes/],
    ["straight quotes", `"dop_v1_abcdef"`, /quote characters/],
    ["an inner space", "dop_v1_abc def", /spaces or characters outside printable ASCII/],
  ];
  test.each(cases)("%s", (_name, token, problem) => {
    for (const [source, cfg, env] of [
      ["stack config digitalocean:token", config({ "digitalocean:token": token }), {}],
      ["environment variable DIGITALOCEAN_ACCESS_TOKEN", config({}), { DIGITALOCEAN_ACCESS_TOKEN: token }],
    ] as const) {
      let error: Error | undefined;
      try {
        resolveConnection(cfg, env);
      } catch (e) {
        error = e as Error;
      }
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error?.message).toMatch(problem);
      expect(error?.message).toContain(`from ${source}`);
      expect(error?.message).not.toContain("abc");
    }
  });
  test("a trailing newline, as `echo` leaves one, is trimmed rather than refused", () => {
    expect(resolveConnection(config({}), { DIGITALOCEAN_TOKEN: "dop_v1_abcdef\n" }).token).toBe("dop_v1_abcdef");
  });
});
