import { isIP } from "node:net";
import { ConfigurationError, InsecureEndpointError } from "./errors";

/** Where and as whom to call the DigitalOcean API. */
export interface Connection {
  token: string;
  /** Base URL without a trailing slash or `/v2`, e.g. `https://api.digitalocean.com`. */
  apiEndpoint: string;
  /**
   * Where the token came from, for messages that must point at it without showing it:
   * `stack config digitalocean:token` or `environment variable DIGITALOCEAN_TOKEN`.
   */
  tokenSource?: string;
  /** Where the endpoint came from, in the same form; the default when neither is set. */
  endpointSource?: string;
}

/** Anything that answers config keys, such as Pulumi's provider config. */
export interface ConfigSource {
  get(key: string): string | undefined;
}

/** DigitalOcean's public API. */
export const DEFAULT_API_ENDPOINT = "https://api.digitalocean.com";

const TOKEN_KEY = "digitalocean:token";
const ENDPOINT_KEY = "digitalocean:apiEndpoint";
const TOKEN_ENV_VARS = ["DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN"] as const;
const ENDPOINT_ENV_VAR = "DIGITALOCEAN_API_URL";

interface Setting {
  value: string;
  source: string;
}

/**
 * The connection from Pulumi config keys `digitalocean:token` /
 * `digitalocean:apiEndpoint`, falling back to the environment variables
 * `DIGITALOCEAN_TOKEN`, `DIGITALOCEAN_ACCESS_TOKEN` / `DIGITALOCEAN_API_URL`
 * (the conventions of DigitalOcean's own providers); the endpoint defaults to
 * https://api.digitalocean.com. An endpoint ending in `/v2` (as some tools
 * configure it) means the same API: every request path starts with `/v2`.
 *
 * Throws ConfigurationError when no token is set or it cannot be a token,
 * InsecureEndpointError for a plain http:// endpoint whose host is not loopback.
 * No message carries the token.
 */
export function resolveConnection(config?: ConfigSource, env: NodeJS.ProcessEnv = process.env): Connection {
  const token = firstSet([
    { value: config?.get(TOKEN_KEY), source: `stack config ${TOKEN_KEY}` },
    ...TOKEN_ENV_VARS.map((name) => ({ value: env[name], source: `environment variable ${name}` })),
  ]);
  if (token === undefined) {
    throw new ConfigurationError(
      "No DigitalOcean API token is configured. Set it in the stack config with " +
        "`pulumi config set --secret digitalocean:token <token>`, or in the environment with " +
        "`export DIGITALOCEAN_TOKEN=<token>` (DIGITALOCEAN_ACCESS_TOKEN is read too).",
    );
  }
  checkToken(token);
  const endpoint = firstSet([
    { value: config?.get(ENDPOINT_KEY), source: `stack config ${ENDPOINT_KEY}` },
    { value: env[ENDPOINT_ENV_VAR], source: `environment variable ${ENDPOINT_ENV_VAR}` },
  ]) ?? { value: DEFAULT_API_ENDPOINT, source: "the default endpoint" };
  return { token: token.value, apiEndpoint: checkEndpoint(endpoint), tokenSource: token.source, endpointSource: endpoint.source };
}

function firstSet(candidates: { value: string | undefined; source: string }[]): Setting | undefined {
  for (const { value, source } of candidates) {
    const trimmed = value?.trim();
    if (trimmed !== undefined && trimmed !== "") return { value: trimmed, source };
  }
  return undefined;
}

/**
 * DigitalOcean tokens are plain ASCII (`dop_v1_` and hex). A pasted value with a
 * line break, a NUL or typographic quotes would otherwise fail deep in the HTTP
 * layer as an obscure "invalid header" network error; the message names what is
 * wrong and where the value came from, never the value.
 */
function checkToken({ value, source }: Setting): void {
  const problem = /[\r\n]/.test(value)
    ? "contains a line break"
    : /\0/.test(value)
      ? "contains a NUL character"
      : /[\u2018\u2019\u201C\u201D]/.test(value)
        ? "contains typographic quotes (as editors and chat tools turn \" into “ ”)"
        : /["'`]/.test(value)
          ? "contains quote characters"
          : /[^\x21-\x7E]/.test(value)
            ? "contains spaces or characters outside printable ASCII"
            : undefined;
  if (problem === undefined) return;
  throw new ConfigurationError(
    `The DigitalOcean API token from ${source} ${problem}, so it cannot be a DigitalOcean token. ` +
      `Copy the token again from the control panel (API > Tokens) and set it again; its value is not shown here.`,
  );
}

/** The endpoint as a base URL without trailing slash or `/v2`; refuses clear-text http off loopback. */
function checkEndpoint({ value, source }: Setting): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // The value is not echoed: a mistyped config may hold a secret.
    throw new ConfigurationError(`The DigitalOcean API endpoint from ${source} is not a URL; expected e.g. ${DEFAULT_API_ENDPOINT}`);
  }
  if (url.username !== "" || url.password !== "") {
    // Credentials belong in the token, and a URL with them would leak into every log line.
    throw new ConfigurationError(`The DigitalOcean API endpoint ${url.protocol}//${url.host} from ${source} must not contain credentials; set the token instead`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ConfigurationError(`The DigitalOcean API endpoint ${url.origin} from ${source} must use https://`);
  }
  if (url.search !== "" || url.hash !== "") {
    throw new ConfigurationError(`The DigitalOcean API endpoint ${url.origin}${url.pathname} from ${source} must not have a query or fragment; set the base URL, e.g. ${DEFAULT_API_ENDPOINT}`);
  }
  if (url.protocol === "http:" && !isLoopback(url.hostname)) throw new InsecureEndpointError(url.origin);
  // Every request path starts with /v2, so a base pasted with it would send /v2/v2/..., which DigitalOcean answers 404.
  const basePath = url.pathname.replace(/\/+$/, "").replace(/\/v2$/, "");
  return `${url.origin}${basePath}`;
}

/** 127.0.0.0/8, ::1 and localhost: traffic that never leaves the machine. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1" || host === "0:0:0:0:0:0:0:1";
  return false;
}
