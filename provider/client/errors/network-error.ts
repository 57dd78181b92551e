import { DigitalOceanError } from "../../errors";

/** The connection failed (refused, reset, dropped) and retrying did not help or was not safe. */
export class NetworkError extends DigitalOceanError {
  constructor(
    readonly method: string,
    readonly path: string,
    /** The low-level error code, e.g. `ECONNRESET` or `UND_ERR_SOCKET`, when known. */
    readonly code: string | undefined,
    options?: {
      cause?: unknown;
      /** The endpoint and where it was configured, e.g. `https://api.digitalocean.com (the default endpoint)`. */
      endpoint?: string;
    },
  ) {
    super(`Network error on ${method} ${path}${code ? ` (${code})` : ""}: the connection to ${options?.endpoint ?? "DigitalOcean"} failed${hint(code)}`, options);
  }
}

/** What the user can check, for the failures that point at the endpoint itself rather than a blip. */
function hint(code: string | undefined): string {
  if (code === "ECONNREFUSED") return "; nothing accepts connections there: check the endpoint's host and port";
  if (code === "ENOTFOUND") return "; the host name does not resolve: check the endpoint for a typo";
  if (code === "UND_ERR_CONNECT_TIMEOUT") return "; the host did not accept the connection in time: check the endpoint and the network path to it";
  return "";
}
