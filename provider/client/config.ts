import { isIP } from "node:net";
import { ConfigurationError, InsecureEndpointError } from "./errors";

/** Where and as whom to call the DigitalOcean API. */
export interface Connection {
  token: string;
  /** Base URL without a trailing slash, e.g. `https://api.digitalocean.com`. */
  apiEndpoint: string;
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

/**
 * The connection from Pulumi config keys `digitalocean:token` /
 * `digitalocean:apiEndpoint`, falling back to the environment variables
 * `DIGITALOCEAN_TOKEN`, `DIGITALOCEAN_ACCESS_TOKEN` / `DIGITALOCEAN_API_URL`
 * (the conventions of DigitalOcean's own providers); the endpoint defaults to
 * https://api.digitalocean.com.
 *
 * Throws ConfigurationError when no token is set, InsecureEndpointError for a
 * plain http:// endpoint whose host is not loopback. No message carries the token.
 */
export function resolveConnection(config?: ConfigSource, env: NodeJS.ProcessEnv = process.env): Connection {
  const token = firstNonEmpty(config?.get(TOKEN_KEY), ...TOKEN_ENV_VARS.map((name) => env[name]));
  if (token === undefined) {
    throw new ConfigurationError(
      "No DigitalOcean API token is configured. Set it in the stack config with " +
        "`pulumi config set --secret digitalocean:token <token>`, or in the environment with " +
        "`export DIGITALOCEAN_TOKEN=<token>` (DIGITALOCEAN_ACCESS_TOKEN is read too).",
    );
  }
  const endpoint = firstNonEmpty(config?.get(ENDPOINT_KEY), env[ENDPOINT_ENV_VAR]) ?? DEFAULT_API_ENDPOINT;
  return { token, apiEndpoint: checkEndpoint(endpoint) };
}

function firstNonEmpty(...values: (string | undefined)[]): string | undefined {
  return values.map((v) => v?.trim()).find((v): v is string => v !== undefined && v !== "");
}

/** The endpoint as a base URL without trailing slash; refuses clear-text http off loopback. */
function checkEndpoint(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The value is not echoed: a mistyped config may hold a secret.
    throw new ConfigurationError(`The DigitalOcean API endpoint is not a URL; expected e.g. ${DEFAULT_API_ENDPOINT}`);
  }
  if (url.username !== "" || url.password !== "") {
    // Credentials belong in the token, and a URL with them would leak into every log line.
    throw new ConfigurationError(`The DigitalOcean API endpoint ${url.protocol}//${url.host} must not contain credentials; set the token instead`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ConfigurationError(`The DigitalOcean API endpoint ${url.origin} must use https://`);
  }
  if (url.protocol === "http:" && !isLoopback(url.hostname)) throw new InsecureEndpointError(url.origin);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/** 127.0.0.0/8, ::1 and localhost: traffic that never leaves the machine. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1" || host === "0:0:0:0:0:0:0:1";
  return false;
}
